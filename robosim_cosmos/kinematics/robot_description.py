"""What a loaded Panda model is: its variant, names, gripper range and tool geometry.

:class:`RobotDescription` is what :func:`~robosim_cosmos.kinematics.assembly.robot_spec`
returns next to the MjSpec; envs and the decoder look the robot up through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import numpy as np

from . import frames
from .gripper import DEFAULT_GRIPPER, GRIPPERS, GripperName, droid_to_range, range_to_droid

RobotVariant = Literal["embedded", "menagerie"]

VALID_ROBOTS: tuple[str, ...] = get_args(RobotVariant)
"""Robot names accepted besides a path."""


@dataclass(frozen=True)
class RobotDescription:
    """Names, gripper range and tool geometry of a loaded Panda model.

    ``finger_open`` / ``finger_closed``: each finger joint's value fully open / closed;
    ``max_width_m``: distance between the pads fully open; ``tip_below_tcp_m``: how far the
    fingertips reach beyond the tcp along the tool axis; ``gripper_body``: the gripper's root
    body (mounted on the flange; the wrist camera hangs on it); ``finger_bodies``: left and right
    finger bodies (their subtrees are what touches objects).
    """

    variant: RobotVariant
    source: Path
    base_body: str
    arm_joints: tuple[str, ...]
    finger_joints: tuple[str, str]
    arm_actuators: tuple[str, ...]
    gripper_actuator: str
    gripper_ctrl_open: float
    gripper_ctrl_closed: float
    gripper: GripperName = DEFAULT_GRIPPER
    gripper_source: Path | None = None
    gripper_body: str = "robotiq_base"
    finger_bodies: tuple[str, str] = ("left_finger", "right_finger")
    finger_open: float = GRIPPERS[DEFAULT_GRIPPER].finger_open
    finger_closed: float = GRIPPERS[DEFAULT_GRIPPER].finger_closed
    max_width_m: float = GRIPPERS[DEFAULT_GRIPPER].max_width_m
    tip_below_tcp_m: float = GRIPPERS[DEFAULT_GRIPPER].tip_below_tcp_m

    def gripper_ctrl(self, droid: np.ndarray | float) -> np.ndarray:
        """DROID gripper (0 open .. 1 closed, clipped) → gripper actuator ctrl (linear)."""
        return droid_to_range(np.clip(droid, 0.0, 1.0), self.gripper_ctrl_open, self.gripper_ctrl_closed)

    def finger_qpos(self, droid: np.ndarray | float) -> np.ndarray:
        """DROID gripper (0 open .. 1 closed) → the value of each finger joint (linear)."""
        return droid_to_range(droid, self.finger_open, self.finger_closed)

    def droid_from_fingers(self, q: np.ndarray | float) -> float:
        """Mean finger joint value → DROID gripper (0 open .. 1 closed), clipped to [0, 1]
        (``1 − width / max_width`` for the slide-finger grippers)."""
        mean = float(np.mean(np.asarray(q, dtype=np.float64)))
        return float(np.clip(range_to_droid(mean, self.finger_open, self.finger_closed), 0.0, 1.0))

    @property
    def T_flange_tcp(self) -> np.ndarray:
        """Pose [4, 4] of the ``tcp`` (between the pad centres) in the flange frame."""
        T: np.ndarray = frames.TCP_FROM_FLANGE[self.gripper].copy()
        return T

    @property
    def tcp_in_ee(self) -> np.ndarray:
        """``tcp`` position [3] in the ``cosmos_ee`` frame."""
        T: np.ndarray = np.linalg.inv(frames.T_FLANGE_COSMOS_EE) @ frames.TCP_FROM_FLANGE[self.gripper]
        tcp: np.ndarray = T[:3, 3].copy()
        return tcp

    @property
    def finger_axis_in_ee(self) -> np.ndarray:
        """Line the fingers close along [3], in the ``cosmos_ee`` frame."""
        R_ee = frames.T_FLANGE_COSMOS_EE[:3, :3]
        axis: np.ndarray = R_ee.T @ frames.FINGER_AXIS_IN_FLANGE[self.gripper]
        return axis
