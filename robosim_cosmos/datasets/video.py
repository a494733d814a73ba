"""Video streams with PyAV: encode an episode's frames, concatenate episodes into one file
without re-encoding, decode frames back with their timestamps.

AV1 (``libsvtav1``, yuv420p) is LeRobot's default and ours; H.264 (``libx264``) is the option
for players without an AV1 decoder. Both use LeRobot's encoder settings where it has them
(a keyframe every 2 frames, so any frame decodes after at most one other; CRF 30 / preset 12
for AV1) and no B-frames for H.264, so a packet's decode and presentation times agree and
concatenation only shifts them. PyAV's wheels carry both encoders.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

from .._optional import require
from ..errors import ConfigError, DatasetError

VideoCodec = Literal["av1", "h264"]
VIDEO_CODECS: tuple[VideoCodec, ...] = get_args(VideoCodec)
DEFAULT_CODEC: VideoCodec = "av1"
PIX_FMT = "yuv420p"
KEYFRAME_INTERVAL = 2
"""LeRobot's ``g``: a keyframe every 2 frames keeps random access to a frame cheap."""

_ENCODERS: dict[VideoCodec, tuple[str, dict[str, str]]] = {
    "av1": ("libsvtav1", {"crf": "30", "preset": "12", "g": str(KEYFRAME_INTERVAL)}),
    "h264": ("libx264", {"crf": "23", "preset": "veryfast", "g": str(KEYFRAME_INTERVAL), "bf": "0"}),
}
_CANONICAL = {"av1": "av1", "h264": "h264"}
"""What ``info.json`` records as ``video.codec`` (the codec's canonical name, as LeRobot writes it)."""
TIMESTAMP_TOLERANCE_S = 1e-4
"""How far a decoded frame's time may lie from the timestamp asked for (LeRobot's ``tolerance_s``)."""


def check_codec(codec: object) -> VideoCodec:
    """``codec`` as a :data:`VideoCodec`; ConfigError listing the valid ones otherwise."""
    if codec not in VIDEO_CODECS:
        raise ConfigError(f"unknown video codec {codec!r}; valid: {list(VIDEO_CODECS)}")
    return codec


def canonical_name(codec: VideoCodec) -> str:
    return _CANONICAL[codec]


def _av() -> Any:
    os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints its banner on every encoder otherwise
    return require("av")


class VideoEncoder:
    """Streams uint8 [H, W, 3] frames of one camera into ``path`` at ``fps``."""

    def __init__(self, path: Path, codec: VideoCodec, size: tuple[int, int], fps: int) -> None:
        av = _av()
        name, options = _ENCODERS[check_codec(codec)]
        self.path, self.size, self.frames = Path(path), (int(size[0]), int(size[1])), 0
        self._container = av.open(str(self.path), "w")
        try:
            stream = self._container.add_stream(name, rate=fps, options=dict(options))
            stream.height, stream.width = self.size
            stream.pix_fmt = PIX_FMT
        except BaseException:
            self._container.close()
            raise
        self._stream = stream
        self._frame_type = av.VideoFrame

    def add(self, image: np.ndarray) -> None:
        """Encode one frame; DatasetError when its shape is not [H, W, 3] uint8 of the stream's size."""
        if image.dtype != np.uint8 or image.shape != (*self.size, 3):
            raise DatasetError(f"{self.path.name}: frames must be uint8 {(*self.size, 3)}, got {image.dtype} "
                               f"{image.shape}")
        frame = self._frame_type.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> int:
        """Flush the encoder and close the file; the number of frames written."""
        try:
            for packet in self._stream.encode():
                self._container.mux(packet)
        finally:
            self._container.close()
        return self.frames

    def abort(self) -> None:
        """Close without flushing and delete the file (an episode that did not finish)."""
        with contextlib.suppress(Exception):  # the file is deleted either way
            self._container.close()
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class VideoInfo:
    """What a video file holds: codec (canonical name), pixel format, size, frame rate, frames."""

    codec: str
    pix_fmt: str
    height: int
    width: int
    fps: float
    frames: int

    def info_json(self) -> dict[str, Any]:
        """``features[key]["info"]`` as LeRobot writes it into info.json."""
        return {"video.height": self.height, "video.width": self.width, "video.codec": self.codec,
                "video.pix_fmt": self.pix_fmt, "video.is_depth_map": False, "video.fps": round(self.fps),
                "video.channels": 3, "has_audio": False}


