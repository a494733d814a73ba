"""What the env shows: DROID's observation keys (robot state, three cameras) and the camera
images, rendered lazily, with the exterior cameras placed per episode by a rig and a robot mask."""

from __future__ import annotations

from typing import Any, Literal, get_args

import mujoco
import numpy as np
from gymnasium import spaces

from ..errors import InvalidInputError
from ..kinematics import frames
from ..observations import CAMERAS, EXTERIOR_CAMERAS
from .camera_rig import CameraPose, CameraRig
from .rendering import CameraRenderer
from .robot_state import RobotReadout

ObsMode = Literal["rgb", "state"]
OBS_MODES: tuple[ObsMode, ...] = get_args(ObsMode)
MAX_CAMERA_JITTER_M = 0.2
JOINT_MARGIN = 0.2
"""Joint limits are soft in MuJoCo: the observation space allows this margin (rad) beyond the stops."""


def observation_space(obs_mode: ObsMode, image_size: tuple[int, int]) -> spaces.Dict:
    """DROID's robot keys, and the three cameras (uint8 H×W×3) in ``rgb`` mode."""
    limits = frames.JOINT_LIMITS
    cart_high = np.array([1.5, 1.5, 1.5, np.pi, np.pi, np.pi])
    obs: dict[str, spaces.Space[Any]] = {
        "joint_position": spaces.Box(limits[:, 0] - JOINT_MARGIN, limits[:, 1] + JOINT_MARGIN, dtype=np.float64),
        "gripper_position": spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float64),
        "cartesian_position": spaces.Box(-cart_high, cart_high, dtype=np.float64),
    }
    if obs_mode == "rgb":
        for cam in CAMERAS:
            obs[cam] = spaces.Box(0, 255, shape=(*image_size, 3), dtype=np.uint8)
    return spaces.Dict(obs)


def check_camera(camera: str) -> None:
    if camera not in CAMERAS:
        raise InvalidInputError(f"unknown camera {camera!r}; valid: {list(CAMERAS)}")


_CULLED_GROUP = 5
"""Where a moving camera's render puts the room primitives it cannot see (no option draws it)."""


def _groups(*shown: int) -> mujoco.MjvOption:
    option = mujoco.MjvOption()
    option.geomgroup[:] = [int(g in shown) for g in range(len(option.geomgroup))]
    return option


