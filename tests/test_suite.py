"""The droid-tabletop task suite: registration, seeded layouts without contacts, instruction
tiers, success predicates in hand-built states, and bad names (check_env for every id is in
test_envs.py)."""

from __future__ import annotations

import re

import gymnasium as gym
import mujoco
import numpy as np
import pytest

import robosim_cosmos
from robosim_cosmos.envs import SUITES, TIERS, check_tier, instruction_templates, suite_env_ids, task_of
from robosim_cosmos.envs.droid_env import DroidEnv
from robosim_cosmos.envs.objects import catalog
from robosim_cosmos.envs.predicates import ObjectView, Region, in_region, inside, lifted, next_to, on, out_of, stacked
from robosim_cosmos.envs.predicates import upright as is_upright
from robosim_cosmos.envs.registry import SPECS, make_task
from robosim_cosmos.envs.task_library import COMPOSITIONAL_TASKS
from robosim_cosmos.envs.task_spec import REGION_HALF, SpecTask
from robosim_cosmos.errors import ConfigError

SUITE_IDS = [f"robosim_cosmos/{s.env_name}-v0" for s in COMPOSITIONAL_TASKS]
ALL_IDS = sorted(robosim_cosmos.ENV_IDS)


def _env(env_id: str, **kw) -> DroidEnv:
    env = gym.make(env_id, obs_mode="state", **kw).unwrapped
    assert isinstance(env, DroidEnv)
    return env


# -- the suite's shape -----------------------------------------------------------------------
def test_suite_has_at_least_16_compositional_tasks_of_every_predicate_kind() -> None:
    assert len(COMPOSITIONAL_TASKS) >= 16
    kinds = {g.kind for s in COMPOSITIONAL_TASKS for g in s.goals}
    assert kinds >= {"in", "on", "lifted", "upright", "next_to", "in_region", "stacked", "out_of"}
    assert sum(len(s.steps) >= 2 for s in COMPOSITIONAL_TASKS) >= 2
    for spec in COMPOSITIONAL_TASKS:
        assert 2 <= len(spec.objects) <= 8 or spec.region, spec.name
        assert 1 <= len(spec.objects) <= 8
    assert set(suite_env_ids("droid-tabletop")) >= set(SUITE_IDS)
    for env_id in ("robosim_cosmos/DroidReach-v0", "robosim_cosmos/DroidLiftCube-v0",
                   "robosim_cosmos/DroidCubeInBowl-v0", "robosim_cosmos/DroidPushCube-v0"):
        assert env_id in robosim_cosmos.ENV_IDS  # the original ids are kept


def _layout(env: DroidEnv) -> tuple[np.ndarray, list[str]]:
    task = env.task
    assert isinstance(task, SpecTask)
    poses = np.concatenate([env.data.qpos[i.qadr: i.qadr + 7] for i in task.items.values()])
    looks = [f"{i.colour}:{i.scale:.6f}" for i in task.items.values()]
    return poses, looks


@pytest.mark.parametrize("env_id", SUITE_IDS)
def test_reset_is_reproducible_and_objects_never_touch(env_id: str) -> None:
    env = _env(env_id)
    task = env.task
    assert isinstance(task, SpecTask)
    body_of = {i.body: slot for slot, i in task.items.items()}
    seen = set()
    for seed in range(50):
        env.reset(seed=seed)
        poses, looks = _layout(env)
        seen.add(poses.tobytes())
        m, d = env.model, env.data
        for c in d.contact[: d.ncon]:
            a, b = m.geom_bodyid[c.geom1], m.geom_bodyid[c.geom2]
            assert not (a in body_of and b in body_of), f"seed {seed}: {body_of[a]} touches {body_of[b]}"
        if seed < 3:
            instruction = env.instruction
            env.reset(seed=seed)
            again, looks_again = _layout(env)
            assert np.array_equal(poses, again) and looks == looks_again and env.instruction == instruction
    assert len(seen) == 50
    env.close()


