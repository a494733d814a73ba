"""Action execution: how one action row becomes joint and gripper commands and a control step.

``joint_position`` rows are absolute joint targets, ``joint_velocity`` rows DROID joint
velocities (Δq = 0.2·v rad from the observed joints), ``cosmos`` rows one normalized Cosmos
end-effector row that goes through the kinematics layer (de-normalize, compose on the
previously commanded ``cosmos_ee`` pose, IK). Every joint command then moves at most the
Franka's velocity limit per step from the last one sent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal, get_args

import mujoco
import numpy as np
from gymnasium import spaces

from ..errors import InvalidActionError
from ..kinematics import frames
from ..kinematics.decode import ChunkDecoder
from ..kinematics.robot_description import RobotDescription
from .scene import CONTROL_HZ, PHYSICS_SUBSTEPS

ActionMode = Literal["joint_position", "cosmos", "joint_velocity"]
ACTION_MODES: tuple[ActionMode, ...] = get_args(ActionMode)

MAX_JOINT_STEP: np.ndarray = frames.VELOCITY_LIMITS / CONTROL_HZ
"""Largest change of each joint command per control step: the Franka's velocity limits × 1/15 s."""

DROID_JOINT_DELTA = 0.2
"""DROID's joint-velocity action: a velocity v in [−1, 1] moves the joint target 0.2·v rad from
the observed joint position in one 15 Hz step (its IK solver's ``max_joint_delta``)."""


def rate_limit(q: np.ndarray, previous: np.ndarray) -> tuple[np.ndarray, bool]:
    """``q`` moved at most MAX_JOINT_STEP from ``previous`` per joint, and whether it had to be."""
    delta = q - previous
    limited = bool(np.any(np.abs(delta) > MAX_JOINT_STEP * (1.0 + 1e-9)))
    return (previous + np.clip(delta, -MAX_JOINT_STEP, MAX_JOINT_STEP), True) if limited else (q, False)


def action_space(mode: ActionMode) -> spaces.Box:
    """Box(8) of joint targets (rad) or DROID velocities ([−1, 1]) plus the gripper (0 open .. 1
    closed), or Box(10) of one normalized cosmos row."""
    limits = frames.JOINT_LIMITS
    if mode == "joint_position":
        low = np.append(limits[:, 0], 0.0).astype(np.float32)
        high = np.append(limits[:, 1], 1.0).astype(np.float32)
        return spaces.Box(low, high, dtype=np.float32)
    if mode == "joint_velocity":
        low = np.append(np.full(7, -1.0), 0.0).astype(np.float32)
        return spaces.Box(low, np.ones(8, np.float32), dtype=np.float32)
    return spaces.Box(-1.0, 1.0, shape=(10,), dtype=np.float32)


@dataclass(frozen=True)
class Command:
    """What the controller holds between steps: the pose the next cosmos row composes on and
    the joints IK starts from (both re-anchored on the observed robot at each chunk), the
    joints and gripper last sent to the servos, and the pose the arm is being driven to."""

    anchor: np.ndarray
    q: np.ndarray
    gripper: float
    target_pose: np.ndarray
    sent: np.ndarray


def home_command() -> Command:
    home = frames.DROID_HOME.copy()
    return Command(anchor=np.eye(4), q=home, gripper=0.0, target_pose=np.eye(4), sent=home)


@dataclass(frozen=True)
class StepTargets:
    """One step's command, the IK error (mm, deg), the values clipped and whether the joint
    rate limit slowed it."""

    command: Command
    ik_error: tuple[float, float]
    clipped: int
    speed_limited: bool


