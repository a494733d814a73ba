"""Exterior camera rigs as data: where DROID's two ZED 2 cameras stand, and their lens.

A rig is a lens and either two fixed poses or a distribution to draw both poses from every
episode (seeded by the episode RNG). Presets (:data:`RIGS`):

``droid``
    DROID clamps its camera stands on either side of the desk and moves them between recording
    days. Each episode draws exterior 1 on the left (+y) and exterior 2 on the right (−y) from
    :data:`DROID_RANGES`, which covers the real calibrations in DESIGN §8b (0.61 and 0.68 m from
    the workspace centre, 37–38° down, yaw −81° and +75°, roll −1° and −19°). Lens: the measured
    ZED 2, fx = fy = 531.7 px at 1280×720 with the principal point at the image centre
    (100.6° × 68.2°).
``sim-evals``
    The fixed poses every public DROID simulator uses, (0.05, ±0.57, 0.66) looking down and
    across the workspace from 0.96 m, with their 2.1 mm lens (fx = 500 px at 1280, 104° × 71.5°):
    for comparison with those simulators.

An explicit rig is a sequence of two poses (exterior 1, exterior 2) with the measured ZED 2 lens;
each pose is DROID's extrinsics ``[x, y, z, rx, ry, rz]`` or ``([x, y, z], [rx, ry, rz])`` (robot
base frame, extrinsic XYZ euler in radians of the OpenCV camera frame: x right, y down, z forward;
what DROID episodes record as ``ext1_cam_extrinsics``), or ``([x, y, z], [lookat], roll_deg)``.

Angles as this module measures a pose: yaw is the heading of the optical axis in the base frame
(atan2 of its y and x; negative looks toward −y), pitch how far it points below the horizon,
roll how far the image's x axis rises above the horizon (positive lifts the right edge; the turn
about the optical axis that does it is larger when the camera looks down: DESIGN §8b's −19° is a
turn of −25° at 38° down).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mujoco
import numpy as np

from ..errors import ConfigError
from ..kinematics.frames import matrix_to_euler_xyz
from ..observations import EXTERIOR_CAMERAS
from .scene import ZED_RESOLUTION, ZED_SENSOR_M

WORKSPACE_CENTRE_M: tuple[float, float, float] = (0.52, 0.0, 0.05)
"""The ``workspace_center`` body of the tabletop scene: distances are measured to it."""
_CV_FROM_MUJOCO = np.diag([1.0, -1.0, -1.0])
"""A MuJoCo camera looks along its −z with image up +y; OpenCV's looks along +z with y down."""


@dataclass(frozen=True)
class Lens:
    """A pinhole lens: focal length in pixels at 1280 wide (square pixels, centred principal point)."""

    fx_px_at_1280: float

    @property
    def focal_m(self) -> float:
        """The focal length on the ZED sensor, as MuJoCo's ``focal`` takes it."""
        return self.fx_px_at_1280 / ZED_RESOLUTION[0] * ZED_SENSOR_M[0]

    def horizontal_fov_deg(self) -> float:
        return float(np.degrees(2 * np.arctan(640.0 / self.fx_px_at_1280)))


ZED2_MEASURED = Lens(531.7)
"""A measured ZED 2 at HD720 (DESIGN §8/§8b): fx = fy = 531.7 px, 100.6° horizontal, 68.2° vertical."""
SIM_EVALS_LENS = Lens(500.0)
"""The public simulators' ZED 2: focal 2.1 mm on the 5.376 mm sensor = 500 px at 1280, 104° horizontal."""


def _rotation(forward: np.ndarray, roll_deg: float) -> np.ndarray:
    """MuJoCo camera rotation [3, 3] (columns: image right, image up, backward) looking along
    ``forward``, turned about it until the image's x axis rises ``roll_deg`` above the horizon."""
    f = forward / np.linalg.norm(forward)
    right = np.cross(f, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, f)
    # turning by r about the axis lifts the x axis by asin(sin r · cos pitch) = up[2] · sin r
    r = np.arcsin(np.clip(np.sin(np.radians(roll_deg)) / up[2], -1.0, 1.0))
    right, up = np.cos(r) * right + np.sin(r) * up, -np.sin(r) * right + np.cos(r) * up
    return np.stack([right, up, -f], axis=1)