def test_a_seed_whose_sizes_fit_no_layout_draws_them_again() -> None:
    # The first size draw of these seeds (largest plate, bowl and banana) leaves no overlap-free
    # layout; a reset draws the sizes again instead of failing (gymnasium's checker resets unseeded).
    env = _env("robosim_cosmos/DroidCupOnPlate-v0")
    task = env.task
    assert isinstance(task, SpecTask)
    body_of = {i.body: slot for slot, i in task.items.items()}
    for seed in (671, 1750, 2543, 2892):
        env.reset(seed=seed)
        first, looks = _layout(env)
        m, d = env.model, env.data
        assert not any(m.geom_bodyid[c.geom1] in body_of and m.geom_bodyid[c.geom2] in body_of
                       for c in d.contact[: d.ncon])
        env.reset(seed=seed)
        assert np.array_equal(first, _layout(env)[0]) and looks == _layout(env)[1]
    env.close()


def test_same_kind_objects_never_share_a_colour() -> None:
    env = _env("robosim_cosmos/DroidStackBlocks-v0")
    task = env.task
    assert isinstance(task, SpecTask)
    for seed in range(30):
        env.reset(seed=seed)
        blocks = [i.colour for i in task.items.values() if i.kind.kind == "block"]
        assert len(blocks) == len(set(blocks)) == 4


def test_sizes_vary_with_the_seed_within_the_catalog_range() -> None:
    env = _env("robosim_cosmos/DroidBlockInBowl-v0")
    task = env.task
    assert isinstance(task, SpecTask)
    scales = []
    for seed in range(20):
        env.reset(seed=seed)
        block = task.items["a"]
        lo, hi = block.kind.scale
        assert lo <= block.scale <= hi
        gid = block.collision_geoms[0]
        assert env.model.geom_size[gid][0] == pytest.approx(block.kind.size[0] / 2 * block.scale, rel=1e-6)
        assert env.model.body_mass[block.body] == pytest.approx(block.kind.mass_kg * block.scale**3, rel=1e-9)
        scales.append(block.scale)
    assert np.ptp(scales) > 0.1


# -- tiers -------------------------------------------------------------------------------------
@pytest.mark.parametrize("env_id", ["robosim_cosmos/DroidBlockInBowl-v0", "robosim_cosmos/DroidCubeInBowl-v0",
                                    "robosim_cosmos/DroidStackThreeBlocks-v0"])
def test_tiers_share_the_scene_and_differ_in_words(env_id: str) -> None:
    layouts, texts = [], []
    for tier in TIERS:
        env = _env(env_id, instruction_tier=tier)
        _, info = env.reset(seed=7)
        assert info["instruction_tier"] == tier
        layouts.append(env.data.qpos.copy())
        texts.append(info["instruction"])
        assert "{" not in info["instruction"]
    assert all(np.array_equal(layouts[0], q) for q in layouts[1:])
    assert len(set(texts)) == 3
    assert len(texts[2]) > len(texts[0])  # the specific tier says more than the vague one


def test_every_task_has_templates_in_every_tier() -> None:
    for env_id in ALL_IDS:
        templates = instruction_templates(env_id)
        assert set(templates) == set(TIERS)
        assert len({len(t) for t in templates.values()}) == 1 and len(templates["default"]) >= 1


def test_specific_instructions_name_colours_and_sides() -> None:
    env = _env("robosim_cosmos/DroidBlockInBowl-v0", instruction_tier="specific")
    task = env.task
    assert isinstance(task, SpecTask)
    for seed in range(5):
        env.reset(seed=seed)
        a, b = task.items["a"], task.items["b"]
        assert f"{a.colour} block" in env.instruction and f"{b.colour} bowl" in env.instruction
        assert any(side in env.instruction for side in ("on the left", "on the right", "in the middle"))


def test_a_specific_template_names_by_colour_at_least_what_its_default_template_does() -> None:
    # Template i of every tier is drawn for the same seed: the specific one must not say less.
    def by_colour(template: str) -> int:  # {a} reads "red block", {a_colour} "red"; {a_noun} only "block"
        return len(re.findall(r"\{[a-z0-9]+(?:_colour)?\}", template))

    for name, spec in SPECS.items():
        pairs = zip(spec.instructions["default"], spec.instructions["specific"], strict=True)
        for i, (default, specific) in enumerate(pairs):
            assert by_colour(specific) >= by_colour(default), (name, i, default, specific)


