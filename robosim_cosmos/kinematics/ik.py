"""Inverse kinematics for sequences of end-effector targets, built on mink.

mink supplies the tasks (FrameTask on the target site, a light PostureTask as
regularizer) and the joint-limit inequalities; each iteration's QP goes straight to
daqp, skipping qpsolvers' per-call checks. Every target is iterated to convergence
from the previous target's solution (warm start). A target the arm cannot reach
yields the best configuration found, flagged ``converged=False``: never NaN and
never an exception in the middle of a chunk.

A step that does not lower the error is not the end: the Levenberg–Marquardt damping
grows and the step is retried from the best configuration, so the arm still moves
toward a target it can get closer to (near full extension a full Gauss–Newton step
overshoots; a damped one follows the gradient). An optional bound on each joint's
change per target (``IKSettings.max_step_rad``) keeps consecutive solutions within
the robot's velocity limits for one control step.
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
from .sites import site_pose


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
    max_step_rad: tuple[float, ...] | None = None
    """Largest change of each joint from one target's solution to the next (the first target:
    from the seed), e.g. velocity limit × control period; None: unbounded."""
    adaptive_damping: bool = True
    """Raise the damping and retry when a step does not lower the error (False: stop there)."""

    def __post_init__(self) -> None:
        if self.max_iterations < 1:
            raise InvalidInputError(f"max_iterations must be >= 1, got {self.max_iterations}")
        if self.position_tolerance_m <= 0 or self.rotation_tolerance_deg <= 0:
            raise InvalidInputError("IK tolerances must be positive")
        if self.posture_target not in ("warm_start", "seed"):
            raise InvalidInputError(
                f"posture_target must be 'warm_start' or 'seed', got {self.posture_target!r}"
            )
        if self.max_step_rad is not None and not all(math.isfinite(v) and v > 0 for v in self.max_step_rad):
            raise InvalidInputError(f"max_step_rad must hold positive finite values, got {self.max_step_rad}")


COMMON_SETTINGS = IKSettings(
    position_tolerance_m=1e-3,
    rotation_tolerance_deg=1e3,
    max_iterations=20,
    posture_cost=1e-2,
    lm_damping=1.0,
    posture_target="seed",
    adaptive_damping=False,
)
"""The settings often copied between projects; kept as the benchmark baseline."""


@dataclass
class IKResult:
    """Solutions for T targets.

    q: float64 [T, 7] arm joint angles; position_error_mm, rotation_error_deg: float64 [T];
    converged: bool [T]; iterations: int [T] QP solves spent on each target;
    speed_limited: bool [T], True where a joint's change hit ``max_step_rad`` (the target was
    slowed down to respect the velocity limits).
    """

    q: np.ndarray
    position_error_mm: np.ndarray
    rotation_error_deg: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    speed_limited: np.ndarray

    def summary(self) -> dict[str, Any]:
        """JSON-ready mean/max errors and the converged flags."""
        def stat(a: np.ndarray) -> dict[str, float]:
            return {"mean": float(a.mean()) if a.size else 0.0, "max": float(a.max()) if a.size else 0.0}
        return {
            "position_mm": stat(self.position_error_mm),
            "rotation_deg": stat(self.rotation_error_deg),
            "converged": [bool(c) for c in self.converged],
            "speed_limited_steps": int(np.count_nonzero(self.speed_limited)),
        }


def pose_error(current: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """(position error in m, rotation error in rad) between two [4, 4] poses."""
    dp = float(np.linalg.norm(current[:3, 3] - target[:3, 3]))
    cos = (np.sum(current[:3, :3] * target[:3, :3]) - 1.0) / 2.0
    return dp, float(np.arccos(np.clip(cos, -1.0, 1.0)))


_DAMPING_MIN = 1e-3
_DAMPING_MAX = 1e4
_DAMPING_UP = 10.0
_DAMPING_DOWN = 0.25


def _merit(position_m: float, cos_rotation: float) -> float:
    """Squared pose error, metres² + rad² (2(1 − cos θ) ≈ θ²): what each QP step reduces."""
    return position_m * position_m + 2.0 * (1.0 - cos_rotation)


class IKSolver:
    """Solve target poses of one site on a robot model.

    model: a robot-only MjModel (no free-floating objects); ``arm_joints`` name the
    hinge joints IK may move (all other joints keep their value); ``site`` is the
    controlled frame. Only the arm's degrees of freedom enter the QP, and the joint
    limits are box bounds on the step (mink's ConfigurationLimit rule, with gain).
    ``rest``: a comfortable arm configuration [n] a target that does not converge from the
    warm start is retried from (None: no retry).
    """

    LIMIT_GAIN = 0.95

    def __init__(
        self,
        model: mujoco.MjModel,
        arm_joints: tuple[str, ...] | list[str],
        site: str = "cosmos_ee",
        settings: IKSettings | None = None,
        rest: np.ndarray | None = None,
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
        if s.max_step_rad is not None and len(s.max_step_rad) != len(ids):
            raise InvalidInputError(f"max_step_rad has {len(s.max_step_rad)} values for {len(ids)} arm joints")
        self._max_step = None if s.max_step_rad is None else np.asarray(s.max_step_rad, dtype=np.float64)
        self._rest = None if rest is None else self._check_q(rest, "rest")

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
        limited = np.zeros(n, dtype=bool)
        posture_from_seed = self.settings.posture_target == "seed"
        q_rest = full[self._qadr].copy()
        pos_tol, cos_tol = self._pos_tol, self._cos_tol
        max_step = self._max_step
        for t in range(n):
            p_target = targets[t, :3, 3]
            R_target = targets[t, :3, :3].ravel()
            self._frame_task.set_target(mink.SE3.from_matrix(targets[t]))
            q_start = full[self._qadr].copy()
            if max_step is None:
                box_lo, box_hi = lo, hi
            else:  # this target's solution stays within one control step of the previous one
                box_lo, box_hi = np.maximum(lo, q_start - max_step), np.minimum(hi, q_start + max_step)
            if not posture_from_seed:
                q_rest = q_start
            best_q, best_p, best_c, k = self._descend(full, p_target, R_target, q_rest, box_lo, box_hi)
            if (best_p > pos_tol or best_c < cos_tol) and self._rest is not None:
                # Stuck (e.g. the elbow straight at its limit, where the gradient toward a closer
                # target vanishes): descend again from the rest posture, as far as this step allows.
                retry = best_q.copy()
                retry[self._qadr] = np.clip(self._rest, box_lo, box_hi)
                if not np.array_equal(retry, best_q):
                    alt_q, alt_p, alt_c, alt_k = self._descend(retry, p_target, R_target, q_rest, box_lo, box_hi)
                    k += alt_k
                    if _merit(alt_p, alt_c) < _merit(best_p, best_c):
                        best_q, best_p, best_c = alt_q, alt_p, alt_c
            full = best_q
            out_q[t] = full[self._qadr]
            pos_err[t], cos_err[t] = best_p, best_c
            iters[t] = k
            if max_step is not None:
                limited[t] = bool(np.any(np.abs(out_q[t] - q_start) >= self.LIMIT_GAIN * max_step))
        self._q = full
        rot_err = np.arccos(np.clip(cos_err, -1.0, 1.0))
        converged = (pos_err <= pos_tol) & (cos_err >= cos_tol)
        return IKResult(out_q, pos_err * 1e3, np.rad2deg(rot_err), converged, iters, limited)

    def _descend(
        self, start: np.ndarray, p_target: np.ndarray, R_target: np.ndarray, q_rest: np.ndarray,
        box_lo: np.ndarray, box_hi: np.ndarray,
    ) -> tuple[np.ndarray, float, float, int]:
        """Damped Gauss–Newton from ``start`` (full qpos): (best qpos, position error m, cos of
        rotation error, QP solves spent). A step that does not lower the merit is retried with
        more damping from the best point (``adaptive_damping``), else the descent stops."""
        config = self.configuration
        pos_tol, cos_tol = self._pos_tol, self._cos_tol
        adaptive = self.settings.adaptive_damping
        config.update(start)
        best_q = start
        best_p, best_c = self._errors(p_target, R_target)
        best_m = _merit(best_p, best_c)
        damping = 0.0
        k = 0
        while (best_p > pos_tol or best_c < cos_tol) and k < self.settings.max_iterations:
            dq = self._qp_step(best_q[self._qadr], q_rest, box_lo, box_hi, damping)
            k += 1
            if dq is None:
                break
            trial = best_q.copy()
            # the QP meets its bounds to ~1e-7: clip so limits and speed bounds hold exactly
            trial[self._qadr] = np.clip(trial[self._qadr] + dq, box_lo, box_hi)
            config.update(trial)
            p, c = self._errors(p_target, R_target)
            m = _merit(p, c)
            if m < best_m:
                best_q, best_p, best_c, best_m = trial, p, c, m
                damping = damping * _DAMPING_DOWN if damping > _DAMPING_MIN else 0.0
            elif adaptive and damping < _DAMPING_MAX:
                # Overshot (near a singularity a Gauss–Newton step is huge): shorten the step
                # toward the gradient direction and try again from the best point.
                damping = max(damping * _DAMPING_UP, _DAMPING_MIN)
            else:
                break  # no damping lowers the error: the best point is as close as it gets
        return best_q, best_p, best_c, k

    def _qp_step(
        self, q_arm: np.ndarray, q_rest: np.ndarray, lo: np.ndarray, hi: np.ndarray, damping: float = 0.0
    ) -> np.ndarray | None:
        """One QP step Δq over the arm joints, or None if the solver fails.

        Objective: mink's FrameTask residual plus a posture term
        ``posture_cost²/2·|q + Δq − q_rest|²`` (mink's PostureTask, written out
        here for the arm joints alone) and ``damping/2·|Δq|²``; bounds: ``lo``..``hi``
        approached with mink's limit gain (the joint limits, or tighter per-target boxes).
        """
        Wf, ef, mu = self._frame_task.compute_qp_residual(self.configuration)
        Wf = Wf[:, self._dofadr]
        H = Wf.T @ Wf + self._posture_H
        H.flat[:: H.shape[0] + 1] += mu + damping
        c = self._posture_weight * (q_arm - q_rest) - ef @ Wf
        upper = np.maximum(self.LIMIT_GAIN * (hi - q_arm), 0.0)
        lower = np.minimum(self.LIMIT_GAIN * (lo - q_arm), 0.0)
        x, _, flag, _ = daqp.solve(H, c, self._no_rows, upper, lower)
        if flag < 1 or not math.isfinite(float(np.sum(x))):
            return None
        step: np.ndarray = x
        return step
