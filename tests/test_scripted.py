"""The scripted expert: closed-loop success through both action paths, chunk validity,
gripper polarity and the simulator-predicted video."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import robosim_cosmos  # noqa: F401  (registers the env ids)
from robosim_cosmos.envs.task_library import COMPOSITIONAL_TASKS
from robosim_cosmos.kinematics.normalization import load_stats
from robosim_cosmos.policies.expert import CLOSED_ON_NOTHING
from robosim_cosmos.policies.scripted import ScriptedPolicy
from robosim_cosmos.policy_api import ActionChunk, Policy

ENV_IDS = {
    "reach": "robosim_cosmos/DroidReach-v0",
    "lift_cube": "robosim_cosmos/DroidLiftCube-v0",
    "cube_in_bowl": "robosim_cosmos/DroidCubeInBowl-v0",
    "push_cube": "robosim_cosmos/DroidPushCube-v0",
}
SEEDS = range(20)
EXECUTE = 8  # rows of each 16-step chunk the runner executes before asking again
STATS = load_stats(embodiment="droid")
Q01, Q99 = STATS.values["q01"], STATS.values["q99"]


def _check_chunk(chunk: ActionChunk) -> None:
    a = chunk.actions
    assert chunk.layout == "cosmos_ee_delta" and chunk.embodiment == "droid"
    assert a.shape == (16, 10) and a.dtype == np.float32
    assert np.all(a >= -1.0) and np.all(a <= 1.0)
    raw = STATS.denormalize(a.astype(np.float64))
    tol = 1e-6
    assert np.all(raw >= Q01 - tol) and np.all(raw <= Q99 + tol), "a step leaves DROID q01/q99"


def _episode(env, policy: ScriptedPolicy, seed: int, mode: str, detours: list | None = None) -> tuple[bool, int]:
    obs, info = env.reset(seed=seed)
    policy.reset()
    steps = 0
    while True:
        env.unwrapped.reanchor()
        chunk = policy.get_actions(obs, info["instruction"])
        _check_chunk(chunk)
        if detours is not None:
            detours.append(bool(chunk.info.get("detour")))
        if mode == "joint_position":
            dec = env.unwrapped.decoder.decode(chunk.actions, obs["joint_position"])
            rows = [np.append(dec.joint_positions[i], dec.gripper[i]) for i in range(EXECUTE)]
        else:
            rows = list(chunk.actions[:EXECUTE])
        for row in rows:
            obs, _, terminated, truncated, info = env.step(row)
            steps += 1
            if terminated or truncated:
                return bool(info["is_success"]), steps


@pytest.mark.parametrize("mode", ["cosmos", "joint_position"])
@pytest.mark.parametrize("task", list(ENV_IDS))
def test_scripted_expert_success(task: str, mode: str) -> None:
    env = gym.make(ENV_IDS[task], action_mode=mode, obs_mode="state")
    policy = ScriptedPolicy(env)
    results = [_episode(env, policy, seed, mode) for seed in SEEDS]
    env.close()
    rate = np.mean([ok for ok, _ in results])
    failed = [s for s, (ok, _) in zip(SEEDS, results, strict=True) if not ok]
    assert rate >= 0.9, f"{task}/{mode}: success {rate:.2f}, failed seeds {failed}"


def test_implements_policy_protocol() -> None:
    env = gym.make(ENV_IDS["reach"], action_mode="cosmos", obs_mode="state")
    policy = ScriptedPolicy(env)
    assert isinstance(policy, Policy)
    assert (policy.embodiment, policy.layout, policy.chunk_size) == ("droid", "cosmos_ee_delta", 16)


def test_grasp_polarity_open_then_closed() -> None:
    """Approaching with an open gripper emits normalized grasp +1 (Cosmos: 1 = open); the
    grasp closes with −1, which the decoder turns into DROID 1 (closed)."""
    env = gym.make(ENV_IDS["lift_cube"], action_mode="cosmos", obs_mode="state")
    obs, info = env.reset(seed=3)
    policy = ScriptedPolicy(env)
    env.unwrapped.reanchor()
    first = policy.get_actions(obs, info["instruction"])
    assert policy.phase == "approach"
    assert np.all(first.actions[:8, 9] == 1.0)
    assert np.all(env.unwrapped.decoder.decode(first.actions, obs["joint_position"]).gripper[:8] == 0.0)
    closed_seen = False
    for _ in range(30):
        env.unwrapped.reanchor()
        chunk = policy.get_actions(obs, info["instruction"])
        if policy.phase == "close":
            assert np.all(chunk.actions[:, 9] == -1.0)
            dec = env.unwrapped.decoder.decode(chunk.actions, obs["joint_position"])
            assert np.all(dec.gripper == 1.0)
            closed_seen = True
            break
        for row in chunk.actions[:EXECUTE]:
            obs, *_ = env.step(row)
    assert closed_seen


def test_chunks_are_anchored_on_the_observed_pose() -> None:
    """Decoding a reach chunk from the observed joints moves the tcp toward the target."""
    env = gym.make(ENV_IDS["reach"], action_mode="cosmos", obs_mode="state")
    obs, info = env.reset(seed=5)
    u = env.unwrapped
    policy = ScriptedPolicy(env)
    u.reanchor()
    chunk = policy.get_actions(obs, info["instruction"])
    dec = u.decoder.decode(chunk.actions, obs["joint_position"])
    tcp_offset = np.array([0.0, 0.0, 0.1034, 1.0])
    start = u.task_state().task.tcp_pos
    end = (dec.ee_poses[-1] @ tcp_offset)[:3]
    target = u.task_state().task.target_pos
    assert np.linalg.norm(end - target) < np.linalg.norm(start - target) - 0.1
    np.testing.assert_allclose(dec.ee_poses[-1][:3, 2], [0, 0, -1], atol=1e-3)  # tool still down


def test_predicted_video_leaves_env_untouched() -> None:
    env = gym.make(ENV_IDS["lift_cube"], action_mode="cosmos", obs_mode="state")
    obs, info = env.reset(seed=1)
    u = env.unwrapped
    for _ in range(5):  # move a little so the state is not the reset state
        obs, *_ = env.step(np.array([0, 0, 0, 1, 0, 0, 0, 1, 0, 1.0], dtype=np.float32))
    policy = ScriptedPolicy(env, predict_video=True)
    u.reanchor()
    qpos, qvel, ctrl, t = u.data.qpos.copy(), u.data.qvel.copy(), u.data.ctrl.copy(), u.data.time
    chunk = policy.get_actions(obs, info["instruction"])
    video = chunk.predicted_video
    h, w = u.image_size
    assert video is not None and video.dtype == np.uint8 and video.shape == (17, h, w, 3)
    np.testing.assert_array_equal(u.data.qpos, qpos)
    np.testing.assert_array_equal(u.data.qvel, qvel)
    np.testing.assert_array_equal(u.data.ctrl, ctrl)
    assert u.data.time == t
    assert np.abs(video[-1].astype(int) - video[0].astype(int)).mean() > 0.05  # the robot moves
    assert chunk.info["prediction_label"] == "simulator prediction"  # written on the video panel, not the frames

    # the prediction is the env's own future, pixel for pixel: executing the chunk shows its frames
    for k, row in enumerate(chunk.actions, start=1):
        env.step(row)
        np.testing.assert_array_equal(u.render_camera("exterior_image_1_left"), video[k])


SUITE_SEEDS = range(20)


@pytest.mark.parametrize("env_id", [f"robosim_cosmos/{s.env_name}-v0" for s in COMPOSITIONAL_TASKS],
                         ids=[s.name for s in COMPOSITIONAL_TASKS])
def test_scripted_expert_solves_every_suite_task(env_id: str) -> None:
    """≥ 90 % over 20 seeds through the cosmos 10D path (measured: 20/20 on every task)."""
    env = gym.make(env_id, action_mode="cosmos", obs_mode="state")
    policy = ScriptedPolicy(env)
    wins = sum(_episode(env, policy, seed, "cosmos")[0] for seed in SUITE_SEEDS)
    env.close()
    assert wins >= 18, f"{env_id}: {wins}/20"


def test_detours_are_reproducible_recovered_from_and_off_by_default() -> None:
    """With ``detour`` some chunks head off by a few cm; the expert still succeeds, the same seed
    gives the same episode, and the default leaves the expert's chunks untouched."""
    env = gym.make(ENV_IDS["lift_cube"], action_mode="cosmos", obs_mode="state")
    flags: list[bool] = []
    plain = [_episode(env, ScriptedPolicy(env), seed, "cosmos", flags) for seed in range(4)]
    assert not any(flags)
    flags.clear()
    detoured = [_episode(env, ScriptedPolicy(env, detour=0.5), seed, "cosmos", flags) for seed in range(4)]
    again = [_episode(env, ScriptedPolicy(env, detour=0.5), seed, "cosmos") for seed in range(4)]
    assert all(ok for ok, _ in plain + detoured)
    assert detoured == again  # seeded by the simulator state: a recording reproduces
    assert 0.1 < np.mean(flags) < 0.6, flags
    # a detoured chunk ends 1.5-4 cm from where the true one does (8 rows at <= 1.05 cm a row)
    for seed in range(10):
        obs, info = env.reset(seed=seed)
        chunk = ScriptedPolicy(env, detour=0.5).get_actions(obs, info["instruction"])
        if chunk.info.get("detour"):
            true = ScriptedPolicy(env).get_actions(obs, info["instruction"])
            moved = STATS.denormalize(chunk.actions.astype(np.float64))[:, :3].sum(axis=0)
            meant = STATS.denormalize(true.actions.astype(np.float64))[:, :3].sum(axis=0)
            assert 0.005 < np.linalg.norm(moved - meant) < 0.05
            break
    else:
        raise AssertionError("no first chunk of 10 seeds took a detour at p = 0.5")
    b = ScriptedPolicy(env, detour=0.0).get_actions(obs, info["instruction"]).actions
    np.testing.assert_array_equal(ScriptedPolicy(env).get_actions(obs, info["instruction"]).actions, b)
    with pytest.raises(ValueError, match="detour"):
        ScriptedPolicy(env, detour=1.5)
    env.close()


