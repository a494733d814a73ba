"""What watches an episode besides the loop, as observers with ``on_reset / on_chunk / on_step /
finish`` (and ``abort`` when a signal stops the episode): the metrics, the videos, the world-model
scorer and the chunk recorder. Each one's ``finish`` fills its fields of the result; a failure in
one keeps the others' outputs and the episode's numbers, and is noted in ``error`` unless the
episode already failed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..envs.droid_env import DroidEnv
from ..envs.scene import CONTROL_HZ
from ..metrics.images import FrameScore, score_frame
from ..metrics.trajectory import trajectory_metrics
from ..metrics.world_model import View, fit, summarize
from ..observations import CAMERAS, DEFAULT_CAMERA
from ..records.chunks import ChunkRecorder
from ..records.files import VIDEOS_DIR, chunk_file, episode_video, predicted_video
from ..records.results import EpisodeResult, value_stats
from .background import Background
from .video import VideoWriter, plain_frame

VIDEO_CAMERA = DEFAULT_CAMERA
_OUTRO_FRAMES = 8  # the last frame, held ~0.5 s with the outcome in the caption


class Frames:
    """The camera images and robot masks of one state, each rendered at most once (the
    observation's images when it carries them)."""

    def __init__(self, base: DroidEnv, obs: Mapping[str, Any]) -> None:
        self.base, self.obs = base, obs
        self._images: dict[str, np.ndarray] = {}
        self._masks: dict[str, np.ndarray] = {}

    def image(self, camera: str) -> np.ndarray:
        if camera not in self._images:
            image = self.obs.get(camera)
            self._images[camera] = image if image is not None else self.base.render_camera(camera)
        return self._images[camera]

    def mask(self, camera: str) -> np.ndarray:
        if camera not in self._masks:
            self._masks[camera] = self.base.robot_mask(camera)
        return self._masks[camera]

    def images(self, cameras: tuple[str, ...] = CAMERAS) -> dict[str, np.ndarray]:
        return {camera: self.image(camera) for camera in cameras}

    def masks(self, cameras: tuple[str, ...] = CAMERAS) -> dict[str, np.ndarray]:
        return {camera: self.mask(camera) for camera in cameras}


@dataclass
class ChunkStart:
    """A chunk about to run: its index, the state it starts from (``obs``, ``frames``, ``ee``
    [4, 4]), the normalized rows it will execute, the policy call's latency in seconds, the IK
    errors of decoding it to joint targets (``--execution joint_position``; else None), its
    predicted video (uint8 [K, H, W, 3] or None) and that video's panel label."""

    index: int
    obs: Mapping[str, Any]
    frames: Frames
    ee: np.ndarray
    rows: np.ndarray
    latency: float
    decoded_ik: tuple[list[float], list[float]] | None
    video: np.ndarray | None
    label: str


@dataclass
class Step:
    """The state after row ``j`` (0-based) of ``chunk``'s ``n_rows``: the env's ``info``, the
    rendered ``frames``, the ``cosmos_ee`` pose ``ee`` [4, 4] and whether the env reported IK
    errors for this step (cosmos rows executed by the env)."""

    chunk: ChunkStart
    j: int
    n_rows: int
    info: Mapping[str, Any]
    frames: Frames
    ee: np.ndarray
    env_ik: bool


def note_error(result: EpisodeResult, what: str, exc: Exception) -> None:
    """Record an observer's failure unless the episode already failed."""
    if result.error is None:
        result.error = f"{what}: {type(exc).__name__}: {exc}"


class Observer:
    """Does nothing; observers override what they watch."""

    def on_reset(self, instruction: str, obs: Mapping[str, Any], ee: np.ndarray) -> None:
        pass

    def on_chunk(self, chunk: ChunkStart) -> None:
        pass

    def on_step(self, step: Step) -> None:
        pass

    def finish(self, result: EpisodeResult) -> None:
        pass

    def abort(self) -> None:
        pass


class Metrics(Observer):
    """Policy latency, IK and tracking errors, and the end-effector trajectory."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.ik: tuple[list[float], list[float]] = ([], [])
        self.tracking: tuple[list[float], list[float]] = ([], [])
        self.positions: list[np.ndarray] = []
        self.time_to_success: float | None = None

    def on_reset(self, instruction: str, obs: Mapping[str, Any], ee: np.ndarray) -> None:
        self.positions.append(ee[:3, 3].copy())

    def on_chunk(self, chunk: ChunkStart) -> None:
        self.latencies.append(chunk.latency)
        if chunk.decoded_ik is not None:
            self.ik[0].extend(chunk.decoded_ik[0])
            self.ik[1].extend(chunk.decoded_ik[1])

    def on_step(self, step: Step) -> None:
        info = step.info
        self.positions.append(step.ee[:3, 3].copy())
        if step.env_ik:
            self.ik[0].append(info["ik_position_error_mm"])
            self.ik[1].append(info["ik_rotation_error_deg"])
        self.tracking[0].append(info["tracking_position_error_mm"])
        self.tracking[1].append(info["tracking_rotation_error_deg"])
        if info["is_success"] and self.time_to_success is None:
            self.time_to_success = float(info["sim_time"])

    def finish(self, result: EpisodeResult) -> None:
        result.policy_latency_s = value_stats(self.latencies)
        result.ik_error = _error_stats(*self.ik)
        result.tracking_error = _error_stats(*self.tracking)
        if self.positions:
            result.trajectory = trajectory_metrics(np.array(self.positions), CONTROL_HZ, self.time_to_success)


def _error_stats(position: list[float], rotation: list[float]) -> dict[str, dict[str, float | None]] | None:
    return {"position_mm": value_stats(position), "rotation_deg": value_stats(rotation)} if position else None


def _prediction_frame(video: np.ndarray | None, step: int) -> np.ndarray | None:
    if video is None or len(video) == 0:
        return None
    return video[min(step, len(video) - 1)]


class EpisodeVideo(Observer):
    """``videos/<task>_ep<n>_<outcome>.mp4``: the simulator beside the policy's prediction."""

    def __init__(self, out: Path, task: str, episode: int) -> None:
        self.task = task
        self.writer = VideoWriter(out / VIDEOS_DIR, f"{task}_ep{episode}")
        self.instruction = self.caption_head = ""

    def on_reset(self, instruction: str, obs: Mapping[str, Any], ee: np.ndarray) -> None:
        self.instruction = instruction

    def on_step(self, step: Step) -> None:
        self.caption_head = instruction = self.instruction
        caption = f"chunk {step.chunk.index}  step {step.j + 1}/{step.n_rows}  t={step.info['sim_time']:.2f}s"
        self.writer.add(step.frames.image(VIDEO_CAMERA), _prediction_frame(step.chunk.video, step.j + 1),
                        [instruction, caption], prediction_label=step.chunk.label)

    def finish(self, result: EpisodeResult) -> None:
        outcome = "SUCCESS" if result.success else ("ERROR" if result.error else "FAILURE")
        rel = episode_video(self.task, result.episode, result.success, error=result.error is not None)
        try:
            final = self.writer.finish(Path(rel).name, [self.caption_head, f"outcome: {outcome}  steps {result.steps}"],
                                       _OUTRO_FRAMES)
            result.video = None if final is None else rel
        except Exception as exc:  # noqa: BLE001 - the episode's numbers stand without its video
            result.video = None
            note_error(result, "video", exc)

    def abort(self) -> None:
        self.writer.abort()


class PredictionVideo(Observer):
    """``videos/pred_episode_<n>.mp4``: the predicted frames alone, started at the first one."""

    def __init__(self, out: Path, episode: int) -> None:
        self.out, self.episode = out, episode
        self.writer: VideoWriter | None = None

    def on_step(self, step: Step) -> None:
        video = step.chunk.video
        if video is None or step.j + 1 >= len(video):
            return
        if self.writer is None:
            self.writer = VideoWriter(self.out / VIDEOS_DIR, f"pred_episode_{self.episode}", compose=plain_frame)
        self.writer.add(video[step.j + 1], [])

    def finish(self, result: EpisodeResult) -> None:
        if self.writer is None:
            return
        rel = predicted_video(result.episode)
        try:
            final = self.writer.finish(Path(rel).name)
            result.pred_video = None if final is None else rel
        except Exception as exc:  # noqa: BLE001
            note_error(result, "prediction video", exc)

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.abort()


class WorldModelScorer:
    """Scores frames on a background thread; :meth:`finish` returns the episode's record.

    ``add`` takes the reference (what the simulator rendered), the predicted frame and the robot
    mask (or None); arrays must not be modified afterwards.
    """

    def __init__(self, view: View, score: Callable[..., FrameScore] = score_frame) -> None:
        self.view = view
        self._score = score
        self._scored: list[tuple[int, int, FrameScore]] = []
        self._worker = Background(self._handle, "world-model-score", maxsize=64)

    def _handle(self, item: tuple[int, int, np.ndarray, np.ndarray, np.ndarray | None]) -> None:
        chunk, step, reference, predicted, mask = item
        self._scored.append((chunk, step, self._score(reference, fit(predicted, reference.shape), mask)))

    def add(self, chunk: int, step: int, reference: np.ndarray, predicted: np.ndarray,
            mask: np.ndarray | None) -> None:
        self._worker.put((chunk, step, reference, predicted, mask))

    def finish(self) -> dict[str, Any] | None:
        """Wait for the queued frames; the record (None when nothing was scored)."""
        self._worker.join()
        return summarize(self._scored, self.view.label)

    def abort(self) -> None:
        self._worker.stop()


class WorldModelScoring(Observer):
    """Each predicted frame against the simulator's view after the same row (``full``: with the
    robot's pixels; ``frames``: whole frames only); the scorer starts at the first prediction."""

    def __init__(self, view: View, robot_pixels: bool) -> None:
        self.view, self.robot_pixels = view, robot_pixels
        self.scorer: WorldModelScorer | None = None

    def on_step(self, step: Step) -> None:
        video = step.chunk.video
        if video is None or step.j + 1 >= len(video):
            return
        if self.scorer is None:
            self.scorer = WorldModelScorer(self.view)
        cameras = self.view.cameras
        mask = self.view.compose_mask(step.frames.masks(cameras)) if self.robot_pixels else None
        self.scorer.add(step.chunk.index, step.j + 1, self.view.compose(step.frames.images(cameras)),
                        video[step.j + 1], mask)

    def finish(self, result: EpisodeResult) -> None:
        if self.scorer is None:
            return
        try:
            result.world_model = self.scorer.finish()
        except Exception as exc:  # noqa: BLE001 - the episode's outcome stands without its score
            note_error(result, "world_model", exc)

    def abort(self) -> None:
        if self.scorer is not None:
            self.scorer.abort()


class SavedChunks(Observer):
    """``chunks/episode_<n>.npz`` (``save_chunks``): each chunk's start state, rows and frames."""

    def __init__(self, out: Path, env_id: str, layout: str, embodiment: str) -> None:
        self.out, self.env_id, self.layout, self.embodiment = out, env_id, layout, embodiment
        self.recorder: ChunkRecorder | None = None

    def on_reset(self, instruction: str, obs: Mapping[str, Any], ee: np.ndarray) -> None:
        self.recorder = ChunkRecorder(self.env_id, instruction, self.layout, self.embodiment)

    def on_chunk(self, chunk: ChunkStart) -> None:
        assert self.recorder is not None
        gripper = float(np.asarray(chunk.obs["gripper_position"]).ravel()[0])
        self.recorder.start(chunk.obs["joint_position"], gripper, chunk.ee, chunk.frames.images(),
                            chunk.frames.masks())

    def on_step(self, step: Step) -> None:
        assert self.recorder is not None
        self.recorder.step(step.chunk.rows[step.j], step.ee, step.frames.images(), step.frames.masks())

    def finish(self, result: EpisodeResult) -> None:
        if self.recorder is None:
            return
        try:
            path = self.recorder.save(chunk_file(self.out, result.episode))
            result.saved_chunks = None if path is None else str(path.relative_to(self.out))
        except Exception as exc:  # noqa: BLE001
            note_error(result, "save_chunks", exc)
