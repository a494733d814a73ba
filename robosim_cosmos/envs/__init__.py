"""Gymnasium environments; every id is registered here, once, on ``import robosim_cosmos``."""

from __future__ import annotations

import gymnasium as gym

from ..errors import ConfigError
from .tasks import TASKS

ENV_IDS: dict[str, str] = {
    "robosim_cosmos/DroidReach-v0": "reach",
    "robosim_cosmos/DroidLiftCube-v0": "lift_cube",
    "robosim_cosmos/DroidCubeInBowl-v0": "cube_in_bowl",
    "robosim_cosmos/DroidPushCube-v0": "push_cube",
}


def register_envs() -> None:
    """Register the env ids with gymnasium (idempotent)."""
    for env_id, task in ENV_IDS.items():
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point="robosim_cosmos.envs.droid_env:DroidEnv",
            max_episode_steps=TASKS[task].max_episode_steps,
            kwargs={"task": task},
        )


def task_of(env_id: str) -> str:
    """Task name of a registered env id; ValueError listing the valid ids otherwise."""
    try:
        return ENV_IDS[env_id]
    except KeyError:
        raise ConfigError(f"unknown env id {env_id!r}; valid: {sorted(ENV_IDS)}") from None
