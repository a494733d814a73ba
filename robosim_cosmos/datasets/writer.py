"""Build LeRobot v3.0 datasets from staged episodes, with pyarrow and PyAV (not lerobot: its
releases pin torch below ours).

:func:`write_dataset` writes one dataset root: ``data/`` (every non-video feature and the five
index columns, many episodes per parquet file, one row group per episode), ``videos/<key>/`` (the
episodes' staged streams concatenated without re-encoding, many per file), ``meta/episodes/``
(one row per episode: its files, frame range, video time span, statistics and the scene columns
of :data:`~.layout.EXTRA_COLUMNS`), ``meta/tasks.parquet``, ``meta/stats.json`` and
``meta/info.json`` (written last). :func:`build_datasets` writes a recording's dataset, or its
``success/`` and ``failure/`` datasets, into a folder, replacing what an earlier build of the
same recording left there and nothing else.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._optional import require
from .._version import __version__
from ..errors import DatasetError
from . import layout
from .feature_stats import ImageHistogram, Stats, array_stats
from .schemas import Feature, Schema
from .signals import EpisodeSignals
from .staging import StagedEpisode, VideoSpec
from .video import concatenate, probe

_MB = 1024 * 1024
RECORDING_FORMAT = 1


@dataclass(frozen=True)
class DatasetSummary:
    """One dataset written: its root, episodes, frames and tasks, and its size on disk in bytes."""

    root: Path
    episodes: int
    frames: int
    tasks: int
    bytes: int

    def to_json(self) -> dict[str, Any]:
        return {"episodes": self.episodes, "frames": self.frames, "tasks": self.tasks, "bytes": self.bytes}


def _pa() -> Any:
    return require("pyarrow")


def _pq() -> Any:
    return require("pyarrow.parquet")


def _column(feature: Feature, values: np.ndarray) -> Any:
    """An arrow column as LeRobot types it: shape [1] a scalar, [n] a fixed-size list."""
    pa = _pa()
    if feature.dtype == "string":
        return pa.array([str(v) for v in values], type=pa.string())
    if feature.dtype == "bool":
        return pa.array(np.asarray(values, dtype=bool).reshape(-1), type=pa.bool_())
    array = np.asarray(values, dtype=np.dtype(feature.dtype))
    if feature.shape == (1,):
        return pa.array(array.reshape(-1))
    width = feature.shape[0]
    if array.ndim != 2 or array.shape[1] != width:
        raise DatasetError(f"{feature.key}: values of shape {array.shape}, the feature holds [{width}] per frame")
    return pa.FixedSizeListArray.from_arrays(pa.array(array.reshape(-1)), width)


def _frame_columns(schema: Schema, signals: EpisodeSignals, episode_index: int, first_index: int,
                   task_index: int) -> dict[str, np.ndarray]:
    """Every non-video column of one episode, by feature key."""
    n = signals.length
    index: dict[str, np.ndarray] = {
        "index.timestamp": (np.arange(n) / schema.fps).astype(np.float32),
        "index.frame_index": np.arange(n, dtype=np.int64),
        "index.episode_index": np.full(n, episode_index, dtype=np.int64),
        "index.index": np.arange(first_index, first_index + n, dtype=np.int64),
        "index.task_index": np.full(n, task_index, dtype=np.int64),
    }
    return {f.key: index[f.source] if f.source in index else signals.column(f.source) for f in schema.columns}


def _stats_columns(stats: dict[str, Stats]) -> dict[str, Any]:
    return {f"stats/{key}/{name}": value for key, values in stats.items() for name, value in values.items()}


class _DataFiles:
    """Parquet data files filled episode by episode (one row group each), a new file once the
    current one would pass ``limit_mb``."""

    def __init__(self, root: Path, limit_mb: float) -> None:
        self.root, self.limit = root, limit_mb * _MB
        self.chunk = self.file = 0
        self._writer: Any = None
        self._bytes = 0

    def add(self, table: Any) -> tuple[int, int]:
        if self._writer is not None and self._bytes + table.nbytes > self.limit:
            self.close()
            self.chunk, self.file = layout.next_file(self.chunk, self.file)
        if self._writer is None:
            path = layout.data_file(self.root, self.chunk, self.file)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = _pq().ParquetWriter(str(path), table.schema, compression="snappy")
            self._bytes = 0
        self._writer.write_table(table)
        self._bytes += table.nbytes
        return self.chunk, self.file

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _video_files(schema: Schema, root: Path, episodes: Sequence[StagedEpisode],
                 limit_mb: float) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Concatenate each camera's staged streams into the dataset's video files; per episode its
    ``videos/<key>/...`` columns, and each key's info.json ``info``."""
    rows: list[dict[str, Any]] = [{} for _ in episodes]
    infos: dict[str, Any] = {}
    for feature in schema.videos:
        groups: list[list[int]] = [[]]
        size = 0
        for i, episode in enumerate(episodes):
            part = episode.video(feature.camera).stat().st_size
            if groups[-1] and size + part > limit_mb * _MB:
                groups.append([])
                size = 0
            groups[-1].append(i)
            size += part
        chunk = file = 0
        for g, members in enumerate(groups):
            if g:
                chunk, file = layout.next_file(chunk, file)
            out = layout.video_file(root, feature.key, chunk, file)
            out.parent.mkdir(parents=True, exist_ok=True)
            parts = [(episodes[i].video(feature.camera), episodes[i].length) for i in members]
            for i, (start, end) in zip(members, concatenate(parts, out, schema.fps), strict=True):
                rows[i].update({f"videos/{feature.key}/chunk_index": chunk, f"videos/{feature.key}/file_index": file,
                                f"videos/{feature.key}/from_timestamp": start,
                                f"videos/{feature.key}/to_timestamp": end})
        infos[feature.key] = probe(layout.video_file(root, feature.key, 0, 0)).info_json()
    return rows, infos


