"""Every file and folder name of the run-folder format, once.

A run folder holds ``run.json`` (its identity), ``results.jsonl`` (one line per episode),
``summary.json``, ``eval_info.json`` (lerobot-eval's shape), ``videos/``, ``chunks/`` (saved
chunks), ``dataset_episodes/`` (episodes staged for a dataset, ``--record-dataset``), ``ray.log``
(Ray's own output, with ``--executor ray``) and, while a rollout writes into it, ``.lock``. A
suite folder holds one run folder per task × tier and ``suite_summary.json``; offline scoring
adds ``score_<mode>.json``.
"""

from __future__ import annotations

from pathlib import Path

RUN_FILE = "run.json"
RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"
EVAL_INFO_FILE = "eval_info.json"
SUITE_SUMMARY_FILE = "suite_summary.json"
LOCK_FILE = ".lock"
RAY_LOG_FILE = "ray.log"
VIDEOS_DIR = "videos"
CHUNKS_DIR = "chunks"
DATASET_EPISODES_DIR = "dataset_episodes"

RUN_FILES: tuple[str, ...] = (RESULTS_FILE, SUMMARY_FILE, EVAL_INFO_FILE, RUN_FILE, RAY_LOG_FILE)
"""What ``overwrite`` deletes (with ``videos/``, ``dataset_episodes/`` and their ``.tmp`` leftovers); nothing else."""
RUN_DIRS: tuple[str, ...] = (VIDEOS_DIR, DATASET_EPISODES_DIR)
"""Folders ``overwrite`` deletes."""


def episode_video(task: str, episode: int, success: bool, error: bool = False) -> str:
    """An episode's video, relative to the run folder: ``<task>_ep<n>_success.mp4``, ``_failure``
    or, for an episode that ended with an error, ``_error``."""
    outcome = "success" if success else ("error" if error else "failure")
    return f"{VIDEOS_DIR}/{task}_ep{episode}_{outcome}.mp4"


def predicted_video(episode: int) -> str:
    """An episode's predicted frames alone, relative to the run folder."""
    return f"{VIDEOS_DIR}/pred_episode_{episode}.mp4"


def chunk_file(run_dir: Path, episode: int) -> Path:
    """An episode's saved chunks (``--save-chunks``)."""
    return Path(run_dir) / CHUNKS_DIR / f"episode_{episode}.npz"


def staged_episode(episode: int) -> str:
    """An episode staged for a dataset (``--record-dataset``), a folder relative to the run folder."""
    return f"{DATASET_EPISODES_DIR}/episode_{episode}"


def score_file(run_dir: Path, mode: str) -> Path:
    """Offline world-model scores of ``mode`` (``forward_dynamics`` or ``inverse_dynamics``)."""
    return Path(run_dir) / f"score_{mode}.json"
