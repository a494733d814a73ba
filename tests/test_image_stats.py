"""Image statistics on images whose values are known exactly, and on the real DROID reference
frames, which must come out as DESIGN §8b states (skipped when ../shared/reference is absent)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from robosim_cosmos.errors import InvalidInputError
from robosim_cosmos.metrics.image_stats import edge_density, image_stats, luma, robot_whiteness, saturation

H, W = 180, 320


def _grey(value: int, h: int = H, w: int = W) -> np.ndarray:
    return np.full((h, w, 3), value, dtype=np.uint8)


def test_flat_grey_image() -> None:
    s = image_stats(_grey(128))
    assert s.luma_mean == pytest.approx(128.0, abs=1e-9) and s.luma_std == pytest.approx(0.0, abs=1e-9)
    assert (s.dark_share, s.edge_density, s.saturation) == (0.0, 0.0, 0.0)
    assert s.robot_share is None and s.robot_whiteness is None


def test_half_black_image() -> None:
    img = _grey(255)
    img[: H // 2] = 0
    s = image_stats(img)
    assert s.luma_mean == pytest.approx(127.5) and s.luma_std == pytest.approx(127.5)
    assert s.dark_share == 0.5 and s.saturation == 0.0
    # the step's Sobel magnitude is 4 x 255 on the two rows either side of it; the image border
    # is reflected, so it adds no edge
    assert s.edge_density == pytest.approx(2 / H)


def test_checkerboard() -> None:
    """10-pixel squares: every pixel whose 3 x 3 neighbourhood crosses a square boundary is an
    edge (magnitude ≥ 2 x 255 even at the corners): 2 columns per each of the 31 vertical
    boundaries and 2 rows per each of the 17 horizontal ones."""
    rows, cols = np.indices((H, W))
    img = np.repeat((((rows // 10 + cols // 10) % 2) * 255).astype(np.uint8)[..., None], 3, axis=2)
    s = image_stats(img)
    assert s.luma_mean == pytest.approx(127.5) and s.luma_std == pytest.approx(127.5)
    assert s.dark_share == 0.5
    edge_cols, edge_rows = 2 * 31, 2 * 17
    assert s.edge_density == pytest.approx((edge_cols * H + edge_rows * W - edge_cols * edge_rows) / (H * W))


def test_edge_threshold_is_the_unnormalized_sobel_magnitude() -> None:
    """A vertical luma step of d gives a classic Sobel magnitude of 4 d: 24 stays under 100, 26 is over."""
    for step, expected in ((24, 0.0), (26, 2 / W)):
        img = _grey(100)
        img[:, W // 2:] = 100 + step
        assert edge_density(img) == pytest.approx(expected)


def test_luma_weights_and_saturation() -> None:
    red = np.zeros((4, 4, 3), dtype=np.uint8)
    red[..., 0] = 255
    assert luma(red)[0, 0] == pytest.approx(0.299 * 255)
    assert saturation(red) == pytest.approx(1.0)
    pink = np.broadcast_to(np.array([200, 100, 100], dtype=np.uint8), (4, 4, 3)).copy()
    assert saturation(pink) == pytest.approx(0.5)


def test_robot_statistics() -> None:
    img = _grey(100)
    img[:, : W // 4] = 230  # a white quarter
    mask = np.zeros((H, W), dtype=bool)
    mask[:, : W // 2] = True  # the robot: half white, half grey
    s = image_stats(img, mask)
    assert s.robot_share == 0.5 and s.robot_whiteness == pytest.approx(0.5)
    assert robot_whiteness(img, np.zeros((H, W), dtype=bool)) is None


def test_rejects_bad_inputs() -> None:
    with pytest.raises(InvalidInputError, match="uint8"):
        image_stats(np.zeros((H, W, 3), dtype=np.float32))
    with pytest.raises(InvalidInputError, match="robot mask"):
        image_stats(_grey(0), np.zeros((H, W - 1), dtype=bool))


def _reference_root() -> Path:
    root = Path(os.environ.get("DROID_REFERENCE", Path(__file__).resolve().parents[2] / "shared" / "reference"))
    if not (root / "droid_scenes").is_dir():
        pytest.skip(f"DROID reference frames not found under {root}; set DROID_REFERENCE")
    return root


def _load(path: Path) -> np.ndarray:
    Image = pytest.importorskip("PIL.Image")
    return np.asarray(Image.open(path).convert("RGB"))


def test_reference_thumbnails_match_design() -> None:
    """DESIGN §8b: luma mean 105 [83–122], std 62 [49–78], saturation 0.21 [0.07–0.39], dark
    share 18 % median, edge density 0.21 [0.06–0.31] over the 24 real DROID thumbnails."""
    files = sorted((_reference_root() / "droid_scenes").glob("*.png"))
    assert len(files) == 24
    stats = [image_stats(_load(f)) for f in files]
    col = {k: np.array([getattr(s, k) for s in stats])
           for k in ("luma_mean", "luma_std", "saturation", "dark_share", "edge_density")}
    for key, median, lo, hi, tol in (("luma_mean", 105, 82.5, 122.5, 1.0), ("luma_std", 62, 48.5, 78.5, 1.5),
                                     ("saturation", 0.21, 0.06, 0.40, 0.01), ("edge_density", 0.21, 0.06, 0.315, 0.01),
                                     ("dark_share", 0.18, 0.05, 0.40, 0.01)):
        assert np.median(col[key]) == pytest.approx(median, abs=tol), key
        assert lo <= col[key].min() and col[key].max() <= hi, key


def test_edge_density_is_measured_at_180x320_whatever_the_frame_size() -> None:
    """Episode 48330's 360 × 640 frame measures within 0.03 of its own 180 × 320 copy."""
    root = _reference_root()
    for name in ("droid_exterior_2_frame150", "droid_exterior_2_frame450"):
        big, small = _load(root / f"{name}.png"), _load(root / f"{name}_180x320.png")
        assert big.shape[:2] == (360, 640)
        assert edge_density(big) == pytest.approx(edge_density(small), abs=0.03)