# -- bad names -----------------------------------------------------------------------------------
def test_unknown_names_list_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"valid.*vague"):
        check_tier("loud")
    with pytest.raises(ConfigError, match=r"valid.*vague"):
        _env("robosim_cosmos/DroidBlockInBowl-v0", instruction_tier="medium")
    with pytest.raises(ConfigError, match="droid-tabletop"):
        suite_env_ids("droid-kitchen")
    with pytest.raises(ConfigError, match="block_in_bowl"):
        make_task("block_in_box")
    with pytest.raises(ConfigError, match="DroidBlockInBowl"):
        task_of("robosim_cosmos/DroidBlockInBox-v0")
    with pytest.raises(ConfigError, match="basket"):
        catalog().kind("teapot")
    assert set(SUITES) >= {"droid-tabletop"}


# -- predicates in hand-built states --------------------------------------------------------------
def _view(kind: str, pos=(0.5, 0.0, 0.0), yaw: float = 0.0, tilt: float = 0.0, scale: float = 1.0,
          start=None, held: bool = False, touched: bool | None = None) -> ObjectView:
    c, s = np.cos(yaw), np.sin(yaw)
    rz = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
    ct, st = np.cos(tilt), np.sin(tilt)
    rx = np.array([[1.0, 0, 0], [0, ct, -st], [0, st, ct]])
    pos = np.asarray(pos, dtype=float)
    return ObjectView(catalog().kind(kind), scale, pos, rz @ rx, np.asarray(start if start is not None else pos),
                      held=held, touched=held if touched is None else touched)


def test_inside_container() -> None:
    bowl = _view("bowl", (0.5, 0.1, 0.0), yaw=0.4)
    assert inside(_view("block", (0.51, 0.09, 0.006)), bowl)
    assert not inside(_view("block", (0.51, 0.09, 0.006), held=True), bowl)  # still held
    assert not inside(_view("block", (0.5, 0.2, 0.0)), bowl)  # beside it
    assert not inside(_view("block", (0.5, 0.1, 0.2)), bowl)  # above the rim
    basket = _view("basket", (0.5, 0.0, 0.0), yaw=np.pi / 2)  # long side along world y
    assert inside(_view("marker", (0.5, 0.08, 0.006)), basket)
    assert not inside(_view("marker", (0.58, 0.0, 0.006)), basket)  # beyond the short half-width
    assert not inside(_view("block"), _view("plate"))  # a plate holds nothing


def test_on_and_stacked() -> None:
    plate = _view("plate", (0.55, -0.1, 0.0))
    assert on(_view("can", (0.57, -0.09, 0.018)), plate)
    assert not on(_view("can", (0.57, -0.09, 0.06)), plate)  # hovering
    assert not on(_view("can", (0.7, -0.09, 0.0)), plate)  # on the table
    low = _view("block", (0.5, 0.0, 0.0), yaw=0.3)
    assert stacked(_view("block", (0.505, 0.003, 0.04), yaw=0.3), low)
    assert not stacked(_view("block", (0.505, 0.003, 0.04), yaw=0.3, tilt=0.6), low)  # toppled
    assert not stacked(_view("block", (0.54, 0.0, 0.04)), low)  # off the edge
    assert not stacked(_view("block", (0.505, 0.0, 0.04), touched=True), low)  # still in the hand


