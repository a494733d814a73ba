"""Procedural rooms around the station: drawn from DROID's scene-type mix, reproducible from the
seed, clutter clear of the task's objects, furniture clear of the table, and the cameras' still
layer drawing exactly what a full render draws."""

from __future__ import annotations

import json

import gymnasium as gym
import mujoco
import numpy as np
import pytest

import robosim_cosmos  # noqa: F401
from robosim_cosmos.envs.droid_env import DroidEnv
from robosim_cosmos.envs.room_model import CLUTTER_RESERVE, POOL_BOXES, POOL_CYLINDERS, ROOM_GROUP
from robosim_cosmos.envs.rooms import (
    CLUTTER_GAP_M,
    CLUTTER_INNER_M,
    ROOM_STYLES,
    SCENE_TYPES,
    TABLE_KEEP_OUT,
    _footprint,
    draw_room,
    styles,
)
from robosim_cosmos.errors import ConfigError
from robosim_cosmos.observations import CAMERAS, EXTERIOR_CAMERAS
from robosim_cosmos.rollout import RolloutConfig

CAPACITY = (POOL_BOXES - CLUTTER_RESERVE[0], POOL_CYLINDERS - CLUTTER_RESERVE[1])


def test_styles_are_droid_the_three_scene_types_and_plain_and_droid_is_the_default():
    assert ROOM_STYLES == ("droid", "industrial_office", "kitchen", "office", "plain")
    assert DroidEnv("reach", obs_mode="state").room == "droid"
    assert RolloutConfig(env_id="robosim_cosmos/DroidReach-v0", policy="scripted").room == "droid"
    with pytest.raises(ConfigError, match=r"unknown room 'garage'; valid: \['droid', "):
        DroidEnv("reach", obs_mode="state", room="garage")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown room"):
        RolloutConfig(env_id="robosim_cosmos/DroidReach-v0", policy="scripted", room="garage")  # type: ignore[arg-type]


def test_scene_types_are_drawn_in_droids_proportions():
    """586 : 252 : 82 (DESIGN §8b) over 600 rooms, each share within 5 points."""
    rng = np.random.default_rng(0)
    drawn = [draw_room(rng, "droid", [], CAPACITY).scene_type for _ in range(600)]
    weights = np.array([styles()["types"][t]["weight"] for t in SCENE_TYPES], dtype=float)
    for scene_type, share in zip(SCENE_TYPES, weights / weights.sum(), strict=True):
        assert abs(drawn.count(scene_type) / len(drawn) - share) < 0.05, scene_type


@pytest.mark.parametrize("style", ["droid", "kitchen"])
def test_furniture_stays_off_the_table_and_rooms_fit_the_pool(style):
    rng = np.random.default_rng(1)
    (x0, x1), (y0, y1) = TABLE_KEEP_OUT
    for _ in range(100):
        room = draw_room(rng, style, [], CAPACITY)
        assert style == "droid" or room.scene_type == style
        boxes = sum(p.shape == "box" for p in room.parts + room.clutter)
        cylinders = sum(p.shape == "cylinder" for p in room.parts + room.clutter)
        assert boxes <= POOL_BOXES and cylinders <= POOL_CYLINDERS
        furniture = [p for p in room.parts if p.size[0] < 1.0 and p.size[1] < 1.0]  # not the walls or ceiling
        for part in furniture:
            lo, hi = _footprint([part])
            assert not (lo[0] < x1 and hi[0] > x0 and lo[1] < y1 and hi[1] > y0), part


TASKS = ["DroidCubeInBowl", "DroidBlockInBowlThenCanOnPlate", "DroidBananaInBasket", "DroidPushCube"]


