"""Continuous 6D rotation representation: the first two COLUMNS of R.

``r0..r2`` is R[:, 0] and ``r3..r5`` is R[:, 1] (pytorch3d uses rows; Cosmos does not).
Decoding orthonormalizes with Gram-Schmidt, so slightly off-manifold model outputs
still give a proper rotation (skipping it leaves det ≈ 0.97 and drift).
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInputError

IDENTITY_ROT6D = np.array([1.0, 0.0, 0.0, 0.0, 1.0, 0.0])
_EPS = 1e-12


def matrix_to_rot6d(R: np.ndarray) -> np.ndarray:
    """Rotation matrices [..., 3, 3] → rot6d [..., 6] (first column, then second)."""
    R = np.asarray(R, dtype=np.float64)
    if R.shape[-2:] != (3, 3):
        raise InvalidInputError(f"rotation matrices must have shape [..., 3, 3], got {R.shape}")
    return np.concatenate([R[..., :, 0], R[..., :, 1]], axis=-1)


def rot6d_to_matrix(r6: np.ndarray) -> np.ndarray:
    """rot6d [..., 6] → rotation matrices [..., 3, 3] via Gram-Schmidt.

    Raises ValueError for non-finite input or degenerate (zero or parallel) columns.
    """
    r6 = np.asarray(r6, dtype=np.float64)
    if r6.shape[-1:] != (6,):
        raise InvalidInputError(f"rot6d must have shape [..., 6], got {r6.shape}")
    if not np.all(np.isfinite(r6)):
        raise InvalidInputError("rot6d contains NaN or inf")
    a1, a2 = r6[..., 0:3], r6[..., 3:6]
    n1 = np.linalg.norm(a1, axis=-1, keepdims=True)
    if np.any(n1 < _EPS):
        raise InvalidInputError("rot6d first column has zero length")
    b1 = a1 / n1
    u2 = a2 - np.sum(b1 * a2, axis=-1, keepdims=True) * b1
    n2 = np.linalg.norm(u2, axis=-1, keepdims=True)
    if np.any(n2 < _EPS):
        raise InvalidInputError("rot6d columns are parallel or the second column is zero")
    b2 = u2 / n2
    b3 = np.cross(b1, b2)
    return np.stack([b1, b2, b3], axis=-1)
