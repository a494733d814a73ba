"""Closed-loop rollouts.

``robosim_cosmos.rollout(env_id, policy, episodes, ...)`` runs episodes and writes
``results.jsonl``, ``summary.json`` and ``videos/``; the module itself is callable so that
``robosim_cosmos.rollout(...)`` works whether or not this subpackage was imported first.
"""

from __future__ import annotations

import sys
import types

from .runner import RolloutConfig, RolloutResult, read_results, rollout, run_episode
from .stats import success_summary, wilson_interval

__all__ = ["RolloutConfig", "RolloutResult", "read_results", "rollout", "run_episode",
           "success_summary", "wilson_interval"]


class _CallableModule(types.ModuleType):
    def __call__(self, *args, **kwargs):
        return rollout(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
