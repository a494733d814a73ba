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


def beta_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Equal-tailed ``level`` credible interval of a success rate under a uniform prior: the
    ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of Beta(k + 1, n - k + 1), as NVIDIA
    RoboLab reports it; (0, 1) when n == 0 (the prior itself).

    Unlike the Wilson interval it never touches 0 or 1 unless n == 0: all-success still leaves
    room for failures (``beta_interval(10, 10)`` is about (0.715, 0.998)). So with equal tails
    the observed rate lies inside only for 0 < k < n; 0/n and n/n sit just outside.

    >>> [round(v, 3) for v in beta_interval(8, 10)]
    [0.482, 0.94]
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise InvalidInputError(f"n must be a non-negative integer, got {n!r}")
    if isinstance(successes, bool) or not isinstance(successes, int) or not 0 <= successes <= n:
        raise InvalidInputError(f"successes must be an integer in [0, n={n}], got {successes!r}")
    if not 0.0 < level < 1.0:
        raise InvalidInputError(f"level must lie strictly between 0 and 1, got {level!r}")
    if n == 0:
        return 0.0, 1.0
    from scipy.stats import beta  # imported here: scipy.stats takes a while to load

    a, b = successes + 1, n - successes + 1
    tail = (1.0 - level) / 2.0
    return float(beta.ppf(tail, a, b)), float(beta.ppf(1.0 - tail, a, b))


def success_summary(lines: list[dict]) -> dict:
    """{episodes, completed, successes, errors, success_rate, ci95: [lo, hi], ci95_beta: [lo, hi],
    clipped_values, speed_limited_steps, action_space_mismatches} of result lines.

    ``ci95`` is the Wilson score interval, ``ci95_beta`` the Beta credible interval
    (:func:`beta_interval`, what RoboLab reports). An episode that raised (a non-null ``error``:
    the policy, the env or the connection failed) says nothing about the policy's skill:
    ``successes``, ``success_rate`` and both intervals count the ``completed`` episodes only, and
    ``errors`` counts the others beside them.
    """
    completed = [r for r in lines if not r.get("error")]
    n = len(completed)
    k = sum(1 for r in completed if r.get("success"))
    lo, hi = wilson_interval(k, n)
    beta_lo, beta_hi = beta_interval(k, n)
    return {
        "episodes": len(lines),
        "completed": n,
        "successes": k,
        "errors": len(lines) - n,
        "success_rate": (k / n) if n else None,
        "clipped_values": sum(int(r.get("clipped_values") or 0) for r in lines),
        "speed_limited_steps": sum(int(r.get("speed_limited_steps") or 0) for r in lines),
        "action_space_mismatches": sum(int(r.get("action_space_mismatches") or 0) for r in lines),
        "ci95": [lo, hi],
        "ci95_beta": [beta_lo, beta_hi],
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
