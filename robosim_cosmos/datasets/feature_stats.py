"""LeRobot's feature statistics: ``min, max, mean, std, count, q01, q10, q50, q90, q99`` per
feature, per episode (``stats/<feature>/<stat>`` in the episodes metadata) and over the dataset
(``meta/stats.json``).

Numbers are exact over every frame (the writer has them all). Camera streams are described per
channel as LeRobot does, values scaled to [0, 1] with shape [3, 1, 1], from a 256-bin histogram of
every 4th pixel of every frame: histograms add up across episodes, so dataset quantiles are
exact over those pixels too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DatasetError

QUANTILES: dict[str, float] = {"q01": 0.01, "q10": 0.10, "q50": 0.50, "q90": 0.90, "q99": 0.99}
STAT_NAMES: tuple[str, ...] = ("min", "max", "mean", "std", "count", *QUANTILES)
PIXEL_STRIDE = 4
"""Image statistics look at every 4th pixel in each direction (LeRobot downsamples too)."""

Stats = dict[str, Any]
"""One feature's statistics, JSON-ready: each a list shaped like the feature (``count`` [1])."""


def array_stats(values: np.ndarray) -> Stats:
    """Statistics of ``values`` [N] or [N, D] (any numbers or bools) per dimension."""
    data = np.asarray(values, dtype=np.float64)
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2 or len(data) == 0:
        raise DatasetError(f"statistics need values [N] or [N, D] with N >= 1, got {np.shape(values)}")
    out: Stats = {"min": data.min(axis=0).tolist(), "max": data.max(axis=0).tolist(),
                  "mean": data.mean(axis=0).tolist(), "std": data.std(axis=0).tolist(), "count": [len(data)]}
    for name, q in QUANTILES.items():
        out[name] = np.quantile(data, q, axis=0).tolist()
    return out


class ImageHistogram:
    """Per-channel 256-bin histogram of uint8 frames (every :data:`PIXEL_STRIDE`-th pixel)."""

    def __init__(self, counts: np.ndarray | None = None, frames: int = 0) -> None:
        self.counts = np.zeros((3, 256), dtype=np.int64) if counts is None else np.asarray(counts, dtype=np.int64)
        if self.counts.shape != (3, 256):
            raise DatasetError(f"an image histogram has shape (3, 256), got {self.counts.shape}")
        self.frames = int(frames)

    def add(self, image: np.ndarray) -> None:
        sample = np.asarray(image)[::PIXEL_STRIDE, ::PIXEL_STRIDE]
        for c in range(3):
            self.counts[c] += np.bincount(sample[..., c].ravel(), minlength=256)
        self.frames += 1

    def merged(self, other: ImageHistogram) -> ImageHistogram:
        return ImageHistogram(self.counts + other.counts, self.frames + other.frames)

    def stats(self) -> Stats:
        """LeRobot's image statistics: per channel, [3, 1, 1], in [0, 1]; ``count`` the frames."""
        if self.frames == 0 or not self.counts.any():
            raise DatasetError("no frames were added to this image histogram")
        levels = np.arange(256, dtype=np.float64) / 255.0
        per: dict[str, list[float]] = {name: [] for name in ("min", "max", "mean", "std", *QUANTILES)}
        for c in range(3):
            counts = self.counts[c]
            total = counts.sum()
            seen = np.flatnonzero(counts)
            mean = float((counts * levels).sum() / total)
            per["min"].append(float(levels[seen[0]]))
            per["max"].append(float(levels[seen[-1]]))
            per["mean"].append(mean)
            per["std"].append(float(np.sqrt((counts * (levels - mean) ** 2).sum() / total)))
            cumulative = np.cumsum(counts)
            for name, q in QUANTILES.items():
                # the lowest level with at least a fraction q of the pixels at or below it
                per[name].append(float(levels[np.searchsorted(cumulative, q * total)]))
        out: Stats = {name: [[[v]] for v in values] for name, values in per.items()}
        out["count"] = [self.frames]
        return out

    def to_json(self) -> dict[str, Any]:
        return {"counts": self.counts.tolist(), "frames": self.frames}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> ImageHistogram:
        try:
            return cls(np.asarray(doc["counts"]), int(doc["frames"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise DatasetError(f"malformed image histogram ({exc})") from None