def test_lifted_upright_next_to_region_out_of() -> None:
    assert lifted(_view("bottle", (0.5, 0, 0.06), start=(0.5, 0, 0.0), held=True))
    assert not lifted(_view("bottle", (0.5, 0, 0.06), start=(0.5, 0, 0.0), held=False))
    assert not lifted(_view("bottle", (0.5, 0, 0.03), start=(0.5, 0, 0.0), held=True))
    assert is_upright(_view("cup", tilt=np.deg2rad(10))) and not is_upright(_view("cup", tilt=np.deg2rad(25)))
    mug = _view("mug", (0.5, 0.0, 0.0))
    assert next_to(_view("sponge", (0.5, 0.15, 0.0)), mug)
    assert not next_to(_view("sponge", (0.5, 0.3, 0.0)), mug)
    assert not next_to(_view("sponge", (0.5, 0.15, 0.05)), mug)  # not on the table
    region = Region(np.array([0.6, 0.1]), REGION_HALF)
    assert in_region(_view("block", (0.62, 0.08, 0.0)), region)
    assert not in_region(_view("block", (0.66, 0.1, 0.0)), region)
    assert not in_region(_view("block", (0.6, 0.1, 0.05)), region)  # lifted over it
    bowl = _view("bowl", (0.5, 0.0, 0.0))
    assert out_of(_view("block", (0.5, 0.16, 0.0)), bowl)
    assert not out_of(_view("block", (0.5, 0.0, 0.006)), bowl)
    assert not out_of(_view("block", (0.5, 0.16, 0.0), held=True), bowl)


# -- every task's success in a hand-built state ---------------------------------------------------
def _settle(env: DroidEnv, steps: int = 15) -> dict:
    info: dict = {}
    home = np.append(env.joint_positions(), 0.0)
    for _ in range(steps):
        _, _, _, _, info = env.step(home)
    return info


def _put(env: DroidEnv, slot: str, xy, z: float, yaw: float = 0.0) -> None:
    task = env.task
    assert isinstance(task, SpecTask)
    task.items[slot].set_pose(env.data, np.array([xy[0], xy[1], z]), yaw)
    mujoco.mj_forward(env.model, env.data)


def _far_from_everything(env: DroidEnv, task: SpecTask, slot: str) -> np.ndarray:
    others = [i.pos(env.data)[:2] for s, i in task.items.items() if s != slot]
    grid = [np.array([x, y]) for x in np.linspace(0.35, 0.72, 12) for y in np.linspace(-0.3, 0.3, 16)]
    return max(grid, key=lambda p: min(np.linalg.norm(p - o) for o in others))


def _achieve(env: DroidEnv, task: SpecTask) -> None:
    """Teleport objects so every goal holds (lifts are left out: they need a grasp)."""
    for step in task.spec.steps:
        for goal in step:
            a = task.items[goal.subject]
            ref = task.items.get(goal.reference or "")
            if goal.kind == "in":
                assert ref is not None and ref.kind.container is not None
                p = ref.pos(env.data)
                _put(env, goal.subject, p[:2], p[2] + ref.kind.container.floor * ref.scale + 0.002)
            elif goal.kind in ("on", "stacked"):
                assert ref is not None
                p = ref.pos(env.data)
                top = ref.kind.support.height * ref.scale if ref.kind.support else ref.size()[2]
                yaw = np.arctan2(ref.rot(env.data)[1, 0], ref.rot(env.data)[0, 0])
                _put(env, goal.subject, p[:2], p[2] + top + 0.001, yaw)
            elif goal.kind in ("next_to", "out_of"):
                assert ref is not None
                p = ref.pos(env.data)[:2]
                others = [i.pos(env.data)[:2] for s, i in task.items.items() if s not in (goal.subject, goal.reference)]
                r = a.kind.radius_at(a.scale) + ref.kind.radius_at(ref.scale) + 0.03
                spots = [p + r * np.array([np.cos(t), np.sin(t)]) for t in np.linspace(0, 2 * np.pi, 24)]
                _put(env, goal.subject, max(spots, key=lambda q: min(np.linalg.norm(q - o) for o in others)), 0.001)
            elif goal.kind == "in_region":
                region = task.region(env.data)
                assert region is not None
                _put(env, goal.subject, region.centre, 0.001)


@pytest.mark.parametrize("spec", [s for s in COMPOSITIONAL_TASKS if not any(g.kind == "lifted" for g in s.goals)],
                         ids=lambda s: s.name)
