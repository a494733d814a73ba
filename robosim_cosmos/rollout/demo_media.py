"""README media from a rollout video: the mp4 itself, an animated GIF and a still frame."""

from __future__ import annotations

import shutil
from pathlib import Path

import imageio.v2 as imageio
import numpy as np

from ..image_resize import half_size
from .video import FPS

GIF_EVERY = 3
"""Keep every 3rd frame in the GIF (5 fps for the rollouts' 15 fps videos), at half size: README-sized."""
STILL_AT = 0.4
"""The still is the frame 40 % into the video: mid-task, both panels busy."""


def export_media(video: Path, media_dir: Path, stem: str = "demo") -> list[Path]:
    """Write ``<stem>.mp4``, ``<stem>.gif`` and ``<stem>_still.png`` into ``media_dir``."""
    media_dir.mkdir(parents=True, exist_ok=True)
    frames = [np.asarray(frame) for frame in imageio.mimread(video, memtest=False)]
    mp4, gif, still = media_dir / f"{stem}.mp4", media_dir / f"{stem}.gif", media_dir / f"{stem}_still.png"
    shutil.copyfile(video, mp4)
    imageio.mimsave(gif, [half_size(f) for f in frames[::GIF_EVERY]], duration=1000.0 * GIF_EVERY / FPS, loop=0)
    imageio.imwrite(still, frames[int(STILL_AT * (len(frames) - 1))])
    return [mp4, gif, still]