def _check_staged(schema: Schema, episodes: Sequence[StagedEpisode]) -> VideoSpec:
    spec = episodes[0].spec
    for episode in episodes:
        if episode.spec != spec:
            raise DatasetError(f"{episode.path} was staged as {episode.spec.describe()}, {episodes[0].path} as "
                               f"{spec.describe()}: one dataset holds one encoding; record them again alike")
    if spec.size != schema.image_size or spec.fps != schema.fps:
        raise DatasetError(f"the episodes were staged as {spec.describe()}; schema {schema.name} needs "
                           f"{schema.image_size[0]}x{schema.image_size[1]} at {schema.fps} fps")
    return spec


def _tasks_table(tasks: list[str]) -> Any:
    """``meta/tasks.parquet`` as pandas writes a frame indexed by ``task`` with a ``task_index``
    column (what LeRobot writes and reads back with ``pd.read_parquet``)."""
    pa = _pa()
    table = pa.table({"task_index": pa.array(range(len(tasks)), type=pa.int64()), "task": pa.array(tasks, pa.string())})
    pandas_meta = {
        "index_columns": ["task"],
        "column_indexes": [{"name": None, "field_name": None, "pandas_type": "unicode", "numpy_type": "object",
                            "metadata": {"encoding": "UTF-8"}}],
        "columns": [
            {"name": "task_index", "field_name": "task_index", "pandas_type": "int64", "numpy_type": "int64",
             "metadata": None},
            {"name": "task", "field_name": "task", "pandas_type": "unicode", "numpy_type": "object", "metadata": None},
        ],
        "creator": {"library": "pyarrow", "version": pa.__version__},
        "pandas_version": "2.2.3",
    }
    return table.replace_schema_metadata({"pandas": json.dumps(pandas_meta)})


def _extra_columns(episode: StagedEpisode) -> dict[str, Any]:
    facts = episode.facts
    values = {"env_id": facts.env_id, "task": facts.task, "seed": int(facts.seed), "episode": int(facts.episode),
              "instruction_tier": facts.instruction_tier, "success": bool(facts.success),
              "camera_rig": facts.camera_rig, "camera_poses": json.dumps(facts.camera_poses, sort_keys=True),
              "scene": json.dumps(facts.scene, sort_keys=True)}
    return {layout.EXTRA + name: value for name, value in values.items()}


