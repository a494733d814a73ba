"""The expert's ``close_steps``: close for N steps and start lifting in the same chunk, so a
recorded demonstration never holds the closed fingers still longer than a policy can time from
one frame. The default still waits for two calls to agree that the fingers have settled."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import robosim_cosmos  # noqa: F401  (registers the env ids)
from robosim_cosmos.errors import ConfigError
from robosim_cosmos.policies.expert import HOLDING_MIN
from robosim_cosmos.policies.scripted import ScriptedPolicy

LIFT, BOWL = "robosim_cosmos/DroidLiftCube-v0", "robosim_cosmos/DroidCubeInBowl-v0"
EXECUTE = 8  # rows of each chunk executed before asking again, as a rollout of the expert does
STILL_M = 5e-4  # tcp motion per step below this counts as holding still


def _env(env_id: str) -> gym.Env:
    return gym.make(env_id, action_mode="cosmos", obs_mode="state")


def _episode(env: gym.Env, policy: ScriptedPolicy, seed: int) -> tuple[bool, int, int]:
    """(success, steps, the longest run of steps holding still with the fingers closed on something)."""
    obs, info = env.reset(seed=seed)
    policy.reset()
    base = env.unwrapped
    steps, run, longest = 0, 0, 0
    tcp = base.task_state().task.tcp_pos
    while True:
        base.reanchor()
        chunk = policy.get_actions(obs, info["instruction"])
        for row in chunk.actions[:EXECUTE]:
            obs, _, terminated, truncated, info = env.step(row)
            steps += 1
            now = base.task_state().task.tcp_pos
            closed = float(np.asarray(obs["gripper_position"]).ravel()[0]) > HOLDING_MIN
            run = run + 1 if closed and np.linalg.norm(now - tcp) < STILL_M else 0
            longest, tcp = max(longest, run), now
            if terminated or truncated:
                return bool(info["is_success"]), steps, longest


@pytest.mark.parametrize("env_id", [LIFT, BOWL])
def test_closing_then_lifting_at_once_succeeds_sooner_with_no_long_still_stretch(env_id):
    env = _env(env_id)
    for seed in (3, 4):
        ok_wait, steps_wait, still_wait = _episode(env, ScriptedPolicy(env), seed)
        ok, steps, still = _episode(env, ScriptedPolicy(env, close_steps=3), seed)
        assert ok_wait and ok, seed
        assert still_wait >= 14  # two calls of 8 rows agree the fingers settled before the lift
        assert still <= 4 and steps < steps_wait, (seed, still, steps, steps_wait)


def test_a_miss_is_still_told_from_a_grasp_and_recovered():
    env = _env(LIFT)
    policy = ScriptedPolicy(env, close_steps=3, miss=0.05)
    ok, _, _ = _episode(env, policy, 0)
    assert ok and policy.planner.missed


@pytest.mark.parametrize("bad", [-1, 17, 2.5, True, "3"])
def test_a_bad_close_steps_is_refused_naming_the_range(bad):
    env = _env(LIFT)
    with pytest.raises(ConfigError, match=r"close_steps must be an integer in 0\.\.16"):
        ScriptedPolicy(env, close_steps=bad)