class Cameras:
    """The scene's cameras at one image size: images, robot masks and the exterior rig.

    rig: the exterior cameras' lens and poses (:mod:`.camera_rig`); jitter (metres): each
    :meth:`place` then moves both by an offset drawn uniformly in ±jitter along x and y.
    ``static_group``: the geom group of a drawn room (None: no room). Nothing in it moves during
    an episode and the exterior cameras stand still, so each exterior camera renders the room
    once per episode with its depth, and every frame draws only the rest and keeps, per pixel,
    whichever is nearer: the same image for a fraction of the cost (what the layers cannot show
    is a shadow cast from one onto the other: the robot's onto the room's furniture, the
    clutter's onto the table). The wrist camera moves and draws everything."""

    def __init__(self, model: mujoco.MjModel, image_size: tuple[int, int], readout: RobotReadout,
                 jitter: float, rig: CameraRig, static_group: int | None = None) -> None:
        self.model, self.image_size, self.jitter_m, self.rig = model, image_size, float(jitter), rig
        self.static_group = static_group
        shown = (0, 1, 2)
        self._full = _groups(*shown, static_group) if static_group is not None else None
        self._moving = _groups(*shown)
        self._static = _groups(static_group) if static_group is not None else None
        self._layers: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._room: tuple[np.ndarray, np.ndarray] | None = None
        # half the diagonal field of view of each camera, rad (a cone holding its whole image)
        w, h = model.cam_sensorsize[:, 0], model.cam_sensorsize[:, 1]
        focal = model.cam_intrinsic[:, 0]
        self._half_view = np.where(focal > 0, np.arctan(np.hypot(w, h) / 2 / np.maximum(focal, 1e-12)),
                                   np.deg2rad(90.0))
        self._renderer: CameraRenderer | None = None
        self._exterior = np.array([model.camera(c).id for c in EXTERIOR_CAMERAS])
        # the renderer reads the lens from the model on every frame: set once, it holds for the env
        model.cam_intrinsic[self._exterior, :2] = rig.lens.focal_m
        self.poses: tuple[CameraPose, ...] = ()
        self._robot_geoms = np.append(readout.geoms, False)  # id −1 (nothing) indexes the trailing False

    def _get(self) -> CameraRenderer:
        if self._renderer is None:
            self._renderer = CameraRenderer(self.model, *self.image_size)
        return self._renderer

    def render(self, data: mujoco.MjData, camera: str) -> np.ndarray:
        """One camera image uint8 [H, W, 3]."""
        check_camera(camera)
        renderer = self._get()
        if self._static is None:
            return renderer.render(data, camera)
        if camera not in EXTERIOR_CAMERAS:
            return self._render_culled(renderer, data, camera)
        if camera not in self._layers:
            self._layers[camera] = renderer.render_rgbd(data, camera, self._static)
        still_rgb, still_depth = self._layers[camera]
        rgb, depth = renderer.render_rgbd(data, camera, self._moving)
        return np.where((depth > still_depth)[..., None], rgb, still_rgb)  # reversed z: nearer is larger

    def _room_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The room's primitives now shown (not the floor plane) and their bounding radii [n]."""
        if self._room is None:
            m = self.model
            ids = np.flatnonzero((m.geom_group == self.static_group) & (m.geom_type != mujoco.mjtGeom.mjGEOM_PLANE))
            size = m.geom_size[ids]
            radius = np.where(m.geom_type[ids] == mujoco.mjtGeom.mjGEOM_BOX, np.linalg.norm(size, axis=1),
                              np.hypot(size[:, 0], size[:, 1]))
            self._room = (ids, radius)
        return self._room

    def _render_culled(self, renderer: CameraRenderer, data: mujoco.MjData, camera: str) -> np.ndarray:
        """A moving camera's full render, leaving out the room's primitives outside its view cone
        (a room has hundreds; the wrist camera sees a few): the same image, drawn faster."""
        m = self.model
        room, radius = self._room_bounds()
        cam = m.camera(camera).id
        eye, forward = data.cam_xpos[cam], -data.cam_xmat[cam].reshape(3, 3)[:, 2]
        offset = data.geom_xpos[room] - eye
        dist = np.maximum(np.sqrt(np.einsum("ij,ij->i", offset, offset)), 1e-9)
        angle = np.arccos(np.clip(offset @ forward / dist, -1.0, 1.0))
        reach = np.arcsin(np.minimum(radius / dist, 1.0))
        hidden = room[angle - reach > self._half_view[cam]]
        m.geom_group[hidden] = _CULLED_GROUP
        try:
            return renderer.render(data, camera, self._full)
        finally:
            m.geom_group[hidden] = self.static_group

    def forget_layers(self) -> None:
        """The room or a camera moved: render the still layers again."""
        self._layers.clear()
        self._room = None

    def robot_mask(self, data: mujoco.MjData, camera: str) -> np.ndarray:
        """bool [H, W]: where the robot (arm and gripper) is seen, occlusion included."""
        check_camera(camera)
        return self._robot_geoms[self._get().render_geom_ids(data, camera, self._full)]

    def place(self, rng: np.random.Generator) -> dict[str, dict[str, Any]]:
        """Put the exterior cameras where the rig draws them for this episode, then jittered
        (a fixed rig without jitter draws nothing); their poses, JSON-ready, by camera."""
        poses: tuple[CameraPose, ...] = self.rig.draw(rng)
        if self.jitter_m > 0.0:
            offsets = rng.uniform(-self.jitter_m, self.jitter_m, (len(self._exterior), 2))
            poses = tuple(p.shifted(o) for p, o in zip(poses, offsets, strict=True))
        self.forget_layers()
        for cam, pose in zip(self._exterior, poses, strict=True):
            self.model.cam_pos[cam] = pose.pos
            self.model.cam_quat[cam] = pose.quat
        self.poses = poses
        return {name: pose.to_json() for name, pose in zip(EXTERIOR_CAMERAS, poses, strict=True)}

    def upload_meshes(self, mesh_ids: list[int]) -> None:
        """Meshes a reset rescaled, sent again to a renderer that exists."""
        if self._renderer is not None:
            self._renderer.upload_meshes(mesh_ids)

    def close(self) -> None:
        self.forget_layers()
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None


def robot_observation(readout: RobotReadout, data: mujoco.MjData) -> dict[str, np.ndarray]:
    """DROID's robot keys: joint_position [7], gripper_position [1], cartesian_position [6]."""
    return {
        "joint_position": readout.joints(data),
        "gripper_position": np.array([readout.gripper(data)]),
        "cartesian_position": readout.cartesian(data),
    }