def write_dataset(root: Path, schema: Schema, episodes: Sequence[StagedEpisode], *,
                  data_files_size_in_mb: float = layout.DATA_FILES_SIZE_MB,
                  video_files_size_in_mb: float = layout.VIDEO_FILES_SIZE_MB) -> DatasetSummary:
    """Write ``episodes`` (in this order: episode_index 0, 1, ...) as one LeRobot v3.0 dataset in
    ``root`` (which must not hold one). The task string of an episode is its instruction."""
    pa, pq = _pa(), _pq()
    if not episodes:
        raise DatasetError(f"no episodes to write into {root}")
    if (root / layout.INFO_PATH).exists():
        raise DatasetError(f"{root} already holds a dataset (meta/info.json)")
    _check_staged(schema, episodes)
    tasks: list[str] = list(dict.fromkeys(e.facts.instruction for e in episodes))
    task_of = {task: i for i, task in enumerate(tasks)}
    numeric = [f for f in schema.columns if f.dtype != "string"]
    pooled: dict[str, list[np.ndarray]] = {f.key: [] for f in numeric}
    histograms = {f.key: ImageHistogram() for f in schema.videos}
    video_rows, video_infos = _video_files(schema, root, episodes, video_files_size_in_mb)
    data = _DataFiles(root, data_files_size_in_mb)
    meta_rows: list[dict[str, Any]] = []
    total = 0
    try:
        for i, episode in enumerate(episodes):
            signals = episode.signals()
            if signals.length != episode.length:
                raise DatasetError(f"{episode.path}: {signals.length} frames of signals, {episode.length} recorded")
            columns = _frame_columns(schema, signals, i, total, task_of[episode.facts.instruction])
            table = pa.table({f.key: _column(f, columns[f.key]) for f in schema.columns})
            chunk, file = data.add(table)
            stats: dict[str, Stats] = {}
            for f in numeric:
                values = np.asarray(columns[f.key], dtype=np.float64)
                pooled[f.key].append(values)
                stats[f.key] = array_stats(values)
            for f in schema.videos:
                histogram = episode.histogram(f.camera)
                histograms[f.key] = histograms[f.key].merged(histogram)
                stats[f.key] = histogram.stats()
            meta_rows.append({
                "episode_index": i, "tasks": [episode.facts.instruction], "length": signals.length,
                "data/chunk_index": chunk, "data/file_index": file,
                "dataset_from_index": total, "dataset_to_index": total + signals.length,
                **video_rows[i], "meta/episodes/chunk_index": 0, "meta/episodes/file_index": 0,
                **_stats_columns(stats), **_extra_columns(episode),
            })
            total += signals.length
    finally:
        data.close()
    episodes_path = layout.episodes_file(root, 0, 0)
    episodes_path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(meta_rows), str(episodes_path))
    pq.write_table(_tasks_table(tasks), str(root / layout.TASKS_PATH))
    dataset_stats = {key: array_stats(np.concatenate(values)) for key, values in pooled.items()}
    dataset_stats.update({key: histogram.stats() for key, histogram in histograms.items()})
    _write_json(root / layout.STATS_PATH, dataset_stats)
    features: dict[str, Any] = {}
    for f in schema.all_features:
        features[f.key] = f.info()
        if f.is_video:
            features[f.key]["info"] = video_infos[f.key]
    info = {
        "codebase_version": layout.CODEBASE_VERSION, "robot_type": schema.robot_type,
        "total_episodes": len(episodes), "total_frames": total, "total_tasks": len(tasks),
        "chunks_size": layout.CHUNKS_SIZE, "data_files_size_in_mb": data_files_size_in_mb,
        "video_files_size_in_mb": video_files_size_in_mb, "fps": schema.fps,
        "splits": {"train": f"0:{len(episodes)}"}, "data_path": layout.DATA_PATH,
        "video_path": layout.VIDEO_PATH if schema.videos else None, "features": features,
    }
    _write_json(root / layout.INFO_PATH, info)
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    return DatasetSummary(root, len(episodes), total, len(tasks), size)


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, path)


