"""DroidEnv.forecast: a chunk simulated on a copy of the state, and the steps that reuse it."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import robosim_cosmos  # noqa: F401  (registers the ids)
from robosim_cosmos.errors import InvalidActionError, InvalidInputError
from robosim_cosmos.observations import DEFAULT_CAMERA
from robosim_cosmos.policies.scripted import ScriptedPolicy

BOWL = "robosim_cosmos/DroidCubeInBowl-v0"


def _env(action_mode: str = "cosmos"):
    return gym.make(BOWL, action_mode=action_mode, obs_mode="state")


def _chunk(env, seed: int = 3) -> np.ndarray:
    env.reset(seed=seed)
    env.unwrapped.reanchor()
    return ScriptedPolicy(env).get_actions({}, "").actions


def _run(env, rows: np.ndarray, forecast: bool):
    """(per-step obs, info, rendered frame) after stepping ``rows``, with or without a forecast first."""
    u = env.unwrapped
    u.reanchor()
    predicted = u.forecast(rows, camera=DEFAULT_CAMERA) if forecast else None
    out = []
    for row in rows:
        obs, _, _, _, info = env.step(row)
        out.append((obs, info, u.render_camera(DEFAULT_CAMERA)))
    return out, predicted


@pytest.mark.parametrize("action_mode", ["cosmos", "joint_position"])
def test_stepping_a_forecast_chunk_is_bitwise_what_simulating_gives(action_mode):
    a, b = _env(action_mode), _env(action_mode)
    rows = _chunk(a)[:6]
    if action_mode == "joint_position":
        q = a.unwrapped.joint_positions()
        dec = a.unwrapped.decoder.decode(rows, q)
        rows = np.concatenate([dec.joint_positions, dec.gripper[:, None]], axis=1).astype(np.float32)
    for env in (a, b):
        env.reset(seed=3)
    with_memo, predicted = _run(a, rows, forecast=True)
    simulated, _ = _run(b, rows, forecast=False)
    assert predicted is not None and predicted.frames is not None
    assert predicted.frames.shape == (7, 180, 320, 3) and predicted.frames.dtype == np.uint8
    for k, ((oa, ia, fa), (ob, ib, fb)) in enumerate(zip(with_memo, simulated, strict=True)):
        for key in ob:
            assert np.array_equal(oa[key], ob[key]), (k, key)
        for key in ("is_success", "ik_position_error_mm", "tracking_position_error_mm", "sim_time",
                    "clipped_values"):
            assert ia[key] == ib[key], (k, key)
        assert np.array_equal(fa, fb), k                       # the frame the env shows
        assert np.array_equal(predicted.frames[k + 1], fb), k  # is the predicted frame k + 1
        np.testing.assert_array_equal(predicted.joint_positions[k], ob["joint_position"])
    assert np.array_equal(a.unwrapped.data.qpos, b.unwrapped.data.qpos)


def test_forecast_leaves_the_env_untouched():
    env = _env()
    rows = _chunk(env)
    u = env.unwrapped
    qpos, time, cmd = u.data.qpos.copy(), u.data.time, u._cmd
    forecast = u.forecast(rows, camera=None, steps=4)
    assert forecast.frames is None and forecast.joint_positions.shape == (4, 7)
    assert forecast.ee_poses.shape == (4, 4, 4)
    assert np.array_equal(u.data.qpos, qpos) and u.data.time == time and u._cmd is cmd
    # the arm moved in the forecast: the first row is not a no-op
    assert np.linalg.norm(forecast.joint_positions[-1] - qpos[:7]) > 1e-4


def test_a_state_changed_after_the_forecast_is_simulated_not_replayed():
    a, b = _env(), _env()
    rows = _chunk(a)[:3]
    for env in (a, b):
        env.reset(seed=3)
        env.unwrapped.reanchor()
    a.unwrapped.forecast(rows)
    for env in (a, b):  # nudge the cube after the forecast: the forecast no longer applies
        qadr = env.unwrapped.model.jnt_qposadr[env.unwrapped.model.joint("cube_joint").id]
        env.unwrapped.data.qpos[qadr] += 0.01
    for row in rows:
        oa = a.step(row)[0]
        ob = b.step(row)[0]
        assert np.array_equal(oa["joint_position"], ob["joint_position"])
    assert np.array_equal(a.unwrapped.data.qpos, b.unwrapped.data.qpos)


def test_forecast_checks_its_rows_and_camera():
    env = _env()
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match=r"\[T, 10\]"):
        env.unwrapped.forecast(np.zeros((3, 8)))
    with pytest.raises(InvalidInputError, match="unknown camera"):
        env.unwrapped.forecast(np.zeros((3, 10)), camera="top")
