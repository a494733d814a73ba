"""Every task, env id and suite in one place.

Env ids are ``robosim_cosmos/<Name>-v0``. The four original tasks keep their ids; the
droid-tabletop suite holds the compositional tasks of ``suite_tasks.py`` (and the original
pick-and-place ones, which have the same instruction tiers and events).
"""

from __future__ import annotations

from ..errors import ConfigError
from .suite import TIERS, InstructionTier, SuiteTask, TaskSpec
from .suite_tasks import SUITE_TASKS
from .tasks import TASKS, Task

SPECS: dict[str, TaskSpec] = {spec.name: spec for spec in SUITE_TASKS}

ENV_IDS: dict[str, str] = {
    "robosim_cosmos/DroidReach-v0": "reach",
    "robosim_cosmos/DroidLiftCube-v0": "lift_cube",
    "robosim_cosmos/DroidCubeInBowl-v0": "cube_in_bowl",
    "robosim_cosmos/DroidPushCube-v0": "push_cube",
    **{f"robosim_cosmos/{spec.env_name}-v0": spec.name for spec in SUITE_TASKS},
}
"""Env id → task name."""

SUITES: dict[str, tuple[str, ...]] = {
    "droid-tabletop": (*(f"robosim_cosmos/{spec.env_name}-v0" for spec in SUITE_TASKS),
                       "robosim_cosmos/DroidLiftCube-v0", "robosim_cosmos/DroidCubeInBowl-v0",
                       "robosim_cosmos/DroidPushCube-v0"),
    "droid-basics": ("robosim_cosmos/DroidReach-v0", "robosim_cosmos/DroidLiftCube-v0",
                     "robosim_cosmos/DroidCubeInBowl-v0", "robosim_cosmos/DroidPushCube-v0"),
}
"""Suite name → its env ids."""

TASK_NAMES: tuple[str, ...] = (*TASKS, *SPECS)


def make_task(name: str) -> Task:
    """A fresh task instance by name; ConfigError listing the valid names otherwise."""
    if name in TASKS:
        return TASKS[name]()
    if name in SPECS:
        return SuiteTask(SPECS[name])
    raise ConfigError(f"unknown task {name!r}; valid: {sorted(TASK_NAMES)}")


def max_episode_steps(name: str) -> int:
    return TASKS[name].max_episode_steps if name in TASKS else SPECS[name].max_episode_steps


def task_of(env_id: str) -> str:
    """Task name of a registered env id; ConfigError listing the valid ids otherwise."""
    try:
        return ENV_IDS[env_id]
    except KeyError:
        raise ConfigError(f"unknown env id {env_id!r}; valid: {sorted(ENV_IDS)}") from None


def suite_env_ids(name: str) -> tuple[str, ...]:
    """The env ids of suite ``name``; ConfigError listing the suites otherwise."""
    try:
        return SUITES[name]
    except KeyError:
        raise ConfigError(f"unknown suite {name!r}; valid: {sorted(SUITES)}") from None


def check_tier(value: object) -> InstructionTier:
    """``value`` if it names an instruction tier; ConfigError listing them otherwise."""
    if not isinstance(value, str) or value not in TIERS:
        raise ConfigError(f"unknown instruction tier {value!r}; valid: {list(TIERS)}")
    return value


def instruction_templates(env_id: str) -> dict[InstructionTier, tuple[str, ...]]:
    """The instruction templates of an env id, by tier."""
    task = make_task(task_of(env_id))
    return {tier: tuple(task.tier_instructions[tier]) for tier in TIERS}
