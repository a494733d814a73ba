"""Assemble a DROID-style scene: the tabletop, task objects and a Panda variant, as one model.

Scenes and objects are MJCF data files in ``envs/scenes`` and ``envs/objects``; this loader
only attaches them, mounts the robot (with its gripper) at the ``robot_mount`` frame (the world
origin, so the robot base frame is the world frame) and puts the wrist camera on the gripper.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import mujoco
import numpy as np

from .._resources import envs_dir
from ..errors import ConfigError, InvalidInputError
from ..kinematics import frames
from ..kinematics.assembly import robot_spec
from ..kinematics.empty_prefix import quiet_empty_prefix_warning
from ..kinematics.robot_description import RobotDescription
from ..observations import DROID_IMAGE_SIZE, WRIST_CAMERA  # camera names = the DROID observation keys they fill
from .objects import catalog
from .room_model import add_room_pool
from .rooms import RoomStyle, check_room

ZED_SENSOR_M: tuple[float, float] = (0.005376, 0.003024)
"""Sensor width and height of the ZED 2 / ZED Mini (the exterior cameras state it in the scene XML)."""
ZED_RESOLUTION: tuple[int, int] = (1280, 720)
ZED_MINI_FOCAL_M = 0.00294
"""Focal length of DROID's wrist camera (ZED Mini) on the ZED sensor, metres: fx = 700 px at 1280
wide, 85 degrees horizontal, the measured calibration (DESIGN §8b); the public simulators state
the nominal 2.8 mm (667 px, 88 degrees)."""

NEAR_PLANE_M = 0.005
"""Every camera's near clipping plane, metres: closer than anything the wrist lens sees (the
fingertips are 15 cm away, a grasped object a few cm nearer)."""

CONTROL_HZ = 15.0
PHYSICS_SUBSTEPS = 33
PHYSICS_TIMESTEP = 1.0 / CONTROL_HZ / PHYSICS_SUBSTEPS
"""≈2.02 ms: 33 physics steps make exactly one 15 Hz control step."""

RenderQuality = Literal["fast", "faithful"]
RENDER_QUALITIES: tuple[RenderQuality, ...] = get_args(RenderQuality)
FAITHFUL_SHADOW_SIZE = 1024
"""Shadow map of the faithful preset's key light, texels per side (see benchmarks/env.py)."""
FAITHFUL_OFFSAMPLES = 4
"""Multisample anti-aliasing of the faithful preset."""
FAITHFUL_SUFFIX = "_faithful"
_COLLISION_GROUP = 3
_MATERIAL_LOOK = ("textures", "texrepeat", "texuniform", "rgba", "specular", "shininess", "reflectance",
                  "emission", "metallic", "roughness")


def check_render_quality(value: object) -> RenderQuality:
    """``value`` if it names a render preset; ConfigError naming the valid ones otherwise."""
    if not isinstance(value, str) or value not in RENDER_QUALITIES:
        raise ConfigError(f"unknown render_quality {value!r}; valid: {list(RENDER_QUALITIES)}")
    return value


