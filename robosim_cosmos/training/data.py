"""A dataset as training samples: per frame t of every episode, the two camera images
(downscaled), the joint state, the instruction, and the 16-row chunk of ``cosmos_ee`` deltas from
frame t on (raw, then normalized with the set's own q01 / q99).

The rows are exactly :func:`~robosim_cosmos.datasets.action_stats.episode_rows` (so they decode
through the same ``kinematics`` path as a Cosmos chunk). A window that runs past the episode's end
is padded with "stay still" rows (identity motion, the last gripper command): the scripted
episodes end at success, often after fewer than 16 steps (a Reach takes ~15), and the policy
should learn to stop there rather than never see an end.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..datasets.action_stats import COLUMNS, episode_rows
from ..datasets.reader import DatasetReader
from ..embodiments import get_embodiment
from ..errors import DatasetError
from ..kinematics.deltas import encode_backward_framewise
from ..kinematics.normalization import ActionStats
from ..policies.baseline_model import downscale, state_vector

CACHE_VERSION = 1


def still_row(grasp: float) -> np.ndarray:
    """The raw 10D row of no motion with ``grasp``: identity translation and rotation."""
    eye = np.stack([np.eye(4), np.eye(4)])
    return np.concatenate([encode_backward_framewise(eye)[0], [grasp]])


def padded_windows(rows: np.ndarray, chunk: int) -> np.ndarray:
    """[T − 1, 10] episode rows -> [T − 1, chunk, 10]: the window from each step, padded past the
    end with :func:`still_row` of the last grasp."""
    if len(rows) == 0:
        return np.zeros((0, chunk, rows.shape[1]))
    pad = np.repeat(still_row(float(rows[-1, -1]))[None], chunk, axis=0)
    full = np.concatenate([rows, pad])
    starts = np.arange(len(rows))
    return full[starts[:, None] + np.arange(chunk)[None, :]]


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
                          "episodes": len(set(self.episode.tolist())), "padded_past_episode_end": True}
        return doc


def quantile_stats(raw: np.ndarray, source: str) -> ActionStats:
    """q01 / q99 (and min, max, mean, std) per column of raw rows [..., 10], the way
    ``datasets.action_stats`` computes a dataset's."""
    flat = raw.reshape(-1, raw.shape[-1])
    values = {"q01": np.quantile(flat, 0.01, axis=0), "q99": np.quantile(flat, 0.99, axis=0),
              "min": flat.min(axis=0), "max": flat.max(axis=0), "mean": flat.mean(axis=0), "std": flat.std(axis=0)}
    return ActionStats("quantile", values, domain_name=get_embodiment("droid").domain_name, columns=COLUMNS,
                       source=source)


def _cache_key(roots: Sequence[str], image_size: tuple[int, int], camera: str, chunk: int) -> str:
    text = json.dumps([CACHE_VERSION, list(roots), list(image_size), camera, chunk])
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
                       progress: Any = None) -> TrainingSet:
    """Read every successful episode of ``datasets`` (LeRobot folders; episodes this project
    recorded as failures are left out) into a :class:`TrainingSet`. With
    ``cache`` (an .npz path), reuse it when it was built from the same folders and settings, else
    write it: decoding the videos is the slow part and is done once."""
    roots = [str(Path(d).resolve()) for d in datasets]
    if not roots:
        raise DatasetError("no dataset given")
    key = _cache_key(roots, image_size, exterior_camera, chunk)
    if cache is not None and Path(cache).is_file():
        with np.load(cache, allow_pickle=False) as z:
            if str(z["key"]) == key:
                return _from_arrays({k: z[k] for k in z.files}, roots)
    readers = [DatasetReader(r) for r in roots]
    total = sum(len(r) for r in readers)
    ext: list[np.ndarray] = []
    wri: list[np.ndarray] = []
    state: list[np.ndarray] = []
    raw: list[np.ndarray] = []
    episode: list[np.ndarray] = []
    instr: list[np.ndarray] = []
    instructions: dict[str, int] = {}
    n = 0
    for reader in readers:
        keys = {cam: video_key(reader, cam) for cam in (exterior_camera, wrist_camera)}
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
            episode.append(np.full(steps, n, dtype=np.int64))
            text = ep.task or ""
            instr.append(np.full(steps, instructions.setdefault(text, len(instructions)), dtype=np.int64))
            n += 1
            if progress is not None:
                progress(n, total)
    if not raw:
        raise DatasetError(f"no episode with at least two frames in {', '.join(roots)}")
    arrays = {"exterior": np.concatenate(ext), "wrist": np.concatenate(wri), "state": np.concatenate(state),
              "raw": np.concatenate(raw), "episode": np.concatenate(episode), "instruction": np.concatenate(instr),
              "instructions": np.asarray(list(instructions), dtype=str), "key": np.asarray(key)}
    if cache is not None:
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(str(cache) + ".tmp.npz")
        np.savez(tmp, **arrays)  # type: ignore[arg-type]
        tmp.replace(cache)
    return _from_arrays(arrays, roots)


def _from_arrays(a: dict[str, np.ndarray], roots: Sequence[str]) -> TrainingSet:
    raw = np.asarray(a["raw"], dtype=np.float64)
    return TrainingSet(a["exterior"], a["wrist"], np.asarray(a["state"], np.float32), raw, a["episode"],
                       a["instruction"], tuple(str(s) for s in a["instructions"]),
                       quantile_stats(raw, ", ".join(roots)), tuple(roots))
