"""Image statistics that say how a camera frame looks, next to real DROID frames (DESIGN §8b).

Every function takes one RGB frame, uint8 [H, W, 3] (0..255), and returns plain floats; the
robot statistics also take the robot's pixels as a bool [H, W] mask. Definitions:

- luma: Rec.601, ``0.299 R + 0.587 G + 0.114 B`` on 0..255 (float64 [H, W]); its mean and
  population standard deviation (the frame's contrast);
- dark share: the fraction of pixels with luma < :data:`DARK_LUMA`;
- edge density: the fraction of pixels whose Sobel gradient magnitude of the luma exceeds
  :data:`EDGE_THRESHOLD`, computed at :data:`EDGE_SIZE` (the frame is resized there first, so
  any image size measures the same thing). The magnitude is the classic unnormalized Sobel
  ``sqrt(gx² + gy²)`` with the [1, 2, 1] ⊗ [−1, 0, 1] kernels: scikit-image's ``sobel``
  divides each kernel by 4 and the root of the sum by √2, so it is multiplied back by
  :data:`SOBEL_SCALE` = 4√2 (with that, the 24 DROID thumbnails in the reference set give a
  median of 0.21 over [0.06, 0.31], the figures DESIGN §8b states);
- saturation: the mean of HSV saturation ``(max − min) / max`` (0 where max is 0);
- robot share: the fraction of the frame the robot mask covers; robot whiteness: the fraction
  of the robot's pixels with luma > :data:`WHITE_LUMA` (real Franka links read white).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from skimage.color import rgb2hsv
from skimage.filters import sobel
from skimage.transform import resize

from ..errors import InvalidInputError

LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114])
"""Rec.601 luma weights of R, G, B."""
DARK_LUMA = 40.0
WHITE_LUMA = 200.0
EDGE_SIZE: tuple[int, int] = (180, 320)
"""Height and width at which edge density is measured (DROID's RLDS image size)."""
EDGE_THRESHOLD = 100.0
SOBEL_SCALE = 4.0 * math.sqrt(2.0)
"""scikit-image's Sobel magnitude times this is the unnormalized Sobel magnitude."""


def _check_frame(image: np.ndarray) -> np.ndarray:
    frame = np.asarray(image)
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3 or min(frame.shape[:2]) < 3:
        raise InvalidInputError(f"frame must be uint8 [H, W, 3] with H, W >= 3, got {frame.dtype} {frame.shape}")
    return frame


def _check_mask(mask: np.ndarray, frame: np.ndarray) -> np.ndarray:
    m = np.asarray(mask)
    if m.dtype != bool or m.shape != frame.shape[:2]:
        raise InvalidInputError(f"robot mask must be bool {frame.shape[:2]}, got {m.dtype} {m.shape}")
    return m


def luma(image: np.ndarray) -> np.ndarray:
    """Rec.601 luma of a uint8 [H, W, 3] frame: float64 [H, W] on 0..255."""
    return _check_frame(image).astype(np.float64) @ LUMA_WEIGHTS


def edge_density(image: np.ndarray) -> float:
    """Share of pixels with unnormalized Sobel magnitude > 100 on the luma at 180 × 320."""
    y = luma(image)
    if y.shape != EDGE_SIZE:
        # bilinear; anti-aliased when shrinking so a 360 × 640 frame measures like its 180 × 320 copy
        y = resize(y, EDGE_SIZE, order=1, preserve_range=True, anti_aliasing=bool(y.shape[0] > EDGE_SIZE[0]))
    return float(np.mean(SOBEL_SCALE * sobel(y) > EDGE_THRESHOLD))


def saturation(image: np.ndarray) -> float:
    """Mean HSV saturation (0..1) of a uint8 [H, W, 3] frame."""
    return float(rgb2hsv(_check_frame(image))[..., 1].mean())


def robot_share(mask: np.ndarray) -> float:
    """Fraction of the frame covered by a bool [H, W] robot mask."""
    return float(np.mean(np.asarray(mask, dtype=bool)))


def robot_whiteness(image: np.ndarray, mask: np.ndarray) -> float | None:
    """Fraction of the robot's pixels brighter than luma 200 (None when the mask is empty)."""
    m = _check_mask(mask, _check_frame(image))
    if not m.any():
        return None
    return float(np.mean(luma(image)[m] > WHITE_LUMA))


@dataclass(frozen=True)
class ImageStats:
    """The statistics of one frame (see the module's definitions); the robot's are None
    without a mask (and whiteness also when the robot is out of view)."""

    luma_mean: float
    luma_std: float
    dark_share: float
    edge_density: float
    saturation: float
    robot_share: float | None = None
    robot_whiteness: float | None = None

    def as_dict(self) -> dict[str, float | None]:
        return asdict(self)


def image_stats(image: np.ndarray, robot_mask: np.ndarray | None = None) -> ImageStats:
    """All statistics of a uint8 [H, W, 3] frame; ``robot_mask`` bool [H, W] adds the robot's."""
    frame = _check_frame(image)
    y = luma(frame)
    share = white = None
    if robot_mask is not None:
        share = robot_share(_check_mask(robot_mask, frame))
        white = robot_whiteness(frame, robot_mask)
    return ImageStats(float(y.mean()), float(y.std()), float(np.mean(y < DARK_LUMA)), edge_density(frame),
                      saturation(frame), share, white)