class Controller:
    """Turns checked action rows into commands and sends them to a model's servos."""

    def __init__(self, model: mujoco.MjModel, robot: RobotDescription, mode: ActionMode,
                 decoder: ChunkDecoder) -> None:
        self.model, self.robot, self.mode, self.decoder = model, robot, mode, decoder
        self.space = action_space(mode)
        self._arm_act = np.array([model.actuator(a).id for a in robot.arm_actuators])
        self._grip_act = model.actuator(robot.gripper_actuator).id

    def check(self, action: Any) -> np.ndarray:
        """The row as float64 [action dim]; InvalidActionError for a wrong shape or a NaN/inf."""
        action = np.asarray(action, dtype=np.float64)
        if action.shape != self.space.shape:
            raise InvalidActionError(f"{self.mode} actions have shape {self.space.shape}, got {action.shape}")
        if not np.all(np.isfinite(action)):
            raise InvalidActionError(f"action contains NaN or inf: {action}")
        return action

    def targets(self, action: np.ndarray, cmd: Command, q_observed: np.ndarray) -> StepTargets:
        """The next command for one checked row (pure: ``cmd`` is not changed; ``q_observed``:
        the arm's joints [7] the row is applied to).

        Joint commands move at most the Franka's velocity limit per step from the last command
        sent (IK already plans within it; absolute joint actions and chunk starts are clamped,
        and every slowed step is counted)."""
        if self.mode in ("joint_position", "joint_velocity"):
            clipped = 0
            if self.mode == "joint_position":
                q_wanted, gripper = self._joint_targets(action)
            else:
                q_wanted, gripper, clipped = self._velocity_targets(action, q_observed)
            q, limited = rate_limit(q_wanted, cmd.sent)
            pose = self.decoder.anchor_pose(q)
            command = replace(cmd, q=q, gripper=gripper, target_pose=pose, sent=q)
            return StepTargets(command, (0.0, 0.0), clipped, limited)
        # One row through the shared decoder, composed on the previously commanded pose.
        out = self.decoder.decode(action[None], cmd.q, anchor=cmd.anchor)
        pose = out.ee_poses[0]
        q, limited = rate_limit(out.joint_positions[0], cmd.sent)
        ik = (float(out.ik.position_error_mm[0]), float(out.ik.rotation_error_deg[0]))
        command = Command(anchor=pose, q=q, gripper=float(out.gripper[0]), target_pose=pose, sent=q)
        return StepTargets(command, ik, out.clipped, limited or bool(out.ik.speed_limited[0]))

    def actuate(self, data: mujoco.MjData, cmd: Command) -> None:
        """Send the command to the servos and advance physics by one control step."""
        self.hold(data, cmd.q, cmd.gripper)
        mujoco.mj_step(self.model, data, nstep=PHYSICS_SUBSTEPS)

    def hold(self, data: mujoco.MjData, q: np.ndarray, gripper: float) -> None:
        """Set the servo targets without stepping."""
        data.ctrl[self._arm_act] = q
        data.ctrl[self._grip_act] = self.robot.gripper_ctrl(gripper)

    def _joint_targets(self, action: np.ndarray) -> tuple[np.ndarray, float]:
        low, high = self.space.low.astype(np.float64), self.space.high.astype(np.float64)
        outside = (action < low - 1e-6) | (action > high + 1e-6)
        if outside.any():
            i = int(np.flatnonzero(outside)[0])
            raise InvalidActionError(
                f"joint_position action {i} = {action[i]:.4f} is outside [{low[i]:.4f}, {high[i]:.4f}] "
                "(joints 0-6: Franka limits in rad; 7: gripper 0 open .. 1 closed)"
            )
        action = np.clip(action, low, high)  # only float32 rounding remains here
        return action[:7].copy(), float(action[7])

    def _velocity_targets(self, action: np.ndarray, q_observed: np.ndarray) -> tuple[np.ndarray, float, int]:
        """DROID's joint-velocity mapping: (joint targets [7], gripper, values clipped).

        Velocities are clipped into [−1, 1] and the gripper into [0, 1] (as DROID's clients
        do); the target is the observed joints + 0.2·v rad, held inside the Franka's limits.
        Every clipped value and every target held at a limit is counted, none is hidden."""
        low, high = self.space.low.astype(np.float64), self.space.high.astype(np.float64)
        row = np.clip(action, low, high)
        clipped = int(np.count_nonzero(row != action))
        wanted = q_observed + DROID_JOINT_DELTA * row[:7]
        limits = frames.JOINT_LIMITS
        q = np.clip(wanted, limits[:, 0], limits[:, 1])
        clipped += int(np.count_nonzero(q != wanted))
        return q, float(row[7]), clipped
