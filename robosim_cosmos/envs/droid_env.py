"""A gymnasium environment of a DROID-style Franka station in MuJoCo.

Observations use DROID's keys; actions are absolute joint targets (``joint_position``, 8D),
DROID joint velocities (``joint_velocity``, 8D: Δq = 0.2·v rad per step from the observed joints)
or one normalized Cosmos end-effector row per step (``cosmos``, 10D) that goes through the
kinematics layer: de-normalize, compose on the previously commanded ``cosmos_ee`` pose, IK.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

from ..errors import ConfigError, InvalidActionError, InvalidInputError
from ..kinematics import frames
from ..kinematics.decode import ChunkDecoder
from ..kinematics.ik import pose_error
from ..kinematics.normalization import ActionStats
from ..kinematics.sites import site_pose
from ..observations import CAMERAS, DEFAULT_CAMERA, EXTERIOR_CAMERAS
from .events import EventDetector
from .registry import check_tier, make_task
from .rendering import CameraRenderer
from .scene import CONTROL_HZ, PHYSICS_SUBSTEPS, RenderQuality, build_scene, check_render_quality
from .suite import InstructionTier
from .tasks import Task, TaskState, subtree

ActionMode = Literal["joint_position", "cosmos", "joint_velocity"]
ObsMode = Literal["rgb", "state"]
ACTION_MODES: tuple[ActionMode, ...] = get_args(ActionMode)
OBS_MODES: tuple[ObsMode, ...] = get_args(ObsMode)


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


@dataclass(frozen=True)
class Forecast:
    """A chunk simulated on a copy of the state (the env itself is untouched).

    frames: uint8 [n + 1, H, W, 3] from the requested camera (frame 0 = the start state),
    or None without a camera; joint_positions: float64 [n, 7] observed after each step;
    ee_poses: float64 [n, 4, 4] observed ``cosmos_ee`` pose after each step.
    """

    frames: np.ndarray | None
    joint_positions: np.ndarray
    ee_poses: np.ndarray


@dataclass(frozen=True)
class _Command:
    """What the controller holds between steps: the pose the next cosmos row composes on and
    the joints IK starts from (both re-anchored on the observed robot at each chunk), the
    joints and gripper last sent to the servos, and the pose the arm is being driven to."""

    anchor: np.ndarray
    q: np.ndarray
    gripper: float
    target_pose: np.ndarray
    sent: np.ndarray


@dataclass(frozen=True)
class _StepTargets:
    command: _Command
    ik_error: tuple[float, float]
    clipped: int
    speed_limited: bool


MAX_CAMERA_JITTER_M = 0.2

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


@dataclass
class _ForecastMemo:
    """The steps of the last forecast, for ``step`` to take instead of simulating them again.

    Entry i holds the physics state before row i (``before[i]``, mj_getState), the row, the
    controller's targets and the full data after it (``after[i]``), and the camera frame after it.
    A step replays entry ``next`` only when state, command and action are bitwise the same, so
    the env's course is exactly what simulating would give.
    """

    rows: np.ndarray
    before: np.ndarray
    start_command: _Command
    targets: list[_StepTargets]
    after: list[mujoco.MjData]
    camera: str | None
    frames: np.ndarray | None
    next: int = 0


class DroidEnv(gym.Env):
    """Franka tabletop task with DROID observations.

    task: "reach", "lift_cube", "cube_in_bowl" or "push_cube". action_mode:
    ``joint_position`` (Box(8): 7 joint targets in rad + gripper 0 open .. 1 closed),
    ``joint_velocity`` (Box(8): 7 DROID joint velocities in [−1, 1] + the absolute gripper; each
    step's target is the observed joints + 0.2·v rad, :data:`DROID_JOINT_DELTA`) or
    ``cosmos`` (Box(10): a normalized ``[tx, ty, tz, r0..r5, grasp]`` row). obs_mode ``rgb``
    includes the three cameras (uint8 H×W×3), ``state`` drops them. ``instruction`` overrides
    the sampled one. Privileged state for scripted experts: :meth:`task_state`; a chunk
    simulated ahead on a copy of the state: :meth:`forecast`. ``info["clipped_values"]``
    counts the values clipped this step: normalized values the decoder clipped into [−1, 1]
    (``cosmos``), or velocities clipped into [−1, 1], a gripper clipped into [0, 1] and joint
    targets held at a joint limit (``joint_velocity``). ``camera_jitter``
    (metres, default 0): each reset moves both exterior cameras by an offset drawn uniformly
    in ±jitter along x and y from the episode's seed (RoboLab jitters ±0.05).
    ``render_quality``: ``fast`` (flat materials, no shadows, no anti-aliasing) or ``faithful``
    (wood, floor and wall textures, a lab backdrop, the smooth bowl mesh, a shadow-casting key
    light and a fill light, 4× anti-aliasing; several times slower). Physics is the same in both.
    ``gripper``: ``robotiq_2f85`` (default, as on DROID), ``franka_hand`` or ``menagerie_2f85``;
    ``self.robot`` describes it (``tcp_in_ee``, ``finger_axis_in_ee``, finger range) and
    ``gripper_position`` is ``1 − width / max_width`` whichever is mounted.
    """

    # gymnasium declares Env.metadata an instance attribute, so mypy refuses a ClassVar override;
    # gym.make reads it from the class before instantiating, so it must stay class-level.
    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": int(CONTROL_HZ)}  # noqa: RUF012
    action_space: spaces.Box
    observation_space: spaces.Dict

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
        camera_jitter: float = 0.0,
        render_quality: RenderQuality = "fast",
        gripper: str | None = None,
        instruction_tier: InstructionTier = "default",
    ) -> None:
        if not 0.0 <= float(camera_jitter) <= MAX_CAMERA_JITTER_M:
            raise ConfigError(f"camera_jitter must lie in [0, {MAX_CAMERA_JITTER_M}] m, got {camera_jitter!r}")
        if action_mode not in ACTION_MODES:
            raise ConfigError(f"unknown action_mode {action_mode!r}; valid: {ACTION_MODES}")
        if obs_mode not in OBS_MODES:
            raise ConfigError(f"unknown obs_mode {obs_mode!r}; valid: {OBS_MODES}")
        self.render_quality: RenderQuality = check_render_quality(render_quality)
        if render_mode not in (None, "rgb_array"):
            raise ConfigError(f"unknown render_mode {render_mode!r}; valid: None, 'rgb_array'")
        h, w = (int(v) for v in image_size)
        if h < 16 or w < 16:
            raise ConfigError(f"image_size must be at least 16x16, got {image_size}")
        self.task: Task = make_task(task)
        self.instruction_tier: InstructionTier = check_tier(instruction_tier)
        self.task.tier = self.instruction_tier
        self.action_mode, self.obs_mode, self.render_mode = action_mode, obs_mode, render_mode
        self.image_size = (h, w)
        self._instruction_override = instruction
        scene = build_scene(self.task.objects, robot=robot, image_size=(h, w), render_quality=render_quality,
                            gripper=gripper, instances=self.task.instances)
        self.model, self.robot = scene.model, scene.robot
        self.data = mujoco.MjData(self.model)
        self.task.bind(self.model, finger_bodies=self.robot.finger_bodies)
        self.decoder = ChunkDecoder("droid", stats=stats, robot=robot)
        m = self.model
        left, right = (subtree(m, m.body(b).id) for b in self.robot.finger_bodies)
        self.events = EventDetector(m, self.task.movable_bodies(), self.task.target_bodies(), left, right,
                                    subtree(m, m.body(self.robot.gripper_body).id), m.geom("table_top").id)
        self._arm_qadr = np.array([m.jnt_qposadr[m.joint(j).id] for j in self.robot.arm_joints])
        self._arm_dadr = np.array([m.jnt_dofadr[m.joint(j).id] for j in self.robot.arm_joints])
        self._finger_qadr = np.array([m.jnt_qposadr[m.joint(j).id] for j in self.robot.finger_joints])
        self._arm_act = np.array([m.actuator(a).id for a in self.robot.arm_actuators])
        self._grip_act = m.actuator(self.robot.gripper_actuator).id
        self._ee_site = int(m.site("cosmos_ee").id)
        robot_root = m.body(self.robot.base_body).id
        # the arm and the gripper hanging on it: every geom under the robot's base body
        self._robot_geoms = np.append(np.isin(m.geom_bodyid, subtree(m, robot_root)), False)
        self._flange_site = int(m.site("flange").id)
        self._renderer: CameraRenderer | None = None
        self.camera_jitter = float(camera_jitter)
        self._exterior_cams = np.array([m.camera(c).id for c in EXTERIOR_CAMERAS])
        self._exterior_home = m.cam_pos[self._exterior_cams].copy()
        self._scratch: list[mujoco.MjData] = []  # reusable copies for forecasts
        self._memo: _ForecastMemo | None = None
        self._frame_now: tuple[str, np.ndarray] | None = None  # the forecast's frame of this state
        self._state_sig = mujoco.mjtState.mjSTATE_INTEGRATION
        self._state_size = mujoco.mj_stateSize(self.model, self._state_sig)

        limits = frames.JOINT_LIMITS
        if action_mode == "joint_position":
            low = np.append(limits[:, 0], 0.0).astype(np.float32)
            high = np.append(limits[:, 1], 1.0).astype(np.float32)
            self.action_space = spaces.Box(low, high, dtype=np.float32)
        elif action_mode == "joint_velocity":
            low = np.append(np.full(7, -1.0), 0.0).astype(np.float32)
            self.action_space = spaces.Box(low, np.ones(8, np.float32), dtype=np.float32)
        else:
            self.action_space = spaces.Box(-1.0, 1.0, shape=(10,), dtype=np.float32)
        # Joint limits are soft in MuJoCo: allow a margin beyond the Franka's stops.
        margin = 0.2
        cart_high = np.array([1.5, 1.5, 1.5, np.pi, np.pi, np.pi])
        obs: dict[str, spaces.Space[Any]] = {
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
        home = frames.DROID_HOME.copy()
        self._cmd = _Command(anchor=np.eye(4), q=home, gripper=0.0, target_pose=np.eye(4), sent=home)
        self._clipped_total = 0
        self._speed_limited_total = 0

    def ee_pose(self, data: mujoco.MjData | None = None) -> np.ndarray:
        """Observed ``cosmos_ee`` pose [4, 4] in the robot base (= world) frame."""
        return site_pose(self.model, self.data if data is None else data, self._ee_site)

    def joint_positions(self, data: mujoco.MjData | None = None) -> np.ndarray:
        """Observed arm joint angles [7], rad."""
        return (self.data if data is None else data).qpos[self._arm_qadr].copy()

    def gripper_position(self) -> float:
        """Observed gripper, DROID convention (0 open .. 1 closed): ``1 − width / max_width``
        from the finger joints of whichever gripper is mounted (``self.robot``)."""
        return self.robot.droid_from_fingers(self.data.qpos[self._finger_qadr])

    def reanchor(self) -> None:
        """Compose the next cosmos rows on the observed pose (start of every chunk)."""
        self._cmd = replace(self._cmd, anchor=self.ee_pose(), q=self.joint_positions())

    def task_state(self) -> PrivilegedState:
        """Privileged state (robot pose, task objects, goals) for scripted experts; not an observation."""
        return PrivilegedState(
            task_name=self.task.name, instruction=self.instruction, ee_pose=self.ee_pose(),
            joint_position=self.joint_positions(), gripper_position=self.gripper_position(),
            task=self.task.state(self.data),
        )

    def forecast(self, actions: np.ndarray, camera: str | None = DEFAULT_CAMERA,
                 steps: int | None = None) -> Forecast:
        """Simulate the first ``steps`` rows of ``actions`` [T, action dim] exactly as ``step``
        would, on a copy of the physics and controller state, rendering ``camera`` after each.

        Deterministic physics makes this the world the env shows if the same rows are stepped
        next: a perfect predictor to score world models against. Stepping those rows then
        reuses the forecast instead of simulating and rendering them a second time.
        """
        rows = np.asarray(actions, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1:] != self.action_space.shape:
            raise InvalidActionError(
                f"{self.action_mode} forecasts take rows [T, {self.action_space.shape[0]}], got {rows.shape}"
            )
        n = len(rows) if steps is None else max(0, min(int(steps), len(rows)))
        if camera is not None and camera not in CAMERAS:
            raise InvalidInputError(f"unknown camera {camera!r}; valid: {list(CAMERAS)}")
        while len(self._scratch) < n + 1:
            self._scratch.append(mujoco.MjData(self.model))
        pool = self._scratch
        mujoco.mj_copyData(pool[0], self.model, self.data)
        before = np.empty((n, self._state_size))
        cmd, targets = self._cmd, []
        renders = [self.render_camera(camera, data=pool[0])] if camera is not None else []
        qs, poses = np.empty((n, 7)), np.empty((n, 4, 4))
        for i in range(n):
            mujoco.mj_getState(self.model, pool[i], before[i], self._state_sig)
            step = self._targets(self._check_action(rows[i]), cmd, pool[i])
            targets.append(step)
            cmd = step.command
            mujoco.mj_copyData(pool[i + 1], self.model, pool[i])
            self._actuate(pool[i + 1], cmd)
            qs[i], poses[i] = self.joint_positions(pool[i + 1]), self.ee_pose(pool[i + 1])
            if camera is not None:
                renders.append(self.render_camera(camera, data=pool[i + 1]))
        frames = np.stack(renders) if renders else None
        self._memo = _ForecastMemo(rows[:n].copy(), before, self._cmd, targets, pool[1 : n + 1], camera, frames)
        return Forecast(frames, qs, poses)

    def _replay(self, action: np.ndarray) -> _StepTargets | None:
        """The forecast's result for this step, when state, command and action match it exactly."""
        memo = self._memo
        if memo is None or memo.next >= len(memo.targets):
            return None
        i = memo.next
        expected_cmd = memo.start_command if i == 0 else memo.targets[i - 1].command
        state = np.empty(self._state_size)
        mujoco.mj_getState(self.model, self.data, state, self._state_sig)
        if not (self._cmd is expected_cmd and np.array_equal(action, memo.rows[i])
                and np.array_equal(state, memo.before[i])):
            return None
        mujoco.mj_copyData(self.data, self.model, memo.after[i])
        memo.next += 1
        if memo.frames is not None and memo.camera is not None:
            self._frame_now = (memo.camera, memo.frames[i + 1])
        return memo.targets[i]

    # -- gym API ----------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        m, d = self.model, self.data
        mujoco.mj_resetData(m, d)
        self._memo, self._frame_now = None, None
        d.qpos[self._arm_qadr] = frames.DROID_HOME
        d.qpos[self._finger_qadr] = self.robot.finger_qpos(0.0)  # open
        instruction = self.task.reset(d, self.np_random)
        if self.camera_jitter > 0.0:  # drawn after the task so a seed's layout does not depend on it
            offsets = self.np_random.uniform(-self.camera_jitter, self.camera_jitter, (len(self._exterior_cams), 2))
            m.cam_pos[self._exterior_cams] = self._exterior_home
            m.cam_pos[self._exterior_cams, :2] += offsets
        self.instruction = self._instruction_override or (options or {}).get("instruction") or instruction
        d.ctrl[self._arm_act] = frames.DROID_HOME
        d.ctrl[self._grip_act] = self.robot.gripper_ctrl(0.0)
        mujoco.mj_forward(m, d)
        if self._renderer is not None:  # a reset may rescale object meshes
            self._renderer.upload_meshes(self.task.mesh_ids())
        self._reset_internal_state()
        self.events.reset(d)
        self.reanchor()
        self._cmd = replace(self._cmd, target_pose=self._cmd.anchor.copy())
        return self._observation(), self._info(ik=(0.0, 0.0), tracking=(0.0, 0.0), clipped=0, speed_limited=False,
                                               events=())

    def step(self, action):
        action = self._check_action(action)
        self._frame_now = None
        targets = self._replay(action)
        if targets is None:
            self._memo = None
            targets = self._targets(action, self._cmd)
            self._actuate(self.data, targets.command)
        self._cmd = targets.command
        self._clipped_total += targets.clipped
        self._speed_limited_total += int(targets.speed_limited)
        p, r = pose_error(self.ee_pose(), self._cmd.target_pose)
        events = self.events.update(self.data, self._cmd.gripper)
        info = self._info(ik=targets.ik_error, tracking=(p * 1e3, float(np.rad2deg(r))), clipped=targets.clipped,
                          speed_limited=targets.speed_limited, events=events)
        success = info["is_success"]
        return self._observation(), float(success), success, False, info

    def _check_action(self, action: Any) -> np.ndarray:
        action = np.asarray(action, dtype=np.float64)
        if action.shape != self.action_space.shape:
            raise InvalidActionError(
                f"{self.action_mode} actions have shape {self.action_space.shape}, got {action.shape}"
            )
        if not np.all(np.isfinite(action)):
            raise InvalidActionError(f"action contains NaN or inf: {action}")
        return action

    def _targets(self, action: np.ndarray, cmd: _Command, data: mujoco.MjData | None = None) -> _StepTargets:
        """The controller's next command for one checked action row (pure: ``cmd`` is not changed;
        ``data``: the physics state the row is applied to, default the env's own).

        Joint commands move at most the Franka's velocity limit per step from the last command
        sent (IK already plans within it; absolute joint actions and chunk starts are clamped,
        and every slowed step is counted)."""
        if self.action_mode in ("joint_position", "joint_velocity"):
            clipped = 0
            if self.action_mode == "joint_position":
                q_wanted, gripper = self._joint_targets(action)
            else:
                q_wanted, gripper, clipped = self._velocity_targets(action, self.joint_positions(data))
            q, limited = rate_limit(q_wanted, cmd.sent)
            pose = self.decoder.anchor_pose(q)
            command = replace(cmd, q=q, gripper=gripper, target_pose=pose, sent=q)
            return _StepTargets(command, (0.0, 0.0), clipped, limited)
        # One row through the shared decoder, composed on the previously commanded pose.
        out = self.decoder.decode(action[None], cmd.q, anchor=cmd.anchor)
        pose = out.ee_poses[0]
        q, limited = rate_limit(out.joint_positions[0], cmd.sent)
        ik = (float(out.ik.position_error_mm[0]), float(out.ik.rotation_error_deg[0]))
        command = _Command(anchor=pose, q=q, gripper=float(out.gripper[0]), target_pose=pose, sent=q)
        return _StepTargets(command, ik, out.clipped, limited or bool(out.ik.speed_limited[0]))

    def _actuate(self, data: mujoco.MjData, cmd: _Command) -> None:
        """Send the command to the servos and advance physics by one control step."""
        data.ctrl[self._arm_act] = cmd.q
        data.ctrl[self._grip_act] = self.robot.gripper_ctrl(cmd.gripper)
        mujoco.mj_step(self.model, data, nstep=PHYSICS_SUBSTEPS)

    def _joint_targets(self, action: np.ndarray) -> tuple[np.ndarray, float]:
        low, high = self.action_space.low.astype(np.float64), self.action_space.high.astype(np.float64)
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
        low, high = self.action_space.low.astype(np.float64), self.action_space.high.astype(np.float64)
        row = np.clip(action, low, high)
        clipped = int(np.count_nonzero(row != action))
        wanted = q_observed + DROID_JOINT_DELTA * row[:7]
        limits = frames.JOINT_LIMITS
        q = np.clip(wanted, limits[:, 0], limits[:, 1])
        clipped += int(np.count_nonzero(q != wanted))
        return q, float(row[7]), clipped

    def _observation(self) -> dict[str, np.ndarray]:
        flange = site_pose(self.model, self.data, self._flange_site)
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

    def _info(self, ik: tuple[float, float], tracking: tuple[float, float], clipped: int,
              speed_limited: bool, events: tuple[str, ...]) -> dict[str, Any]:
        return {
            "is_success": bool(self.task.is_success(self.data)),
            "progress": float(self.task.progress(self.data)),
            "instruction": self.instruction,
            "instruction_tier": self.instruction_tier,
            "task": self.task.name,
            "events": list(events),
            "event_counts": dict(self.events.counts),
            "ik_position_error_mm": ik[0],
            "ik_rotation_error_deg": ik[1],
            "tracking_position_error_mm": tracking[0],
            "tracking_rotation_error_deg": tracking[1],
            "commanded_joint_position": self._cmd.q.copy(),
            "commanded_gripper": self._cmd.gripper,
            "clipped_values": clipped,
            "clipped_values_total": self._clipped_total,
            "speed_limited": speed_limited,
            "speed_limited_total": self._speed_limited_total,
            "sim_time": float(self.data.time),
        }

    # -- rendering ----------------------------------------------------------------------
    def render_camera(self, camera: str, data: mujoco.MjData | None = None) -> np.ndarray:
        """One camera image uint8 [H, W, 3] (``data`` lets callers render a copied state)."""
        if camera not in CAMERAS:
            raise InvalidInputError(f"unknown camera {camera!r}; valid: {list(CAMERAS)}")
        if data is None and self._frame_now is not None and self._frame_now[0] == camera:
            return self._frame_now[1].copy()  # rendered by the forecast from this very state
        if self._renderer is None:
            self._renderer = CameraRenderer(self.model, *self.image_size)
        return self._renderer.render(self.data if data is None else data, camera)

    def robot_mask(self, camera: str, data: mujoco.MjData | None = None) -> np.ndarray:
        """bool [H, W]: the pixels of ``camera`` where the robot (arm and gripper) is seen, from
        MuJoCo's segmentation rendering (occlusion included: an object in front hides it)."""
        if camera not in CAMERAS:
            raise InvalidInputError(f"unknown camera {camera!r}; valid: {list(CAMERAS)}")
        if self._renderer is None:
            self._renderer = CameraRenderer(self.model, *self.image_size)
        ids = self._renderer.render_geom_ids(self.data if data is None else data, camera)
        return self._robot_geoms[ids]  # id -1 indexes the trailing False

    def render(self):
        """The three cameras side by side: uint8 [H, 3W, 3] (None unless render_mode='rgb_array')."""
        if self.render_mode != "rgb_array":
            return None
        return np.concatenate([self.render_camera(c) for c in CAMERAS], axis=1)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
