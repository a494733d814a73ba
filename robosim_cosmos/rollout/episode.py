"""One closed-loop episode: reset, then ask the policy and execute its chunk until the episode
ends, telling the observers (:mod:`.observers`) what happened."""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from ..envs import EVENTS, task_of
from ..envs.droid_env import DroidEnv
from ..errors import PolicyError
from ..metrics.world_model import View
from ..policy_api import ACTION_SPACE_MISMATCH, ActionChunk, Policy
from ..records.results import EpisodeResult
from .config import RolloutConfig
from .observers import (
    ChunkStart,
    EpisodeVideo,
    Frames,
    Metrics,
    Observer,
    PredictionVideo,
    SavedChunks,
    Step,
    WorldModelScoring,
)
from .recording import DatasetRecording
from .setup import executed_rows


def _record_outcome(result: EpisodeResult, info: Mapping[str, Any]) -> None:
    """Success, progress and event counts as the env reports them now (an episode that raises
    later keeps what it had reached)."""
    result.success = bool(info["is_success"])
    result.progress = float(info["progress"])
    result.events = {name: int(info["event_counts"].get(name, 0)) for name in EVENTS}


def _check_chunk(chunk: object, policy: Policy) -> ActionChunk:
    if not isinstance(chunk, ActionChunk):
        raise PolicyError(f"get_actions must return an ActionChunk, got {type(chunk).__name__}")
    checked = chunk.validated()
    if checked.layout != policy.layout:
        raise PolicyError(f"policy declared layout {policy.layout!r} but returned a {checked.layout!r} chunk")
    if len(checked) == 0:
        raise PolicyError("policy returned an empty action chunk")
    return checked


def observers(cfg: RolloutConfig, policy: Policy, out: Path, episode: int) -> list[Observer]:
    """What watches an episode of ``cfg``, in the order their results are finished."""
    task = task_of(cfg.env_id)
    chosen: list[Observer] = []
    if cfg.world_model_scoring != "off":
        chosen.append(WorldModelScoring(View.of(policy), robot_pixels=cfg.world_model_scoring == "full"))
    if cfg.video:
        chosen += [EpisodeVideo(out, task, episode), PredictionVideo(out, episode)]
    if cfg.save_chunks:
        chosen.append(SavedChunks(out, cfg.env_id, policy.layout, policy.embodiment))
    if cfg.record_dataset is not None:
        chosen.append(DatasetRecording(out, cfg, episode))
    return chosen


