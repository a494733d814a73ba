"""A dataset as training samples: per frame t of every episode, the two camera images
(downscaled), the joint state, the instruction, and the 16-row chunk of ``cosmos_ee`` deltas from
frame t on (raw, then normalized with the set's own q01 / q99).

The rows are exactly :func:`~robosim_cosmos.datasets.action_stats.episode_rows` (so they decode
through the same ``kinematics`` path as a Cosmos chunk). A window that runs past the episode's end
needs rows nobody recorded: the scripted episodes end the step the task succeeds, often after
fewer than 16 steps (a Reach takes ~15). ``still`` pads with "stay still" rows (identity motion,
the last gripper command), so a policy learns to stop where the episodes stopped; ``continue``
repeats the last row, as if the motion carried on (a Reach then aims through the ball rather than
to its edge; measured, it did worse: README, "What moved the numbers").

``drop_misses`` leaves out what led up to a demonstrated miss (:func:`frames_before_miss`, from
``record --policy-arg miss=M``), so a policy learns the recovery without learning the miss.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

from ..datasets.action_stats import COLUMNS, episode_rows
from ..datasets.reader import DatasetReader
from ..embodiments import get_embodiment
from ..errors import DatasetError
from ..kinematics.deltas import encode_backward_framewise
from ..kinematics.normalization import ActionStats
from ..policies.baseline_model import downscale, state_vector
from ..policies.expert import CLOSED_ON_NOTHING

CACHE_VERSION = 1
Pad = Literal["still", "continue"]
PADS: tuple[Pad, ...] = get_args(Pad)


def still_row(grasp: float) -> np.ndarray:
    """The raw 10D row of no motion with ``grasp``: identity translation and rotation."""
    eye = np.stack([np.eye(4), np.eye(4)])
    return np.concatenate([encode_backward_framewise(eye)[0], [grasp]])


def _check_pad(pad: str) -> None:
    if pad not in PADS:
        raise DatasetError(f"pad must be one of {list(PADS)}, got {pad!r}")


def padded_windows(rows: np.ndarray, chunk: int, pad: Pad = "still") -> np.ndarray:
    """[T − 1, 10] episode rows -> [T − 1, chunk, 10]: the window from each step, padded past the
    end with :func:`still_row` of the last grasp (``still``) or the last row (``continue``)."""
    _check_pad(pad)
    if len(rows) == 0:
        return np.zeros((0, chunk, rows.shape[1]))
    last = still_row(float(rows[-1, -1])) if pad == "still" else rows[-1]
    pad_rows = np.repeat(last[None], chunk, axis=0)
    full = np.concatenate([rows, pad_rows])
    starts = np.arange(len(rows))
    return full[starts[:, None] + np.arange(chunk)[None, :]]


def episode_spans(episode: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of equal ids in ``episode`` [N] (each episode's frames consecutive)."""
    starts = np.flatnonzero(np.r_[True, episode[1:] != episode[:-1]]).tolist() if len(episode) else []
    return list(zip(starts, [*starts[1:], len(episode)], strict=True))


def frames_before_miss(state: np.ndarray, episode: np.ndarray) -> np.ndarray:
    """bool [N]: the frames of each episode before its gripper first reads closed on nothing
    (above ``CLOSED_ON_NOTHING``); none in an episode where it never does. ``state`` [N, 8]
    (gripper last), ``episode`` [N] (each episode's frames consecutive)."""
    out = np.zeros(len(episode), dtype=bool)
    for a, b in episode_spans(episode):
        closed = np.flatnonzero(state[a:b, -1] > CLOSED_ON_NOTHING)
        if len(closed):
            out[a:a + closed[0]] = True
    return out


