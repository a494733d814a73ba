"""Rollout videos: sim camera | predicted world frame, above a caption strip."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..image_resize import resize_nearest
from .background import Background

CAPTION_HEIGHT = 36
"""Caption strip height at DROID's 320-pixel width; text and strip grow with wider frames."""
FPS = 15
_GREY = 96
_BASE_WIDTH = 320
_LINE_HEIGHT = 14

try:  # imageio depends on pillow, so this is normally available
    from PIL import Image, ImageDraw, ImageFont

    _FONT = ImageFont.load_default()
except ImportError:  # pragma: no cover - captions are left blank without pillow
    Image = ImageDraw = ImageFont = _FONT = None  # type: ignore[assignment]

_FONTS: dict[int, Any] = {1: _FONT}


def text_scale(width: int) -> int:
    """How many times larger text is drawn on a camera image ``width`` pixels wide (1 up to 639
    pixels, 2 at 360x640's width), so captions stay readable at Cosmos 3's resolution."""
    return max(1, width // _BASE_WIDTH)


def _font(scale: int) -> Any:
    if scale not in _FONTS:
        _FONTS[scale] = ImageFont.load_default(size=10 * scale)
    return _FONTS[scale]


_PANELS: dict[tuple[int, int], np.ndarray] = {}


def no_prediction_panel(height: int, width: int) -> np.ndarray:
    """Grey [height, width, 3] panel saying "no prediction" (cached per size)."""
    panel = _PANELS.get((height, width))
    if panel is None:
        grey = np.full((height, width, 3), _GREY, dtype=np.uint8)
        panel = _draw_text(grey, ["no prediction"], centre=True, scale=text_scale(width))
        _PANELS[(height, width)] = panel
    return panel


def _draw_text(strip: np.ndarray, lines: list[str], centre: bool = False, scale: int = 1) -> np.ndarray:
    if Image is None:
        return strip
    img = Image.fromarray(strip)
    draw = ImageDraw.Draw(img)
    font, line_h = _font(scale), _LINE_HEIGHT * scale
    y0 = (strip.shape[0] - line_h * len(lines)) // 2 if centre else 3 * scale
    for i, text in enumerate(lines):
        x = 6 * scale
        if centre:
            x = max(2, (strip.shape[1] - int(draw.textlength(text, font=font))) // 2)
        draw.text((x, y0 + i * line_h), text, fill=(255, 255, 255), font=font)
    return np.asarray(img)


def _label_panel(panel: np.ndarray, text: str) -> np.ndarray:
    """``panel`` with ``text`` in white on a darkened band along its top (a copy)."""
    if Image is None or not text:
        return panel
    scale = text_scale(panel.shape[1])
    out = panel.copy()
    band = out[: min(_LINE_HEIGHT * scale, out.shape[0])]
    band[:] = (band * 0.45).astype(np.uint8)
    img = Image.fromarray(out)
    ImageDraw.Draw(img).text((3 * scale, scale), text, fill=(255, 255, 255), font=_font(scale))
    return np.asarray(img)


def compose_frame(camera: np.ndarray, prediction: np.ndarray | None, caption: list[str],
                  prediction_label: str = "") -> np.ndarray:
    """[H + caption, 2W, 3]: camera on the left, the prediction (resized, ``prediction_label``
    written on it) or a grey panel on the right, caption lines in a strip below."""
    h, w = camera.shape[:2]
    if prediction is None:
        right = no_prediction_panel(h, w)
    else:
        right = _label_panel(resize_nearest(prediction, h, w), prediction_label)
    top = np.concatenate([camera, right], axis=1)
    scale = text_scale(w)
    strip = np.zeros((CAPTION_HEIGHT * scale, 2 * w, 3), dtype=np.uint8)
    return np.concatenate([top, _draw_text(strip, caption, scale=scale)], axis=0)


def plain_frame(frame: np.ndarray, caption: list[str]) -> np.ndarray:
    """A frame as it is (the caption is ignored): for videos of the predicted frames alone."""
    return frame


class VideoWriter:
    """Composes and encodes frames on a background thread (rendering the next frame overlaps
    with encoding this one); streams to ``<stem>.partial.mp4`` and renames on :meth:`finish`.
    ``compose(*parts, caption, **options)`` makes a frame of what :meth:`add` is given
    (default: :func:`compose_frame`)."""

    def __init__(self, final_dir: Path, stem: str, fps: int = FPS, compose: Any = compose_frame) -> None:
        import imageio.v2 as imageio

        final_dir.mkdir(parents=True, exist_ok=True)
        self.dir, self.stem = final_dir, stem
        self.tmp = final_dir / f"{stem}.partial.mp4"
        self._writer = imageio.get_writer(
            self.tmp, fps=fps, codec="libx264", macro_block_size=1, quality=7,
            pixelformat="yuv420p", ffmpeg_log_level="error",
            ffmpeg_params=["-preset", "ultrafast", "-tune", "zerolatency"],
        )
        self.frames = 0
        self._compose = compose
        self._last: tuple[tuple[Any, ...], dict[str, Any]] | None = None
        self._worker = Background(self._handle, f"video-{stem}", maxsize=16)

    def _write(self, frame: np.ndarray) -> None:
        if frame.shape[0] % 2 or frame.shape[1] % 2:  # yuv420p needs even sizes
            frame = np.pad(frame, ((0, frame.shape[0] % 2), (0, frame.shape[1] % 2), (0, 0)))
        self._writer.append_data(frame)
        self.frames += 1

    def _handle(self, item: tuple[tuple[Any, ...], dict[str, Any]]) -> None:
        parts, options = item
        self._write(self._compose(*parts, **options))
        self._last = (parts[:-1], options)

    def add(self, *parts: Any, **options: Any) -> None:
        """Queue one frame: ``compose``'s arguments, the caption last (the arrays must not be
        modified afterwards)."""
        self._worker.put((parts, options))

    def finish(self, name: str, final_caption: list[str] | None = None, hold: int = 0) -> Path | None:
        """Write ``hold`` copies of the last frame with ``final_caption``, close, rename to ``name``.
        Returns None (and removes the file) when no frame was written."""
        try:
            self._worker.join()
            if self._last is None:
                self.abort()
                return None
            if final_caption is not None and hold > 0:
                parts, options = self._last
                frame = self._compose(*parts, final_caption, **options)
                for _ in range(hold):
                    self._write(frame)
            self._writer.close()
        except BaseException:
            self.abort()
            raise
        final = self.dir / name
        os.replace(self.tmp, final)
        return final

    def abort(self) -> None:
        self._worker.stop()
        try:
            self._writer.close()
        except Exception:  # noqa: BLE001
            pass
        finally:
            self.tmp.unlink(missing_ok=True)
