"""The robot as the env sees it in a physics state (joints, gripper, poses), and the
privileged state a scripted expert may read beside it."""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from ..kinematics import frames
from ..kinematics.robot_description import RobotDescription
from ..kinematics.sites import site_pose
from .task import TaskState, subtree


@dataclass(frozen=True)
class PrivilegedState:
    """What a scripted expert may read: the robot as the env sees it and the task's facts.

    ee_pose: [4, 4] observed ``cosmos_ee`` pose; joint_position: [7] rad; gripper_position:
    DROID convention (0 open .. 1 closed); task: the task's own typed state.
    """

    task_name: str
    instruction: str
    ee_pose: np.ndarray
    joint_position: np.ndarray
    gripper_position: float
    task: TaskState


class RobotReadout:
    """Reads the arm and gripper of one compiled model out of any of its states."""

    def __init__(self, model: mujoco.MjModel, robot: RobotDescription) -> None:
        self.model, self.robot = model, robot
        self._arm_qadr = np.array([model.jnt_qposadr[model.joint(j).id] for j in robot.arm_joints])
        self._arm_dofadr = np.array([model.jnt_dofadr[model.joint(j).id] for j in robot.arm_joints])
        self._finger_qadr = np.array([model.jnt_qposadr[model.joint(j).id] for j in robot.finger_joints])
        self._ee_site = int(model.site("cosmos_ee").id)
        self._flange_site = int(model.site("flange").id)
        # the arm and the gripper hanging on it: every geom under the robot's base body
        self.geoms = np.isin(model.geom_bodyid, subtree(model, model.body(robot.base_body).id))

    def joints(self, data: mujoco.MjData) -> np.ndarray:
        """Arm joint angles [7], rad."""
        return data.qpos[self._arm_qadr].copy()

    def ee_pose(self, data: mujoco.MjData) -> np.ndarray:
        """``cosmos_ee`` pose [4, 4] in the robot base (= world) frame."""
        return site_pose(self.model, data, self._ee_site)

    def gripper(self, data: mujoco.MjData) -> float:
        """DROID convention (0 open .. 1 closed): ``1 − width / max_width`` of the fingers."""
        return self.robot.droid_from_fingers(data.qpos[self._finger_qadr])

    def cartesian(self, data: mujoco.MjData) -> np.ndarray:
        """DROID's ``cartesian_position`` [6]: the flange's xyz and xyz Euler angles."""
        flange = site_pose(self.model, data, self._flange_site)
        return np.concatenate([flange[:3, 3], frames.matrix_to_euler_xyz(flange[:3, :3])])

    def go_home(self, data: mujoco.MjData) -> None:
        """Put the arm at DROID home with the gripper open."""
        self.place(data, frames.DROID_HOME, 0.0)

    def place(self, data: mujoco.MjData, q: np.ndarray, gripper: float) -> None:
        """Put the arm at joints ``q`` [7] (rad), at rest, and the fingers at ``gripper`` (DROID
        convention, 0 open .. 1 closed)."""
        data.qpos[self._arm_qadr] = q
        data.qvel[self._arm_dofadr] = 0.0
        data.qpos[self._finger_qadr] = self.robot.finger_qpos(gripper)
