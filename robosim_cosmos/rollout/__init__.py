"""Closed-loop rollouts.

``robosim_cosmos.rollout(env_id, policy, episodes=..., ...)`` (or ``rollout(RolloutConfig(...))``)
runs episodes and writes ``run.json``, ``results.jsonl``, ``summary.json`` and ``videos/``; the module itself
is callable so that ``robosim_cosmos.rollout(...)`` works whether or not this subpackage was
imported first.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .config import EXECUTIONS, RolloutConfig
from .episode import EpisodeResult, run_episode
from .results import read_results
from .runner import RolloutInterrupted, RolloutResult, rollout
from .stats import success_summary, wilson_interval

__all__ = ["EXECUTIONS", "EpisodeResult", "RolloutConfig", "RolloutInterrupted", "RolloutResult", "read_results",
           "rollout", "run_episode", "success_summary", "wilson_interval"]


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> RolloutResult:
        return rollout(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
