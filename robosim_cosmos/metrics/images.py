"""Frame-similarity metrics for scoring a predicted video against the simulator's frames.

PSNR and SSIM come from scikit-image; this module only fixes the conventions: uint8 RGB
frames (data range 255), PSNR capped at :data:`PSNR_CAP_DB` so that identical frames give a
finite number, SSIM averaged over the three channels, and the robot-pixel variants (PSNR over
the masked pixels, SSIM as the mean of SSIM's per-pixel map over them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from ..errors import InvalidInputError

PSNR_CAP_DB = 100.0
"""Identical frames have infinite PSNR; reported as 100 dB (8-bit frames that differ anywhere score < 100)."""
DATA_RANGE = 255.0


@dataclass(frozen=True)
class FrameScore:
    """Scores of one predicted frame: psnr (dB, capped), ssim, and the same over the robot's pixels
    (None when no mask was given or the robot covers no pixel)."""

    psnr: float
    ssim: float
    robot_psnr: float | None = None
    robot_ssim: float | None = None


def _check(reference: np.ndarray, predicted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ref, pred = np.asarray(reference), np.asarray(predicted)
    for name, img in (("reference", ref), ("predicted", pred)):
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise InvalidInputError(f"{name} frame must be uint8 [H, W, 3], got {img.dtype} {img.shape}")
    if ref.shape != pred.shape:
        raise InvalidInputError(f"frames differ in size: reference {ref.shape}, predicted {pred.shape}")
    if min(ref.shape[:2]) < 7:
        raise InvalidInputError(f"frames must be at least 7 x 7 for SSIM's window, got {ref.shape[:2]}")
    return ref, pred


def psnr(reference: np.ndarray, predicted: np.ndarray) -> float:
    """PSNR in dB of uint8 arrays of one shape (any shape: a frame or a set of pixels), capped."""
    if np.array_equal(reference, predicted):
        return PSNR_CAP_DB
    return min(PSNR_CAP_DB, float(peak_signal_noise_ratio(reference, predicted, data_range=DATA_RANGE)))


def score_frame(reference: np.ndarray, predicted: np.ndarray, mask: np.ndarray | None = None) -> FrameScore:
    """Score ``predicted`` against ``reference`` (uint8 [H, W, 3], same size); ``mask`` bool [H, W]
    marks the robot's pixels."""
    ref, pred = _check(reference, predicted)
    # float32 halves SSIM's cost against skimage's float64 default; the values agree to ~1e-6
    mean, ssim_map = structural_similarity(ref.astype(np.float32), pred.astype(np.float32), channel_axis=2,
                                           data_range=DATA_RANGE, full=True)
    robot_psnr = robot_ssim = None
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != ref.shape[:2]:
            raise InvalidInputError(f"mask must be bool {ref.shape[:2]}, got {mask.shape}")
        if mask.any():
            robot_psnr = psnr(ref[mask], pred[mask])
            robot_ssim = float(np.clip(ssim_map[mask].mean(), -1.0, 1.0))
    return FrameScore(psnr(ref, pred), float(mean), robot_psnr, robot_ssim)