@pytest.mark.parametrize("task", TASKS)
def test_clutter_never_touches_a_task_object_at_reset_and_stays_on_the_table(task):
    env = gym.make(f"robosim_cosmos/{task}-v0", obs_mode="state").unwrapped
    m, d = env.model, env.data
    fixed = {0, m.body("room").id, m.body("table").id}
    objects = [g for g in range(m.ngeom) if m.geom_bodyid[g] not in fixed and not env.readout.geoms[g]]
    assert objects
    table = m.geom("table_top").id
    for seed in range(25):
        env.reset(seed=seed)
        room = env.drawn_room
        assert room is not None and room.clutter
        far, half = room.table_far_edge, room.table_half_width
        for part in room.clutter:
            lo, hi = _footprint([part])
            assert hi[0] <= far + 1e-9 and -half - 1e-9 <= lo[1] and hi[1] <= half + 1e-9, (seed, part)
            assert lo[0] >= CLUTTER_INNER_M[0] - 0.02 or min(abs(lo[1]), abs(hi[1])) >= CLUTTER_INNER_M[1] - 0.02
            centre = np.array(part.pos[:2])
            for g in objects:
                gap = np.linalg.norm(d.geom_xpos[g, :2] - centre) - m.geom_rbound[g]
                assert gap >= -1e-9, (seed, part, m.geom(g).name)  # clear of each object's bounding circle
        # the drawn table is what the physics holds: its top spans the drawn extent
        assert np.isclose(m.geom_size[table][0] * 2, far + 0.1) and np.isclose(m.geom_size[table][1], half)
    env.close()
    assert CLUTTER_GAP_M > 0


def _room_state(env: DroidEnv) -> dict:
    m = env.model
    shown = m.geom_group == ROOM_GROUP
    return {"pos": m.geom_pos[shown].copy(), "size": m.geom_size[shown].copy(), "rgba": m.geom_rgba[shown].copy(),
            "mat": m.geom_matid[shown].copy(), "light_pos": m.light_pos.copy(), "diffuse": m.light_diffuse.copy(),
            "headlight": m.vis.headlight.ambient.copy()}


def test_a_seed_gives_the_same_room_clutter_lighting_and_cameras_and_another_seed_another():
    envs = [DroidEnv("cube_in_bowl", image_size=(90, 160)) for _ in range(2)]
    try:
        infos = [env.reset(seed=7)[1] for env in envs]
        assert json.dumps(infos[0]["room"], sort_keys=True) == json.dumps(infos[1]["room"], sort_keys=True)
        assert infos[0]["camera_poses"] == infos[1]["camera_poses"]
        a, b = (_room_state(env) for env in envs)
        for key in a:
            assert np.array_equal(a[key], b[key]), key
        for camera in EXTERIOR_CAMERAS:
            assert np.array_equal(envs[0].render_camera(camera), envs[1].render_camera(camera)), camera
        other = envs[1].reset(seed=8)[1]["room"]
        c = _room_state(envs[1])
        assert other != infos[0]["room"] or not np.array_equal(a["pos"], c["pos"])
        # and the room does not change what a seed lays out (drawn after the task and the rig)
        plain = DroidEnv("cube_in_bowl", obs_mode="state", room="plain")
        plain.reset(seed=7)
        envs[0].reset(seed=7)
        assert np.array_equal(plain.data.qpos, envs[0].data.qpos)
        plain.close()
    finally:
        for env in envs:
            env.close()


@pytest.mark.parametrize("camera", CAMERAS)
def test_the_still_layer_and_the_culled_wrist_view_draw_exactly_what_a_full_render_draws(camera):
    """fast: the room drawn once per episode plus the moving layer each frame gives the very pixels
    of drawing everything, with the arm moved in front of and behind the room's things; the wrist
    camera, which leaves out the room's primitives outside its view cone, too."""
    env = DroidEnv("cube_in_bowl", image_size=(90, 160))
    try:
        for seed in (0, 1, 2):
            env.reset(seed=seed)
            for _ in range(3):
                q = env.joint_positions() + env.np_random.uniform(-0.4, 0.4, 7)
                env.data.qpos[:7] = q
                mujoco.mj_forward(env.model, env.data)
                full = env.cameras._get().render(env.data, camera, env.cameras._full)
                assert np.array_equal(env.render_camera(camera), full), seed
    finally:
        env.close()


def test_the_plain_room_is_the_station_as_it_was():
    env = DroidEnv("cube_in_bowl", obs_mode="state", room="plain")
    try:
        _, info = env.reset(seed=0)
        assert info["room"] == {"style": "plain"} and env.drawn_room is None
        m = env.model
        assert np.allclose(m.geom_size[m.geom("table_top").id][:2], (0.55, 0.6))
        assert m.geom("back_wall") is not None
        with pytest.raises(KeyError):
            m.body("room")
    finally:
        env.close()
