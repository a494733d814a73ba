"""Closed-loop rollouts.

``robosim_cosmos.rollout(env_id, policy, episodes=..., ...)`` (or ``rollout(RolloutConfig(...))``)
runs episodes and writes ``run.json``, ``results.jsonl``, ``summary.json``, ``eval_info.json`` and ``videos/``;
``rollout_suite(policy, suite=... | tasks=..., tiers=...)`` runs one such folder per task × instruction
tier and writes ``suite_summary.json`` over them. The module itself is callable so that
``robosim_cosmos.rollout(...)`` works whether or not this subpackage was imported first.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from ..metrics.success import beta_interval, event_summary, outcome_summary, success_summary, wilson_interval
from ..records.results import EpisodeResult, read_results
from .config import EXECUTIONS, RolloutConfig
from .episode import run_episode
from .runner import RolloutResult, rollout
from .signals import RolloutInterrupted
from .suite import SuiteResult, format_table, parse_tiers, resolve_tasks, rollout_suite

__all__ = ["EXECUTIONS", "EpisodeResult", "RolloutConfig", "RolloutInterrupted", "RolloutResult", "SuiteResult",
           "beta_interval", "event_summary", "format_table", "outcome_summary", "parse_tiers", "read_results",
           "resolve_tasks", "rollout", "rollout_suite", "run_episode", "success_summary", "wilson_interval"]


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> RolloutResult:
        return rollout(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
