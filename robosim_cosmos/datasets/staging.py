"""Staged episodes: what a recording writes while an episode runs, before the dataset is built.

Each worker stages its own episodes, one folder each, schema-independent but for the videos: the
signals (``signals.npz``: states measured before each action and the commands, float64), one video
per camera already encoded at the schema's image size (the costly part, done in parallel) with a
histogram of its pixels, and ``episode.json`` (the episode's facts: env, seed, tier, camera rig and
poses, outcome, the scene's settings). An episode is written into ``<folder>.partial`` and renamed
when complete, so a staged folder is always whole; the dataset writer (:mod:`.writer`) builds the
LeRobot files from staged folders as often as asked, without encoding again.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DatasetError
from ..observations import CAMERAS
from .feature_stats import ImageHistogram
from .signals import EpisodeSignals
from .video import PIX_FMT, VideoCodec, VideoEncoder, check_codec

STAGING_FORMAT = 1
EPISODE_FILE = "episode.json"
SIGNALS_FILE = "signals.npz"
PARTIAL_SUFFIX = ".partial"
_SIGNALS = ("joint_position", "gripper_position", "cartesian_position", "action_joint_position",
            "action_gripper_position")


@dataclass(frozen=True)
class VideoSpec:
    """How a recording's camera streams are encoded: codec, (height, width) and frame rate."""

    codec: VideoCodec
    size: tuple[int, int]
    fps: int

    def to_json(self) -> dict[str, Any]:
        return {"codec": self.codec, "height": self.size[0], "width": self.size[1], "fps": self.fps,
                "pix_fmt": PIX_FMT}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> VideoSpec:
        return cls(check_codec(doc["codec"]), (int(doc["height"]), int(doc["width"])), int(doc["fps"]))

    def describe(self) -> str:
        return f"{self.codec} {self.size[0]}x{self.size[1]} at {self.fps} fps"


@dataclass(frozen=True)
class EpisodeFacts:
    """What a staged episode was: env id, task, instruction (the task string), its tier, the seed,
    the run's episode number, the outcome, the camera rig and the poses it drew (DROID-style
    extrinsics per camera), and ``scene``: the env settings that rebuild the same scene from the
    seed (robot, render quality, image size, instruction override, stats)."""

    env_id: str
    task: str
    instruction: str
    instruction_tier: str
    seed: int
    episode: int
    success: bool
    camera_rig: str
    camera_poses: dict[str, Any] | None = None
    scene: dict[str, Any] = field(default_factory=dict)