def apply_render_quality(spec: mujoco.MjSpec, quality: RenderQuality) -> None:
    """Set the visual side of ``spec`` for a render preset (physics is never touched).

    Both presets come from the same data files, which describe the ``faithful`` look beside
    the ``fast`` one: a geom named ``*_faithful`` (a visual-only mesh, a backdrop wall) is drawn
    only in ``faithful``, where the other geoms of its body (the convex collision pieces it
    stands for) move to the hidden collision group; a material ``NAME_faithful`` lends ``NAME``
    its texture and surface; lights that start inactive are switched on. ``faithful`` also
    turns on the key light's shadow map and multisample anti-aliasing. ``fast`` only removes
    the ``*_faithful`` geoms, so it renders exactly as the flat scene always has.
    """
    quality = check_render_quality(quality)
    looks = [geom for geom in spec.geoms if geom.name.endswith(FAITHFUL_SUFFIX)]
    if quality == "fast":
        # Deleted rather than hidden: they would widen the model's extent, which sets the
        # depth range, and so change fast's images. They carry no mass and never collide.
        for geom in looks:
            spec.delete(geom)
        return
    for geom in looks:
        for other in geom.parent.geoms:
            if not other.name.endswith(FAITHFUL_SUFFIX):
                other.group = _COLLISION_GROUP
    for material in spec.materials:
        look = spec.material(material.name + FAITHFUL_SUFFIX) if material.name else None
        if look is not None:
            for field in _MATERIAL_LOOK:
                setattr(material, field, getattr(look, field))
    for light in spec.lights:
        if not light.active:
            light.active = True
    spec.light("key").castshadow = True
    spec.visual.quality.shadowsize = FAITHFUL_SHADOW_SIZE
    spec.visual.quality.offsamples = FAITHFUL_OFFSAMPLES
    spec.visual.headlight.ambient = [0.3, 0.3, 0.3]
    spec.visual.headlight.diffuse = [0.3, 0.3, 0.3]
    spec.light("key").diffuse = [0.75, 0.73, 0.7]


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


WRIST_CAMERA_IN_ISAAC_BASE_LINK: tuple[tuple[float, float, float], tuple[float, float, float, float]] = (
    (0.011, -0.031, -0.074), (-0.420, 0.570, 0.576, -0.409))
"""The ZED Mini's mount in the public DROID simulators (sim-evals, IsaacLab-Arena, RoboLab: position in
metres and quaternion w, x, y, z, OpenGL camera convention as MuJoCo's) relative to their Robotiq 2F-85
``base_link``, whose x axis runs along the fingers from the mounting face and whose y axis is the
closing axis (the view direction is 0.95 along x, image right is +y). So the lens sits at the
flange ring (1.1 cm along the gripper), 7.4 cm off the tool axis on the housing's broad side and
3.1 cm along the closing axis, tilted 18 degrees in toward the fingers, image up away from the axis,
as on DROID's hardware."""
_ISAAC_BASE_LINK_IN_ROBOTIQ = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])
"""Axes of the simulators' base_link in the project's robotiq_base frame (z along the fingers, x the
closing axis): their x is our z, their y our −x, their z our −y (a proper rotation). The offset
alone does not say which of the housing's two broad sides the lens is on; of the two rotations
about the tool axis that fit, this one has the wrist view at home look over the fingers into the
workspace, as DROID's wrist frames do; the other looks back at the robot's base."""


def _wrist_camera_in_robotiq() -> tuple[np.ndarray, np.ndarray]:
    """Wrist camera position [3] and rotation [3, 3] in the project's robotiq_base frame."""
    pos, quat = WRIST_CAMERA_IN_ISAAC_BASE_LINK
    R = np.zeros(9)
    mujoco.mju_quat2Mat(R, np.asarray(quat) / np.linalg.norm(quat))
    P = _ISAAC_BASE_LINK_IN_ROBOTIQ
    return P @ np.asarray(pos), P @ R.reshape(3, 3)


_MENAGERIE_2F85_BASE_IN_MOUNT = frames.make_pose(np.eye(3), [0.0, 0.0, 0.0108])
"""Menagerie's 2f85 ``base`` body in its attachment frame (base_mount at 7 mm, base 3.8 mm on)."""


