"""A gymnasium environment of a DROID-style Franka station in MuJoCo.

Observations use DROID's keys; actions are absolute joint targets (``joint_position``, 8D)
or one normalized Cosmos end-effector row per step (``cosmos``, 10D) that goes through the
kinematics layer: de-normalize, compose on the previously commanded ``cosmos_ee`` pose, IK.
"""

from __future__ import annotations

import os
from typing import Any, Literal

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

from ..kinematics import frames
from ..kinematics.decode import ChunkDecoder
from ..kinematics.gripper import droid_to_finger_opening, finger_opening_to_droid
from ..kinematics.ik import pose_error
from ..kinematics.normalization import ActionStats
from .rendering import CameraRenderer
from .scene import CAMERAS, CONTROL_HZ, PHYSICS_SUBSTEPS, build_scene
from .tasks import Task, make_task

ActionMode = Literal["joint_position", "cosmos"]
ObsMode = Literal["rgb", "state"]
ACTION_MODES: tuple[str, ...] = ("joint_position", "cosmos")
OBS_MODES: tuple[str, ...] = ("rgb", "state")


class DroidEnv(gym.Env):
    """Franka tabletop task with DROID observations.

    task: "reach", "lift_cube", "cube_in_bowl" or "push_cube". action_mode:
    ``joint_position`` (Box(8): 7 joint targets in rad + gripper 0 open .. 1 closed) or
    ``cosmos`` (Box(10): a normalized ``[tx, ty, tz, r0..r5, grasp]`` row). obs_mode ``rgb``
    includes the three cameras (uint8 H×W×3), ``state`` drops them. ``instruction`` overrides
    the sampled one. Privileged state for scripted policies: :meth:`task_state`.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": int(CONTROL_HZ)}

    def __init__(
        self,
        task: str = "reach",
        action_mode: ActionMode = "joint_position",
        obs_mode: ObsMode = "rgb",
        robot: str | os.PathLike = "embedded",
        image_size: tuple[int, int] = (180, 320),
        render_mode: str | None = None,
        instruction: str | None = None,
        stats: ActionStats | str | os.PathLike | None = None,
    ) -> None:
        if action_mode not in ACTION_MODES:
            raise ValueError(f"unknown action_mode {action_mode!r}; valid: {ACTION_MODES}")
        if obs_mode not in OBS_MODES:
            raise ValueError(f"unknown obs_mode {obs_mode!r}; valid: {OBS_MODES}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"unknown render_mode {render_mode!r}; valid: None, 'rgb_array'")
        h, w = (int(v) for v in image_size)
        if h < 16 or w < 16:
            raise ValueError(f"image_size must be at least 16x16, got {image_size}")
        self.task: Task = make_task(task)
        self.action_mode, self.obs_mode, self.render_mode = action_mode, obs_mode, render_mode
        self.image_size = (h, w)
        self._instruction_override = instruction
        scene = build_scene(self.task.objects, robot=robot, image_size=(h, w))
        self.model, self.robot = scene.model, scene.robot
        self.data = mujoco.MjData(self.model)
        self.task.bind(self.model)
        self.decoder = ChunkDecoder("droid", stats=stats, robot=robot)
        m = self.model
        self._arm_qadr = np.array([m.jnt_qposadr[m.joint(j).id] for j in self.robot.arm_joints])
        self._arm_dadr = np.array([m.jnt_dofadr[m.joint(j).id] for j in self.robot.arm_joints])
        self._finger_qadr = np.array([m.jnt_qposadr[m.joint(j).id] for j in self.robot.finger_joints])
        self._arm_act = np.array([m.actuator(a).id for a in self.robot.arm_actuators])
        self._grip_act = m.actuator(self.robot.gripper_actuator).id
        self._ee_site = m.site("cosmos_ee").id
        self._flange_site = m.site("flange").id
        self._renderer: CameraRenderer | None = None

        limits = frames.JOINT_LIMITS
        if action_mode == "joint_position":
            low = np.append(limits[:, 0], 0.0).astype(np.float32)
            high = np.append(limits[:, 1], 1.0).astype(np.float32)
            self.action_space = spaces.Box(low, high, dtype=np.float32)
        else:
            self.action_space = spaces.Box(-1.0, 1.0, shape=(10,), dtype=np.float32)
        # Joint limits are soft in MuJoCo: allow a margin beyond the Franka's stops.
        margin = 0.2
        cart_high = np.array([1.5, 1.5, 1.5, np.pi, np.pi, np.pi])
        obs = {
            "joint_position": spaces.Box(limits[:, 0] - margin, limits[:, 1] + margin, dtype=np.float64),
            "gripper_position": spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float64),
            "cartesian_position": spaces.Box(-cart_high, cart_high, dtype=np.float64),
        }
        if obs_mode == "rgb":
            for cam in CAMERAS:
                obs[cam] = spaces.Box(0, 255, shape=(h, w, 3), dtype=np.uint8)
        self.observation_space = spaces.Dict(obs)
        self.instruction = ""
        self._reset_internal_state()

    # -- state helpers --------------------------------------------------------------
    def _reset_internal_state(self) -> None:
        self._anchor = np.eye(4)
        self._q_cmd = frames.DROID_HOME.copy()
        self._gripper_cmd = 0.0
        self._target_pose = np.eye(4)
        self._steps = 0

    def _site(self, site_id: int) -> np.ndarray:
        T = np.eye(4)
        T[:3, :3] = self.data.site_xmat[site_id].reshape(3, 3)
        T[:3, 3] = self.data.site_xpos[site_id]
        return T

    def ee_pose(self) -> np.ndarray:
        """Observed ``cosmos_ee`` pose [4, 4] in the robot base (= world) frame."""
        return self._site(self._ee_site)

    def joint_positions(self) -> np.ndarray:
        """Observed arm joint angles [7], rad."""
        return self.data.qpos[self._arm_qadr].copy()

    def gripper_position(self) -> float:
        """Observed gripper, DROID convention (0 open .. 1 closed), from the finger opening."""
        opening = float(np.mean(self.data.qpos[self._finger_qadr]))
        return float(np.clip(finger_opening_to_droid(opening), 0.0, 1.0))

    def reanchor(self) -> None:
        """Compose the next cosmos rows on the observed pose (start of every chunk)."""
        self._anchor = self.ee_pose()
        self._q_cmd = self.joint_positions()

    def task_state(self) -> dict:
        """Privileged task state (object poses, goals) for scripted policies; not an observation."""
        state = self.task.state(self.data)
        state.update(ee_pose=self.ee_pose(), joint_position=self.joint_positions(),
                     gripper_position=self.gripper_position(), instruction=self.instruction)
        return state

    # -- gym API ----------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        m, d = self.model, self.data
        mujoco.mj_resetData(m, d)
        d.qpos[self._arm_qadr] = frames.DROID_HOME
        d.qpos[self._finger_qadr] = droid_to_finger_opening(0.0)  # open
        instruction = self.task.reset(d, self.np_random)
        self.instruction = self._instruction_override or (options or {}).get("instruction") or instruction
        d.ctrl[self._arm_act] = frames.DROID_HOME
        d.ctrl[self._grip_act] = self.robot.gripper_ctrl(0.0)
        mujoco.mj_forward(m, d)
        self._reset_internal_state()
        self.reanchor()
        self._target_pose = self._anchor.copy()
        return self._observation(), self._info(ik=(0.0, 0.0), tracking=(0.0, 0.0))

    def step(self, action):
        action = np.asarray(action, dtype=np.float64)
        if action.shape != self.action_space.shape:
            raise ValueError(f"{self.action_mode} actions have shape {self.action_space.shape}, got {action.shape}")
        if not np.all(np.isfinite(action)):
            raise ValueError(f"action contains NaN or inf: {action}")
        ik_err = (0.0, 0.0)
        if self.action_mode == "joint_position":
            q_target, gripper = self._joint_targets(action)
            self._target_pose = self.decoder.anchor_pose(q_target)
        else:
            q_target, gripper, ik_err = self._cosmos_targets(action)
        self._q_cmd, self._gripper_cmd = q_target, gripper
        self.data.ctrl[self._arm_act] = q_target
        self.data.ctrl[self._grip_act] = self.robot.gripper_ctrl(gripper)
        mujoco.mj_step(self.model, self.data, nstep=PHYSICS_SUBSTEPS)
        self._steps += 1
        p, r = pose_error(self.ee_pose(), self._target_pose)
        tracking = (p * 1e3, float(np.rad2deg(r)))
        info = self._info(ik=ik_err, tracking=tracking)
        success = info["is_success"]
        return self._observation(), float(success), success, False, info

    def _joint_targets(self, action: np.ndarray) -> tuple[np.ndarray, float]:
        low, high = self.action_space.low.astype(np.float64), self.action_space.high.astype(np.float64)
        outside = (action < low - 1e-6) | (action > high + 1e-6)
        if outside.any():
            i = int(np.flatnonzero(outside)[0])
            raise ValueError(
                f"joint_position action {i} = {action[i]:.4f} is outside [{low[i]:.4f}, {high[i]:.4f}] "
                "(joints 0-6: Franka limits in rad; 7: gripper 0 open .. 1 closed)"
            )
        action = np.clip(action, low, high)  # only float32 rounding remains here
        return action[:7].copy(), float(action[7])

    def _cosmos_targets(self, action: np.ndarray) -> tuple[np.ndarray, float, tuple[float, float]]:
        # One row through the shared decoder, composed on the previously commanded pose.
        out = self.decoder.decode(action[None], self._q_cmd, anchor=self._anchor)
        self._anchor = self._target_pose = out.ee_poses[0]
        ik = (float(out.ik.position_error_mm[0]), float(out.ik.rotation_error_deg[0]))
        return out.joint_positions[0], float(out.gripper[0]), ik

    def _observation(self) -> dict[str, np.ndarray]:
        flange = self._site(self._flange_site)
        cart = np.concatenate([flange[:3, 3], frames.matrix_to_euler_xyz(flange[:3, :3])])
        obs: dict[str, np.ndarray] = {
            "joint_position": self.joint_positions(),
            "gripper_position": np.array([self.gripper_position()]),
            "cartesian_position": cart,
        }
        if self.obs_mode == "rgb":
            for cam in CAMERAS:
                obs[cam] = self.render_camera(cam)
        return obs

    def _info(self, ik: tuple[float, float], tracking: tuple[float, float]) -> dict[str, Any]:
        return {
            "is_success": bool(self.task.is_success(self.data)),
            "instruction": self.instruction,
            "task": self.task.name,
            "ik_position_error_mm": ik[0],
            "ik_rotation_error_deg": ik[1],
            "tracking_position_error_mm": tracking[0],
            "tracking_rotation_error_deg": tracking[1],
            "commanded_joint_position": self._q_cmd.copy(),
            "commanded_gripper": self._gripper_cmd,
            "sim_time": float(self.data.time),
        }

    # -- rendering ----------------------------------------------------------------------
    def render_camera(self, camera: str, data: mujoco.MjData | None = None) -> np.ndarray:
        """One camera image uint8 [H, W, 3] (``data`` lets callers render a copied state)."""
        if camera not in CAMERAS:
            raise ValueError(f"unknown camera {camera!r}; valid: {CAMERAS}")
        if self._renderer is None:
            self._renderer = CameraRenderer(self.model, *self.image_size)
        return self._renderer.render(self.data if data is None else data, camera)

    def render(self):
        """The three cameras side by side: uint8 [H, 3W, 3] (None unless render_mode='rgb_array')."""
        if self.render_mode != "rgb_array":
            return None
        return np.concatenate([self.render_camera(c) for c in CAMERAS], axis=1)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
