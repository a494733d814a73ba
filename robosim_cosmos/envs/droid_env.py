"""A gymnasium environment of a DROID-style Franka station in MuJoCo.

Observations use DROID's keys; actions are absolute joint targets (``joint_position``, 8D),
DROID joint velocities (``joint_velocity``, 8D: Δq = 0.2·v rad per step from the observed joints)
or one normalized Cosmos end-effector row per step (``cosmos``, 10D) that goes through the
kinematics layer: de-normalize, compose on the previously commanded ``cosmos_ee`` pose, IK.
The env wires its parts together: the task (:mod:`.task_spec`), the controller
(:mod:`.control`), the cameras (:mod:`.observation`), forecasts (:mod:`.forecast`) and events.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

from ..errors import ConfigError, InvalidActionError
from ..kinematics import frames
from ..kinematics.decode import ChunkDecoder
from ..kinematics.ik import pose_error
from ..kinematics.normalization import ActionStats
from ..observations import CAMERAS, DEFAULT_CAMERA, DROID_IMAGE_SIZE
from .camera_rig import DEFAULT_RIG
from .camera_rig import camera_rig as resolve_rig
from .control import ACTION_MODES, ActionMode, Controller, StepTargets, home_command
from .events import EventDetector
from .forecast import Forecast, Forecaster
from .observation import (
    MAX_CAMERA_JITTER_M,
    OBS_MODES,
    Cameras,
    ObsMode,
    check_camera,
    observation_space,
    robot_observation,
)
from .registry import check_tier, make_task
from .robot_state import PrivilegedState, RobotReadout
from .room_model import ROOM_GROUP, RoomModel
from .rooms import DEFAULT_ROOM, Room, RoomStyle, check_room, draw_room
from .scene import CONTROL_HZ, RenderQuality, build_scene, check_render_quality
from .task import Task, subtree
from .task_spec import InstructionTier

__all__ = ["DroidEnv", "Forecast", "PrivilegedState"]


def _check_arguments(action_mode: str, obs_mode: str, render_mode: str | None, image_size: tuple[int, int],
                     camera_jitter: float, render_quality: object) -> tuple[int, int]:
    """ConfigError naming the valid values for a bad argument; the image size (h, w) otherwise."""
    if not 0.0 <= float(camera_jitter) <= MAX_CAMERA_JITTER_M:
        raise ConfigError(f"camera_jitter must lie in [0, {MAX_CAMERA_JITTER_M}] m, got {camera_jitter!r}")
    if action_mode not in ACTION_MODES:
        raise ConfigError(f"unknown action_mode {action_mode!r}; valid: {ACTION_MODES}")
    if obs_mode not in OBS_MODES:
        raise ConfigError(f"unknown obs_mode {obs_mode!r}; valid: {OBS_MODES}")
    check_render_quality(render_quality)
    if render_mode not in (None, "rgb_array"):
        raise ConfigError(f"unknown render_mode {render_mode!r}; valid: None, 'rgb_array'")
    h, w = (int(v) for v in image_size)
    if h < 16 or w < 16:
        raise ConfigError(f"image_size must be at least 16x16, got {image_size}")
    return h, w


class DroidEnv(gym.Env):
    """Franka tabletop task with DROID observations.

    task: a task name (``envs.registry``: "reach", "lift_cube", "cube_in_bowl", "push_cube" and
    the compositional tasks of ``envs.task_library``). action_mode:
    ``joint_position`` (Box(8): 7 joint targets in rad + gripper 0 open .. 1 closed),
    ``joint_velocity`` (Box(8): 7 DROID joint velocities in [−1, 1] + the absolute gripper; each
    step's target is the observed joints + 0.2·v rad, :data:`~.control.DROID_JOINT_DELTA`) or
    ``cosmos`` (Box(10): a normalized ``[tx, ty, tz, r0..r5, grasp]`` row). obs_mode ``rgb``
    includes the three cameras (uint8 H×W×3), ``state`` drops them. ``instruction`` overrides
    the sampled one. Privileged state for scripted experts: :meth:`task_state`; a chunk
    simulated ahead on a copy of the state: :meth:`forecast`. ``info["clipped_values"]``
    counts the values clipped this step: normalized values the decoder clipped into [−1, 1]
    (``cosmos``), or velocities clipped into [−1, 1], a gripper clipped into [0, 1] and joint
    targets held at a joint limit (``joint_velocity``). ``camera_rig``: the exterior cameras'
    lens and poses (:mod:`.camera_rig`): ``droid`` (default: each reset draws both poses from the
    spread of real DROID calibrations, seeded), ``sim-evals`` (the public simulators' fixed
    poses) or two explicit poses; ``info["camera_poses"]`` holds each exterior camera's pose and
    ``info["camera_rig"]`` the rig's name. ``camera_jitter`` (metres, default 0): each reset then
    moves both exterior cameras by an offset drawn uniformly in ±jitter along x and y from the
    episode's seed (RoboLab jitters the sim-evals poses ±0.05). ``room``: what surrounds the
    station (:mod:`.rooms`): ``droid`` (default: each reset draws a room, work surface, clutter
    and lights from DROID's scene-type mix, seeded), one scene type (``industrial_office``,
    ``kitchen``, ``office``) or ``plain`` (the bare grey room); ``info["room"]`` says which.
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
        image_size: tuple[int, int] = DROID_IMAGE_SIZE,
        render_mode: str | None = None,
        instruction: str | None = None,
        stats: ActionStats | str | os.PathLike | None = None,
        camera_jitter: float = 0.0,
        render_quality: RenderQuality = "fast",
        gripper: str | None = None,
        instruction_tier: InstructionTier = "default",
        camera_rig: str | Sequence[Any] = DEFAULT_RIG,
        room: RoomStyle = DEFAULT_ROOM,
    ) -> None:
        h, w = _check_arguments(action_mode, obs_mode, render_mode, image_size, camera_jitter, render_quality)
        self.render_quality: RenderQuality = render_quality
        self.camera_rig = resolve_rig(camera_rig)  # a bad rig fails before the scene is built
        self.room: RoomStyle = check_room(room)
        self.task: Task = make_task(task)
        self.instruction_tier: InstructionTier = check_tier(instruction_tier)
        self.task.tier = self.instruction_tier
        self.action_mode, self.obs_mode, self.render_mode = action_mode, obs_mode, render_mode
        self.image_size = (h, w)
        self._instruction_override = instruction
        scene = build_scene(self.task.objects, robot=robot, image_size=(h, w), render_quality=render_quality,
                            gripper=gripper, instances=self.task.instances, room=self.room)
        self.model, self.robot = scene.model, scene.robot
        self.data = mujoco.MjData(self.model)
        self.task.bind(self.model, finger_bodies=self.robot.finger_bodies)
        self.decoder = ChunkDecoder("droid", stats=stats, robot=robot)
        self.readout = RobotReadout(self.model, self.robot)
        self.controller = Controller(self.model, self.robot, action_mode, self.decoder)
        self.camera_jitter = float(camera_jitter)
        self.cameras = Cameras(self.model, self.image_size, self.readout, self.camera_jitter, self.camera_rig,
                               static_group=ROOM_GROUP if self.room != "plain" else None)
        self._camera_poses: dict[str, dict[str, Any]] = {}
        self.room_model = RoomModel(self.model) if self.room != "plain" else None
        self.drawn_room: Room | None = None  # this episode's room (None in the plain room)
        self._room_info: dict[str, Any] = {"style": self.room}
        self.forecaster = Forecaster(self.model, self.controller, self.readout.joints, self.readout.ee_pose)
        self._frame_now: tuple[str, np.ndarray] | None = None  # the forecast's frame of this state
        self.events = self._event_detector()
        self.action_space = self.controller.space
        self.observation_space = observation_space(obs_mode, self.image_size)
        self.instruction = ""
        self._reset_internal_state()

    def _event_detector(self) -> EventDetector:
        m = self.model
        left, right = (subtree(m, m.body(b).id) for b in self.robot.finger_bodies)
        return EventDetector(m, self.task.movable_bodies(), self.task.target_bodies(), left, right,
                             subtree(m, m.body(self.robot.gripper_body).id), m.geom("table_top").id)

    # -- state helpers --------------------------------------------------------------
    def _reset_internal_state(self) -> None:
        self._cmd = home_command()
        self._clipped_total = 0
        self._speed_limited_total = 0

    def ee_pose(self, data: mujoco.MjData | None = None) -> np.ndarray:
        """Observed ``cosmos_ee`` pose [4, 4] in the robot base (= world) frame."""
        return self.readout.ee_pose(self.data if data is None else data)

    def joint_positions(self, data: mujoco.MjData | None = None) -> np.ndarray:
        """Observed arm joint angles [7], rad."""
        return self.readout.joints(self.data if data is None else data)

    def gripper_position(self) -> float:
        """Observed gripper, DROID convention (0 open .. 1 closed): ``1 − width / max_width``
        from the finger joints of whichever gripper is mounted (``self.robot``)."""
        return self.readout.gripper(self.data)

    def reanchor(self) -> None:
        """Compose the next cosmos rows on the observed pose (start of every chunk)."""
        self._cmd = replace(self._cmd, anchor=self.ee_pose(), q=self.joint_positions())

    def place_robot(self, joint_position: Sequence[float] | np.ndarray,
                    gripper_position: float) -> dict[str, np.ndarray]:
        """Move the arm to ``joint_position`` [7] (rad, within the Franka's limits) and the gripper
        to ``gripper_position`` (0 open .. 1 closed), at rest, with the servos and the controller's
        commands holding them there; the observation of that state. For replaying recorded data that
        starts elsewhere than DROID home (call it after :meth:`reset`)."""
        q = np.asarray(joint_position, dtype=np.float64)
        gripper = float(gripper_position)
        limits = frames.JOINT_LIMITS
        if q.shape != (7,) or not np.all(np.isfinite(q)):
            raise InvalidActionError(f"joint_position must be 7 finite angles (rad), got {q}")
        outside = (q < limits[:, 0] - 1e-6) | (q > limits[:, 1] + 1e-6)
        if outside.any():
            i = int(np.flatnonzero(outside)[0])
            raise InvalidActionError(f"joint {i} = {q[i]:.4f} rad is outside the Franka's limits "
                                     f"[{limits[i, 0]:.4f}, {limits[i, 1]:.4f}]")
        if not 0.0 <= gripper <= 1.0:
            raise InvalidActionError(f"gripper_position must lie in [0, 1] (0 open, 1 closed), got {gripper}")
        q = np.clip(q, limits[:, 0], limits[:, 1])  # only the 1e-6 tolerance above remains to clip
        self.readout.place(self.data, q, gripper)
        self.controller.hold(self.data, q, gripper)
        mujoco.mj_forward(self.model, self.data)
        self.forecaster.clear()
        self._frame_now = None
        self._cmd = replace(home_command(), q=q.copy(), sent=q.copy(), gripper=gripper)
        self.reanchor()
        self._cmd = replace(self._cmd, target_pose=self._cmd.anchor.copy())
        return self._observation()

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
        render = None
        if camera is not None:
            check_camera(camera)
            render = lambda data: self.render_camera(camera, data=data)  # noqa: E731
        return self.forecaster.forecast(self.data, self._cmd, rows[:n], camera, render)

    # -- gym API ----------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        m, d = self.model, self.data
        mujoco.mj_resetData(m, d)
        self.forecaster.clear()
        self._frame_now = None
        self.readout.go_home(d)
        instruction = self.task.reset(d, self.np_random)
        # drawn after the task so a seed's layout does not depend on the rig
        self._camera_poses = self.cameras.place(self.np_random)
        self._room_info = self._draw_room()  # drawn last: a seed's layout and rig do not depend on it
        self.instruction = self._instruction_override or (options or {}).get("instruction") or instruction
        self.controller.hold(d, frames.DROID_HOME, 0.0)
        mujoco.mj_forward(m, d)
        self.cameras.upload_meshes(self.task.mesh_ids())  # a reset may rescale object meshes
        self._reset_internal_state()
        self.events.reset(d)
        self.reanchor()
        self._cmd = replace(self._cmd, target_pose=self._cmd.anchor.copy())
        return self._observation(), self._info(StepTargets(self._cmd, (0.0, 0.0), 0, False), (0.0, 0.0), ())

    def _draw_room(self) -> dict[str, Any]:
        """Draw and show this episode's room (``plain``: none); what identifies it, JSON-ready."""
        if self.room_model is None:
            return {"style": self.room}
        m, d = self.model, self.data
        mujoco.mj_kinematics(m, d)
        fixed = (0, m.body("room").id, m.body("table").id)
        keep_out = [(d.geom_xpos[g, :2].copy(), float(m.geom_rbound[g])) for g in range(m.ngeom)
                    if m.geom_bodyid[g] not in fixed and not self.readout.geoms[g]]
        room = draw_room(self.np_random, self.room, keep_out, self.room_model.capacity)
        self.room_model.apply(room)
        self.cameras.forget_layers()
        self.drawn_room = room
        return {"style": self.room, **room.to_json()}

    def step(self, action):
        action = self.controller.check(action)
        self._frame_now = None
        replayed = self.forecaster.replay(self.data, self._cmd, action)
        if replayed is None:
            self.forecaster.clear()
            targets = self.controller.targets(action, self._cmd, self.joint_positions())
            self.controller.actuate(self.data, targets.command)
        else:
            targets, self._frame_now = replayed
        self._cmd = targets.command
        self._clipped_total += targets.clipped
        self._speed_limited_total += int(targets.speed_limited)
        p, r = pose_error(self.ee_pose(), self._cmd.target_pose)
        events = self.events.update(self.data, self._cmd.gripper)
        info = self._info(targets, (p * 1e3, float(np.rad2deg(r))), events)
        success = info["is_success"]
        return self._observation(), float(success), success, False, info

    def _observation(self) -> dict[str, np.ndarray]:
        obs = robot_observation(self.readout, self.data)
        if self.obs_mode == "rgb":
            for cam in CAMERAS:
                obs[cam] = self.render_camera(cam)
        return obs

    def _info(self, targets: StepTargets, tracking: tuple[float, float], events: tuple[str, ...]) -> dict[str, Any]:
        return {
            "is_success": bool(self.task.is_success(self.data)),
            "progress": float(self.task.progress(self.data)),
            "instruction": self.instruction,
            "instruction_tier": self.instruction_tier,
            "task": self.task.name,
            "events": list(events),
            "event_counts": dict(self.events.counts),
            "ik_position_error_mm": targets.ik_error[0],
            "ik_rotation_error_deg": targets.ik_error[1],
            "tracking_position_error_mm": tracking[0],
            "tracking_rotation_error_deg": tracking[1],
            "commanded_joint_position": self._cmd.q.copy(),
            "commanded_gripper": self._cmd.gripper,
            "clipped_values": targets.clipped,
            "clipped_values_total": self._clipped_total,
            "speed_limited": targets.speed_limited,
            "speed_limited_total": self._speed_limited_total,
            "sim_time": float(self.data.time),
            "camera_rig": self.camera_rig.name,
            "camera_poses": copy.deepcopy(self._camera_poses),  # each info owns its data (check_env)
            "room": copy.deepcopy(self._room_info),
        }

    # -- rendering ----------------------------------------------------------------------
    def render_camera(self, camera: str, data: mujoco.MjData | None = None) -> np.ndarray:
        """One camera image uint8 [H, W, 3] (``data`` lets callers render a copied state)."""
        check_camera(camera)
        if data is None and self._frame_now is not None and self._frame_now[0] == camera:
            return self._frame_now[1].copy()  # rendered by the forecast from this very state
        return self.cameras.render(self.data if data is None else data, camera)

    def robot_mask(self, camera: str, data: mujoco.MjData | None = None) -> np.ndarray:
        """bool [H, W]: the pixels of ``camera`` where the robot (arm and gripper) is seen, from
        MuJoCo's segmentation rendering (occlusion included: an object in front hides it)."""
        return self.cameras.robot_mask(self.data if data is None else data, camera)

    def render(self):
        """The three cameras side by side: uint8 [H, 3W, 3] (None unless render_mode='rgb_array')."""
        if self.render_mode != "rgb_array":
            return None
        return np.concatenate([self.render_camera(c) for c in CAMERAS], axis=1)

    def close(self) -> None:
        self.cameras.close()
