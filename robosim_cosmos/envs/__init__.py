"""Gymnasium environments; every id is registered here, once, on ``import robosim_cosmos``."""

from __future__ import annotations

import gymnasium as gym

from .events import EVENTS
from .registry import (
    ENV_IDS,
    SUITES,
    check_tier,
    instruction_templates,
    max_episode_steps,
    suite_env_ids,
    task_of,
)
from .task_spec import TIERS, InstructionTier

__all__ = ["ENV_IDS", "EVENTS", "SUITES", "TIERS", "InstructionTier", "check_tier", "instruction_templates",
           "register_envs", "suite_env_ids", "task_of"]


def register_envs() -> None:
    """Register the env ids with gymnasium (idempotent)."""
    for env_id, task in ENV_IDS.items():
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point="robosim_cosmos.envs.droid_env:DroidEnv",
            max_episode_steps=max_episode_steps(task),
            kwargs={"task": task},
        )
