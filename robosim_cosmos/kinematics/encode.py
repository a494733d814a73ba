"""The training-side direction: end-effector poses → normalized Cosmos chunks.

Used by the scripted expert and by tests to build chunks exactly as Cosmos' DROID
pipeline would have encoded them.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInputError
from .deltas import encode_backward_framewise
from .gripper import droid_to_grasp
from .normalization import ActionStats


def encode_ee_chunk(poses: np.ndarray, gripper_droid: np.ndarray, stats: ActionStats) -> np.ndarray:
    """``cosmos_ee`` poses [T+1, 4, 4] and DROID gripper [T] → normalized chunk float64 [T, 10].

    Raises ValueError when a step's raw value leaves the stats' normalizable range
    (beyond [q01, q99] for quantile stats it would be clipped and the motion distorted).
    """
    deltas = encode_backward_framewise(poses)
    gripper_droid = np.asarray(gripper_droid, dtype=np.float64)
    if gripper_droid.shape != (deltas.shape[0],):
        raise InvalidInputError(f"gripper must have shape ({deltas.shape[0]},), got {gripper_droid.shape}")
    raw = np.concatenate([deltas, droid_to_grasp(gripper_droid)[:, None]], axis=1)
    bounds = stats.bounds()
    if bounds is not None:
        lo, hi = bounds
        span = np.maximum(hi - lo, 1e-12)
        outside = (raw < lo - 1e-9 * span) | (raw > hi + 1e-9 * span)
        if outside.any():
            r, c = np.argwhere(outside)[0]
            raise InvalidInputError(
                f"step {r} column {c} = {raw[r, c]:.6g} lies outside the stats range "
                f"[{lo[c]:.6g}, {hi[c]:.6g}]; split the motion into smaller steps"
            )
    return stats.normalize(raw)