class EpisodeStager:
    """Writes one episode into ``folder`` (via ``folder.partial``): frames as they come, then
    :meth:`finish` with its facts, or :meth:`abort`."""

    def __init__(self, folder: Path, spec: VideoSpec, cameras: tuple[str, ...] = CAMERAS) -> None:
        self.folder, self.spec, self.cameras = Path(folder), spec, cameras
        self.partial = self.folder.with_name(self.folder.name + PARTIAL_SUFFIX)
        if self.partial.exists():  # left by a killed worker
            shutil.rmtree(self.partial)
        self.partial.mkdir(parents=True)
        self._signals: dict[str, list[np.ndarray]] = {name: [] for name in _SIGNALS}
        self._encoders: dict[str, VideoEncoder] = {}
        self._histograms = {camera: ImageHistogram() for camera in cameras}

    @property
    def frames(self) -> int:
        return len(self._signals["joint_position"])

    def add(self, state: Mapping[str, Any], images: Mapping[str, np.ndarray], action_joint_position: np.ndarray,
            action_gripper_position: float) -> None:
        """One frame: the DROID ``state`` (joint_position [7], gripper_position, cartesian_position
        [6]) measured before the action, each camera's uint8 image at the spec's size, the commanded
        joint targets [7] (rad) and gripper (0 open .. 1 closed)."""
        values = {
            "joint_position": np.asarray(state["joint_position"], dtype=np.float64).reshape(7),
            "gripper_position": np.asarray(state["gripper_position"], dtype=np.float64).reshape(()),
            "cartesian_position": np.asarray(state["cartesian_position"], dtype=np.float64).reshape(6),
            "action_joint_position": np.asarray(action_joint_position, dtype=np.float64).reshape(7),
            "action_gripper_position": np.asarray(action_gripper_position, dtype=np.float64).reshape(()),
        }
        for camera in self.cameras:
            image = images[camera]
            if camera not in self._encoders:
                self._encoders[camera] = VideoEncoder(self.partial / f"{camera}.mp4", self.spec.codec, self.spec.size,
                                                      self.spec.fps)
            self._encoders[camera].add(image)
            self._histograms[camera].add(image)
        for name, value in values.items():
            self._signals[name].append(value)

    def finish(self, facts: EpisodeFacts) -> Path:
        """Close the videos, write the signals and ``episode.json``, and put the folder in place
        (replacing an earlier staging of the same episode); the folder."""
        if self.frames == 0:
            raise DatasetError(f"episode {facts.episode} of {facts.env_id} recorded no frame")
        written = {camera: encoder.close() for camera, encoder in self._encoders.items()}
        self._encoders.clear()
        for camera, frames in written.items():
            if frames != self.frames:
                raise DatasetError(f"{camera}: {frames} frames encoded for {self.frames} steps")
        arrays: dict[str, Any] = {k: np.stack(v) for k, v in self._signals.items()}
        np.savez(self.partial / SIGNALS_FILE, **arrays)
        doc = {
            "format": STAGING_FORMAT, "length": self.frames, "video": self.spec.to_json(),
            "cameras": {camera: {"file": f"{camera}.mp4", "frames": written[camera],
                                 "histogram": self._histograms[camera].to_json()} for camera in self.cameras},
            **asdict(facts),
        }
        _write_json(self.partial / EPISODE_FILE, doc)
        if self.folder.exists():
            shutil.rmtree(self.folder)
        os.replace(self.partial, self.folder)
        return self.folder

    def abort(self) -> None:
        """Drop what was written (an episode that raised or was interrupted)."""
        for encoder in self._encoders.values():
            encoder.abort()
        self._encoders.clear()
        shutil.rmtree(self.partial, ignore_errors=True)


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w") as fh:
        json.dump(doc, fh, indent=1, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@dataclass(frozen=True)
class StagedEpisode:
    """A complete staged episode folder, read back."""

    path: Path
    facts: EpisodeFacts
    spec: VideoSpec
    length: int
    cameras: dict[str, dict[str, Any]]

    @classmethod
    def read(cls, path: Path) -> StagedEpisode:
        """The staged episode in ``path``; DatasetError naming what is missing or malformed."""
        path = Path(path)
        try:
            doc = json.loads((path / EPISODE_FILE).read_text())
            if doc.get("format") != STAGING_FORMAT:
                raise DatasetError(f"{path}: staging format {doc.get('format')!r}, this robosim_cosmos reads "
                                   f"{STAGING_FORMAT}")
            names = {f for f in EpisodeFacts.__dataclass_fields__}
            facts = EpisodeFacts(**{k: v for k, v in doc.items() if k in names})
            episode = cls(path, facts, VideoSpec.from_json(doc["video"]), int(doc["length"]), dict(doc["cameras"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DatasetError(f"{path} is not a complete staged episode ({type(exc).__name__}: {exc}); run its "
                               "episode again") from None
        for camera in episode.cameras:
            if not episode.video(camera).is_file():
                raise DatasetError(f"{path}: the {camera} video is missing; run its episode again")
        return episode

    def video(self, camera: str) -> Path:
        return self.path / str(self.cameras[camera]["file"])

    def histogram(self, camera: str) -> ImageHistogram:
        return ImageHistogram.from_json(self.cameras[camera]["histogram"])

    def signals(self) -> EpisodeSignals:
        """The episode's states and commands."""
        try:
            with np.load(self.path / SIGNALS_FILE) as data:
                arrays = {name: np.asarray(data[name]) for name in _SIGNALS}
        except (OSError, KeyError, ValueError) as exc:
            raise DatasetError(f"{self.path / SIGNALS_FILE} is unreadable ({exc}); run its episode again") from None
        return EpisodeSignals(**arrays, instruction=self.facts.instruction, success=self.facts.success)