def _wrist_camera_pose(robot: RobotDescription) -> tuple[str, np.ndarray, np.ndarray]:
    """(body, position [3], quaternion [4]) of the wrist camera for the robot's gripper.

    The Robotiq 2F-85s share one placement (stated in the project's robotiq_base frame and
    carried to Menagerie's ``base`` through the flange); the Franka hand keeps its own.
    """
    if robot.gripper == "franka_hand":
        pos, quat = _wrist_camera_in_hand()
        return robot.gripper_body, pos, quat
    eye, R = _wrist_camera_in_robotiq()
    pose = frames.make_pose(R, eye)
    if robot.gripper == "menagerie_2f85":
        in_flange = frames.GRIPPER_MOUNTS["robotiq_2f85"] @ pose
        base = frames.GRIPPER_MOUNTS["menagerie_2f85"] @ _MENAGERIE_2F85_BASE_IN_MOUNT
        pose = np.linalg.inv(base) @ in_flange
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, np.ascontiguousarray(pose[:3, :3]).ravel())
    return robot.gripper_body, pose[:3, 3].copy(), quat


@dataclass
class Scene:
    """A compiled scene and the description of the robot in it."""

    model: mujoco.MjModel
    robot: RobotDescription


def build_scene(
    objects: Sequence[str] = (),
    robot: str | os.PathLike = "embedded",
    image_size: tuple[int, int] = DROID_IMAGE_SIZE,
    render_quality: RenderQuality = "fast",
    gripper: str | None = None,
    instances: Sequence[tuple[str, str]] = (),
    room: RoomStyle = "plain",
) -> Scene:
    """Compile the tabletop with ``objects`` (names of files in envs/objects) and a robot,
    its look set by ``render_quality`` (:func:`apply_render_quality`). ``gripper``: the robot's
    gripper (None: the default, the Robotiq 2F-85 as on DROID); the wrist camera rides on it.
    ``instances``: library objects as (slot, kind) pairs, attached under the prefix ``slot/``.
    ``room``: any style but ``plain`` adds the pool a drawn room is shown with (:mod:`.room_model`)
    in place of the plain room's backdrop."""
    check_render_quality(render_quality)
    check_room(room)
    root = envs_dir()
    spec = mujoco.MjSpec.from_file(str(root / "scenes" / "tabletop.xml"))
    rspec, description = robot_spec(robot, gripper)
    with quiet_empty_prefix_warning():
        for name in objects:
            path = root / "objects" / f"{name}.xml"
            if not path.is_file():
                valid = sorted(p.stem for p in (root / "objects").glob("*.xml"))
                raise InvalidInputError(f"unknown scene object {name!r}; valid: {valid}")
            spec.attach(mujoco.MjSpec.from_file(str(path)), frame=spec.worldbody.add_frame(), prefix="")
        for slot, kind in instances:
            path = catalog().kind(kind).file
            spec.attach(mujoco.MjSpec.from_file(str(path)), frame=spec.worldbody.add_frame(), prefix=f"{slot}/")
        spec.attach(rspec, frame=spec.frame("robot_mount"), prefix="")
    body, pos, quat = _wrist_camera_pose(description)
    wrist = spec.body(body).add_camera(name=WRIST_CAMERA, pos=pos, quat=quat)
    wrist.focal_length = [ZED_MINI_FOCAL_M, ZED_MINI_FOCAL_M]
    wrist.sensor_size = list(ZED_SENSOR_M)
    wrist.resolution = list(ZED_RESOLUTION)
    h, w = image_size
    # The offscreen buffer is cleared whole every frame: on a software rasterizer a buffer
    # larger than the images costs ~20 % per render.
    spec.visual.global_.offwidth = int(w)
    spec.visual.global_.offheight = int(h)
    spec.option.timestep = PHYSICS_TIMESTEP
    if room != "plain":
        add_room_pool(spec)
    apply_render_quality(spec, render_quality)
    with quiet_empty_prefix_warning():
        model = spec.compile()
    # MuJoCo's znear is a fraction of the model extent, which the scene's size sets (faithful's
    # backdrop takes it from 3.8 to 6.7 m): restated from the compiled extent, the near plane is
    # NEAR_PLANE_M in every preset and scene, and a grasped object close to the wrist lens is drawn whole.
    model.vis.map.znear = NEAR_PLANE_M / model.stat.extent
    return Scene(model, description)
