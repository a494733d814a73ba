"""RoboLab's adaptive-sampling rule: run episodes until the success rate is known well enough.

Episodes run in order. No new one starts once at least ``min_episodes`` completed (error-free)
episodes are recorded and their 95 % Beta interval (:func:`~.success.beta_interval`) is at most
``ci_width`` wide, or once ``max_episodes`` are recorded. The rule reads only what is recorded,
so a resumed run takes up where the last one stopped and a run whose record satisfies it runs
nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .success import beta_interval

REASONS: tuple[str, ...] = ("ci_width", "max_episodes", "interrupted", "incomplete")
"""Why an adaptive run stopped (summary.json ``adaptive.reason``): the interval rule held, the
maximum was recorded, a signal stopped it, or an error stopped it before either."""


@dataclass(frozen=True)
class AdaptiveRule:
    """At most ``max_episodes`` episodes of ``env_id``; stop once ``min_episodes`` completed ones
    have a 95 % Beta interval at most ``ci_width`` wide."""

    env_id: str
    max_episodes: int
    ci_width: float
    min_episodes: int

    def satisfied(self, lines: Iterable[dict[str, Any]]) -> bool:
        """Whether the rule holds over the env's recorded result lines."""
        successes, completed = _counts(r for r in lines if r.get("env_id") == self.env_id)
        return rule_met(successes, completed, ci_width=self.ci_width, min_episodes=self.min_episodes)

    def summary(self, lines: list[dict[str, Any]], interrupted: str | None = None) -> dict[str, Any]:
        """summary.json's ``adaptive``: {max_episodes, ci_width, min_episodes, stopped (the rule
        holds over the recorded episodes), reason (one of :data:`REASONS`)}."""
        stopped = self.satisfied(lines)
        recorded = sum(1 for r in lines if r.get("env_id") == self.env_id)
        if stopped:
            reason = "ci_width"
        elif recorded >= self.max_episodes:
            reason = "max_episodes"
        else:
            reason = "interrupted" if interrupted else "incomplete"
        return {"max_episodes": self.max_episodes, "ci_width": self.ci_width, "min_episodes": self.min_episodes,
                "stopped": stopped, "reason": reason}

def rule_met(successes: int, completed: int, *, ci_width: float, min_episodes: int) -> bool:
    """Whether ``completed`` episodes with ``successes`` among them satisfy the stopping rule:
    at least ``min_episodes`` of them and a 95 % Beta interval at most ``ci_width`` wide."""
    if completed < min_episodes:
        return False
    lo, hi = beta_interval(successes, completed)
    return hi - lo <= ci_width


def stop_after(outcomes: Sequence[bool | None], *, max_episodes: int, ci_width: float, min_episodes: int) -> int:
    """How many of these episodes, run one after another, an adaptive run records: the first n
    whose first n outcomes satisfy the rule, else ``min(max_episodes, len(outcomes))``.

    outcomes: success (True / False) of episodes 0, 1, ... in order; None marks an episode that
    ended with an error (recorded, but not a completed episode).
    """
    successes = completed = 0
    for n, outcome in enumerate(outcomes[:max_episodes], 1):
        if outcome is not None:
            completed += 1
            successes += int(outcome)
        if rule_met(successes, completed, ci_width=ci_width, min_episodes=min_episodes):
            return n
    return min(max_episodes, len(outcomes))


def _counts(lines: Iterable[dict[str, Any]]) -> tuple[int, int]:
    """(successes, completed) of result lines; a line with an error is not completed."""
    completed = [r for r in lines if not r.get("error")]
    return sum(1 for r in completed if r.get("success")), len(completed)
