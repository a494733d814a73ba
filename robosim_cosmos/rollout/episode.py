"""One closed-loop episode and its typed result record (one line of ``results.jsonl``)."""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, cast

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from ..envs import EVENTS, task_of
from ..envs.droid_env import DroidEnv
from ..envs.scene import CONTROL_HZ
from ..errors import PolicyError
from ..observations import CAMERAS, DEFAULT_CAMERA
from ..policy_api import ActionChunk, Policy
from .build import executed_rows
from .chunk_store import ChunkRecorder, chunk_file
from .config import RolloutConfig
from .trajectory import trajectory_metrics
from .video import VideoWriter, plain_frame
from .world_model import View, WorldModelScorer

VIDEO_CAMERA = DEFAULT_CAMERA
_OUTRO_FRAMES = 8  # the last frame, held ~0.5 s with the outcome in the caption


@dataclass
class EpisodeResult:
    """What one episode did.

    policy_latency_s: {mean, max} seconds per policy call; ik_error / tracking_error:
    {position_mm, rotation_deg} each {mean, max}, None when nothing was measured;
    clipped_values: normalized action values the decoder clipped into [−1, 1];
    speed_limited_steps: steps whose joint command was slowed to the Franka's velocity limits;
    video: path relative to the run folder; error: ``Type: message`` when the episode raised.
    instruction_tier: the tier the instruction was drawn from; progress: the env's subtask
    progress in [0, 1] at the last step; events: how often each event (``envs.EVENTS``)
    happened in the episode. world_model: the predicted video scored against the simulator's
    frames (:mod:`.world_model`; None without predictions); trajectory: end-effector path length,
    speeds, SPARC and time to success (:mod:`.trajectory`); pred_video: the predicted frames alone
    (``videos/pred_episode_<n>.mp4``); saved_chunks: ``chunks/episode_<n>.npz`` (``save_chunks``).
    """

    env_id: str
    task: str
    instruction: str | None
    seed: int
    episode: int
    instruction_tier: str = "default"
    success: bool = False
    progress: float = 0.0
    events: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EVENTS, 0))
    steps: int = 0
    sim_seconds: float = 0.0
    wall_seconds: float = 0.0
    policy_latency_s: dict[str, float | None] = field(default_factory=lambda: _stats([]))
    ik_error: dict[str, dict[str, float | None]] | None = None
    tracking_error: dict[str, dict[str, float | None]] | None = None
    clipped_values: int = 0
    speed_limited_steps: int = 0
    chunks: int = 0
    video: str | None = None
    error: str | None = None
    world_model: dict[str, Any] | None = None
    trajectory: dict[str, Any] | None = None
    pred_video: str | None = None
    saved_chunks: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def start(cls, cfg: RolloutConfig, episode: int, error: str | None = None) -> EpisodeResult:
        """The record of episode ``episode`` of ``cfg`` before it runs (or, with ``error``, of an
        episode that could not run: its worker could not build the env or the policy, or died)."""
        return cls(cfg.env_id, task_of(cfg.env_id), cfg.instruction, cfg.seed + episode, episode,
                   instruction_tier=cfg.instruction_tier, error=error)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> EpisodeResult:
        """A record from a results.jsonl line (keys it does not know are ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in doc.items() if k in names})


def _stats(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"mean": None, "max": None}
    arr = np.asarray(values, dtype=np.float64)
    return {"mean": float(arr.mean()), "max": float(arr.max())}


def _error_stats(position: list[float], rotation: list[float]) -> dict[str, dict[str, float | None]] | None:
    return {"position_mm": _stats(position), "rotation_deg": _stats(rotation)} if position else None


def _record_outcome(result: EpisodeResult, info: dict[str, Any]) -> None:
    """Success, progress and event counts as the env reports them now (an episode that raises
    later keeps what it had reached)."""
    result.success = bool(info["is_success"])
    result.progress = float(info["progress"])
    result.events = {name: int(info["event_counts"].get(name, 0)) for name in EVENTS}


def _prediction_frame(video: np.ndarray | None, step: int) -> np.ndarray | None:
    if video is None or len(video) == 0:
        return None
    return video[min(step, len(video) - 1)]


def _check_chunk(chunk: object, policy: Policy) -> ActionChunk:
    if not isinstance(chunk, ActionChunk):
        raise PolicyError(f"get_actions must return an ActionChunk, got {type(chunk).__name__}")
    checked = chunk.validated()
    if checked.layout != policy.layout:
        raise PolicyError(f"policy declared layout {policy.layout!r} but returned a {checked.layout!r} chunk")
    if len(checked) == 0:
        raise PolicyError("policy returned an empty action chunk")
    return checked


class _Frames:
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


class _Media:
    """The episode's writers and scorer, started when first needed, stopped together."""

    def __init__(self, cfg: RolloutConfig, out: Path, task: str, episode: int, view: View) -> None:
        self.cfg, self.out, self.task, self.episode, self.view = cfg, out, task, episode, view
        self.video: VideoWriter | None = VideoWriter(out / "videos", f"{task}_ep{episode}") if cfg.video else None
        self.pred: VideoWriter | None = None
        self.scorer: WorldModelScorer | None = None

    def prediction(self, frame: np.ndarray) -> None:
        if not self.cfg.video:
            return
        if self.pred is None:
            self.pred = VideoWriter(self.out / "videos", f"pred_episode_{self.episode}", compose=plain_frame)
        self.pred.add(frame, [])

    def score(self, chunk: int, step: int, now: _Frames, predicted: np.ndarray) -> None:
        if self.scorer is None:
            self.scorer = WorldModelScorer(self.view)
        cameras = self.view.cameras
        mask = self.view.compose_mask(now.masks(cameras)) if self.cfg.world_model_scoring == "full" else None
        self.scorer.add(chunk, step, self.view.compose(now.images(cameras)), predicted, mask)

    def abort(self) -> None:
        for writer in (self.video, self.pred):
            if writer is not None:
                writer.abort()
        if self.scorer is not None:
            self.scorer.abort()


