"""Saved chunks (``--save-chunks``): per episode, what each executed chunk started from, the
normalized rows executed and the camera frames that followed, for offline world-model scoring.

One compressed ``chunks/episode_<n>.npz`` per episode (written when the episode ends):

=====================  =========================================  ==================================
key                    array                                      meaning
=====================  =========================================  ==================================
``rows``               int64 [C]                                  rows executed of chunk c
``actions``            float32 [C, T, D]                          those rows (zero beyond ``rows``)
``q_start``            float64 [C, 7]                             joint positions at chunk start
``gripper_start``      float64 [C]                                gripper position at chunk start
``ee_start``           float64 [C, 4, 4]                          ``cosmos_ee`` pose at chunk start
``ee_after``           float64 [C, T, 4, 4]                       ``cosmos_ee`` pose after each row
``images``             uint8 [C, T + 1, K, H, W, 3]               K cameras (``cameras``): 0 at
                                                                  chunk start, k after row k
``robot_masks``        bool [C, T + 1, K, H, W]                   the robot's pixels in ``images``
=====================  =========================================  ==================================

plus the strings ``env_id``, ``instruction``, ``layout``, ``embodiment`` and ``cameras``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import RunFolderError
from ..observations import CAMERAS
from .files import CHUNKS_DIR


class ChunkRecorder:
    """Collects one episode's executed chunks; :meth:`save` writes them atomically."""

    def __init__(self, env_id: str, instruction: str, layout: str, embodiment: str) -> None:
        self.meta = {"env_id": env_id, "instruction": instruction, "layout": layout, "embodiment": embodiment}
        self._chunks: list[dict[str, Any]] = []

    def start(self, q: np.ndarray, gripper: float, ee_pose: np.ndarray, images: dict[str, np.ndarray],
              masks: dict[str, np.ndarray]) -> None:
        """A chunk begins from this state (images and masks keyed by camera)."""
        self._chunks.append({"q": np.asarray(q, np.float64).copy(), "gripper": float(gripper),
                             "ee": np.asarray(ee_pose, np.float64).copy(), "rows": [], "ee_after": [],
                             "images": [[images[c] for c in CAMERAS]], "masks": [[masks[c] for c in CAMERAS]]})

    def step(self, row: np.ndarray, ee_pose: np.ndarray, images: dict[str, np.ndarray],
             masks: dict[str, np.ndarray]) -> None:
        """Row executed; the state after it."""
        chunk = self._chunks[-1]
        chunk["rows"].append(np.asarray(row, np.float32).copy())
        chunk["ee_after"].append(np.asarray(ee_pose, np.float64).copy())
        chunk["images"].append([images[c] for c in CAMERAS])
        chunk["masks"].append([masks[c] for c in CAMERAS])

    def save(self, path: Path) -> Path | None:
        """Write the npz (None when no row was executed)."""
        chunks = [c for c in self._chunks if c["rows"]]
        if not chunks:
            return None
        t = max(len(c["rows"]) for c in chunks)
        width = len(chunks[0]["rows"][0])
        h, w = chunks[0]["images"][0][0].shape[:2]
        n, k = len(chunks), len(CAMERAS)
        arrays: dict[str, Any] = {
            "rows": np.array([len(c["rows"]) for c in chunks], dtype=np.int64),
            "actions": np.zeros((n, t, width), np.float32),
            "q_start": np.stack([c["q"] for c in chunks]),
            "gripper_start": np.array([c["gripper"] for c in chunks]),
            "ee_start": np.stack([c["ee"] for c in chunks]),
            "ee_after": np.tile(np.eye(4), (n, t, 1, 1)),
            "images": np.zeros((n, t + 1, k, h, w, 3), np.uint8),
            "robot_masks": np.zeros((n, t + 1, k, h, w), bool),
            "cameras": np.array(CAMERAS),
        }
        for i, c in enumerate(chunks):
            r = len(c["rows"])
            arrays["actions"][i, :r] = np.stack(c["rows"])
            arrays["ee_after"][i, :r] = np.stack(c["ee_after"])
            arrays["images"][i, : r + 1] = np.array(c["images"])
            arrays["robot_masks"][i, : r + 1] = np.array(c["masks"])
        arrays.update({key: np.array(value) for key, value in self.meta.items()})
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".partial")
        with tmp.open("wb") as fh:
            np.savez_compressed(fh, **arrays)
        os.replace(tmp, path)
        return path


@dataclass
class SavedEpisode:
    """One episode's saved chunks (the arrays of the module docstring)."""

    episode: int
    env_id: str
    instruction: str
    layout: str
    embodiment: str
    cameras: tuple[str, ...]
    rows: np.ndarray
    actions: np.ndarray
    q_start: np.ndarray
    gripper_start: np.ndarray
    ee_start: np.ndarray
    ee_after: np.ndarray
    images: np.ndarray
    robot_masks: np.ndarray

    def camera_images(self, chunk: int, frame: int) -> dict[str, np.ndarray]:
        return {cam: self.images[chunk, frame, i] for i, cam in enumerate(self.cameras)}

    def camera_masks(self, chunk: int, frame: int) -> dict[str, np.ndarray]:
        return {cam: self.robot_masks[chunk, frame, i] for i, cam in enumerate(self.cameras)}


def load_episode(path: Path) -> SavedEpisode:
    """Read one ``episode_<n>.npz``; RunFolderError naming the file when it is not one."""
    try:
        episode = int(Path(path).stem.split("_", 1)[1])
        with np.load(path, allow_pickle=False) as doc:
            data = {key: doc[key] for key in doc.files}
        return SavedEpisode(
            episode=episode, env_id=str(data["env_id"]), instruction=str(data["instruction"]),
            layout=str(data["layout"]), embodiment=str(data["embodiment"]),
            cameras=tuple(str(c) for c in data["cameras"]), rows=data["rows"], actions=data["actions"],
            q_start=data["q_start"], gripper_start=data["gripper_start"], ee_start=data["ee_start"],
            ee_after=data["ee_after"], images=data["images"], robot_masks=data["robot_masks"],
        )
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise RunFolderError(f"{path} is not a saved-chunks file ({type(exc).__name__}: {exc})") from None


def saved_episodes(run_dir: Path) -> list[Path]:
    """The run's ``chunks/episode_<n>.npz`` files in episode order."""
    folder = Path(run_dir) / CHUNKS_DIR
    files = [p for p in folder.glob("episode_*.npz") if p.stem.split("_", 1)[1].isdigit()]
    return sorted(files, key=lambda p: int(p.stem.split("_", 1)[1]))
