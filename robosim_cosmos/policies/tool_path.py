"""Tool-down waypoints and step limits shared by the scripted planners (world frame = robot
base frame; yaws are the world yaw of the gripper's finger closing axis)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..kinematics import frames
from ..kinematics.gripper import GRIPPERS

# -- tool geometry ---------------------------------------------------------------------
R_DOWN: np.ndarray = np.array([[0.0, -1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])
"""``cosmos_ee`` rotation at DROID home (tool z pointing down)."""

# -- step limits (well inside DROID q01/q99: ±1.34..1.52 cm, ≈2.7° per rotation column) ------
MAX_STEP_M = 0.0105
"""Largest translation per step along any ``cosmos_ee`` axis."""
MAX_ROT_RAD = np.deg2rad(1.9)
"""Largest rotation per step."""

OPEN, CLOSED = 0.0, 1.0  # DROID gripper convention (0 open .. 1 closed)
FRANKA_TIP_BELOW_TCP_M = GRIPPERS["franka_hand"].tip_below_tcp_m


def wrap(angle: float) -> float:
    return float((angle + np.pi) % (2 * np.pi) - np.pi)


def home_finger_yaw(finger_axis_in_ee: np.ndarray) -> float:
    """World yaw of the finger axis at DROID home (tool down)."""
    f = R_DOWN @ finger_axis_in_ee
    return float(np.arctan2(f[1], f[0]))


def down_rotation(finger_yaw: float, finger_axis_in_ee: np.ndarray) -> np.ndarray:
    """Tool-down ``cosmos_ee`` rotation whose finger axis has world yaw ``finger_yaw``."""
    return frames.rot_z(finger_yaw - home_finger_yaw(finger_axis_in_ee)) @ R_DOWN


def finger_yaw(R: np.ndarray, finger_axis_in_ee: np.ndarray) -> float:
    """World yaw of the finger axis of a ``cosmos_ee`` rotation."""
    f = R @ finger_axis_in_ee
    return float(np.arctan2(f[1], f[0]))


def nearest_yaw(target: float, current: float, period: float) -> float:
    """The angle ≡ target (mod period) closest to current."""
    return current + ((target - current + period / 2) % period - period / 2)


@dataclass
class Waypoint:
    """A tcp goal: position [3] (world), finger yaw (rad), DROID gripper, dwell steps."""

    tcp: np.ndarray
    yaw: float
    gripper: float
    dwell: int = 0
    speed: float = MAX_STEP_M




PUSH_SPEED_M = 0.006
"""Largest tcp step while pushing."""


def push_waypoints(phase: str, tcp: np.ndarray, centre: np.ndarray, goal: np.ndarray, half: float,
                   cur_yaw: float, push_z: float) -> tuple[str, list[Waypoint]]:
    """One call of the push phase machine: line the closed fingers up behind the object (centre
    [2]) on the line to the goal [2], then push along it. ``half``: the object's half extent along
    the push; the tcp lines up ``half`` + 3.5 cm behind the centre and pushes from ``half`` + 1 cm.
    Returns the next phase ("approach" or "push") and the waypoints."""
    d = goal - centre
    dist = float(np.linalg.norm(d))
    u = d / max(dist, 1e-9)
    yaw = nearest_yaw(float(np.arctan2(u[1], u[0])) + np.pi / 2, cur_yaw, np.pi)
    rel = tcp[:2] - centre
    along = float(rel @ u)  # negative: behind the object
    lateral = float(rel @ np.array([-u[1], u[0]]))
    behind = np.append(centre - u * (half + 0.035), push_z)
    # keep the tcp on the line through the object towards the goal, then advance
    push = Waypoint(np.append(centre - u * (half + 0.01) + u * min(dist, 0.06), push_z), yaw, CLOSED,
                    speed=PUSH_SPEED_M)
    if phase == "push" and along <= -(half - 0.005) and abs(lateral) <= 0.02 and tcp[2] <= push_z + 0.02:
        return "push", [push]
    if np.linalg.norm(tcp - behind) < 0.01:
        return "push", [push]
    wps = []
    near_line_behind = along < -(half + 0.015) and abs(lateral) < 0.015
    if tcp[2] < 0.07 and not near_line_behind:
        wps.append(Waypoint(np.array([tcp[0], tcp[1], 0.10]), yaw, CLOSED))
    if not near_line_behind:
        wps.append(Waypoint(np.append(behind[:2], 0.10), yaw, CLOSED))
    wps.append(Waypoint(behind, yaw, CLOSED, dwell=1))
    return "approach", wps
