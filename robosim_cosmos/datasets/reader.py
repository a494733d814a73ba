"""The project's own LeRobot v3.0 reader: episodes, their columns, their video frames by
timestamp, and the DROID arrays a replay needs, for datasets of any of the three DROID schemas,
written here or elsewhere (the keys are looked up by the names each schema uses).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._optional import require
from ..envs.control import DROID_JOINT_DELTA
from ..errors import DatasetError
from . import layout
from .schemas import SCHEMAS, SchemaName
from .signals import flange_cartesian
from .video import TIMESTAMP_TOLERANCE_S, decode

_JOINTS = ("observation.state.joint_positions", "observation.state.joint_position", "joint_position")
_GRIPPER = ("observation.state.gripper_position", "gripper_position")
_CARTESIAN = ("observation.state.cartesian_position",)
_ACTION_JOINTS = ("action.joint_position",)
_ACTION_GRIPPER = ("action.gripper_position",)


@dataclass(frozen=True)
class DroidEpisode:
    """An episode as a replay needs it, T frames: joint_position [T, 7] rad, gripper_position [T]
    (0 open .. 1 closed) and cartesian_position [T, 6] (flange xyz + extrinsic XYZ Euler; from
    forward kinematics when the dataset has none) measured before each action; the joint-position
    targets [T, 7] and gripper targets [T] (from joint velocities, ``q + 0.2·v``, when that is what
    the dataset holds); ``action_kind`` says which (``joint_position`` or ``joint_velocity``)."""

    index: int
    joint_position: np.ndarray
    gripper_position: np.ndarray
    cartesian_position: np.ndarray
    action_joint_position: np.ndarray
    action_gripper_position: np.ndarray
    action_kind: str
    task: str | None
    scene: dict[str, Any] | None

    @property
    def length(self) -> int:
        return len(self.joint_position)


class DatasetReader:
    """A LeRobot v3.0 dataset at ``root`` (a folder with ``meta/info.json``)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        info_path = self.root / layout.INFO_PATH
        if not info_path.is_file():
            splits = [s for s in layout.SPLITS if (self.root / s / layout.INFO_PATH).is_file()]
            hint = f"; it holds the datasets {', '.join(s + '/' for s in splits)}: name one" if splits else ""
            raise DatasetError(f"{self.root} is not a LeRobot dataset (no {layout.INFO_PATH}){hint}")
        try:
            self.info: dict[str, Any] = json.loads(info_path.read_text())
            self.features: dict[str, Any] = dict(self.info["features"])
            self.fps = int(self.info["fps"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DatasetError(f"{info_path} is not a LeRobot info.json ({type(exc).__name__}: {exc})") from None
        version = str(self.info.get("codebase_version", ""))
        if not version.startswith("v3"):
            raise DatasetError(f"{self.root} is a LeRobot {version or 'unknown-version'} dataset; this reader reads "
                               "v3.0 (convert it with lerobot's convert_dataset_v21_to_v30)")
        pq = require("pyarrow.parquet")
        files = sorted((self.root / "meta" / "episodes").rglob("*.parquet"))
        if not files:
            raise DatasetError(f"{self.root} has no meta/episodes/*.parquet")
        rows: list[dict[str, Any]] = []
        for path in files:
            table = pq.read_table(path)
            keep = [c for c in table.column_names if not c.startswith("stats/")]
            rows.extend(table.select(keep).to_pylist())
        self.episodes: list[dict[str, Any]] = sorted(rows, key=lambda r: int(r["episode_index"]))

    # -- what the dataset is -------------------------------------------------------------------

    @property
    def schema_name(self) -> SchemaName | None:
        """The DROID schema whose feature keys this dataset has (None: none of them)."""
        for name, schema in SCHEMAS.items():
            if all(f.key in self.features for f in schema.features):
                return name
        return None

    @property
    def video_keys(self) -> tuple[str, ...]:
        return tuple(k for k, f in self.features.items() if f.get("dtype") == "video")

    def __len__(self) -> int:
        return len(self.episodes)

    def episode_meta(self, index: int) -> dict[str, Any]:
        """The ``meta/episodes`` row of episode ``index`` (statistics left out)."""
        if not 0 <= index < len(self.episodes) or int(self.episodes[index]["episode_index"]) != index:
            raise DatasetError(f"{self.root} has episodes 0..{len(self.episodes) - 1}; there is no episode {index}")
        return self.episodes[index]

    def scene(self, index: int) -> dict[str, Any] | None:
        """The scene columns robosim_cosmos writes (env id, seed, tier, camera rig and poses,
        outcome, env settings), JSON decoded; None for a dataset written elsewhere."""
        meta = self.episode_meta(index)
        if layout.EXTRA + "env_id" not in meta:
            return None
        out = {name.removeprefix(layout.EXTRA): meta.get(name) for name in layout.EXTRA_COLUMNS}
        for key in ("camera_poses", "scene"):
            text = out[key]
            out[key] = json.loads(text) if isinstance(text, str) else text
        return out

    # -- columns and frames --------------------------------------------------------------------

    def columns(self, index: int) -> dict[str, np.ndarray]:
        """Every data column of episode ``index`` in frame order: [T] or [T, D] arrays (strings as
        object arrays)."""
        meta = self.episode_meta(index)
        pq = require("pyarrow.parquet")
        template = str(self.info.get("data_path") or layout.DATA_PATH)
        path = self.root / template.format(chunk_index=int(meta.get("data/chunk_index", 0)),
                                           file_index=int(meta.get("data/file_index", 0)))
        if not path.is_file():
            raise DatasetError(f"episode {index}: data file {path} is missing")
        table = pq.read_table(path, filters=[("episode_index", "=", index)])
        if table.num_rows != int(meta["length"]):
            raise DatasetError(f"episode {index}: {table.num_rows} rows in {path.name}, its metadata says "
                               f"{meta['length']}")
        out: dict[str, np.ndarray] = {}
        for name in table.column_names:
            column = table.column(name).to_pylist()
            try:
                out[name] = np.asarray(column) if not isinstance(column[0], str) else np.asarray(column, dtype=object)
            except (ValueError, IndexError):
                out[name] = np.asarray(column, dtype=object)
        if "frame_index" in out:
            order = np.argsort(out["frame_index"], kind="stable")
            out = {k: v[order] for k, v in out.items()}
        return out

    def video_path(self, index: int, key: str) -> Path:
        if key not in self.video_keys:
            raise DatasetError(f"{key!r} is not a video of {self.root}; its videos: {list(self.video_keys)}")
        meta = self.episode_meta(index)
        template = str(self.info.get("video_path") or layout.VIDEO_PATH)
        return self.root / template.format(video_key=key, chunk_index=int(meta[f"videos/{key}/chunk_index"]),
                                           file_index=int(meta[f"videos/{key}/file_index"]))

    def frames(self, index: int, key: str) -> tuple[np.ndarray, np.ndarray]:
        """Episode ``index``'s frames of video ``key``: uint8 [T, H, W, 3] and the time of each in
        seconds from the episode start, float64 [T]. DatasetError unless there is exactly one frame
        per row, each within LeRobot's 1e-4 s of the row's ``timestamp``."""
        meta = self.episode_meta(index)
        start = float(meta[f"videos/{key}/from_timestamp"])
        end = float(meta[f"videos/{key}/to_timestamp"])
        images, times = decode(self.video_path(index, key), start, end)
        times = times - start
        stamps = self.columns(index)["timestamp"].astype(np.float64) if "timestamp" in self.features else \
            np.arange(int(meta["length"])) / self.fps
        if len(times) != len(stamps) or np.any(np.abs(times - stamps) > TIMESTAMP_TOLERANCE_S):
            raise DatasetError(f"episode {index}, {key}: decoded {len(times)} frames for {len(stamps)} rows, or at "
                               "other times than the rows' timestamps")
        return images, times

    # -- DROID arrays --------------------------------------------------------------------------

    def droid(self, index: int) -> DroidEpisode:
        """Episode ``index`` as joints, gripper, flange pose and joint-position targets, whichever
        DROID schema names them. DatasetError naming what is missing."""
        cols = self.columns(index)

        def pick(keys: tuple[str, ...], width: int) -> np.ndarray | None:
            for key in keys:
                if key in cols:
                    return np.asarray(cols[key], dtype=np.float64).reshape(len(cols[key]), width)
            return None

        state = pick(("observation.state",), 8)
        joints = pick(_JOINTS, 7)
        gripper = pick(_GRIPPER, 1)
        if joints is None and state is not None:
            joints = state[:, :7]
        if gripper is None and state is not None:
            gripper = state[:, 7:8]
        if joints is None or gripper is None:
            raise DatasetError(f"{self.root}: no joint and gripper state found (looked for {list(_JOINTS)}, "
                               f"{list(_GRIPPER)} and observation.state [8]); its features: {list(self.features)}")
        cartesian = pick(_CARTESIAN, 6)
        if cartesian is None:
            cartesian = np.stack([flange_cartesian(q) for q in joints])
        action_joints, action_gripper, kind = pick(_ACTION_JOINTS, 7), pick(_ACTION_GRIPPER, 1), "joint_position"
        if action_joints is None and "action" in cols:
            action = pick(("action",), 8)
            assert action is not None
            action_joints = action[:, :7]
            action_gripper = action_gripper if action_gripper is not None else action[:, 7:]
        if action_joints is None and "actions" in cols:  # openpi: 7 DROID joint velocities + gripper position
            actions = pick(("actions",), 8)
            assert actions is not None
            action_joints, kind = joints + DROID_JOINT_DELTA * actions[:, :7], "joint_velocity"
            action_gripper = action_gripper if action_gripper is not None else actions[:, 7:]
        if action_joints is None or action_gripper is None:
            raise DatasetError(f"{self.root}: no joint actions found (looked for action.joint_position, action [8], "
                               f"actions [8]); its features: {list(self.features)}")
        tasks = self.episode_meta(index).get("tasks")
        task = str(tasks[0]) if isinstance(tasks, list) and tasks else None
        return DroidEpisode(index, joints, gripper[:, 0], cartesian, action_joints, action_gripper[:, 0], kind, task,
                            self.scene(index))