@dataclass(frozen=True)
class CameraPose:
    """Where a camera stands (base frame, metres) and its MuJoCo rotation [3, 3]."""

    pos: np.ndarray
    rot: np.ndarray

    @classmethod
    def look(cls, pos: Sequence[float], target: Sequence[float], roll_deg: float = 0.0) -> CameraPose:
        p = np.asarray(pos, dtype=np.float64)
        return cls(p, _rotation(np.asarray(target, dtype=np.float64) - p, roll_deg))

    @classmethod
    def from_droid(cls, xyz: Sequence[float], euler: Sequence[float]) -> CameraPose:
        """DROID's extrinsics: position and extrinsic XYZ euler (rad) of the OpenCV camera frame."""
        a, b, c = (float(v) for v in euler)
        rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
        ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
        rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
        return cls(np.asarray(xyz, dtype=np.float64), rz @ ry @ rx @ _CV_FROM_MUJOCO)

    @property
    def quat(self) -> np.ndarray:
        q = np.zeros(4)
        mujoco.mju_mat2Quat(q, np.ascontiguousarray(self.rot).ravel())
        return q

    def angles(self) -> dict[str, float]:
        """distance_m (to the workspace centre), height_m, yaw_deg, pitch_deg, roll_deg."""
        f, right = -self.rot[:, 2], self.rot[:, 0]
        return {
            "distance_m": float(np.linalg.norm(self.pos - np.asarray(WORKSPACE_CENTRE_M))),
            "height_m": float(self.pos[2]),
            "yaw_deg": float(np.degrees(np.arctan2(f[1], f[0]))),
            "pitch_deg": float(np.degrees(np.arcsin(np.clip(-f[2], -1.0, 1.0)))),
            "roll_deg": float(np.degrees(np.arcsin(np.clip(right[2], -1.0, 1.0)))),
        }

    def to_json(self) -> dict[str, Any]:
        """Position, DROID-style extrinsics (reusable as an explicit rig) and the measured angles."""
        euler = matrix_to_euler_xyz(self.rot @ _CV_FROM_MUJOCO)
        return {"pos": [round(float(v), 6) for v in self.pos],
                "droid_extrinsics": [round(float(v), 6) for v in (*self.pos, *euler)],
                **{k: round(v, 4) for k, v in self.angles().items()}}

    def shifted(self, offset_xy: np.ndarray) -> CameraPose:
        return CameraPose(self.pos + np.array([offset_xy[0], offset_xy[1], 0.0]), self.rot)


@dataclass(frozen=True)
class PoseRanges:
    """A distribution of exterior poses: every quantity uniform in its range (yaw as a magnitude,
    toward the workspace), the optical axis meeting the centre's height within ``aim_m`` (±x, ±y)
    of the centre; draws whose distance or height falls outside its range are drawn again."""

    distance_m: tuple[float, float]
    height_m: tuple[float, float]
    yaw_deg: tuple[float, float]
    pitch_deg: tuple[float, float]
    roll_deg: tuple[float, float]
    aim_m: tuple[float, float]

    def holds(self, pose: CameraPose, side: int) -> bool:
        """Whether ``pose`` lies inside every range (side +1: the left camera, yaw negative)."""
        a = self.angles_of(pose, side)
        return all(lo <= a[k] <= hi for k, (lo, hi) in self._limits().items())

    def angles_of(self, pose: CameraPose, side: int) -> dict[str, float]:
        a = pose.angles()
        return {**a, "yaw_deg": -side * a["yaw_deg"]}  # the turn toward the workspace

    def _limits(self) -> dict[str, tuple[float, float]]:
        return {"distance_m": self.distance_m, "height_m": self.height_m, "yaw_deg": self.yaw_deg,
                "pitch_deg": self.pitch_deg, "roll_deg": self.roll_deg}

    def sample(self, rng: np.random.Generator, side: int) -> CameraPose:
        centre = np.asarray(WORKSPACE_CENTRE_M)
        for _ in range(1000):
            d, yaw, pitch, roll = (rng.uniform(*r) for r in (self.distance_m, self.yaw_deg, self.pitch_deg,
                                                              self.roll_deg))
            aim = centre + np.array([rng.uniform(-self.aim_m[0], self.aim_m[0]),
                                     rng.uniform(-self.aim_m[1], self.aim_m[1]), 0.0])
            heading, p = np.radians(-side * yaw), np.radians(pitch)
            forward = np.array([np.cos(p) * np.cos(heading), np.cos(p) * np.sin(heading), -np.sin(p)])
            pose = CameraPose(aim - d * forward, _rotation(forward, roll))
            if self.holds(pose, side):
                return pose
        raise ConfigError(f"no camera pose inside {self} in 1000 draws")  # only a malformed table gets here