class _Episode:
    """The loop's state: the env, the policy, the result being filled and the observers."""

    def __init__(self, env: gym.Env, policy: Policy, cfg: RolloutConfig, result: EpisodeResult,
                 watchers: list[Observer]) -> None:
        base = env.unwrapped
        assert isinstance(base, DroidEnv)
        self.env, self.base, self.policy, self.cfg, self.result = env, base, policy, cfg, result
        self.watchers = watchers
        self.convert = cfg.execution == "joint_position" and policy.layout == "cosmos_ee_delta"
        self.first_success: int | None = None  # the step count when the task first succeeded

    def _ends(self, succeeded: bool, truncated: bool) -> bool:
        """Whether the episode ends after this step: at the time limit, or ``steps_after_success``
        steps after the task first succeeded."""
        if succeeded and self.first_success is None:
            self.first_success = self.result.steps
        if truncated:
            return True
        return self.first_success is not None and self.result.steps - self.first_success >= self.cfg.steps_after_success

    def run(self) -> None:
        obs, reset_info = self.env.reset(seed=self.result.seed)
        info: Mapping[str, Any] = reset_info
        instruction = info["instruction"]
        self.result.instruction = instruction
        self.result.camera_poses = info.get("camera_poses")
        self.result.room = info.get("room")
        _record_outcome(self.result, info)
        self.policy.reset()
        ee = self.base.ee_pose()
        for watcher in self.watchers:
            watcher.on_reset(instruction, obs, ee)
        done = False
        while not done:
            obs, info, done = self._chunk(obs, instruction)
            self.result.chunks += 1
        self.result.sim_seconds = float(info["sim_time"])

    def _start(self, obs: Mapping[str, Any], instruction: str) -> tuple[ChunkStart, np.ndarray, np.ndarray]:
        """Ask the policy; the chunk, the rows the env executes and which the decoder slowed."""
        self.base.reanchor()
        frames, ee = Frames(self.base, obs), self.base.ee_pose()
        t0 = time.perf_counter()
        chunk = _check_chunk(self.policy.get_actions(obs, instruction), self.policy)
        latency = time.perf_counter() - t0
        self.result.action_space_mismatches += int(bool(chunk.info.get(ACTION_SPACE_MISMATCH)))
        executed = chunk.actions[: executed_rows(self.cfg, self.policy, len(chunk))]
        rows, slowed, decoded_ik = executed, np.zeros(len(executed), dtype=bool), None
        if self.convert:
            decoded = self.base.decoder.decode(rows, np.asarray(obs["joint_position"], dtype=np.float64))
            slowed = decoded.ik.speed_limited
            rows = np.concatenate([decoded.joint_positions, decoded.gripper[:, None]], axis=1)
            space = cast(spaces.Box, self.env.action_space)  # the joint-position env's Box
            rows = np.clip(rows, space.low, space.high).astype(np.float32)
            decoded_ik = (decoded.ik.position_error_mm.tolist(), decoded.ik.rotation_error_deg.tolist())
            self.result.clipped_values += decoded.clipped
        label = str(chunk.info.get("prediction_label", "policy prediction"))
        start = ChunkStart(self.result.chunks, obs, frames, ee, executed, latency, decoded_ik,
                           chunk.predicted_video, label)
        return start, rows, slowed

    def _chunk(self, obs: Mapping[str, Any], instruction: str) -> tuple[Mapping[str, Any], Mapping[str, Any], bool]:
        start, rows, slowed = self._start(obs, instruction)
        for watcher in self.watchers:
            watcher.on_chunk(start)
        result, env_ik = self.result, not self.convert and self.base.action_mode == "cosmos"
        info: Mapping[str, Any] = {}
        done = False
        for j, row in enumerate(rows):
            obs, _, terminated, truncated, info = self.env.step(row)
            result.steps += 1
            result.speed_limited_steps += int(bool(info["speed_limited"]) or bool(slowed[j]))
            if not self.convert:  # cosmos rows and joint velocities clip in the env (joint positions report 0)
                result.clipped_values += int(info["clipped_values"])
            _record_outcome(result, info)
            done = self._ends(bool(terminated), bool(truncated))
            step = Step(start, j, len(rows), info, Frames(self.base, obs), self.base.ee_pose(), env_ik)
            for watcher in self.watchers:
                watcher.on_step(step)
            if done:
                break
        return obs, info, done


def run_episode(env: gym.Env, policy: Policy, cfg: RolloutConfig, episode: int, out: Path) -> EpisodeResult:
    """Run one episode; never raises for policy/env failures (they become ``error``)."""
    result = EpisodeResult.start(cfg, episode)
    metrics = Metrics()
    watchers: list[Observer] = [metrics]
    t_start = time.perf_counter()
    try:
        watchers += observers(cfg, policy, out, episode)
        _Episode(env, policy, cfg, result, watchers).run()
    except Exception as exc:  # noqa: BLE001 - recorded, the run goes on
        result.success = False
        result.error = f"{type(exc).__name__}: {exc}"
        if os.environ.get("ROBOSIM_COSMOS_DEBUG"):
            traceback.print_exc()
        result.sim_seconds = float(cast(DroidEnv, env.unwrapped).data.time)
    except BaseException:  # interrupted (a signal): no half-written video is left behind
        for watcher in watchers:
            watcher.abort()
        raise
    result.wall_seconds = time.perf_counter() - t_start
    for watcher in watchers:
        watcher.finish(result)
    return result
