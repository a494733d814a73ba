"""Success-rate statistics."""

from __future__ import annotations

import math
from typing import Any

from ..envs import EVENTS
from ..errors import InvalidInputError


def wilson_interval(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """95 % Wilson score interval of a binomial proportion; (0, 1) when n == 0.

    >>> [round(v, 3) for v in wilson_interval(8, 10)]
    [0.49, 0.943]
    """
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= n:
        raise InvalidInputError(f"successes must lie in [0, n={n}], got {successes}")
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return lo, hi


def success_summary(lines: list[dict]) -> dict:
    """{episodes, completed, successes, errors, success_rate, ci95: [lo, hi], clipped_values,
    speed_limited_steps} of result lines.

    An episode that raised (a non-null ``error``: the policy, the env or the connection failed)
    says nothing about the policy's skill: ``successes``, ``success_rate`` and ``ci95`` count the
    ``completed`` episodes only, and ``errors`` counts the others beside them.
    """
    completed = [r for r in lines if not r.get("error")]
    n = len(completed)
    k = sum(1 for r in completed if r.get("success"))
    lo, hi = wilson_interval(k, n)
    return {
        "episodes": len(lines),
        "completed": n,
        "successes": k,
        "errors": len(lines) - n,
        "success_rate": (k / n) if n else None,
        "clipped_values": sum(int(r.get("clipped_values") or 0) for r in lines),
        "speed_limited_steps": sum(int(r.get("speed_limited_steps") or 0) for r in lines),
        "ci95": [lo, hi],
    }


def _completed(lines: list[dict]) -> list[dict]:
    return [r for r in lines if not r.get("error")]


def mean_progress(lines: list[dict]) -> float | None:
    """Mean final subtask progress of the completed episodes that record one (None: none do)."""
    values = [float(r["progress"]) for r in _completed(lines) if isinstance(r.get("progress"), (int, float))]
    return sum(values) / len(values) if values else None


def event_summary(lines: list[dict]) -> dict[str, dict[str, int]]:
    """For every event name: {"episodes": completed episodes where it happened at least once,
    "count": how often it happened in them}. Errored episodes are left out, as in the success
    rate; a line without ``events`` (an older run) counts as none."""
    out: dict[str, dict[str, int]] = {name: {"episodes": 0, "count": 0} for name in EVENTS}
    for line in _completed(lines):
        events = line.get("events") or {}
        for name in EVENTS:
            n = int(events.get(name) or 0)
            out[name]["count"] += n
            out[name]["episodes"] += int(n > 0)
    return out


def outcome_summary(lines: list[dict]) -> dict[str, Any]:
    """:func:`success_summary` with ``mean_progress`` and ``events`` added."""
    return {**success_summary(lines), "mean_progress": mean_progress(lines), "events": event_summary(lines)}
