"""``backward_framewise`` pose deltas: each step expressed in the current end-effector frame.

Encoding: ΔT_i = T_i⁻¹ · T_{i+1}, i.e. Δt_i = R_iᵀ (p_{i+1} − p_i), ΔR_i = R_iᵀ R_{i+1}.
Decoding: T_{i+1} = T_i · ΔT_i from an anchor T_0 (the observed end-effector pose).
A delta row is ``[tx, ty, tz, r0..r5]`` (translation in metres per step, rot6d).
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInputError
from .rot6d import matrix_to_rot6d, rot6d_to_matrix


def _check_poses(poses: np.ndarray, name: str) -> np.ndarray:
    poses = np.asarray(poses, dtype=np.float64)
    if poses.ndim < 2 or poses.shape[-2:] != (4, 4):
        raise InvalidInputError(f"{name} must have shape [..., 4, 4], got {poses.shape}")
    if not np.all(np.isfinite(poses)):
        raise InvalidInputError(f"{name} contains NaN or inf")
    return poses


def encode_backward_framewise(poses: np.ndarray) -> np.ndarray:
    """Absolute poses [T+1, 4, 4] → delta rows [T, 9] (float64)."""
    poses = _check_poses(poses, "poses")
    if poses.ndim != 3 or poses.shape[0] < 2:
        raise InvalidInputError(f"poses must have shape [T+1, 4, 4] with T >= 1, got {poses.shape}")
    R, p = poses[:, :3, :3], poses[:, :3, 3]
    Rt = np.swapaxes(R[:-1], -1, -2)
    dt = np.einsum("tij,tj->ti", Rt, p[1:] - p[:-1])
    dR = Rt @ R[1:]
    return np.concatenate([dt, matrix_to_rot6d(dR)], axis=-1)


def decode_backward_framewise(anchor: np.ndarray, deltas: np.ndarray) -> np.ndarray:
    """Anchor pose [4, 4] and delta rows [T, 9] → poses [T+1, 4, 4] (row 0 is the anchor)."""
    anchor = _check_poses(anchor, "anchor")
    if anchor.shape != (4, 4):
        raise InvalidInputError(f"anchor must have shape [4, 4], got {anchor.shape}")
    deltas = np.asarray(deltas, dtype=np.float64)
    if deltas.ndim != 2 or deltas.shape[1] != 9:
        raise InvalidInputError(f"deltas must have shape [T, 9], got {deltas.shape}")
    if not np.all(np.isfinite(deltas)):
        raise InvalidInputError("deltas contain NaN or inf")
    steps = np.zeros((deltas.shape[0], 4, 4))
    steps[:, :3, :3] = rot6d_to_matrix(deltas[:, 3:9])
    steps[:, :3, 3] = deltas[:, :3]
    steps[:, 3, 3] = 1.0
    poses = np.empty((deltas.shape[0] + 1, 4, 4))
    poses[0] = anchor
    for i, step in enumerate(steps):
        poses[i + 1] = poses[i] @ step
    return poses
