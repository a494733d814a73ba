"""Adaptive sampling in a run (``episodes_adaptive``): episodes handed out while RoboLab's rule
(:meth:`RolloutConfig.adaptive_rule`) does not hold."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from .config import RolloutConfig


def satisfied(cfg: RolloutConfig, lines: Iterable[dict[str, Any]]) -> bool:
    """Whether ``cfg``'s stopping rule holds over its env's recorded result lines (False for a run
    that is not adaptive)."""
    rule = cfg.adaptive_rule()
    return rule is not None and rule.satisfied(lines)


def episode_feed(cfg: RolloutConfig, first: Iterable[int], new: Iterable[int],
                 lines: list[dict[str, Any]]) -> Iterator[int]:
    """The episodes to run, handed out one at a time: ``first`` (errored ones run again), then
    ``new`` in order. For an adaptive run each new episode is handed out only while the rule does
    not hold over ``lines``, which the runner extends as results come in; so a consumer must ask
    for the next episode only when it can start it (a worker is free)."""
    yield from first
    for episode in new:
        if satisfied(cfg, lines):
            return
        yield episode
