"""Inverse kinematics for sequences of end-effector targets, built on mink.

mink supplies the tasks (FrameTask on the target site, a light PostureTask as
regularizer) and the joint-limit inequalities; each iteration's QP goes straight to
daqp, skipping qpsolvers' per-call checks. Every target is iterated to convergence
from the previous target's solution (warm start). A target the arm cannot reach
yields the best configuration found, flagged ``converged=False``: never NaN and
never an exception in the middle of a chunk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import daqp
import mink
import mujoco
import numpy as np

from ..errors import InvalidInputError
from .robot import site_pose


@dataclass(frozen=True)
class IKSettings:
    """Convergence and regularization settings.

    posture_cost: weight of the pull toward the warm-start configuration (regularizes
        the redundant joint; small so it biases the end-effector by far less than the tolerances).
    lm_damping: Levenberg-Marquardt damping of the frame task, scaled by its squared error.
    """

    position_tolerance_m: float = 5e-5
    rotation_tolerance_deg: float = 0.025
    max_iterations: int = 20
    position_cost: float = 1.0
    orientation_cost: float = 1.0
    posture_cost: float = 1e-3
    lm_damping: float = 0.0
    damping: float = 1e-12
    posture_target: str = "warm_start"  # "warm_start" | "seed"

    def __post_init__(self) -> None:
        if self.max_iterations < 1:
            raise InvalidInputError(f"max_iterations must be >= 1, got {self.max_iterations}")
        if self.position_tolerance_m <= 0 or self.rotation_tolerance_deg <= 0:
            raise InvalidInputError("IK tolerances must be positive")
        if self.posture_target not in ("warm_start", "seed"):
            raise InvalidInputError(
                f"posture_target must be 'warm_start' or 'seed', got {self.posture_target!r}"
            )


COMMON_SETTINGS = IKSettings(
    position_tolerance_m=1e-3,
    rotation_tolerance_deg=1e3,
    max_iterations=20,
    posture_cost=1e-2,
    lm_damping=1.0,
    posture_target="seed",
)
"""The settings often copied between projects; kept as the benchmark baseline."""


@dataclass
class IKResult:
    """Solutions for T targets.

    q: float64 [T, 7] arm joint angles; position_error_mm, rotation_error_deg: float64 [T];
    converged: bool [T]; iterations: int [T] QP solves spent on each target.
    """

    q: np.ndarray
    position_error_mm: np.ndarray
    rotation_error_deg: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray

    def summary(self) -> dict[str, Any]:
        """JSON-ready mean/max errors and the converged flags."""
        def stat(a: np.ndarray) -> dict[str, float]:
            return {"mean": float(a.mean()) if a.size else 0.0, "max": float(a.max()) if a.size else 0.0}
        return {
            "position_mm": stat(self.position_error_mm),
            "rotation_deg": stat(self.rotation_error_deg),
            "converged": [bool(c) for c in self.converged],
        }


def pose_error(current: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """(position error in m, rotation error in rad) between two [4, 4] poses."""
    dp = float(np.linalg.norm(current[:3, 3] - target[:3, 3]))
    cos = (np.sum(current[:3, :3] * target[:3, :3]) - 1.0) / 2.0
    return dp, float(np.arccos(np.clip(cos, -1.0, 1.0)))


class IKSolver:
    """Solve target poses of one site on a robot model.

    model: a robot-only MjModel (no free-floating objects); ``arm_joints`` name the
    hinge joints IK may move (all other joints keep their value); ``site`` is the
    controlled frame. Only the arm's degrees of freedom enter the QP, and the joint
    limits are box bounds on the step (mink's ConfigurationLimit rule, with gain).
    """

    LIMIT_GAIN = 0.95

    def __init__(
        self,
        model: mujoco.MjModel,
        arm_joints: tuple[str, ...] | list[str],
        site: str = "cosmos_ee",
        settings: IKSettings | None = None,
    ) -> None:
        self.model = model
        self.settings = settings or IKSettings()
        self.site = site
        self._site_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, site)
        if self._site_id < 0:
            raise InvalidInputError(f"site {site!r} not found in the IK model")
        ids = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, j) for j in arm_joints]
        if any(i < 0 for i in ids):
            missing = [j for j, i in zip(arm_joints, ids, strict=True) if i < 0]
            raise InvalidInputError(f"joints {missing} not found in the IK model")
        if any(model.jnt_type[i] != mujoco.mjtJoint.mjJNT_HINGE for i in ids):
            raise InvalidInputError("IK arm joints must all be hinge joints")
        self.arm_joints = tuple(arm_joints)
        self._qadr = np.array([model.jnt_qposadr[i] for i in ids])
        self._dofadr = np.array([model.jnt_dofadr[i] for i in ids])
        self._limits = model.jnt_range[ids].copy()
        s = self.settings
        self.configuration = mink.Configuration(model)
        self._frame_task = mink.FrameTask(
            site, "site", position_cost=s.position_cost,
            orientation_cost=s.orientation_cost, lm_damping=s.lm_damping,
        )
        # mink weights a residual by ``cost`` itself, so the QP weight is cost².
        self._posture_weight = s.posture_cost**2
        self._posture_H = (self._posture_weight + s.damping) * np.eye(len(ids))
        self._pos_tol = s.position_tolerance_m
        self._cos_tol = np.cos(np.deg2rad(s.rotation_tolerance_deg))
        self._q = model.qpos0.copy()
        self._no_rows = np.zeros((0, len(ids)))

    @property
    def nq(self) -> int:
        return len(self.arm_joints)

    def _check_q(self, q: np.ndarray, name: str) -> np.ndarray:
        q = np.asarray(q, dtype=np.float64)
        if q.shape != (self.nq,):
            raise InvalidInputError(f"{name} must have shape ({self.nq},), got {q.shape}")
        if not np.all(np.isfinite(q)):
            raise InvalidInputError(f"{name} contains NaN or inf")
        return q

    def forward(self, q: np.ndarray) -> np.ndarray:
        """Pose [4, 4] of the IK site for arm joint angles q [7]."""
        q = self._check_q(q, "q")
        full = self._q.copy()
        full[self._qadr] = q
        self.configuration.update(full)
        return site_pose(self.model, self.configuration.data, self._site_id)

    def _errors(self, p_target: np.ndarray, R_target: np.ndarray) -> tuple[float, float]:
        """(position error m, cos of rotation error) at the current configuration."""
        data = self.configuration.data
        d = data.site_xpos[self._site_id] - p_target
        cos = (float(data.site_xmat[self._site_id] @ R_target) - 1.0) * 0.5
        return float(np.sqrt(d @ d)), min(1.0, max(-1.0, cos))

    def solve(self, targets: np.ndarray, q_seed: np.ndarray) -> IKResult:
        """Targets [T, 4, 4] in the robot base frame, seed q [7] → IKResult.

        The seed is clipped into the joint limits first (a physical robot can rest a hair
        outside them); the solution always respects them.
        """
        targets = np.asarray(targets, dtype=np.float64)
        if targets.ndim != 3 or targets.shape[1:] != (4, 4):
            raise InvalidInputError(f"targets must have shape [T, 4, 4], got {targets.shape}")
        if not np.all(np.isfinite(targets)):
            raise InvalidInputError("targets contain NaN or inf")
        q_seed = self._check_q(q_seed, "q_seed")
        lo, hi = self._limits[:, 0], self._limits[:, 1]
        full = self._q.copy()
        full[self._qadr] = np.clip(q_seed, lo, hi)
        n = targets.shape[0]
        out_q = np.empty((n, self.nq))
        pos_err = np.empty(n)
        cos_err = np.empty(n)
        iters = np.zeros(n, dtype=np.int64)
        config = self.configuration
        posture_from_seed = self.settings.posture_target == "seed"
        q_rest = full[self._qadr].copy()
        pos_tol, cos_tol, max_iter = self._pos_tol, self._cos_tol, self.settings.max_iterations
        for t in range(n):
            p_target = targets[t, :3, 3]
            R_target = targets[t, :3, :3].ravel()
            self._frame_task.set_target(mink.SE3.from_matrix(targets[t]))
            if not posture_from_seed:
                q_rest = full[self._qadr]
            config.update(full)
            best_q = full
            best_p, best_c = self._errors(p_target, R_target)
            k = 0
            while (best_p > pos_tol or best_c < cos_tol) and k < max_iter:
                dq = self._qp_step(full[self._qadr], q_rest, lo, hi)
                k += 1
                if dq is None:
                    break
                full = full.copy()
                full[self._qadr] += dq
                config.update(full)
                p, c = self._errors(p_target, R_target)
                if (p <= best_p and c >= best_c) or p + (1.0 - c) * 0.1 < best_p + (1.0 - best_c) * 0.1:
                    best_q, best_p, best_c = full, p, c
                elif p > best_p and c < best_c:
                    break  # both errors grew: the target is out of reach
            full = best_q
            out_q[t] = full[self._qadr]
            pos_err[t], cos_err[t] = best_p, best_c
            iters[t] = k
        self._q = full
        rot_err = np.arccos(np.clip(cos_err, -1.0, 1.0))
        converged = (pos_err <= pos_tol) & (cos_err >= cos_tol)
        return IKResult(out_q, pos_err * 1e3, np.rad2deg(rot_err), converged, iters)

    def _qp_step(self, q_arm: np.ndarray, q_rest: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray | None:
        """One QP step Δq over the arm joints, or None if the solver fails.

        Objective: mink's FrameTask residual plus a posture term
        ``posture_cost²/2·|q + Δq − q_rest|²`` (mink's PostureTask, written out
        here for the arm joints alone); bounds: the joint limits.
        """
        Wf, ef, mu = self._frame_task.compute_qp_residual(self.configuration)
        Wf = Wf[:, self._dofadr]
        H = Wf.T @ Wf + self._posture_H
        H.flat[:: H.shape[0] + 1] += mu
        c = self._posture_weight * (q_arm - q_rest) - ef @ Wf
        upper = np.maximum(self.LIMIT_GAIN * (hi - q_arm), 0.0)
        lower = np.minimum(self.LIMIT_GAIN * (lo - q_arm), 0.0)
        x, _, flag, _ = daqp.solve(H, c, self._no_rows, upper, lower)
        if flag < 1 or not math.isfinite(float(np.sum(x))):
            return None
        step: np.ndarray = x
        return step