@dataclass
class TrainingSet:
    """Samples, N of them.

    exterior, wrist: uint8 [N, H, W, 3]; state: float32 [N, 8] (joints, gripper); raw: float64
    [N, chunk, 10] unnormalized targets; episode: int64 [N] (a running episode number over all
    datasets); instruction: int64 [N] index into ``instructions``; stats: q01 / q99 of ``raw``.
    """

    exterior: np.ndarray
    wrist: np.ndarray
    state: np.ndarray
    raw: np.ndarray
    episode: np.ndarray
    instruction: np.ndarray
    instructions: tuple[str, ...]
    stats: ActionStats
    sources: tuple[str, ...]
    pad: Pad = "still"
    miss_dropped: int = 0
    """Frames leading up to a demonstrated miss left out (``drop_misses``)."""

    def __len__(self) -> int:
        return len(self.state)

    def targets(self) -> tuple[np.ndarray, int]:
        """float32 [N, chunk, 10] normalized targets and how many values the [−1, 1] clip moved
        (values beyond q01 / q99: ~2 % per column by construction)."""
        offset_scale = self.stats.normalize(self.raw)
        lo, hi = self.stats.bounds() or (None, None)
        assert lo is not None and hi is not None
        clipped = int(np.count_nonzero((self.raw < lo) | (self.raw > hi)))
        return offset_scale.astype(np.float32), clipped

    def stats_document(self) -> dict[str, Any]:
        """The stats JSON (``load_stats`` / ``--stats PATH`` read it) with what it was computed over."""
        doc = self.stats.to_json_dict()
        doc["source"] = ", ".join(self.sources)
        doc["windows"] = {"steps": int(self.raw.shape[1]), "count": len(self),
                          "episodes": len(set(self.episode.tolist())), "padded_past_episode_end": self.pad,
                          "frames_before_a_miss_dropped": self.miss_dropped}
        return doc


def quantile_stats(raw: np.ndarray, source: str) -> ActionStats:
    """q01 / q99 (and min, max, mean, std) per column of raw rows [..., 10], the way
    ``datasets.action_stats`` computes a dataset's."""
    flat = raw.reshape(-1, raw.shape[-1])
    values = {"q01": np.quantile(flat, 0.01, axis=0), "q99": np.quantile(flat, 0.99, axis=0),
              "min": flat.min(axis=0), "max": flat.max(axis=0), "mean": flat.mean(axis=0), "std": flat.std(axis=0)}
    return ActionStats("quantile", values, domain_name=get_embodiment("droid").domain_name, columns=COLUMNS,
                       source=source)


def _cache_key(root: str, image_size: tuple[int, int], camera: str, wrist: str, chunk: int) -> str:
    text = json.dumps([CACHE_VERSION, root, list(image_size), camera, wrist, chunk])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def video_key(reader: DatasetReader, camera: str) -> str:
    """The video feature holding ``camera`` (the schemas name it bare, as openpi does, or under
    ``observation.image(s).``); DatasetError listing the videos otherwise."""
    for key in reader.video_keys:
        if key == camera or key.endswith("." + camera):
            return key
    raise DatasetError(f"{reader.root} has no camera {camera!r}; its videos: {list(reader.video_keys)}")


def build_training_set(datasets: Sequence[str | Path], image_size: tuple[int, int] = (72, 128),
                       exterior_camera: str = "exterior_image_1_left", wrist_camera: str = "wrist_image_left",
                       chunk: int = 16, cache: str | Path | None = None,
                       progress: Any = None, pad: Pad = "still", drop_misses: bool = False) -> TrainingSet:
    """Read every successful episode of ``datasets`` (LeRobot folders; episodes this project
    recorded as failures are left out) into a :class:`TrainingSet`. With ``cache`` (a folder),
    each dataset's samples are kept there as one .npz per dataset and settings, and reused:
    decoding the videos is the slow part and is done once. The statistics are always computed
    afresh over all the datasets given. ``pad``: how windows run past an episode's end (the
    cache holds ``still`` windows; their first rows are the episode, so ``continue`` is derived).
    ``drop_misses``: leave out :func:`frames_before_miss`, the windows then running over the frames
    kept."""
    _check_pad(pad)
    roots = [str(Path(d).resolve()) for d in datasets]
    if not roots:
        raise DatasetError("no dataset given")
    parts: list[dict[str, np.ndarray]] = []
    for root in roots:
        path = None
        if cache is not None:
            path = Path(cache) / f"{_cache_key(root, image_size, exterior_camera, wrist_camera, chunk)}.npz"
            if path.is_file():
                with np.load(path, allow_pickle=False) as z:
                    parts.append({k: z[k] for k in z.files})
                continue
        arrays = _read_dataset(DatasetReader(root), image_size, exterior_camera, wrist_camera, chunk, progress)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp.npz")
            np.savez(tmp, **arrays)  # type: ignore[arg-type]
            tmp.replace(path)
        parts.append(arrays)
    dropped = 0
    if drop_misses:
        keeps = [~frames_before_miss(np.asarray(a["state"]), a["episode"]) for a in parts]
        dropped = sum(int(np.count_nonzero(~k)) for k in keeps)
        parts = [{k: v if k == "instructions" else v[keep] for k, v in a.items()} for a, keep in zip(parts, keeps,
                                                                                                    strict=True)]
    if pad != "still" or dropped:
        parts = [{**a, "raw": repadded(np.asarray(a["raw"], np.float64), a["episode"], pad)} for a in parts]
    return _merge(parts, roots, pad, dropped)


