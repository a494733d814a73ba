"""Offline world-model scoring of a finished run's saved chunks (``rollout --save-chunks``).

Two modes, for a policy that offers them (a Cosmos 3 checkpoint through ``diffusers:``):

``forward_dynamics``
    From each chunk's first frame and its executed rows, the policy predicts the video; each
    predicted frame is scored against the frame the simulator rendered after the same row, as
    in closed loop (:mod:`robosim_cosmos.metrics.world_model`).
``inverse_dynamics``
    From the frames the simulator rendered during a chunk, the policy infers the rows; inferred
    and executed rows are decoded from the same anchor (the chunk's start pose) through one
    :class:`~robosim_cosmos.kinematics.decode.ChunkDecoder`, and the poses compared per step:
    position error (mm), rotation error (degrees), gripper agreement (both open or both closed).

The clip a model gets for inverse dynamics is ``chunk_size + 1`` frames; an executed chunk is
usually shorter (``open_loop_steps``), so its last frame is repeated (as the pipeline repeats
the last row of short action sequences) and only the executed rows are compared.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from ..errors import ConfigError, RunFolderError
from ..kinematics.decode import ChunkDecoder
from ..kinematics.gripper import grasp_to_droid
from ..metrics.images import score_frame
from ..metrics.world_model import View, fit, pool_records, summarize
from ..policies.registry import create_policy, policy_class, spec_kind
from ..policy_api import WORLD_MODEL_MODES, Policy, WorldModel, WorldModelMode
from ..records.chunks import SavedEpisode, load_episode, saved_episodes
from ..records.files import CHUNKS_DIR, RUN_FILE, SUITE_SUMMARY_FILE, score_file
from ..records.results import write_atomic

ScoreMode = WorldModelMode
SCORE_MODES: tuple[ScoreMode, ...] = WORLD_MODEL_MODES
GRIPPER_CLOSED_AT = 0.5
"""DROID gripper values at or above this count as closed when comparing gripper commands."""


@dataclass(frozen=True)
class _Run:
    path: Path
    files: list[Path]


def _open_run(run_dir: str | Path) -> _Run:
    path = Path(run_dir)
    if not path.is_dir():
        raise RunFolderError(f"{path} is not a run folder (no such directory)")
    if not (path / RUN_FILE).is_file() and ((path / SUITE_SUMMARY_FILE).is_file() or any(path.glob(f"*/*/{RUN_FILE}"))):
        members = sorted(run.parent for run in path.glob(f"*/*/{RUN_FILE}"))
        saved = [m.relative_to(path).as_posix() for m in members if saved_episodes(m)]
        example = (path / saved[0]) if saved else (members[0] if members else path / "<EnvName>/<tier>")
        raise RunFolderError(
            f"{path} is a suite folder; score takes one run folder: score each member of it, e.g. {example} "
            f"(members with saved chunks: {', '.join(saved) if saved else 'none; run the suite with --save-chunks'})"
        )
    files = saved_episodes(path)
    if not files:
        raise RunFolderError(
            f"{path} has no saved chunks ({CHUNKS_DIR}/episode_<n>.npz); run the rollout with --save-chunks "
            "(save_chunks=True) to score it offline"
        )
    return _Run(path, files)


def _no_mode(label: str, cls: type, mode: ScoreMode) -> ConfigError:
    return ConfigError(f"policy {label} ({cls.__name__}) has no {mode} mode; a Cosmos 3 checkpoint through "
                       "diffusers:PATH offers forward_dynamics and inverse_dynamics")


def _check_spec(spec: str, mode: ScoreMode) -> None:
    """A spec whose backend has no world-model mode is refused before anything is built (the
    scripted policy, for one, would ask for a simulator env)."""
    cls = policy_class(spec_kind(spec))
    if not callable(getattr(cls, mode, None)):
        raise _no_mode(spec, cls, mode)


def _mode_method(policy: Policy, mode: ScoreMode, label: str) -> Callable[..., Any]:
    if not isinstance(policy, WorldModel):
        raise _no_mode(label, type(policy), mode)
    return policy.forward_dynamics if mode == "forward_dynamics" else policy.inverse_dynamics


def _check_episode(ep: SavedEpisode, policy: Policy, label: str) -> None:
    if ep.layout != "cosmos_ee_delta":
        raise ConfigError(
            f"episode {ep.episode}'s chunks are {ep.layout!r} rows; world-model modes take the normalized "
            "cosmos_ee_delta layout"
        )
    if ep.embodiment != policy.embodiment:
        raise ConfigError(
            f"the run's chunks are embodiment {ep.embodiment!r}, policy {label} speaks {policy.embodiment!r}; "
            f"load it with embodiment={ep.embodiment!r}"
        )


def _forward(ep: SavedEpisode, predict: Callable[..., Any], view: View) -> dict[str, Any] | None:
    scored = []
    for c, rows in enumerate(ep.rows.tolist()):
        chunk = predict(ep.camera_images(c, 0), ep.instruction, ep.actions[c, :rows])
        video = chunk.predicted_video
        if video is None:
            raise ConfigError("the policy's forward_dynamics returned no predicted video")
        for k in range(1, min(rows, len(video) - 1) + 1):
            reference = view.compose(ep.camera_images(c, k))
            mask = view.compose_mask(ep.camera_masks(c, k))
            scored.append((c, k, score_frame(reference, fit(video[k], reference.shape), mask)))
    return summarize(scored, view.label)


def _pose_errors(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position (mm) and rotation (deg) distance between pose stacks [T, 4, 4]."""
    position = 1e3 * np.linalg.norm(a[:, :3, 3] - b[:, :3, 3], axis=1)
    relative = np.einsum("tji,tjk->tik", a[:, :3, :3], b[:, :3, :3])
    rotation = np.degrees(Rotation.from_matrix(relative).magnitude())
    return position, rotation