def test_success_predicate_in_built_states(spec) -> None:
    env = _env(f"robosim_cosmos/{spec.env_name}-v0")
    task = env.task
    assert isinstance(task, SpecTask)
    for seed in (0, 1):
        _, info = env.reset(seed=seed)
        if not spec.starts_in:
            assert not info["is_success"] and info["progress"] == 0.0
        _achieve(env, task)
        info = _settle(env)
        assert info["is_success"], f"{spec.name} seed {seed}: built success state not recognised"
        assert info["progress"] == 1.0
        # failure: the subject of the last goal moved off to a free corner of the table
        last = spec.steps[-1][0]
        target = _far_from_everything(env, task, last.subject)
        if last.kind == "out_of":  # failure: back inside its container
            ref = task.items[last.reference or ""]
            _put(env, last.subject, ref.pos(env.data)[:2], ref.pos(env.data)[2] + 0.01)
        else:
            _put(env, last.subject, target, 0.001)
        info = _settle(env)
        assert not info["is_success"], f"{spec.name} seed {seed}: failure state counted as success"
        expected = (len(spec.steps) - 1) / len(spec.steps)
        assert info["progress"] == 1.0  # latched
        assert task.steps_done(env.data) == pytest.approx(expected * len(spec.steps))


def test_two_step_progress_counts_the_first_step() -> None:
    env = _env("robosim_cosmos/DroidStackThreeBlocks-v0")
    task = env.task
    assert isinstance(task, SpecTask)
    env.reset(seed=3)
    a = task.items["a"].pos(env.data)
    yaw = np.arctan2(task.items["a"].rot(env.data)[1, 0], task.items["a"].rot(env.data)[0, 0])
    _put(env, "b", a[:2], a[2] + task.items["a"].size()[2] + 0.001, yaw)
    info = _settle(env)
    assert info["progress"] == 0.5 and not info["is_success"]


@pytest.mark.parametrize("name", ["lift_bottle", "lift_marker", "lift_banana"])
def test_lift_success_in_built_states(name: str) -> None:
    """Success: the object put between the nearly closed fingers at home, then gripped; failure:
    the same height without the fingers."""
    spec = SPECS[name]
    env = _env(f"robosim_cosmos/{spec.env_name}-v0")
    task = env.task
    assert isinstance(task, SpecTask)
    env.reset(seed=0)
    a = task.items["a"]
    grasp = a.kind.grasp
    assert grasp is not None
    q = env.joint_positions()
    nearly = 1.0 - (grasp.width * a.scale + 0.006) / env.robot.max_width_m
    for _ in range(20):
        env.step(np.append(q, nearly))
    f = env.ee_pose()[:3, :3] @ env.robot.finger_axis_in_ee
    yaw = float(np.arctan2(f[1], f[0]) - grasp.yaw)
    c, s = np.cos(yaw), np.sin(yaw)
    local = np.array([grasp.xy[0], grasp.xy[1], grasp.height]) * a.scale
    held_at = task._tcp_pos(env.data) - np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]]) @ local
    _put(env, "a", held_at[:2], held_at[2], yaw)
    infos = [env.step(np.append(q, 1.0))[4] for _ in range(10)]
    assert infos[-1]["is_success"] and infos[-1]["progress"] == 1.0
    assert a.pos(env.data)[2] > 0.1
    # the same height without the fingers: not a lift
    env.reset(seed=0)
    _put(env, "a", a.pos(env.data)[:2], 0.15)
    assert not task.is_success(env.data)


@pytest.mark.parametrize("env_id", ["robosim_cosmos/DroidCubeInBowl-v0", "robosim_cosmos/DroidPushCube-v0",
                                    "robosim_cosmos/DroidLiftCube-v0"])
def test_original_tasks_never_start_in_contact(env_id: str) -> None:
    env = _env(env_id)
    cube = env.model.body("cube").id
    for seed in range(50):
        env.reset(seed=seed)
        m, d = env.model, env.data
        others = {m.geom_bodyid[c.geom1] if m.geom_bodyid[c.geom2] == cube else m.geom_bodyid[c.geom2]
                  for c in d.contact[: d.ncon] if cube in (m.geom_bodyid[c.geom1], m.geom_bodyid[c.geom2])}
        assert others <= {m.body("table").id}, f"seed {seed}: the cube touches {others}"
