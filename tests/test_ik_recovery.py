"""IK that keeps making progress (workspace edge, singularities) and joint commands within the
Franka's speed and position limits."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import robosim_cosmos  # noqa: F401  (registers the ids)
from robosim_cosmos.envs.control import MAX_JOINT_STEP
from robosim_cosmos.kinematics import frames
from robosim_cosmos.kinematics.decode import ChunkDecoder, franka_ik_settings, make_ik_solver
from robosim_cosmos.kinematics.ik import IKSettings

REACH = "robosim_cosmos/DroidReach-v0"
SHOULDER = np.array([0.0, 0.0, 0.333])
LO, HI = frames.JOINT_LIMITS[:, 0], frames.JOINT_LIMITS[:, 1]


def _row(tx: float) -> np.ndarray:
    row = np.zeros(10, np.float32)
    row[0] = tx
    row[3] = row[7] = 1.0  # identity rotation
    return row


def test_the_arm_comes_back_after_driving_to_full_extension():
    env = gym.make(REACH, action_mode="cosmos", obs_mode="state", max_episode_steps=1000)
    env.reset(seed=0)
    u = env.unwrapped
    u.reanchor()
    for _ in range(60):
        *_, info = env.step(_row(+1.0))
    assert info["ik_position_error_mm"] > 100  # the targets ran out of reach, as they should
    u.reanchor()
    start = u.ee_pose()[:3, 3].copy()
    for _ in range(30):
        *_, info = env.step(_row(-1.0))
    moved = np.linalg.norm(u.ee_pose()[:3, 3] - start)
    assert moved >= 0.100, f"moved only {moved * 1e3:.1f} mm back"
    assert info["ik_position_error_mm"] < 1.0


def test_an_unreachable_target_is_approached_then_left_cleanly():
    solver = make_ik_solver()
    home = solver.forward(frames.DROID_HOME)
    far = home.copy()
    far[:3, 3] += [2.0, 0.0, 0.0]
    res = solver.solve(np.stack([home, far, home]), frames.DROID_HOME)
    start_gap = np.linalg.norm(far[:3, 3] - home[:3, 3]) * 1e3
    assert list(res.converged) == [True, False, True]
    assert res.position_error_mm[1] < start_gap - 400  # it reached out toward the target
    # The old rule (stop at the first step that makes both errors grow) stays as a baseline.
    stuck = make_ik_solver(settings=IKSettings(adaptive_damping=False)).solve(far[None], frames.DROID_HOME)
    assert res.position_error_mm[1] < stuck.position_error_mm[0]


def _configuration(draw: st.DrawFn) -> np.ndarray:
    q = np.array([draw(st.floats(float(lo) + 0.05, float(hi) - 0.05)) for lo, hi in frames.JOINT_LIMITS])
    if draw(st.booleans()):  # near the straight-elbow singularity at joint 4's upper limit
        q[3] = HI[3] - draw(st.floats(0.0, 0.02))
    return q


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_target_1cm_closer_to_the_base_always_reduces_the_error(data):
    solver = make_ik_solver(settings=franka_ik_settings(15.0))
    q = _configuration(data.draw)
    pose = solver.forward(q)
    radial = pose[:3, 3] - SHOULDER
    distance = float(np.linalg.norm(radial))
    if distance < 0.3:  # the inner region near the shoulder: 1 cm closer may not exist
        return
    target = pose.copy()
    target[:3, 3] -= 0.01 * radial / distance
    res = solver.solve(target[None], q)
    assert res.position_error_mm[0] < 10.0 - 1e-6, (q.tolist(), res.position_error_mm[0])
    assert np.all(np.abs(res.q[0] - q) <= np.asarray(franka_ik_settings(15.0).max_step_rad) + 1e-9)


@pytest.mark.parametrize("seed", [0, 1])
def test_saturated_rows_keep_joint_speeds_and_positions_within_franka_limits(seed):
    env = gym.make(REACH, action_mode="cosmos", obs_mode="state", max_episode_steps=1000)
    env.reset(seed=seed)
    u = env.unwrapped
    rng = np.random.default_rng(seed)
    previous = frames.DROID_HOME.copy()
    limited = 0
    for t in range(300):
        if t % 8 == 0:
            u.reanchor()  # as a rollout does at every chunk
        obs, _, _, _, info = env.step(rng.choice([-1.0, 1.0], size=10).astype(np.float32))
        q = info["commanded_joint_position"]
        speed = np.abs(q - previous) * 15.0
        assert np.all(speed <= frames.VELOCITY_LIMITS * 1.01), (t, speed / frames.VELOCITY_LIMITS)
        previous = q
        observed = obs["joint_position"]
        assert np.all(observed >= LO - 0.01) and np.all(observed <= HI + 0.01), (t, observed)
        limited += bool(info["speed_limited"])
    assert limited > 0 and info["speed_limited_total"] == limited  # slowed steps are counted


def test_absolute_joint_actions_are_rate_limited_and_counted():
    env = gym.make(REACH, action_mode="joint_position", obs_mode="state")
    env.reset(seed=0)
    far = frames.DROID_HOME.copy()
    far[0] += 1.0  # 1 rad in one 15 Hz step: 6.9x joint 1's velocity limit
    *_, info = env.step(np.append(far, 0.0).astype(np.float32))
    sent = info["commanded_joint_position"]
    assert info["speed_limited"] is True and info["speed_limited_total"] == 1
    np.testing.assert_allclose(sent[0] - frames.DROID_HOME[0], MAX_JOINT_STEP[0], rtol=1e-6)
    np.testing.assert_allclose(sent[1:], frames.DROID_HOME[1:].astype(np.float32), atol=1e-6)


def test_the_decoder_reports_steps_it_slowed():
    decoder = ChunkDecoder("droid")
    stats = decoder.stats
    raw = np.tile([0.0, 0.0, 0.0, 1, 0, 0, 0, 1, 0, 1.0], (16, 1))
    raw[:, 0] = stats.values["q99"][0]  # the largest DROID step forward, every step
    chunk = stats.normalize(raw)
    near_edge = np.array([0.0, 1.2, 0.0, -0.3, 0.0, 1.6, 0.0])  # arm almost straight
    out = decoder.decode(chunk, near_edge)
    steps = np.diff(np.vstack([near_edge, out.joint_positions]), axis=0)
    assert np.all(np.abs(steps) <= np.asarray(franka_ik_settings(15.0).max_step_rad) + 1e-9)
    assert out.ik.summary()["speed_limited_steps"] == int(out.ik.speed_limited.sum())


def test_rollouts_count_the_steps_they_slowed(tmp_path, replay_chunk):
    import json

    from robosim_cosmos.rollout import rollout

    # absolute joint targets swinging joint 1 by ±0.6 rad every step: 4x its velocity limit
    swing = np.tile(np.append(frames.DROID_HOME, 0.0), (8, 1))
    swing[::2, 0] += 0.6
    swing[1::2, 0] -= 0.6
    jumpy = tmp_path / "jumpy.json"
    jumpy.write_text(json.dumps({"layout": "joint_pos", "data": swing.tolist()}))
    res = rollout(REACH, f"replay:{jumpy}", episodes=1, out=tmp_path / "run", max_steps=32, video=False,
                  quiet=True)
    line = res.results[0]
    assert line["error"] is None and line["steps"] == 32
    assert line["speed_limited_steps"] == 32
    assert res.summary["overall"]["speed_limited_steps"] == line["speed_limited_steps"]
    calm = rollout(REACH, f"replay:{replay_chunk}", episodes=1, out=tmp_path / "calm", max_steps=16, video=False,
                   quiet=True)
    assert calm.results[0]["speed_limited_steps"] == 0
