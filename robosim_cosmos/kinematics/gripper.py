"""Gripper polarity: the one place the three gripper conventions meet.

- DROID ``gripper_position`` (and column 8 of ``joint_pos`` actions): 0 = open, 1 = closed.
- Cosmos ``grasp`` column, de-normalized: ``grasp = 1 − droid``, so 1 = OPEN, 0 = closed
  (normalized +1 = open, −1 = closed with the DROID stats).
- Franka hand: each slide finger 0 m (closed) .. 0.04 m (open).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FINGER_OPEN_M: float = 0.04
"""Opening of each Franka finger when fully open, metres."""


def grasp_to_droid(grasp: npt.ArrayLike) -> np.ndarray:
    """De-normalized Cosmos grasp (1 open .. 0 closed) → DROID gripper (0 open .. 1 closed)."""
    return 1.0 - np.asarray(grasp, dtype=np.float64)


def droid_to_grasp(droid: npt.ArrayLike) -> np.ndarray:
    """DROID gripper (0 open .. 1 closed) → de-normalized Cosmos grasp (1 open .. 0 closed)."""
    return 1.0 - np.asarray(droid, dtype=np.float64)


def droid_to_finger_opening(droid: npt.ArrayLike) -> np.ndarray:
    """DROID gripper (0 open .. 1 closed) → per-finger slide position in metres."""
    return FINGER_OPEN_M * (1.0 - np.asarray(droid, dtype=np.float64))


def finger_opening_to_droid(opening: npt.ArrayLike) -> np.ndarray:
    """Per-finger slide position in metres → DROID gripper (0 open .. 1 closed)."""
    return 1.0 - np.asarray(opening, dtype=np.float64) / FINGER_OPEN_M
