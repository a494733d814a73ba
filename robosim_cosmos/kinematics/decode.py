"""Normalized Cosmos end-effector chunks → joint targets for the Franka.

De-normalize with the domain's stats, integrate the ``backward_framewise`` deltas into
``cosmos_ee`` poses anchored at the current end-effector pose, solve IK, and map the
grasp column to the DROID gripper convention.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import mujoco
import numpy as np

from ..embodiments import EE_DELTA_COLUMNS, Embodiment, get_embodiment
from ..errors import ConfigError, InvalidActionError, InvalidInputError
from . import frames
from .assembly import robot_spec
from .deltas import decode_backward_framewise
from .empty_prefix import compile_spec
from .gripper import grasp_to_droid
from .ik import IKResult, IKSettings, IKSolver
from .normalization import ActionStats, check_stats_for, load_stats


def validate_chunk(actions: np.ndarray, width: int, name: str = "action chunk") -> np.ndarray:
    """Check an action chunk is a finite float array [T, width] with T >= 1; returns float64."""
    arr = np.asarray(actions)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise InvalidActionError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim != 2:
        raise InvalidActionError(f"{name} must be 2-D [T, {width}], got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise InvalidActionError(f"{name} is empty (T = 0 rows)")
    if arr.shape[1] != width:
        raise InvalidActionError(f"{name} rows must have {width} columns, got {arr.shape[1]}")
    bad = ~np.isfinite(arr)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise InvalidActionError(f"{name} contains NaN or inf (first at row {r}, column {c})")
    return arr


@lru_cache(maxsize=8)
def _ik_model(robot: str) -> tuple[mujoco.MjModel, tuple[str, ...]]:
    """A kinematics-only copy of the robot (no actuators, tendons, equalities, keys)."""
    spec, desc = robot_spec(robot)
    for group in (spec.keys, spec.actuators, spec.equalities, spec.tendons, spec.sensors):
        for element in list(group):
            spec.delete(element)
    return compile_spec(spec), tuple(desc.arm_joints)


def make_ik_solver(robot: str | os.PathLike[str] = "embedded", settings: IKSettings | None = None) -> IKSolver:
    """An IKSolver for the ``cosmos_ee`` site of the given robot variant."""
    model, joints = _ik_model(os.fspath(robot))
    return IKSolver(model, joints, site="cosmos_ee", settings=settings, rest=frames.DROID_HOME)


def franka_ik_settings(control_hz: float | None) -> IKSettings:
    """Default IK settings whose per-target joint change respects the Franka's velocity limits
    at ``control_hz`` (unbounded when the rate is unknown)."""
    if control_hz is None:
        return IKSettings()
    return IKSettings(max_step_rad=tuple(float(v) for v in frames.VELOCITY_LIMITS / control_hz))


@dataclass
class DecodedChunk:
    """A decoded chunk of T steps.

    joint_positions: float64 [T, 7] rad; gripper: float64 [T], DROID (0 open .. 1 closed);
    ee_poses: float64 [T, 4, 4] ``cosmos_ee`` targets in the robot base frame;
    raw_actions: float64 [T, 10] de-normalized rows; clipped: how many normalized values
    lay outside [−1, 1] and were clipped before de-normalizing; ik: per-step IK report.
    """

    joint_positions: np.ndarray
    gripper: np.ndarray
    ee_poses: np.ndarray
    raw_actions: np.ndarray
    clipped: int
    ik: IKResult

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "joint_positions": self.joint_positions.tolist(),
            "gripper": self.gripper.tolist(),
            "ee_poses": self.ee_poses.tolist(),
            "ik": self.ik.summary(),
            "normalized_values_clipped": self.clipped,
        }


class ChunkDecoder:
    """Turns normalized ``cosmos_ee_delta`` chunks into Franka joint targets.

    embodiment: a 10-column end-effector-delta embodiment (default droid); stats: an
    ActionStats, a shipped domain name or a JSON path (default: the embodiment's own);
    robot: "embedded", "menagerie" or a path to a Panda MJCF. ik_settings default: the
    library's, with each joint's change per step bounded by the Franka's velocity limit
    over one control period of the embodiment (1/15 s for DROID).
    """

    def __init__(
        self,
        embodiment: str | Embodiment = "droid",
        stats: ActionStats | str | os.PathLike[str] | None = None,
        robot: str | os.PathLike[str] = "embedded",
        ik_settings: IKSettings | None = None,
    ) -> None:
        self.embodiment = get_embodiment(embodiment)
        if self.embodiment.columns != EE_DELTA_COLUMNS or self.embodiment.gripper != "cosmos_grasp_open_1":
            raise ConfigError(
                f"embodiment {self.embodiment.name!r} is not an end-effector delta layout with a Cosmos "
                f"grasp column ({self.embodiment.raw_dim} columns, gripper {self.embodiment.gripper!r}); "
                "decodable: 10-column [tx, ty, tz, r0..r5, grasp]"
            )
        if isinstance(stats, ActionStats):
            self.stats = check_stats_for(stats, self.embodiment)
        else:
            self.stats = load_stats(stats, embodiment=self.embodiment)
        if ik_settings is None:
            ik_settings = franka_ik_settings(self.embodiment.fps)
        self.ik = make_ik_solver(robot, ik_settings)

    def anchor_pose(self, q: np.ndarray) -> np.ndarray:
        """``cosmos_ee`` pose [4, 4] at arm joint angles q [7]."""
        return self.ik.forward(q)

    def denormalize(self, actions: np.ndarray) -> tuple[np.ndarray, int]:
        """Normalized [T, 10] → (raw [T, 10], number of values clipped into [−1, 1])."""
        n = validate_chunk(actions, self.embodiment.raw_dim)
        clipped = 0
        if self.stats.kind != "meanstd":
            outside = np.abs(n) > 1.0
            clipped = int(outside.sum())
            n = np.clip(n, -1.0, 1.0)
        return self.stats.denormalize(n), clipped

    def poses(self, raw: np.ndarray, anchor: np.ndarray) -> np.ndarray:
        """De-normalized rows [T, 10] and anchor [4, 4] → target poses [T, 4, 4]."""
        return decode_backward_framewise(anchor, raw[:, :9])[1:]

    def decode(
        self,
        actions: np.ndarray,
        q_current: np.ndarray,
        anchor: np.ndarray | None = None,
    ) -> DecodedChunk:
        """Decode a normalized chunk [T, 10] from arm configuration q_current [7].

        anchor: the ``cosmos_ee`` pose the first delta applies to (default: the pose at
        q_current, i.e. re-anchored on the observed robot).
        """
        raw, clipped = self.denormalize(actions)
        q_current = np.asarray(q_current, dtype=np.float64)
        if q_current.shape != (7,) or not np.all(np.isfinite(q_current)):
            raise InvalidInputError(f"q_current must be 7 finite joint angles, got {q_current!r}")
        if anchor is None:
            anchor = self.anchor_pose(q_current)
        targets = self.poses(raw, np.asarray(anchor, dtype=np.float64))
        ik = self.ik.solve(targets, q_current)
        gripper = np.clip(grasp_to_droid(raw[:, 9]), 0.0, 1.0)
        return DecodedChunk(ik.q, gripper, targets, raw, clipped, ik)