DROID_RANGES = PoseRanges(distance_m=(0.55, 0.80), height_m=(0.30, 0.50), yaw_deg=(45.0, 85.0),
                          pitch_deg=(20.0, 40.0), roll_deg=(-20.0, 20.0), aim_m=(0.08, 0.05))
"""DESIGN §8b's spread of real DROID exterior poses. The axis need not pass through the centre:
the two real calibrations meet the table 3 and 13 cm from it."""

SIM_EVALS_POSES: tuple[tuple[tuple[float, ...], tuple[float, ...]], ...] = (
    ((0.05, 0.57, 0.66), (-0.606043, -0.795432, 0.0, 0.490308, -0.373568, 0.787430)),
    ((0.05, -0.57, 0.66), (0.606043, -0.795432, 0.0, 0.490308, 0.373568, 0.787430)),
)
"""(position, MuJoCo ``xyaxes``) of exterior 1 and 2, as envs/scenes/tabletop.xml states them."""


def _from_xyaxes(pos: Sequence[float], xyaxes: Sequence[float]) -> CameraPose:
    """A pose as MuJoCo's compiler reads ``xyaxes``: x normalized, y orthogonalized to it."""
    x = np.array(xyaxes[:3]) / np.linalg.norm(xyaxes[:3])
    y = np.array(xyaxes[3:]) - (np.array(xyaxes[3:]) @ x) * x
    y /= np.linalg.norm(y)
    return CameraPose(np.array(pos, dtype=np.float64), np.stack([x, y, np.cross(x, y)], axis=1))


@dataclass(frozen=True)
class CameraRig:
    """A lens and the exterior poses: fixed (``poses``) or drawn per episode (``ranges``)."""

    name: str
    lens: Lens
    poses: tuple[CameraPose, CameraPose] | None = None
    ranges: PoseRanges | None = None

    def draw(self, rng: np.random.Generator) -> tuple[CameraPose, CameraPose]:
        """(exterior 1, exterior 2) for one episode; a fixed rig draws nothing from ``rng``."""
        if self.poses is not None:
            return self.poses
        assert self.ranges is not None
        return self.ranges.sample(rng, +1), self.ranges.sample(rng, -1)


RIGS: dict[str, CameraRig] = {
    "droid": CameraRig("droid", ZED2_MEASURED, ranges=DROID_RANGES),
    "sim-evals": CameraRig("sim-evals", SIM_EVALS_LENS,
                           poses=(_from_xyaxes(*SIM_EVALS_POSES[0]), _from_xyaxes(*SIM_EVALS_POSES[1]))),
}
DEFAULT_RIG = "droid"


def _pose_of(spec: Any) -> CameraPose:
    """One explicit pose (see the module docstring)."""
    try:
        if len(spec) == 6:
            return CameraPose.from_droid(spec[:3], spec[3:])
        if len(spec) == 2 and len(spec[0]) == 3 and len(spec[1]) == 3:
            return CameraPose.from_droid(spec[0], spec[1])
        if len(spec) == 3 and len(spec[0]) == 3 and len(spec[1]) == 3:
            return CameraPose.look(spec[0], spec[1], float(spec[2]))
    except (TypeError, ValueError):
        pass
    raise ConfigError(f"a camera pose is [x, y, z, rx, ry, rz], ([x, y, z], [rx, ry, rz]) or "
                      f"([x, y, z], [lookat x, y, z], roll_deg); got {spec!r}")


def camera_rig(value: str | Sequence[Any] | CameraRig) -> CameraRig:
    """The rig ``value`` names: a preset (:data:`RIGS`), two explicit poses, or their JSON text."""
    if isinstance(value, CameraRig):
        return value
    if isinstance(value, str) and value in RIGS:
        return RIGS[value]
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ConfigError(f"unknown camera_rig {value!r}; valid: {list(RIGS)} or a JSON list of two "
                              "poses") from None
    if isinstance(value, str) or not isinstance(value, Sequence) or len(value) != len(EXTERIOR_CAMERAS):
        raise ConfigError(f"camera_rig takes {list(RIGS)} or {len(EXTERIOR_CAMERAS)} poses "
                          f"(exterior 1, exterior 2); got {value!r}")
    first, second = (_pose_of(spec) for spec in value)
    return CameraRig("explicit", ZED2_MEASURED, poses=(first, second))


def rig_text(value: str | Sequence[Any]) -> str:
    """A rig as the run identity records it: the preset's name or the poses' JSON text."""
    if isinstance(value, str):
        camera_rig(value)  # ConfigError for a bad one
        return value
    camera_rig(value)
    return json.dumps(value, default=lambda v: np.asarray(v).tolist())
