"""DroidEnv(action_mode="joint_velocity"): DROID's joint-velocity mapping owned by the env, and the
``joint_vel`` layout that selects it."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import robosim_cosmos  # noqa: F401  (registers the env ids)
from robosim_cosmos.envs.control import ACTION_MODES, DROID_JOINT_DELTA, MAX_JOINT_STEP
from robosim_cosmos.errors import InvalidActionError
from robosim_cosmos.kinematics import frames
from robosim_cosmos.policy_api import (
    ENV_ACTION_MODE,
    LAYOUT_OF_WIDTH,
    LAYOUT_WIDTH,
    LAYOUTS,
    WHOLE_CHUNK,
    ActionChunk,
    open_loop_steps,
)

REACH = "robosim_cosmos/DroidReach-v0"
LIFT = "robosim_cosmos/DroidLiftCube-v0"
LOW, HIGH = frames.JOINT_LIMITS[:, 0], frames.JOINT_LIMITS[:, 1]


# -- the layout table -------------------------------------------------------------------------

def test_every_layout_maps_to_an_env_action_mode_and_width_8_still_means_joint_pos():
    assert set(ENV_ACTION_MODE) == set(LAYOUTS) == set(LAYOUT_WIDTH)
    assert set(ENV_ACTION_MODE.values()) <= set(ACTION_MODES)
    assert ENV_ACTION_MODE["joint_vel"] == "joint_velocity" and LAYOUT_WIDTH["joint_vel"] == 8
    # A bare 8-wide row (RoboLab reply, action file) is absolute joints, never velocities.
    assert LAYOUT_OF_WIDTH == {10: "cosmos_ee_delta", 8: "joint_pos"}
    assert ActionChunk(np.zeros((3, 8)), "joint_vel").layout == "joint_vel"


def test_make_env_picks_the_velocity_mode_from_the_layout():
    from robosim_cosmos.rollout import RolloutConfig
    from robosim_cosmos.rollout.setup import make_env

    env = make_env(RolloutConfig(REACH, "openpi://127.0.0.1:9"), "joint_vel", "state")
    try:
        assert env.unwrapped.action_mode == "joint_velocity"
        assert env.action_space.shape == (8,)
        np.testing.assert_array_equal(env.action_space.low, [-1] * 7 + [0])
        np.testing.assert_array_equal(env.action_space.high, [1] * 8)
    finally:
        env.close()


@pytest.mark.parametrize("requested, default, rows, expected", [
    (None, None, 16, 8),          # nobody says: 8
    (None, 8, 10, 8),             # openpi joint velocity: 8 of 10
    (None, WHOLE_CHUNK, 15, 15),  # joint position / RoboArena: every row
    (None, 20, 10, 10),           # never more than the chunk holds
    (4, WHOLE_CHUNK, 15, 4),      # the run's explicit setting wins
    (32, 8, 10, 10),
])
def test_open_loop_steps(requested, default, rows, expected):
    assert open_loop_steps(requested, default, rows) == expected


# -- the env ----------------------------------------------------------------------------------

@pytest.mark.parametrize("env_id, obs_mode", [(REACH, "rgb"), (LIFT, "state")])
def test_check_env_in_joint_velocity_mode(env_id, obs_mode):
    env = gym.make(env_id, action_mode="joint_velocity", obs_mode=obs_mode, image_size=(48, 64),
                   render_mode="rgb_array")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(env.unwrapped)
    env.close()


@pytest.fixture(scope="module")
def velocity_env():
    env = gym.make(REACH, action_mode="joint_velocity", obs_mode="state")
    yield env
    env.close()


def _expected_step(q_obs, sent, v, gripper):
    """DROID's mapping, written out: clip, observed q + 0.2·v, joint limits, then the velocity
    limit on the change of the command. Returns (command, gripper, clipped, slowed)."""
    action = np.append(v, gripper)
    row = np.clip(action, [-1] * 7 + [0], 1)
    wanted = q_obs + DROID_JOINT_DELTA * row[:7]
    target = np.clip(wanted, LOW, HIGH)
    clipped = int(np.count_nonzero(row != action) + np.count_nonzero(target != wanted))
    delta = target - sent
    slowed = bool(np.any(np.abs(delta) > MAX_JOINT_STEP * (1 + 1e-9)))
    command = sent + np.clip(delta, -MAX_JOINT_STEP, MAX_JOINT_STEP) if slowed else target
    return command, row[7], clipped, slowed


VELOCITIES = hnp.arrays(np.float64, 7, elements=st.floats(-1.6, 1.6))


@settings(max_examples=40, deadline=None)
@given(v=VELOCITIES, gripper=st.floats(-0.2, 1.2), steps=st.integers(1, 5), seed=st.integers(0, 3))
def test_a_velocity_moves_the_joint_targets_by_0_2_v_per_step(velocity_env, v, gripper, steps, seed):
    env = velocity_env
    obs, _ = env.reset(seed=seed)
    sent = obs["joint_position"].copy()  # at reset the command is the observed home pose
    moved = np.zeros(7)
    clipped_total = 0
    unlimited = True
    for _ in range(steps):
        q_obs = obs["joint_position"].copy()
        command, grip, clipped, slowed = _expected_step(q_obs, sent, v, gripper)
        obs, _, _, _, info = env.step(np.append(v, gripper))
        np.testing.assert_allclose(info["commanded_joint_position"], command, rtol=0, atol=1e-12)
        assert info["commanded_gripper"] == pytest.approx(grip)
        assert info["clipped_values"] == clipped and info["speed_limited"] == slowed
        clipped_total += clipped
        unlimited &= clipped == 0 and not slowed
        moved += info["commanded_joint_position"] - q_obs
        sent = info["commanded_joint_position"]
    assert info["clipped_values_total"] == clipped_total
    assert clipped_total >= steps * int(np.count_nonzero(np.abs(v) > 1) + (not 0 <= gripper <= 1))
    if unlimited:
        # Inside [-1, 1], the joint limits and the velocity limit: exactly 0.2·v·steps from the
        # observed joints, summed over the steps.
        np.testing.assert_allclose(moved, DROID_JOINT_DELTA * v * steps, rtol=0, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(v=hnp.arrays(np.float64, 7, elements=st.floats(-0.6, 0.6)), steps=st.integers(1, 3))
def test_moderate_velocities_move_the_targets_by_exactly_0_2_v_steps(velocity_env, v, steps):
    obs, _ = velocity_env.reset(seed=1)
    moved = np.zeros(7)
    for _ in range(steps):
        q_obs = obs["joint_position"].copy()
        obs, _, _, _, info = velocity_env.step(np.append(v, 1.0))
        assert info["clipped_values"] == 0 and not info["speed_limited"]
        moved += info["commanded_joint_position"] - q_obs
    np.testing.assert_allclose(moved, DROID_JOINT_DELTA * v * steps, rtol=0, atol=1e-12)
    assert info["commanded_gripper"] == 1.0


def test_full_speed_is_slowed_to_the_franka_limits_and_counted(velocity_env):
    obs, _ = velocity_env.reset(seed=0)
    q0 = obs["joint_position"]
    _, _, _, _, info = velocity_env.step(np.append(np.ones(7), 0.0))
    # 0.2 rad in 1/15 s is faster than every Franka joint may move: each is held to its limit.
    np.testing.assert_allclose(info["commanded_joint_position"] - q0, MAX_JOINT_STEP, atol=1e-12)
    assert info["speed_limited"] is True and info["clipped_values"] == 0


def test_a_target_beyond_a_joint_limit_is_held_at_it_and_counted(velocity_env):
    velocity_env.reset(seed=0)
    v = np.zeros(7)
    v[3] = -1.0  # joint 4 (home −2.51 rad) towards its lower stop at −3.07 rad
    held = 0
    for _ in range(12):
        info = velocity_env.step(np.append(v, 0.0))[4]
        assert info["commanded_joint_position"][3] >= LOW[3]
        held += info["clipped_values"]
    assert held > 0 and info["commanded_joint_position"][3] == LOW[3]


def test_forecast_matches_stepping_in_velocity_mode():
    rng = np.random.default_rng(0)
    rows = np.column_stack([rng.uniform(-0.8, 0.8, (6, 7)), np.repeat([0.0, 1.0], 3)])
    first = gym.make(REACH, action_mode="joint_velocity", obs_mode="state")
    second = gym.make(REACH, action_mode="joint_velocity", obs_mode="state")
    first.reset(seed=2)
    second.reset(seed=2)
    forecast = first.unwrapped.forecast(rows, camera=None)
    stepped = [second.step(row)[0]["joint_position"] for row in rows]
    np.testing.assert_array_equal(forecast.joint_positions, np.array(stepped))
    replayed = [first.step(row)[0]["joint_position"] for row in rows]  # taken from the forecast
    np.testing.assert_array_equal(np.array(replayed), np.array(stepped))
    first.close()
    second.close()


@pytest.mark.parametrize("action, match", [
    (np.zeros(7), r"shape \(8,\)"),
    (np.append(np.full(7, np.nan), 0.0), "NaN"),
])
def test_bad_velocity_actions_are_refused(velocity_env, action, match):
    velocity_env.reset(seed=0)
    with pytest.raises(InvalidActionError, match=match):
        velocity_env.step(action)
