"""Franka Panda kinematic facts and the fixed frames the toolkit speaks in.

Every frame offset used anywhere in the project is defined here once:

- ``flange``: DROID's ``cartesian_position`` frame (Franka link8), 0.107 m along link7 z.
- ``cosmos_ee``: the frame Cosmos actions are expressed in, ``flange · Rz(+90°)``
  (Cosmos' DROID pipeline right-multiplies the flange rotation by Rz(+90°)).
- ``hand``: the Franka hand body, ``flange · Rz(−45°)``.
- ``tcp``: between the finger pads; depends on the gripper (:data:`TCP_FROM_FLANGE`):
  Franka hand 0.1034 m along the hand z axis, the project's Robotiq 2F-85 0.155 m along the
  flange z axis. ``flange`` and ``cosmos_ee`` never depend on the gripper.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ..errors import InvalidInputError


def rot_z(angle: float) -> np.ndarray:
    """Rotation matrix [3, 3] about z by ``angle`` radians."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def rot_x(angle: float) -> np.ndarray:
    """Rotation matrix [3, 3] about x by ``angle`` radians."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def make_pose(rotation: np.ndarray, translation: npt.ArrayLike) -> np.ndarray:
    """Homogeneous transform [4, 4] from a rotation [3, 3] and a translation [3]."""
    T = np.eye(4)
    T[:3, :3] = rotation
    T[:3, 3] = translation
    return T


# Modified DH (Craig) rows for joints 1..7 and the flange: (a, d, alpha), metres / rad.
DH_PARAMS: np.ndarray = np.array(
    [
        [0.0, 0.333, 0.0],
        [0.0, 0.0, -np.pi / 2],
        [0.0, 0.316, np.pi / 2],
        [0.0825, 0.0, np.pi / 2],
        [-0.0825, 0.384, -np.pi / 2],
        [0.0, 0.0, np.pi / 2],
        [0.088, 0.0, np.pi / 2],
    ]
)
FLANGE_D: float = 0.107

JOINT_LIMITS: np.ndarray = np.array(
    [
        [-2.8973, 2.8973],
        [-1.7628, 1.7628],
        [-2.8973, 2.8973],
        [-3.0718, -0.0698],
        [-2.8973, 2.8973],
        [-0.0175, 3.7525],
        [-2.8973, 2.8973],
    ]
)
VELOCITY_LIMITS: np.ndarray = np.array([2.175, 2.175, 2.175, 2.175, 2.61, 2.61, 2.61])

DROID_HOME: np.ndarray = np.array(
    [0.0, -np.pi / 5, 0.0, -4 * np.pi / 5, 0.0, 3 * np.pi / 5, 0.0]
)
"""DROID reset pose q [7], rad."""

R_FLANGE_COSMOS_EE: np.ndarray = rot_z(np.pi / 2)
R_FLANGE_HAND: np.ndarray = rot_z(-np.pi / 4)
TCP_OFFSET_IN_HAND: np.ndarray = np.array([0.0, 0.0, 0.1034])

T_FLANGE_COSMOS_EE: np.ndarray = make_pose(R_FLANGE_COSMOS_EE, np.zeros(3))
T_FLANGE_HAND: np.ndarray = make_pose(R_FLANGE_HAND, np.zeros(3))
T_FLANGE_TCP: np.ndarray = T_FLANGE_HAND @ make_pose(np.eye(3), TCP_OFFSET_IN_HAND)
T_LINK7_FLANGE: np.ndarray = make_pose(np.eye(3), [0.0, 0.0, FLANGE_D])

SITE_OFFSETS_FROM_FLANGE: dict[str, np.ndarray] = {
    "flange": np.eye(4),
    "cosmos_ee": T_FLANGE_COSMOS_EE,
    "tcp": T_FLANGE_TCP,
}
"""Pose of each named site in the flange frame with the Franka hand; sites hang off link7 via
T_LINK7_FLANGE. Other grippers: :func:`site_offsets_from_flange`."""

# -- grippers: where each is mounted on the flange, where its tcp is, which way it closes --------
# The project's Robotiq 2F-85 (envs/grippers/robotiq_2f85.xml): the base sits on the flange,
# fingers along the flange z axis, turned so that the fingers close along the same line as the
# Franka hand's (base x = hand y). Along its z axis: a 14 mm coupling, the housing up to 98 mm,
# the finger pads 137.5..172.5 mm: the pad centres (the tcp) are 155 mm from the flange.
R_FLANGE_ROBOTIQ: np.ndarray = rot_z(np.pi / 4)
ROBOTIQ_TCP_OFFSET_M: float = 0.155
"""Flange → Robotiq 2F-85 pad centres along the flange z axis (the project's model), metres."""
T_FLANGE_ROBOTIQ: np.ndarray = make_pose(R_FLANGE_ROBOTIQ, np.zeros(3))
T_FLANGE_TCP_ROBOTIQ: np.ndarray = T_FLANGE_ROBOTIQ @ make_pose(np.eye(3), [0.0, 0.0, ROBOTIQ_TCP_OFFSET_M])
# MuJoCo Menagerie's robotiq_2f85 (opt-in): mounted as Menagerie's panda_nohand attachment_site
# (flange · Rz(135°)), fingers closing along its base y; pads ≈ 0.145 m beyond the mount.
R_FLANGE_MENAGERIE_2F85: np.ndarray = rot_z(3 * np.pi / 4)
MENAGERIE_2F85_TCP_OFFSET_M: float = 0.145
T_FLANGE_MENAGERIE_2F85: np.ndarray = make_pose(R_FLANGE_MENAGERIE_2F85, np.zeros(3))

GRIPPER_MOUNTS: dict[str, np.ndarray] = {
    "franka_hand": T_FLANGE_HAND,
    "robotiq_2f85": T_FLANGE_ROBOTIQ,
    "menagerie_2f85": T_FLANGE_MENAGERIE_2F85,
}
"""Pose of each gripper's root body (hand / robotiq_base / base_mount frame) in the flange frame."""
TCP_FROM_FLANGE: dict[str, np.ndarray] = {
    "franka_hand": T_FLANGE_TCP,
    "robotiq_2f85": T_FLANGE_TCP_ROBOTIQ,
    "menagerie_2f85": T_FLANGE_MENAGERIE_2F85
    @ make_pose(np.eye(3), [0.0, 0.0, MENAGERIE_2F85_TCP_OFFSET_M]),
}
"""Pose of the ``tcp`` site (between the pads, at their centres) in the flange frame, per gripper."""
FINGER_AXIS_IN_FLANGE: dict[str, np.ndarray] = {
    "franka_hand": R_FLANGE_HAND @ np.array([0.0, 1.0, 0.0]),
    "robotiq_2f85": R_FLANGE_ROBOTIQ @ np.array([1.0, 0.0, 0.0]),
    "menagerie_2f85": R_FLANGE_MENAGERIE_2F85 @ np.array([0.0, 1.0, 0.0]),
}
"""Line the fingers close along, in the flange frame (a direction; its sign carries no meaning)."""


def site_offsets_from_flange(gripper: str = "franka_hand") -> dict[str, np.ndarray]:
    """Pose of the sites flange, cosmos_ee and tcp in the flange frame with ``gripper``.

    Only ``tcp`` depends on the gripper: ``cosmos_ee`` and ``flange`` (DROID's
    ``cartesian_position``) are the same whatever is mounted.
    """
    return {"flange": np.eye(4), "cosmos_ee": T_FLANGE_COSMOS_EE, "tcp": TCP_FROM_FLANGE[gripper]}


def dh_link_transform(a: float, d: float, alpha: float, theta: float) -> np.ndarray:
    """Modified-DH transform RotX(alpha)·TransX(a)·RotZ(theta)·TransZ(d) [4, 4]."""
    T = make_pose(rot_x(alpha), [a, 0.0, 0.0])
    link: np.ndarray = T @ make_pose(rot_z(theta), [0.0, 0.0, d])
    return link


def dh_forward_kinematics(q: np.ndarray) -> np.ndarray:
    """Flange pose [4, 4] in the robot base frame for joint angles q [7] (reference FK)."""
    q = np.asarray(q, dtype=np.float64)
    if q.shape != (7,):
        raise InvalidInputError(f"q must have shape (7,), got {q.shape}")
    T = np.eye(4)
    for (a, d, alpha), theta in zip(DH_PARAMS, q, strict=True):
        T = T @ dh_link_transform(a, d, alpha, theta)
    flange: np.ndarray = T @ T_LINK7_FLANGE
    return flange


def matrix_to_euler_xyz(R: np.ndarray) -> np.ndarray:
    """Extrinsic "xyz" Euler angles [3] (DROID ``cartesian_position``) of a rotation [3, 3].

    R = Rz(c)·Ry(b)·Rx(a); at the gimbal lock (|b| = 90°) a is set to 0.
    """
    sb = -float(R[2, 0])
    b = float(np.arcsin(np.clip(sb, -1.0, 1.0)))
    if abs(sb) < 1.0 - 1e-12:
        a = float(np.arctan2(R[2, 1], R[2, 2]))
        c = float(np.arctan2(R[1, 0], R[0, 0]))
    else:
        a = 0.0
        c = float(np.arctan2(-R[0, 1], R[1, 1]))
    return np.array([a, b, c], dtype=np.float64)


def euler_xyz_to_matrix(euler: npt.ArrayLike) -> np.ndarray:
    """Rotation [3, 3] of extrinsic "xyz" Euler angles [a, b, c] (DROID ``cartesian_position``):
    R = Rz(c)·Ry(b)·Rx(a), the inverse of :func:`matrix_to_euler_xyz`."""
    angles = np.asarray(euler, dtype=np.float64)
    if angles.shape != (3,):
        raise InvalidInputError(f"euler must have shape (3,), got {angles.shape}")
    a, b, c = (float(v) for v in angles)
    cb, sb = np.cos(b), np.sin(b)
    ry = np.array([[cb, 0.0, sb], [0.0, 1.0, 0.0], [-sb, 0.0, cb]])
    rotation: np.ndarray = rot_z(c) @ ry @ rot_x(a)
    return rotation