@pytest.mark.parametrize("task, seeds", [("lift_cube", range(3)), ("cube_in_bowl", range(2))])
def test_an_aimed_off_first_grasp_closes_on_nothing_and_the_expert_recovers(task, seeds) -> None:
    """``miss`` sends the first grasp of an episode 5 cm across the finger line: the fingers close
    on nothing there, away from the object, then the expert opens, rises and grasps for real."""
    env = gym.make(ENV_IDS[task], action_mode="cosmos", obs_mode="state")
    base = env.unwrapped
    for seed in seeds:
        policy = ScriptedPolicy(env, miss=0.05)
        obs, info = env.reset(seed=seed)
        policy.reset()
        phases, closed_at, steps = [], None, 0
        while True:
            base.reanchor()
            chunk = policy.get_actions(obs, info["instruction"])
            phases.append(policy.phase)
            for row in chunk.actions[:EXECUTE]:
                obs, _, terminated, truncated, info = env.step(row)
                steps += 1
                state = base.task_state()
                if closed_at is None and state.gripper_position > CLOSED_ON_NOTHING:
                    subject = state.task.objects["cube"]
                    closed_at = state.task.tcp_pos - subject.pos, subject.pos[2]
                if terminated or truncated:
                    break
            if terminated or truncated:
                break
        assert info["is_success"] and policy.planner.missed, (seed, phases)
        assert phases.index("retreat") < phases.index("lift")  # the miss came first, then the real grasp
        offset, cube_z = closed_at
        assert 0.04 < np.linalg.norm(offset[:2]) < 0.07  # beside the cube: ~5 cm, plus the cube's yaw slack
        assert cube_z < 0.03  # it never left the table while the fingers closed on nothing
        assert steps < 250
    # off by default: the same seed's episode never closes on nothing
    plain = ScriptedPolicy(env)
    assert _episode(env, plain, 0, "cosmos")[0] and not plain.planner.missed
    with pytest.raises(ValueError, match="miss"):
        ScriptedPolicy(env, miss=0.2)
    env.close()
