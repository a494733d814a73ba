"""Stills from episode videos for a report: which episodes, the frame, and the embedded image."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._optional import require
from ..envs import TIERS
from ..image_resize import resize_bilinear
from .runs import Episode

STILL_AT = 0.4
"""Where in an episode its still is taken, as a fraction of the video's frames: past the start
(every episode looks alike there) and before the end (the outcome is often already settled)."""
STILL_WIDTH = 480
"""Stills wider than this are scaled down to it (a side-by-side video is 640 px wide)."""


@dataclass(frozen=True)
class Still:
    episode: Episode
    data_uri: str
    width: int
    height: int


def _tier_rank(tier: str) -> int:
    return TIERS.index(tier) if tier in TIERS else len(TIERS)  # vague, default, specific, then others


def pick_episodes(episodes: Sequence[Episode], limit: int) -> tuple[list[Episode], int]:
    """At most ``limit`` episodes with a video: one of each task first, then one of each task's
    other tiers, then second episodes of each cell, and so on; returned in task (as first seen),
    tier and episode order, with how many episodes with a video were left out."""
    with_video = [ep for ep in episodes if ep.line.get("video")]
    tasks = {env_id: i for i, env_id in enumerate(dict.fromkeys(ep.env_id for ep in with_video))}

    def shown(ep: Episode) -> tuple[int, int, str, int]:
        return tasks[ep.env_id], _tier_rank(ep.tier), ep.tier, int(ep.line.get("episode") or 0)

    cells: dict[tuple[str, str], list[Episode]] = {}
    for ep in sorted(with_video, key=shown):
        cells.setdefault((ep.env_id, ep.tier), []).append(ep)
    tiers_of: dict[str, list[str]] = {}
    for env_id, tier in cells:
        tiers_of.setdefault(env_id, []).append(tier)
    # priority: the episode's place in its cell, its cell's place among its task's tiers, the task
    priority = sorted((((depth, tiers_of[env_id].index(tier), tasks[env_id]), ep)
                       for (env_id, tier), queue in cells.items() for depth, ep in enumerate(queue)),
                      key=lambda item: item[0])
    picked = sorted((ep for _, ep in priority[:max(0, limit)]), key=shown)
    return picked, len(with_video) - len(picked)


def video_frame(path: Path, at: float = STILL_AT) -> np.ndarray | None:
    """The frame ``at`` of the way into an mp4 (H x W x 3 uint8); None when it cannot be read."""
    import imageio.v2 as imageio

    try:
        reader = imageio.get_reader(path, format="FFMPEG")
    except (OSError, ValueError, RuntimeError):
        return None
    try:
        count = reader.count_frames()  # type: ignore[attr-defined]  # on the ffmpeg reader only
        if count <= 0:
            return None
        frame = np.asarray(reader.get_data(min(count - 1, int(at * count))))
    except (OSError, ValueError, RuntimeError, IndexError):
        return None
    finally:
        reader.close()
    return frame[..., :3] if frame.ndim == 3 else None


def encode_jpeg(image: np.ndarray, width: int = STILL_WIDTH) -> tuple[str, int, int]:
    """A data: URI of ``image`` as JPEG, scaled down to ``width`` when wider; and its size."""
    image_mod = require("matplotlib.image")
    if image.shape[1] > width:
        image = resize_bilinear(image, max(1, round(image.shape[0] * width / image.shape[1])), width)
    buf = io.BytesIO()
    image_mod.imsave(buf, image, format="jpeg", pil_kwargs={"quality": 85})
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii"), image.shape[1], image.shape[0]


def stills(episodes: Sequence[Episode], limit: int) -> tuple[list[Still], int, int]:
    """Stills of up to ``limit`` episodes; also how many episodes with a video were left out by
    the limit and how many videos could not be read (missing or broken files)."""
    picked, left_out = pick_episodes(episodes, limit)
    out: list[Still] = []
    unreadable = 0
    for ep in picked:
        frame = video_frame(ep.folder / str(ep.line["video"]))
        if frame is None:
            unreadable += 1
            continue
        uri, width, height = encode_jpeg(frame)
        out.append(Still(ep, uri, width, height))
    return out, left_out, unreadable
