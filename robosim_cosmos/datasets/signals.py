"""Per-frame signals of a recorded episode, and every column a schema derives from them.

A frame is one 15 Hz control step. Its state is measured before the step's action; its action
is what the controller was commanded at that step: the joint-position targets (rad) and the
gripper (DROID convention, 0 open .. 1 closed). The other action forms follow DROID's own
definitions (its ``RobotIKSolver``): a joint velocity is the target's distance from the
measured joints over 0.2 rad (so that ``target = measured + 0.2·v``, what a joint-velocity
env executes), a cartesian velocity the flange's distance to the target's flange pose over
0.075 m and 0.15 rad, a gripper velocity the gripper target's distance over 0.25. Velocities are
written as they are, not clipped to [−1, 1]: a target more than 0.2 rad ahead reads beyond 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..envs.control import DROID_JOINT_DELTA
from ..errors import DatasetError
from ..kinematics.frames import dh_forward_kinematics, euler_xyz_to_matrix, matrix_to_euler_xyz
from .schemas import Source

DROID_MAX_LINEAR_DELTA_M = 0.075
"""DROID's cartesian velocity 1.0 = 0.075 m per step."""
DROID_MAX_ROTATION_DELTA_RAD = 0.15
"""DROID's angular velocity 1.0 = 0.15 rad per step."""
DROID_MAX_GRIPPER_DELTA = 0.25
"""DROID's gripper velocity 1.0 = 0.25 of the stroke per step."""


@dataclass(frozen=True)
class EpisodeSignals:
    """One episode's measured states and commanded actions, T frames.

    joint_position [T, 7] rad, gripper_position [T] (0 open .. 1 closed), cartesian_position
    [T, 6] (flange xyz in metres + extrinsic XYZ Euler in rad), all measured before the frame's
    action; action_joint_position [T, 7] rad and action_gripper_position [T]: the commands.
    instruction: the task string; success: the episode's outcome. float64 throughout.
    """

    joint_position: np.ndarray
    gripper_position: np.ndarray
    cartesian_position: np.ndarray
    action_joint_position: np.ndarray
    action_gripper_position: np.ndarray
    instruction: str
    success: bool

    def __post_init__(self) -> None:
        n = len(self.joint_position)
        expected = {"joint_position": (n, 7), "gripper_position": (n,), "cartesian_position": (n, 6),
                    "action_joint_position": (n, 7), "action_gripper_position": (n,)}
        for name, shape in expected.items():
            value = np.asarray(getattr(self, name), dtype=np.float64)
            if value.shape != shape:
                raise DatasetError(f"episode signal {name} must have shape {shape}, got {value.shape}")
            if not np.all(np.isfinite(value)):
                raise DatasetError(f"episode signal {name} holds NaN or inf")
            object.__setattr__(self, name, value)
        if n < 1:
            raise DatasetError("an episode needs at least one frame")

    @property
    def length(self) -> int:
        return len(self.joint_position)

    def joint_velocity(self) -> np.ndarray:
        """DROID joint velocities [T, 7]: (target − measured) / 0.2 rad."""
        return (self.action_joint_position - self.joint_position) / DROID_JOINT_DELTA

    def action_cartesian_position(self) -> np.ndarray:
        """The commanded joints' flange pose [T, 6] (xyz + extrinsic XYZ Euler, forward kinematics)."""
        return np.stack([flange_cartesian(q) for q in self.action_joint_position])

    def cartesian_velocity(self) -> np.ndarray:
        """DROID cartesian velocities [T, 6]: the target flange's offset from the measured one
        (position, and the Euler angles of R_target·R_measuredᵀ) over 0.075 m and 0.15 rad."""
        target = self.action_cartesian_position()
        out = np.empty_like(target)
        out[:, :3] = (target[:, :3] - self.cartesian_position[:, :3]) / DROID_MAX_LINEAR_DELTA_M
        for t in range(self.length):
            turn = euler_xyz_to_matrix(target[t, 3:]) @ euler_xyz_to_matrix(self.cartesian_position[t, 3:]).T
            out[t, 3:] = matrix_to_euler_xyz(turn) / DROID_MAX_ROTATION_DELTA_RAD
        return out

    def gripper_velocity(self) -> np.ndarray:
        """DROID gripper velocities [T]: (target − measured) / 0.25."""
        return (self.action_gripper_position - self.gripper_position) / DROID_MAX_GRIPPER_DELTA

    def column(self, source: Source) -> np.ndarray:
        """The values of a non-camera, non-index source: numbers [T] or [T, D] (float64), flags
        bool [T], or the instruction object [T]."""
        n = self.length
        flags = np.zeros(n, dtype=bool)
        if source == "state.joint_position":
            return self.joint_position
        if source == "state.gripper_position":
            return self.gripper_position
        if source == "state.cartesian_position":
            return self.cartesian_position
        if source == "state.joints_and_gripper":
            return np.concatenate([self.joint_position, self.gripper_position[:, None]], axis=1)
        if source == "action.joint_position":
            return self.action_joint_position
        if source == "action.gripper_position":
            return self.action_gripper_position
        if source == "action.joint_velocity":
            return self.joint_velocity()
        if source == "action.cartesian_position":
            return self.action_cartesian_position()
        if source == "action.cartesian_velocity":
            return self.cartesian_velocity()
        if source == "action.gripper_velocity":
            return self.gripper_velocity()
        if source == "action.joints_and_gripper":
            return np.concatenate([self.action_joint_position, self.action_gripper_position[:, None]], axis=1)
        if source == "action.joint_velocity_and_gripper":
            return np.concatenate([self.joint_velocity(), self.action_gripper_position[:, None]], axis=1)
        if source == "instruction":
            return np.array([self.instruction] * n, dtype=object)
        if source == "is_first":
            flags[0] = True
            return flags
        if source in ("is_last", "is_terminal"):
            flags[-1] = True  # every recorded episode ends where the env ended it
            return flags
        if source == "success":
            return np.full(n, self.success, dtype=bool)
        raise DatasetError(f"source {source!r} is not a per-frame signal of an episode")


def flange_cartesian(q: np.ndarray) -> np.ndarray:
    """DROID's ``cartesian_position`` [6] of joint angles q [7]: the flange's xyz and extrinsic
    XYZ Euler angles (Franka forward kinematics)."""
    flange = dh_forward_kinematics(np.asarray(q, dtype=np.float64))
    return np.concatenate([flange[:3, 3], matrix_to_euler_xyz(flange[:3, :3])])
