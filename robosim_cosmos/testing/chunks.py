"""Random DROID-range action chunks for tests and benchmarks."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from ..kinematics.normalization import ActionStats
from ..kinematics.rot6d import matrix_to_rot6d


def random_droid_raw_chunk(rng: np.random.Generator, stats: ActionStats, steps: int = 16) -> np.ndarray:
    """Raw rows [steps, 10] with every per-step delta inside the stats' [q01, q99].

    Translations are uniform in the quantile box; rotations are random small rotations
    accepted only when all six rot6d entries fall inside the quantiles.
    """
    lo, hi = stats.values["q01"], stats.values["q99"]
    rows = np.empty((steps, 10))
    rows[:, :3] = rng.uniform(lo[:3], hi[:3], (steps, 3))
    for i in range(steps):
        while True:
            rotvec = rng.uniform(-0.045, 0.045, 3)
            r6 = matrix_to_rot6d(Rotation.from_rotvec(rotvec).as_matrix())
            if np.all(r6 >= lo[3:9]) and np.all(r6 <= hi[3:9]):
                break
        rows[i, 3:9] = r6
    rows[:, 9] = rng.uniform(lo[9], hi[9], steps)
    return rows


def random_droid_chunk(rng: np.random.Generator, stats: ActionStats, steps: int = 16) -> np.ndarray:
    """Normalized chunk float64 [steps, 10] built from ``random_droid_raw_chunk``."""
    return stats.normalize(random_droid_raw_chunk(rng, stats, steps))