def probe(path: Path) -> VideoInfo:
    """The first video stream's facts (frames counted by demuxing when the header has none)."""
    av = _av()
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise DatasetError(f"{path} holds no video stream")
        stream = container.streams.video[0]
        frames = int(stream.frames or 0) or sum(1 for p in container.demux(stream) if p.dts is not None)
        rate = stream.average_rate or stream.base_rate or 0
        return VideoInfo(stream.codec_context.codec.canonical_name if stream.codec_context.codec else "unknown",
                         str(stream.pix_fmt or stream.codec_context.pix_fmt), int(stream.height),
                         int(stream.width), float(rate), frames)


def _stream_like(output: Any, template: Any) -> Any:
    """An output stream copying ``template``'s codec parameters, for packets copied as they are."""
    add = getattr(output, "add_stream_from_template", None)
    if add is None:  # PyAV < 13 names it add_stream(template=...)
        return output.add_stream(template=template)
    try:
        return add(template, opaque=True)  # keeps the stream a copy (no encoder is looked up by name)
    except TypeError:  # a PyAV without the opaque keyword
        return add(template)


def concatenate(parts: list[tuple[Path, int]], out: Path, fps: int) -> list[tuple[float, float]]:
    """Copy the packets of each ``(path, frames)`` video into ``out`` one after another, shifted so
    that part k starts where part k − 1 ended (no re-encoding). The parts must come from the same
    encoder settings. Returns each part's (from_timestamp, to_timestamp) in seconds: frame i of
    part k plays at ``from + i / fps``."""
    av = _av()
    spans: list[tuple[float, float]] = []
    start_frames = 0
    with av.open(str(out), "w") as output:
        stream: Any = None
        for path, frames in parts:
            with av.open(str(path)) as source:
                src = source.streams.video[0]
                if stream is None:
                    stream = _stream_like(output, src)
                ticks = Fraction(1, fps) / src.time_base  # one frame in the source's time base
                if ticks.denominator != 1:
                    raise DatasetError(f"{path}: time base {src.time_base} cannot hold frames at {fps} fps exactly")
                offset = start_frames * int(ticks)
                written = 0
                for packet in source.demux(src):
                    if packet.dts is None:  # the demuxer's end-of-stream marker
                        continue
                    packet.pts += offset
                    packet.dts += offset
                    packet.stream = stream
                    output.mux(packet)
                    written += 1
                if written != frames:
                    raise DatasetError(f"{path} holds {written} frames, its episode {frames}; the staged episode is "
                                       "damaged: run its episode again (--overwrite, or delete its folder)")
            spans.append((start_frames / fps, (start_frames + frames) / fps))
            start_frames += frames
    return spans


def decode(path: Path, start_s: float = 0.0, end_s: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Frames of ``path`` whose time lies in [start_s, end_s): uint8 [N, H, W, 3] and their times in
    seconds float64 [N] (presentation time × time base). Seeks to the keyframe before ``start_s``."""
    av = _av()
    images: list[np.ndarray] = []
    times: list[float] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if start_s > 0:
            container.seek(int(start_s / stream.time_base), stream=stream, backward=True, any_frame=False)
        for frame in container.decode(stream):
            t = float(frame.pts * stream.time_base)
            if t < start_s - TIMESTAMP_TOLERANCE_S:
                continue
            if end_s is not None and t >= end_s - TIMESTAMP_TOLERANCE_S:
                break
            images.append(frame.to_ndarray(format="rgb24"))
            times.append(t)
    if not images:
        return np.zeros((0, 0, 0, 3), np.uint8), np.zeros(0)
    return np.stack(images), np.asarray(times)