def _decoded(decoder: ChunkDecoder, rows: np.ndarray, anchor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    raw, _ = decoder.denormalize(rows)
    return decoder.poses(raw, anchor), np.clip(grasp_to_droid(raw[:, 9]), 0.0, 1.0)


def _inverse(ep: SavedEpisode, infer: Callable[..., Any], view: View, chunk_size: int,
             decoder: ChunkDecoder) -> dict[str, Any] | None:
    per: list[tuple[int, int, float, float, bool]] = []
    for c, rows in enumerate(ep.rows.tolist()):
        frames = [view.compose(ep.camera_images(c, k)) for k in range(rows + 1)]
        frames += [frames[-1]] * max(0, chunk_size + 1 - len(frames))
        inferred = np.asarray(infer(np.stack(frames[: chunk_size + 1]), ep.instruction).actions)
        n = min(rows, len(inferred))
        if n == 0:
            raise ConfigError("the policy's inverse_dynamics returned no actions")
        executed_poses, executed_grip = _decoded(decoder, ep.actions[c, :n], ep.ee_start[c])
        inferred_poses, inferred_grip = _decoded(decoder, inferred[:n], ep.ee_start[c])
        position, rotation = _pose_errors(executed_poses, inferred_poses)
        agree = (executed_grip >= GRIPPER_CLOSED_AT) == (inferred_grip >= GRIPPER_CLOSED_AT)
        per.extend((c, k + 1, float(position[k]), float(rotation[k]), bool(agree[k])) for k in range(n))
    return summarize_inverse(per)


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def summarize_inverse(per: list[tuple[int, int, float, float, bool]]) -> dict[str, Any] | None:
    """Per-step (chunk, step, position_mm, rotation_deg, gripper_agrees) errors summed up per
    horizon step, per chunk and overall."""
    if not per:
        return None

    def block(rows: list[tuple[int, int, float, float, bool]]) -> dict[str, Any]:
        return {"steps": len(rows),
                "position_mm": _mean([r[2] for r in rows]), "position_mm_max": max(r[2] for r in rows),
                "rotation_deg": _mean([r[3] for r in rows]), "rotation_deg_max": max(r[3] for r in rows),
                "gripper_agreement": _mean([float(r[4]) for r in rows])}

    steps = sorted({r[1] for r in per})
    per_step: dict[str, list[Any]] = {"step": steps, "frames": [], "position_mm": [], "rotation_deg": [],
                                      "gripper_agreement": []}
    for step in steps:
        b = block([r for r in per if r[1] == step])
        per_step["frames"].append(b["steps"])
        for key in ("position_mm", "rotation_deg", "gripper_agreement"):
            per_step[key].append(b[key])
    chunks = sorted({r[0] for r in per})
    out = block(per)
    out["chunks"] = len(chunks)
    out["per_step"] = per_step
    out["per_chunk"] = [{"chunk": c, **block([r for r in per if r[0] == c])} for c in chunks]
    return out


def _overall_inverse(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not records:
        return None
    weights = [int(r["steps"]) for r in records]
    total = sum(weights)

    def weighted(key: str) -> float:
        return float(sum(float(r[key]) * w for r, w in zip(records, weights, strict=True)) / total)

    return {"episodes": len(records), "steps": total, "position_mm": weighted("position_mm"),
            "position_mm_max": max(r["position_mm_max"] for r in records),
            "rotation_deg": weighted("rotation_deg"), "rotation_deg_max": max(r["rotation_deg_max"] for r in records),
            "gripper_agreement": weighted("gripper_agreement")}


def score_run(run_dir: str | Path, policy: str | Policy, mode: ScoreMode,
              policy_kwargs: dict[str, Any] | None = None, out: str | Path | None = None) -> dict[str, Any]:
    """Score a run's saved chunks with ``policy`` in ``mode``; write ``score_<mode>.json`` into the
    run folder (or ``out``) and return it. Raises a one-line project error for a folder without
    saved chunks, a policy without the mode, or chunks of another embodiment or layout."""
    if mode not in SCORE_MODES:
        raise ConfigError(f"unknown score mode {mode!r}; valid: {list(SCORE_MODES)}")
    run = _open_run(run_dir)
    if isinstance(policy, str):
        _check_spec(policy, mode)
    label = policy if isinstance(policy, str) else f"<object {type(policy).__name__}>"
    owned = isinstance(policy, str)
    model = create_policy(policy, **(policy_kwargs or {})) if isinstance(policy, str) else policy
    try:
        method = _mode_method(model, mode, label)
        view = View.of(model)
        decoder: ChunkDecoder | None = None
        episodes = []
        for file in run.files:
            ep = load_episode(file)
            _check_episode(ep, model, label)
            if mode == "forward_dynamics":
                record = _forward(ep, method, view)
            else:
                if decoder is None:
                    decoder = ChunkDecoder(ep.embodiment)
                record = _inverse(ep, method, view, int(model.chunk_size), decoder)
            if record is not None:
                episodes.append({"episode": ep.episode, "env_id": ep.env_id, **record})
    finally:
        if owned:
            model.close()
    overall = pool_records(episodes) if mode == "forward_dynamics" else _overall_inverse(episodes)
    doc = {"mode": mode, "run": str(run.path), "policy": {"spec": label, "class": type(model).__qualname__},
           "view": view.label, "overall": overall, "episodes": episodes}
    target = Path(out) if out is not None else score_file(run.path, mode)
    write_atomic(target, json.dumps(doc, indent=2) + "\n")
    doc["path"] = str(target)
    return doc
