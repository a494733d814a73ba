"""Assemble a DROID-style scene: the tabletop, task objects and a Panda variant, as one model.

Scenes and objects are MJCF data files in ``envs/scenes`` and ``envs/objects``; this loader
only attaches them, mounts the robot at the ``robot_mount`` frame (the world origin, so the
robot base frame is the world frame) and puts the wrist camera on the hand.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import mujoco
import numpy as np

from .._resources import envs_dir
from ..errors import InvalidInputError
from ..kinematics.robot import RobotDescription, robot_spec
from ..observations import WRIST_CAMERA  # camera names = the DROID observation keys they fill

ZED_SENSOR_M: tuple[float, float] = (0.005376, 0.003024)
"""Sensor width and height of the ZED 2 / ZED Mini (the exterior cameras state it in the scene XML)."""
ZED_RESOLUTION: tuple[int, int] = (1280, 720)
ZED_MINI_FOCAL_M = 0.0028
"""Focal length of DROID's wrist camera (ZED Mini), metres."""

CONTROL_HZ = 15.0
PHYSICS_SUBSTEPS = 33
PHYSICS_TIMESTEP = 1.0 / CONTROL_HZ / PHYSICS_SUBSTEPS
"""≈2.02 ms: 33 physics steps make exactly one 15 Hz control step."""


def _look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Rotation [3, 3] of a MuJoCo camera (looks along −z, image up = +y) at ``eye``."""
    back = eye - target
    z = back / np.linalg.norm(back)
    x = np.cross(up, z)
    x /= np.linalg.norm(x)
    return np.stack([x, np.cross(z, x), z], axis=1)


def _wrist_camera_in_hand() -> tuple[np.ndarray, np.ndarray]:
    """Wrist camera pose in the hand frame: on the side of the hand, looking down the fingers.

    7 cm off the tool axis along hand −x (clear of the hand body and link7) and 4 cm along the
    fingers, aimed at a point 20 cm down the tool axis, image up pointing away from the axis.
    """
    eye = np.array([-0.07, 0.0, 0.04])
    R = _look_at(eye, np.array([0.0, 0.0, 0.2]), np.array([-1.0, 0.0, 0.0]))
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, np.ascontiguousarray(R).ravel())
    return eye, quat


_EMPTY_PREFIX_WARNING = "empty prefix"


@contextmanager
def _quiet_empty_prefix_warning():
    """Attaching with prefix "" keeps the robot's own names (what the rest of the toolkit
    looks up); mujoco warns that such a model may not save back to XML, which we never do.
    Other warnings pass through."""
    previous = mujoco.get_mju_user_warning()

    def handler(message: str) -> None:
        if _EMPTY_PREFIX_WARNING in message:
            return
        if previous is not None:
            previous(message)
        else:
            print(f"WARNING: {message}", file=sys.stderr)

    mujoco.set_mju_user_warning(handler)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*empty prefix.*")
            yield
    finally:
        mujoco.set_mju_user_warning(previous)


@dataclass
class Scene:
    """A compiled scene and the description of the robot in it."""

    model: mujoco.MjModel
    robot: RobotDescription


def build_scene(
    objects: Sequence[str] = (),
    robot: str | os.PathLike = "embedded",
    image_size: tuple[int, int] = (180, 320),
) -> Scene:
    """Compile the tabletop with ``objects`` (names of files in envs/objects) and a robot."""
    root = envs_dir()
    spec = mujoco.MjSpec.from_file(str(root / "scenes" / "tabletop.xml"))
    rspec, description = robot_spec(robot)
    with _quiet_empty_prefix_warning():
        for name in objects:
            path = root / "objects" / f"{name}.xml"
            if not path.is_file():
                valid = sorted(p.stem for p in (root / "objects").glob("*.xml"))
                raise InvalidInputError(f"unknown scene object {name!r}; valid: {valid}")
            spec.attach(mujoco.MjSpec.from_file(str(path)), frame=spec.worldbody.add_frame(), prefix="")
        spec.attach(rspec, frame=spec.frame("robot_mount"), prefix="")
    pos, quat = _wrist_camera_in_hand()
    wrist = spec.body("hand").add_camera(name=WRIST_CAMERA, pos=pos, quat=quat)
    wrist.focal_length = [ZED_MINI_FOCAL_M, ZED_MINI_FOCAL_M]  # ZED Mini lens on the ZED sensor: 88 deg wide
    wrist.sensor_size = list(ZED_SENSOR_M)
    wrist.resolution = list(ZED_RESOLUTION)
    h, w = image_size
    # The offscreen buffer is cleared whole every frame: on a software rasterizer a buffer
    # larger than the images costs ~20 % per render.
    spec.visual.global_.offwidth = int(w)
    spec.visual.global_.offheight = int(h)
    spec.option.timestep = PHYSICS_TIMESTEP
    with _quiet_empty_prefix_warning():
        model = spec.compile()
    return Scene(model, description)