def run_episode(env: gym.Env, policy: Policy, cfg: RolloutConfig, episode: int, out: Path) -> EpisodeResult:
    """Run one episode; never raises for policy/env failures (they become ``error``)."""
    base = env.unwrapped
    assert isinstance(base, DroidEnv)
    task = task_of(cfg.env_id)
    result = EpisodeResult.start(cfg, episode)
    convert = cfg.execution == "joint_position" and policy.layout == "cosmos_ee_delta"
    latencies: list[float] = []
    ik_p: list[float] = []
    ik_r: list[float] = []
    tr_p: list[float] = []
    tr_r: list[float] = []
    positions: list[np.ndarray] = []
    time_to_success: float | None = None
    media: _Media | None = None
    recorder: ChunkRecorder | None = None
    t_start = time.perf_counter()
    caption_head = ""
    try:
        media = _Media(cfg, out, task, episode, View.of(policy))
        obs, info = env.reset(seed=result.seed)
        instruction = info["instruction"]
        result.instruction = instruction
        _record_outcome(result, info)
        positions.append(base.ee_pose()[:3, 3].copy())
        policy.reset()
        if cfg.save_chunks:
            recorder = ChunkRecorder(cfg.env_id, instruction, policy.layout, policy.embodiment)
        done = False
        while not done:
            base.reanchor()
            now = _Frames(base, obs)
            t0 = time.perf_counter()
            chunk = _check_chunk(policy.get_actions(obs, instruction), policy)
            latencies.append(time.perf_counter() - t0)
            executed = chunk.actions[: executed_rows(cfg, policy, len(chunk))]
            rows = executed
            slowed_by_decoder = np.zeros(len(rows), dtype=bool)
            if recorder is not None:
                recorder.start(obs["joint_position"], float(np.asarray(obs["gripper_position"]).ravel()[0]),
                               base.ee_pose(), now.images(), now.masks())
            if convert:
                decoded = base.decoder.decode(rows, np.asarray(obs["joint_position"], dtype=np.float64))
                slowed_by_decoder = decoded.ik.speed_limited
                rows = np.concatenate([decoded.joint_positions, decoded.gripper[:, None]], axis=1)
                space = cast(spaces.Box, env.action_space)  # the joint-position env's Box
                rows = np.clip(rows, space.low, space.high).astype(np.float32)
                ik_p.extend(decoded.ik.position_error_mm.tolist())
                ik_r.extend(decoded.ik.rotation_error_deg.tolist())
                result.clipped_values += decoded.clipped
            video = chunk.predicted_video
            label = str(chunk.info.get("prediction_label", "policy prediction"))
            for j, row in enumerate(rows):
                obs, _, terminated, truncated, info = env.step(row)
                result.steps += 1
                now = _Frames(base, obs)
                ee = base.ee_pose()
                positions.append(ee[:3, 3].copy())
                result.speed_limited_steps += int(bool(info["speed_limited"]) or bool(slowed_by_decoder[j]))
                if not convert and base.action_mode == "cosmos":
                    ik_p.append(info["ik_position_error_mm"])
                    ik_r.append(info["ik_rotation_error_deg"])
                if not convert:  # cosmos rows and joint velocities clip in the env (joint positions report 0)
                    result.clipped_values += int(info["clipped_values"])
                tr_p.append(info["tracking_position_error_mm"])
                tr_r.append(info["tracking_rotation_error_deg"])
                _record_outcome(result, info)
                if result.success and time_to_success is None:
                    time_to_success = float(info["sim_time"])
                done = bool(terminated or truncated)
                predicted = _prediction_frame(video, j + 1)
                if video is not None and j + 1 < len(video):
                    if cfg.world_model_scoring != "off":
                        media.score(result.chunks, j + 1, now, video[j + 1])
                    media.prediction(video[j + 1])
                if recorder is not None:
                    recorder.step(executed[j], ee, now.images(), now.masks())
                if media.video is not None:
                    caption_head = instruction
                    media.video.add(
                        now.image(VIDEO_CAMERA), predicted,
                        [caption_head, f"chunk {result.chunks}  step {j + 1}/{len(rows)}  t={info['sim_time']:.2f}s"],
                        prediction_label=label,
                    )
                if done:
                    break
            result.chunks += 1
        result.sim_seconds = float(info["sim_time"])
    except Exception as exc:  # noqa: BLE001 - recorded, the run goes on
        result.success = False
        result.error = f"{type(exc).__name__}: {exc}"
        if os.environ.get("ROBOSIM_COSMOS_DEBUG"):
            traceback.print_exc()
        result.sim_seconds = float(base.data.time)
    except BaseException:  # interrupted (a signal): no half-written video is left behind
        if media is not None:
            media.abort()
        raise
    result.wall_seconds = time.perf_counter() - t_start
    result.policy_latency_s = _stats(latencies)
    result.ik_error = _error_stats(ik_p, ik_r)
    result.tracking_error = _error_stats(tr_p, tr_r)
    if positions:
        result.trajectory = trajectory_metrics(np.array(positions), CONTROL_HZ, time_to_success)
    if media is not None:
        _finish_media(media, result, task, caption_head)
    if recorder is not None:
        _save_chunks(recorder, result, out)
    return result


