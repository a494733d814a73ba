"""The LeRobot v3.0 file layout, once: where info, stats, tasks, episodes, data and videos go,
and the extra columns robosim_cosmos adds to the episodes metadata."""

from __future__ import annotations

from pathlib import Path

CODEBASE_VERSION = "v3.0"
CHUNKS_SIZE = 1000
"""Files per chunk folder."""
DATA_FILES_SIZE_MB = 100
VIDEO_FILES_SIZE_MB = 200
CHUNK_FILE = "chunk-{chunk_index:03d}/file-{file_index:03d}"
DATA_PATH = "data/" + CHUNK_FILE + ".parquet"
VIDEO_PATH = "videos/{video_key}/" + CHUNK_FILE + ".mp4"
EPISODES_PATH = "meta/episodes/" + CHUNK_FILE + ".parquet"
INFO_PATH = "meta/info.json"
STATS_PATH = "meta/stats.json"
TASKS_PATH = "meta/tasks.parquet"
DATASET_DIRS: tuple[str, ...] = ("meta", "data", "videos")
"""What one dataset root holds."""
SPLITS: tuple[str, ...] = ("success", "failure")
"""The two datasets of a schema that splits by outcome (Cosmos 3's ``success/`` and ``failure/``)."""
RECORDING_FILE = "recording.json"
"""Beside the dataset(s): what recorded them (schema, codec, source run folders)."""

EXTRA = "robosim/"
"""Prefix of the columns robosim_cosmos adds to ``meta/episodes`` (LeRobot ignores them): the scene
of each episode, so that a replay can rebuild it from its seed."""
EXTRA_COLUMNS: tuple[str, ...] = tuple(EXTRA + name for name in (
    "env_id", "task", "seed", "episode", "instruction_tier", "success", "camera_rig", "camera_poses", "scene"))


def next_file(chunk_index: int, file_index: int, chunks_size: int = CHUNKS_SIZE) -> tuple[int, int]:
    """The (chunk, file) after this one: a chunk holds ``chunks_size`` files."""
    return (chunk_index + 1, 0) if file_index == chunks_size - 1 else (chunk_index, file_index + 1)


def data_file(root: Path, chunk_index: int, file_index: int) -> Path:
    return root / DATA_PATH.format(chunk_index=chunk_index, file_index=file_index)


def video_file(root: Path, key: str, chunk_index: int, file_index: int) -> Path:
    return root / VIDEO_PATH.format(video_key=key, chunk_index=chunk_index, file_index=file_index)


def episodes_file(root: Path, chunk_index: int, file_index: int) -> Path:
    return root / EPISODES_PATH.format(chunk_index=chunk_index, file_index=file_index)
