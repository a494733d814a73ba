"""``results.jsonl``: the typed record of one episode (:class:`EpisodeResult`, one line each), read
and written durably; atomic file replacement."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..envs import EVENTS, task_of


class EpisodeSource(Protocol):
    """What an episode's record starts from (``rollout.RolloutConfig`` is one)."""

    @property
    def env_id(self) -> str: ...

    @property
    def instruction(self) -> str | None: ...

    @property
    def seed(self) -> int: ...

    @property
    def instruction_tier(self) -> str: ...




def parse_results(path: Path) -> tuple[list[dict[str, Any]], bool]:
    """(valid lines of results.jsonl, whether a torn line was skipped); reads only."""
    if not path.is_file():
        return [], False
    lines: list[dict[str, Any]] = []
    dropped = False
    for raw in path.read_text().splitlines():
        if not raw.strip():
            continue
        try:
            doc = json.loads(raw)
            if not isinstance(doc, dict) or "episode" not in doc or "env_id" not in doc:
                raise ValueError
            lines.append(doc)
        except ValueError:
            dropped = True
    return lines, dropped


def read_results(path: Path) -> list[dict[str, Any]]:
    """Valid lines of results.jsonl; a torn last line (a crash mid-write) is dropped."""
    lines, dropped = parse_results(path)
    if dropped:  # rewrite without the torn line so appends stay valid JSONL
        path.write_text("".join(json.dumps(d) + "\n" for d in lines))
    return lines


def append_result(path: Path, line: dict[str, Any]) -> None:
    """Append one line and make it durable before the next episode starts."""
    with path.open("a") as fh:
        fh.write(json.dumps(line) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` all at once (a temp file beside it, fsynced, then renamed)."""
    tmp = path.with_name(f"{path.name}.tmp")
    with tmp.open("w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def rewrite_results(path: Path, lines: list[dict[str, Any]]) -> None:
    """Rewrite results.jsonl atomically with ``lines`` (a retried episode replaces its line)."""
    write_atomic(path, "".join(json.dumps(d) + "\n" for d in lines))


@dataclass
class EpisodeResult:
    """What one episode did.

    policy_latency_s: {mean, max} seconds per policy call; ik_error / tracking_error:
    {position_mm, rotation_deg} each {mean, max}, None when nothing was measured;
    clipped_values: normalized action values the decoder clipped into [−1, 1];
    speed_limited_steps: steps whose joint command was slowed to the Franka's velocity limits;
    action_space_mismatches: chunks whose joint rows looked like the other DROID action space
    (positions run as velocities, or the reverse: ``policy_api.ACTION_SPACE_MISMATCH``);
    video: path relative to the run folder; error: ``Type: message`` when the episode raised.
    instruction_tier: the tier the instruction was drawn from; progress: the env's subtask
    progress in [0, 1] at the last step; events: how often each event (``envs.EVENTS``)
    happened in the episode. world_model: the predicted video scored against the simulator's
    frames (:mod:`robosim_cosmos.metrics.world_model`; None without predictions); trajectory: end-effector path length,
    speeds, SPARC and time to success (:mod:`robosim_cosmos.metrics.trajectory`); pred_video: the predicted frames alone
    (``videos/pred_episode_<n>.mp4``); saved_chunks: ``chunks/episode_<n>.npz`` (``save_chunks``);
    dataset_episode: ``dataset_episodes/episode_<n>`` (the episode staged for ``record_dataset``).
    camera_poses: each exterior camera's pose in this episode (the env's ``info["camera_poses"]``:
    position, DROID-style extrinsics, distance to the workspace centre, height, yaw, pitch, roll).
    room: the room drawn around the station (the env's ``info["room"]``: style, scene type, work
    surface, how many parts, clutter items and lights).
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
    policy_latency_s: dict[str, float | None] = field(default_factory=lambda: value_stats([]))
    ik_error: dict[str, dict[str, float | None]] | None = None
    tracking_error: dict[str, dict[str, float | None]] | None = None
    clipped_values: int = 0
    speed_limited_steps: int = 0
    action_space_mismatches: int = 0
    chunks: int = 0
    video: str | None = None
    error: str | None = None
    world_model: dict[str, Any] | None = None
    trajectory: dict[str, Any] | None = None
    pred_video: str | None = None
    saved_chunks: str | None = None
    dataset_episode: str | None = None
    camera_poses: dict[str, Any] | None = None
    room: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def start(cls, cfg: EpisodeSource, episode: int, error: str | None = None) -> EpisodeResult:
        """The record of episode ``episode`` of ``cfg`` before it runs (or, with ``error``, of an
        episode that could not run: its worker could not build the env or the policy, or died)."""
        return cls(cfg.env_id, task_of(cfg.env_id), cfg.instruction, cfg.seed + episode, episode,
                   instruction_tier=cfg.instruction_tier, error=error)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> EpisodeResult:
        """A record from a results.jsonl line (keys it does not know are ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in doc.items() if k in names})


def value_stats(values: list[float]) -> dict[str, float | None]:
    """{mean, max} of the values; None for each without values."""
    if not values:
        return {"mean": None, "max": None}
    arr = np.asarray(values, dtype=np.float64)
    return {"mean": float(arr.mean()), "max": float(arr.max())}
