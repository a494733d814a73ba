"""Trajectory metrics of one episode's end-effector path: length, speed, smoothness (SPARC).

SPARC, the spectral arc length of the speed profile (Balasubramanian et al., 2015), is
negative; closer to zero is smoother (a minimum-jerk reach scores −1.41, a jerky one
lower). It is invariant to the movement's amplitude and duration.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import fft

SPARC_CUTOFF_HZ = 10.0
"""Frequencies above this are not part of a human or robot reach's intended motion."""
SPARC_AMPLITUDE_THRESHOLD = 0.05
"""The arc length stops at the last frequency whose normalized magnitude still exceeds this."""
SPARC_PADDING = 4
"""Zero-pad the speed profile to 2^(ceil(log2 N) + 4) samples for a fine frequency grid."""


def sparc(speed: np.ndarray, rate_hz: float) -> float | None:
    """SPARC of a speed profile float [N] sampled at ``rate_hz``; None for fewer than 3 samples
    or a profile that never moves."""
    speed = np.asarray(speed, dtype=np.float64)
    if speed.size < 3 or not np.any(speed > 0):
        return None
    n = int(2 ** (np.ceil(np.log2(speed.size)) + SPARC_PADDING))
    magnitude = np.abs(fft.rfft(speed, n))
    magnitude = magnitude / magnitude.max()
    freqs = fft.rfftfreq(n, d=1.0 / rate_hz)
    keep = freqs <= SPARC_CUTOFF_HZ
    freqs, magnitude = freqs[keep], magnitude[keep]
    above = np.nonzero(magnitude >= SPARC_AMPLITUDE_THRESHOLD)[0]
    last = int(above[-1]) if above.size else 1
    freqs, magnitude = freqs[: last + 1], magnitude[: last + 1]
    if freqs.size < 2:
        return None
    df = np.diff(freqs) / freqs[-1]
    dm = np.diff(magnitude)
    return float(-np.sum(np.sqrt(df * df + dm * dm)))


def trajectory_metrics(positions: np.ndarray, rate_hz: float, time_to_success_s: float | None) -> dict[str, Any]:
    """Metrics of positions float [N, 3] (metres, one per control step, the first at reset):
    ``path_length_m``, ``mean_speed_m_s``, ``max_speed_m_s``, ``sparc``, ``time_to_success_s``."""
    pos = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    steps = np.linalg.norm(np.diff(pos, axis=0), axis=1) if len(pos) > 1 else np.zeros(0)
    speed = steps * rate_hz
    return {
        "path_length_m": float(steps.sum()),
        "mean_speed_m_s": float(speed.mean()) if speed.size else 0.0,
        "max_speed_m_s": float(speed.max()) if speed.size else 0.0,
        "sparc": sparc(speed, rate_hz),
        "time_to_success_s": time_to_success_s,
    }


TRAJECTORY_KEYS: tuple[str, ...] = ("path_length_m", "mean_speed_m_s", "max_speed_m_s", "sparc")


def trajectory_summary(lines: list[dict[str, Any]]) -> dict[str, Any] | None:
    """summary.json's ``trajectory``: means over completed episodes (time to success: over the
    successful ones); None when no line records a trajectory."""
    records = [(r["trajectory"], bool(r.get("success"))) for r in lines if not r.get("error") and r.get("trajectory")]
    if not records:
        return None
    out: dict[str, Any] = {"episodes": len(records)}
    for key in TRAJECTORY_KEYS:
        values = [t[key] for t, _ in records if t.get(key) is not None]
        out[key] = float(np.mean(values)) if values else None
    times = [t["time_to_success_s"] for t, ok in records if ok and t.get("time_to_success_s") is not None]
    out["time_to_success_s"] = float(np.mean(times)) if times else None
    return out