def _finish_media(media: _Media, result: EpisodeResult, task: str, caption_head: str) -> None:
    """Stop the scorer and the writers; a failure in one keeps the others' outputs and the
    episode's numbers, and is noted in ``error`` unless the episode already failed."""
    if media.scorer is not None:
        try:
            result.world_model = media.scorer.finish()
        except Exception as exc:  # noqa: BLE001 - the episode's outcome stands without its score
            if result.error is None:
                result.error = f"world_model: {type(exc).__name__}: {exc}"
    if media.video is not None:
        _finish_video(media.video, result, task, caption_head)
    if media.pred is not None:
        name = f"pred_episode_{result.episode}.mp4"
        try:
            final = media.pred.finish(name)
            result.pred_video = None if final is None else str(Path("videos") / name)
        except Exception as exc:  # noqa: BLE001
            if result.error is None:
                result.error = f"prediction video: {type(exc).__name__}: {exc}"


def _save_chunks(recorder: ChunkRecorder, result: EpisodeResult, out: Path) -> None:
    try:
        path = recorder.save(chunk_file(out, result.episode))
        result.saved_chunks = None if path is None else str(path.relative_to(out))
    except Exception as exc:  # noqa: BLE001
        if result.error is None:
            result.error = f"save_chunks: {type(exc).__name__}: {exc}"


def _finish_video(writer: VideoWriter, result: EpisodeResult, task: str, caption_head: str) -> None:
    outcome = "SUCCESS" if result.success else ("ERROR" if result.error else "FAILURE")
    name = f"{task}_ep{result.episode}_{'success' if result.success else 'failure'}.mp4"
    try:
        final = writer.finish(name, [caption_head, f"outcome: {outcome}  steps {result.steps}"], _OUTRO_FRAMES)
        result.video = None if final is None else str(Path("videos") / name)
    except Exception as exc:  # noqa: BLE001 - the episode's numbers stand without its video
        result.video = None
        if result.error is None:
            result.error = f"video: {type(exc).__name__}: {exc}"