@dataclass(frozen=True)
class Recording:
    """What ``recording.json`` says about a folder of datasets: the schema and video encoding, the
    run folders the episodes were staged in, and each dataset written (by split; ``""`` when the
    schema writes one)."""

    folder: Path
    schema: str
    video: VideoSpec
    sources: tuple[str, ...]
    datasets: dict[str, DatasetSummary]

    def dataset_roots(self) -> dict[str, Path]:
        return {split: summary.root for split, summary in self.datasets.items()}


def _sources(paths: Sequence[str | os.PathLike[str]]) -> tuple[str, ...]:
    return tuple(sorted(str(Path(p).resolve()) for p in paths))


def _check_target(folder: Path, sources: tuple[str, ...], replace_other: bool) -> None:
    """DatasetError unless ``folder`` is absent, empty, or holds datasets of the same recording
    (``replace_other``: of any recording robosim_cosmos wrote)."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise DatasetError(f"{folder} is a file; name a folder for the dataset")
    marker = folder / layout.RECORDING_FILE
    if not marker.is_file():
        if any(folder.iterdir()):
            raise DatasetError(f"{folder} is not empty and holds no {layout.RECORDING_FILE} (it was not written by "
                               "robosim-cosmos record); name an empty or new folder for the dataset")
        return
    try:
        recorded = tuple(json.loads(marker.read_text())["sources"])
    except (OSError, ValueError, KeyError, TypeError):
        raise DatasetError(f"{marker} is unreadable; delete {folder} or name another folder") from None
    if tuple(sorted(recorded)) != sources and not replace_other:
        raise DatasetError(f"{folder} holds the dataset of other runs ({', '.join(recorded)}); name another folder, "
                           "or --overwrite (overwrite=True) to replace it")


def build_datasets(folder: str | os.PathLike[str], schema: Schema, episodes: Sequence[StagedEpisode],
                   sources: Sequence[str | os.PathLike[str]], *, replace_other: bool = False,
                   command: Sequence[str] = ()) -> Recording:
    """Write ``episodes`` into ``folder``: one dataset, or ``success/`` and ``failure/`` when the
    schema splits by outcome (a split without episodes is not written). ``sources``: the run
    folders the episodes come from; a folder holding another recording's datasets is refused
    unless ``replace_other``, and one holding anything else always. A build that was killed leaves
    ``recording.json`` marked ``building``; the next build replaces it."""
    folder = Path(folder)
    keys = _sources(sources)
    _check_target(folder, keys, replace_other)
    if not episodes:
        raise DatasetError(f"no recorded episode to write into {folder} (every episode ended with an error?)")
    spec = _check_staged(schema, episodes)
    folder.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {"format": RECORDING_FORMAT, "status": "building", "schema": schema.name,
                           "video": spec.to_json(), "sources": list(keys), "command": list(command),
                           "robosim_cosmos": __version__, "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    _write_json(folder / layout.RECORDING_FILE, doc)
    groups: dict[str, list[StagedEpisode]]
    if schema.split_by_outcome:
        groups = {split: [e for e in episodes if e.facts.success == (split == "success")] for split in layout.SPLITS}
    else:
        groups = {"": list(episodes)}
    staging = folder / ".building"
    shutil.rmtree(staging, ignore_errors=True)
    written: dict[str, DatasetSummary] = {}
    for split, members in groups.items():
        if members:
            written[split] = write_dataset(staging / split if split else staging, schema, members)
    for name in (*layout.SPLITS, *layout.DATASET_DIRS):  # what an earlier build of this recording wrote
        old = folder / name
        if old.is_dir():
            shutil.rmtree(old)
    summaries: dict[str, DatasetSummary] = {}
    for split, summary in written.items():
        for name in ([split] if split else list(layout.DATASET_DIRS)):
            if (staging / name).exists():
                os.replace(staging / name, folder / name)
        root = folder / split if split else folder
        summaries[split] = DatasetSummary(root, summary.episodes, summary.frames, summary.tasks, summary.bytes)
    shutil.rmtree(staging, ignore_errors=True)
    doc.update(status="complete", datasets={split or ".": s.to_json() for split, s in summaries.items()})
    _write_json(folder / layout.RECORDING_FILE, doc)
    return Recording(folder, schema.name, spec, keys, summaries)
