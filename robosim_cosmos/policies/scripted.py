"""A privileged scripted expert that speaks Cosmos' DROID action language.

``ScriptedPolicy`` reads the simulator's task state (``env.unwrapped.task_state()``, never
the observation), asks the one expert planner (:class:`~robosim_cosmos.policies.expert.ExpertPlanner`,
a phase machine over the task's goals) for waypoints and re-plans from the current state at
every call (closed loop). Each answer is a normalized ``cosmos_ee_delta`` chunk built with
:func:`~robosim_cosmos.kinematics.encode.encode_ee_chunk` from the observed ``cosmos_ee``
pose, with every per-step delta clamped inside DROID's q01/q99 range, so the chunks are
exactly what Cosmos' DROID pipeline would have produced for the same motion.

Tool geometry comes from the env's gripper (``env.robot``: ``tcp_in_ee``,
``finger_axis_in_ee``, from ``kinematics.frames``): the tool points down at DROID home; the
``tcp`` (between the pad centres) sits 0.155 m (Robotiq 2F-85) or 0.1034 m (Franka hand) along
the ``cosmos_ee`` z axis; both grippers close along the line ``Rz(−135°)·ŷ`` of the
``cosmos_ee`` frame.

With ``predict_video=True`` the chunk also carries ``predicted_video``: the chunk simulated
forward on a copy of the current MuJoCo state (the env's own state is untouched), one frame
before and one after every step, exactly as the env will render them (a perfect world model;
``info["prediction_label"]`` names it "simulator prediction" for the rollout video).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import gymnasium as gym
import numpy as np
from scipy.spatial.transform import Rotation

from ..envs.droid_env import DroidEnv
from ..envs.robot_state import PrivilegedState
from ..errors import ConfigError
from ..kinematics.encode import encode_ee_chunk
from ..observations import DEFAULT_CAMERA
from ..policy_api import ActionChunk, Layout, Policy
from .expert import ExpertPlanner
from .tool_path import (
    FRANKA_TIP_BELOW_TCP_M,
    MAX_ROT_RAD,
    MAX_STEP_M,
    Waypoint,
    down_rotation,
    finger_yaw,
    home_finger_yaw,
)


class ScriptedPolicy(Policy):
    """Closed-loop scripted expert for every DroidEnv task, emitting normalized
    ``cosmos_ee_delta`` chunks (``layout="cosmos_ee_delta"``, ``embodiment="droid"``).

    env: the (possibly wrapped) DroidEnv; chunk_size: rows per chunk; predict_video: attach
    the env's forecast of the chunk rendered from ``video_camera`` (the "simulator prediction").
    detour: the probability that a chunk heads for waypoints displaced by 1.5–4 cm (sideways,
    and up, never down) instead of the true ones, while the arm moves freely (reaching,
    approaching, lifting, carrying); the next chunk corrects it. Demonstrations recorded with detours
    show how to recover from the small misses a learned policy makes; most chunks stay true, so
    an L1-trained policy still learns the expert's answer in each state. The draw is seeded by
    the simulator state, so a recording stays reproducible.
    miss: metres across the finger line that each episode's first grasp is aimed off (0: never;
    at most 0.1). The fingers close on nothing, and the demonstration shows the expert open, rise
    and grasp again: a learned policy's commonest failure, and the way out of it.
    close_steps: 0 (the default) holds the closed fingers still until two calls read the same
    gripper position (16 still steps at 8 executed rows a call); N in 1..chunk_size closes for N
    steps and starts lifting in the same chunk, the next call's reading telling a grasp from a
    miss. Frames of a still stretch all look alike, so a policy trained on them cannot tell when
    to lift and may hold still for good; recorded with ``close_steps`` no stretch is longer than N.
    """

    layout: Layout = "cosmos_ee_delta"
    needs_images = False
    predicts_video = True
    PUSH_Z = 0.022
    """tcp height while pushing with the Franka hand (see ``push_z``)."""

    DETOUR_PHASES = ("reach", "start", "approach", "lift", "carry")
    """Phases where the arm moves freely: a detour there cannot knock or drop an object."""

    def __init__(self, env: gym.Env, chunk_size: int = 16, predict_video: bool = False,
                 video_camera: str = DEFAULT_CAMERA, detour: float = 0.0, miss: float = 0.0,
                 close_steps: int = 0) -> None:
        if chunk_size < 1:
            raise ConfigError(f"chunk_size must be >= 1, got {chunk_size}")
        detour = float(detour)
        if not 0.0 <= detour <= 1.0:
            raise ConfigError(f"detour is a probability per chunk in [0, 1], got {detour}")
        self.detour = detour
        miss = float(miss)
        if not 0.0 <= miss <= 0.1:
            raise ConfigError(f"miss is how far (m) the first grasp is aimed off, in [0, 0.1], got {miss}")
        if isinstance(close_steps, bool) or not isinstance(close_steps, (int, float)) \
                or close_steps != int(close_steps) or not 0 <= close_steps <= chunk_size:
            raise ConfigError(f"close_steps must be an integer in 0..{chunk_size} (0: hold still until "
                              f"the fingers settle), got {close_steps!r}")
        base = env.unwrapped
        if not isinstance(base, DroidEnv):
            raise ConfigError(f"the scripted policy drives a DroidEnv, got {type(base).__name__}")
        self.env: DroidEnv = base
        # tool geometry of the env's gripper (tcp and finger axis in the cosmos_ee frame)
        self.tcp_in_ee: np.ndarray = base.robot.tcp_in_ee
        self.finger_axis_in_ee: np.ndarray = base.robot.finger_axis_in_ee
        # heights were tuned for the Franka hand (fingertips 11 mm beyond its tcp): a gripper
        # whose fingertips reach further holds its tcp that much higher above the table
        self.tip_clearance = max(0.0, base.robot.tip_below_tcp_m - FRANKA_TIP_BELOW_TCP_M)
        self.push_z = self.PUSH_Z + self.tip_clearance
        self.chunk_size = int(chunk_size)
        self.set_return_video(predict_video)
        self.video_camera = video_camera
        self.camera = video_camera  # the view its predicted video shows (ego_view)
        self.stats = base.decoder.stats
        self._horizon: int | None = None
        self.planner = ExpertPlanner(self.tip_clearance, self.push_z, home_finger_yaw(self.finger_axis_in_ee), miss,
                                     int(close_steps))
        self.reset()

    def set_execution_horizon(self, steps: int) -> None:
        """Forecast only the rows that will be executed: the rest of the video is never shown."""
        self._horizon = max(1, int(steps))

    def reset(self) -> None:
        self.planner.reset()
        self.phase = self.planner.phase

    # -- Policy API ------------------------------------------------------------------------
    def get_actions(self, observation: Mapping[str, Any], instruction: str) -> ActionChunk:
        t0 = time.perf_counter()
        state = self.env.task_state()
        waypoints = self.planner.plan(state, self._keep_yaw(state))
        self.phase = self.planner.phase
        detoured = bool(self.detour) and self.phase in self.DETOUR_PHASES
        if detoured:
            waypoints, detoured = self._detoured(waypoints)
        poses, grip = self._rollout(state.ee_pose, waypoints)
        actions = encode_ee_chunk(poses, grip, self.stats).astype(np.float32)
        video = self._predict(actions) if self.return_video else None
        info: dict[str, Any] = {"phase": self.phase, "latency_s": time.perf_counter() - t0}
        if detoured:
            info["detour"] = True
        if video is not None:
            info["prediction_label"] = "simulator prediction"
        return ActionChunk(actions, "cosmos_ee_delta", "droid", video, info)

    # -- chunk synthesis --------------------------------------------------------------------
    def _rollout(self, T0: np.ndarray, waypoints: list[Waypoint]) -> tuple[np.ndarray, np.ndarray]:
        """Walk the waypoints from pose T0 with clamped steps: poses [T+1, 4, 4], gripper [T]."""
        poses = [T0.copy()]
        grip = np.zeros(self.chunk_size)
        R, p = T0[:3, :3].copy(), T0[:3, 3].copy()
        tcp_in_ee = self.tcp_in_ee
        idx, dwell = 0, 0
        for i in range(self.chunk_size):
            wp = waypoints[min(idx, len(waypoints) - 1)]
            tcp = p + R @ tcp_in_ee
            # rotation toward the waypoint's tool-down yaw
            rel = Rotation.from_matrix(down_rotation(wp.yaw, self.finger_axis_in_ee) @ R.T).as_rotvec()
            ang = float(np.linalg.norm(rel))
            if ang > MAX_ROT_RAD:
                rel *= MAX_ROT_RAD / ang
            R_new = Rotation.from_rotvec(rel).as_matrix() @ R
            # tcp translation toward the waypoint, clamped per cosmos_ee axis
            step = wp.tcp - tcp
            p_new = tcp + step - R_new @ tcp_in_ee
            local = R.T @ (p_new - p)
            scale = min(1.0, wp.speed / max(float(np.max(np.abs(local))), 1e-12))
            if scale < 1.0:
                p_new = tcp + scale * step - R_new @ tcp_in_ee
                local = R.T @ (p_new - p)
                if np.max(np.abs(local)) > MAX_STEP_M + 1e-9:  # rotation lever arm; shrink further
                    p_new = p + R @ (local * (MAX_STEP_M / np.max(np.abs(local))))
            R, p = R_new, p_new
            grip[i] = wp.gripper
            T = np.eye(4)
            T[:3, :3], T[:3, 3] = R, p
            poses.append(T)
            reached = np.linalg.norm(wp.tcp - (p + R @ tcp_in_ee)) < 1e-4 and ang <= MAX_ROT_RAD
            if reached and idx < len(waypoints):
                dwell += 1
                if dwell > wp.dwell:
                    idx, dwell = idx + 1, 0
        return np.stack(poses), grip

    # -- helpers ----------------------------------------------------------------------------
    def _detoured(self, waypoints: list[Waypoint]) -> tuple[list[Waypoint], bool]:
        """``waypoints``, all displaced by one random offset with probability :attr:`detour`, and
        whether they were."""
        data = self.env.data
        digest = hashlib.blake2b(data.qpos.tobytes() + data.mocap_pos.tobytes(), digest_size=8).digest()
        rng = np.random.default_rng(int.from_bytes(digest, "little"))
        if rng.random() >= self.detour:
            return waypoints, False
        direction = rng.normal(size=3)
        direction[2] = abs(direction[2])  # never down: below a waypoint may be the table or the object
        offset = rng.uniform(0.015, 0.04) * direction / np.linalg.norm(direction)
        return [replace(wp, tcp=wp.tcp + offset) for wp in waypoints], True

    def _keep_yaw(self, state: PrivilegedState) -> float:
        return finger_yaw(state.ee_pose[:3, :3], self.finger_axis_in_ee)

    # -- predicted video ------------------------------------------------------------------------
    def _predict(self, actions: np.ndarray) -> np.ndarray:
        """The env's forecast of this chunk from ``video_camera``: frame k after row k.

        ``actions`` are the float32 rows the chunk carries, so the forecast is of exactly
        what will be stepped (in joint-position mode: decoded as the rollout decodes them).
        """
        env = self.env
        rows = actions
        if env.action_mode == "joint_position":
            decoded = env.decoder.decode(actions, env.joint_positions())
            rows = np.concatenate([decoded.joint_positions, decoded.gripper[:, None]], axis=1)
            rows = np.clip(rows, env.action_space.low, env.action_space.high).astype(np.float32)
        forecast = env.forecast(rows, camera=self.video_camera, steps=self._horizon)
        assert forecast.frames is not None
        return forecast.frames
