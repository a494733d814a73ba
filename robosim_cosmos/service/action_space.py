"""Whether a DROID joint chunk looks like the other action space than the one it runs in.

Both spaces are 8 wide, so a server of absolute joint positions answering a client left at
joint velocities (or the reverse) is no protocol error: the env clips, the robot flails and the
episode simply fails. The two are easy to tell apart from the joints the request carried:
a joint-position chunk starts a few degrees from them, velocities stay within [-1, 1].
"""

from __future__ import annotations

import numpy as np

from .protocol import ActionSpace

__all__ = ["FAR_RAD", "NEAR_RAD", "other_space_evidence"]

NEAR_RAD = 0.1
"""A joint-position chunk's first row lies within this of the joints it was asked from (5.7°)."""
FAR_RAD = 0.5
"""No joint-position chunk's first row jumps this far from them in one 15 Hz step (28.6°)."""
MOSTLY = 0.5
"""Velocity rows with more than this share of values outside [-1, 1] are not velocities."""


def other_space_evidence(space: ActionSpace, rows: np.ndarray, joints: np.ndarray) -> str | None:
    """Why ``rows`` ([N, 8]: 7 joints + gripper) look far more like the other action space than
    ``space``, asked from ``joints`` [7]; None when they are plausible as ``space``."""
    arm = np.asarray(rows, dtype=np.float64)[:, :7]
    first = float(np.max(np.abs(arm[0] - np.asarray(joints, dtype=np.float64).reshape(7))))
    outside = np.abs(arm) > 1.0
    if space == "joint_velocity":
        if first <= NEAR_RAD and outside[0].any():
            return f"the first row is within {np.degrees(first):.1f}° of every current joint"
        if outside.mean() > MOSTLY:
            return f"{int(outside.sum())} of {outside.size} joint values lie outside [-1, 1]"
        return None
    if first > FAR_RAD and not outside.any():
        return (f"every joint value lies within [-1, 1] and the first row is {np.degrees(first):.0f}° "
                "from the current joints")
    return None
