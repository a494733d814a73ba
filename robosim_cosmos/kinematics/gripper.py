"""Gripper polarity and geometry: the one place the gripper conventions meet.

- DROID ``gripper_position`` (and column 8 of ``joint_pos`` actions): 0 = open, 1 = closed,
  ``gripper_position = 1 − width / max_width`` (width = distance between the finger pads).
- Cosmos ``grasp`` column, de-normalized: ``grasp = 1 − droid``, so 1 = OPEN, 0 = closed
  (normalized +1 = open, −1 = closed with the DROID stats).
- Each gripper's finger joints: the value of each (coupled) finger joint fully open and
  fully closed (:class:`GripperFacts`). DROID maps linearly onto that joint range.

Grippers:

- ``robotiq_2f85`` (the default, as on DROID): this project's Robotiq 2F-85
  (``envs/grippers/robotiq_2f85.xml``), two parallel-jaw slide fingers, each 0 (closed) ..
  0.0425 m (open): 85 mm between the pads fully open.
- ``franka_hand``: the Franka hand (``envs/grippers/franka_hand.xml``, or Menagerie's own hand),
  each slide finger 0 (closed) .. 0.04 m (open): 80 mm between the pads fully open.
- ``menagerie_2f85``: MuJoCo Menagerie's ``robotiq_2f85/2f85.xml`` (opt-in, found next to the
  Menagerie Panda); its 4-bar driver joints 0 (open) .. 0.8 rad (closed), mapped linearly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

FINGER_OPEN_M: float = 0.04
"""Opening of each Franka finger when fully open, metres."""

ROBOTIQ_2F85_FINGER_OPEN_M: float = 0.0425
"""Opening of each finger of the project's Robotiq 2F-85 fully open (85 mm stroke), metres."""

GripperName = Literal["robotiq_2f85", "franka_hand", "menagerie_2f85"]
VALID_GRIPPERS: tuple[str, ...] = get_args(GripperName)
DEFAULT_GRIPPER: GripperName = "robotiq_2f85"
"""DROID's gripper."""


def droid_to_range(droid: npt.ArrayLike, open_value: float, closed_value: float) -> np.ndarray:
    """DROID gripper (0 open .. 1 closed) → a quantity that is ``open_value`` fully open and
    ``closed_value`` fully closed (a finger joint, an actuator's ctrl), linearly."""
    d = np.asarray(droid, dtype=np.float64)
    return open_value + d * (closed_value - open_value)


def range_to_droid(value: npt.ArrayLike, open_value: float, closed_value: float) -> np.ndarray:
    """The inverse of :func:`droid_to_range` (not clipped)."""
    return (np.asarray(value, dtype=np.float64) - open_value) / (closed_value - open_value)


@dataclass(frozen=True)
class GripperFacts:
    """Finger-joint range and stroke of one gripper.

    finger_open / finger_closed: the value of each finger joint fully open / fully closed
    (metres for slide fingers, radians for Menagerie's 4-bar driver); max_width_m: distance
    between the pads fully open; tip_below_tcp_m: how far the fingertips reach beyond the tcp
    along the tool axis (how high above a surface the tcp must stay for the fingers to clear it).
    """

    name: GripperName
    finger_open: float
    finger_closed: float
    max_width_m: float
    tip_below_tcp_m: float

    def droid_to_finger(self, droid: npt.ArrayLike) -> np.ndarray:
        """DROID gripper (0 open .. 1 closed) → finger joint value (linear)."""
        return droid_to_range(droid, self.finger_open, self.finger_closed)

    def finger_to_droid(self, q: npt.ArrayLike) -> np.ndarray:
        """Finger joint value → DROID gripper (0 open .. 1 closed), not clipped."""
        return range_to_droid(q, self.finger_open, self.finger_closed)


GRIPPERS: dict[str, GripperFacts] = {
    "robotiq_2f85": GripperFacts(
        "robotiq_2f85", ROBOTIQ_2F85_FINGER_OPEN_M, 0.0, 2 * ROBOTIQ_2F85_FINGER_OPEN_M, 0.020
    ),
    "franka_hand": GripperFacts("franka_hand", FINGER_OPEN_M, 0.0, 2 * FINGER_OPEN_M, 0.011),
    "menagerie_2f85": GripperFacts("menagerie_2f85", 0.0, 0.8, 0.085, 0.020),
}
"""Facts of every gripper by name."""


def grasp_to_droid(grasp: npt.ArrayLike) -> np.ndarray:
    """De-normalized Cosmos grasp (1 open .. 0 closed) → DROID gripper (0 open .. 1 closed)."""
    return 1.0 - np.asarray(grasp, dtype=np.float64)


def droid_to_grasp(droid: npt.ArrayLike) -> np.ndarray:
    """DROID gripper (0 open .. 1 closed) → de-normalized Cosmos grasp (1 open .. 0 closed)."""
    return 1.0 - np.asarray(droid, dtype=np.float64)


def droid_to_width(droid: npt.ArrayLike, max_width: float) -> np.ndarray:
    """DROID gripper (0 open .. 1 closed) → distance between the pads, metres."""
    return max_width * (1.0 - np.asarray(droid, dtype=np.float64))


def width_to_droid(width: npt.ArrayLike, max_width: float) -> np.ndarray:
    """Distance between the pads (metres) → DROID gripper ``1 − width / max_width``."""
    return 1.0 - np.asarray(width, dtype=np.float64) / max_width


def droid_to_finger_opening(droid: npt.ArrayLike, finger_open: float = FINGER_OPEN_M) -> np.ndarray:
    """DROID gripper (0 open .. 1 closed) → per-finger slide position in metres
    (``finger_open``: that gripper's per-finger opening; the Franka hand's by default)."""
    return droid_to_range(droid, finger_open, 0.0)


def finger_opening_to_droid(opening: npt.ArrayLike, finger_open: float = FINGER_OPEN_M) -> np.ndarray:
    """Per-finger slide position in metres → DROID gripper (0 open .. 1 closed)."""
    return range_to_droid(opening, finger_open, 0.0)
