"""Every task, env id and suite in one place.

Env ids are ``robosim_cosmos/<Name>-v0``: the reach task and every :class:`TaskSpec` of
``task_library.py`` (the original cube tasks keep their ids). A suite is a named set of env ids.
"""

from __future__ import annotations

from ..errors import ConfigError
from .reach import Reach
from .task import Task
from .task_library import BASIC_TASKS, COMPOSITIONAL_TASKS
from .task_spec import TIERS, InstructionTier, SpecTask, TaskSpec

SPECS: dict[str, TaskSpec] = {spec.name: spec for spec in (*BASIC_TASKS, *COMPOSITIONAL_TASKS)}
"""Task name → its spec (every task but reach)."""

REACH_ID = "robosim_cosmos/DroidReach-v0"


def _gym_id(spec: TaskSpec) -> str:
    return f"robosim_cosmos/{spec.env_name}-v0"


ENV_IDS: dict[str, str] = {REACH_ID: Reach.name, **{_gym_id(spec): spec.name for spec in SPECS.values()}}
"""Env id → task name."""

SUITES: dict[str, tuple[str, ...]] = {
    "droid-tabletop": tuple(_gym_id(spec) for spec in (*COMPOSITIONAL_TASKS, *BASIC_TASKS)),
    "droid-basics": (REACH_ID, *(_gym_id(spec) for spec in BASIC_TASKS)),
}
"""Suite name → its env ids."""

TASK_NAMES: tuple[str, ...] = (Reach.name, *SPECS)


def make_task(name: str) -> Task:
    """A fresh task instance by name; ConfigError listing the valid names otherwise."""
    if name == Reach.name:
        return Reach()
    if name in SPECS:
        return SpecTask(SPECS[name])
    raise ConfigError(f"unknown task {name!r}; valid: {sorted(TASK_NAMES)}")


def max_episode_steps(name: str) -> int:
    return Reach.max_episode_steps if name == Reach.name else SPECS[name].max_episode_steps


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