def repadded(raw: np.ndarray, episode: np.ndarray, pad: Pad) -> np.ndarray:
    """Windows [N, chunk, 10] (each episode's frames consecutive) built again from their first
    rows and padded with ``pad``: row 0 of every window is that step's own row, so the episode's
    rows are ``raw[:, 0]`` (also after frames were left out)."""
    out = np.empty_like(raw)
    for a, b in episode_spans(episode):
        out[a:b] = padded_windows(raw[a:b, 0], raw.shape[1], pad)
    return out


def _read_dataset(reader: DatasetReader, image_size: tuple[int, int], exterior_camera: str, wrist_camera: str,
                  chunk: int, progress: Any) -> dict[str, np.ndarray]:
    keys = {cam: video_key(reader, cam) for cam in (exterior_camera, wrist_camera)}
    ext: list[np.ndarray] = []
    wri: list[np.ndarray] = []
    state: list[np.ndarray] = []
    raw: list[np.ndarray] = []
    episode: list[np.ndarray] = []
    instr: list[np.ndarray] = []
    instructions: dict[str, int] = {}
    for i in range(len(reader)):
        scene = reader.scene(i)
        if scene is not None and scene.get("success") is False:
            continue  # a failed demonstration teaches the failure: train on successes only
        ep = reader.droid(i)
        rows = episode_rows(ep)
        if len(rows) == 0:
            continue
        windows = padded_windows(rows, chunk)
        steps = len(windows)
        for cam, out in ((exterior_camera, ext), (wrist_camera, wri)):
            frames, _ = reader.frames(i, keys[cam])
            out.append(np.stack([downscale(f, image_size) for f in frames[:steps]]))
        state.append(np.stack([state_vector(ep.joint_position[t], ep.gripper_position[t]) for t in range(steps)]))
        raw.append(windows)
        episode.append(np.full(steps, i, dtype=np.int64))
        text = ep.task or ""
        instr.append(np.full(steps, instructions.setdefault(text, len(instructions)), dtype=np.int64))
        if progress is not None:
            progress(i + 1, len(reader))
    if not raw:
        raise DatasetError(f"no successful episode with at least two frames in {reader.root}")
    return {"exterior": np.concatenate(ext), "wrist": np.concatenate(wri), "state": np.concatenate(state),
            "raw": np.concatenate(raw), "episode": np.concatenate(episode), "instruction": np.concatenate(instr),
            "instructions": np.asarray(list(instructions), dtype=str)}


def _merge(parts: list[dict[str, np.ndarray]], roots: Sequence[str], pad: Pad, miss_dropped: int) -> TrainingSet:
    """One set from several datasets' arrays: episode numbers and instruction indices made global."""
    instructions: dict[str, int] = {}
    episode, instr = [], []
    offset = 0
    for a in parts:
        local = [instructions.setdefault(str(text), len(instructions)) for text in a["instructions"]]
        instr.append(np.asarray(local, dtype=np.int64)[a["instruction"]])
        episode.append(a["episode"] + offset)
        offset += int(a["episode"].max()) + 1
    raw = np.concatenate([np.asarray(a["raw"], dtype=np.float64) for a in parts])
    return TrainingSet(np.concatenate([a["exterior"] for a in parts]), np.concatenate([a["wrist"] for a in parts]),
                       np.concatenate([np.asarray(a["state"], np.float32) for a in parts]), raw,
                       np.concatenate(episode), np.concatenate(instr), tuple(instructions),
                       quantile_stats(raw, ", ".join(roots)), tuple(roots), pad, miss_dropped)


