"""Cosmos 3 action statistics of a recorded dataset: the 10D ``cosmos_ee`` delta rows
``[tx, ty, tz, r0..r5, grasp]`` its episodes encode to, their q01 / q99 per column over
16-step windows (the JSON form of ``stats/droid_lerobot.json``, loadable with ``--stats PATH``),
and how far they lie from DROID's own.

Each episode's ``cosmos_ee`` poses come from its measured flange poses (``cartesian_position``,
or forward kinematics of the joints), ``T_cosmos_ee = T_flange · Rz(+90°)``; a window of 16 steps
starting at frame t encodes poses t .. t+16 ``backward_framewise`` (DESIGN §2) with the grasp of
each step's gripper command (``grasp = 1 − gripper``). Every window that fits in an episode
counts, so a step is weighted by the windows holding it, as in a training set of chunks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..embodiments import get_embodiment
from ..errors import DatasetError
from ..kinematics.deltas import encode_backward_framewise
from ..kinematics.frames import T_FLANGE_COSMOS_EE, euler_xyz_to_matrix, make_pose
from ..kinematics.gripper import droid_to_grasp
from ..kinematics.normalization import ActionStats, load_stats
from .reader import DatasetReader, DroidEpisode

WINDOW = 16
"""Steps per window: the Cosmos 3 DROID chunk (diffusers path)."""
COLUMNS: tuple[str, ...] = ("tx", "ty", "tz", "r0", "r1", "r2", "r3", "r4", "r5", "grasp")


def cosmos_ee_poses(cartesian: np.ndarray) -> np.ndarray:
    """``cosmos_ee`` poses [T, 4, 4] of DROID flange poses [T, 6] (xyz + extrinsic XYZ Euler)."""
    flange = np.stack([make_pose(euler_xyz_to_matrix(c[3:]), c[:3]) for c in np.asarray(cartesian, np.float64)])
    poses: np.ndarray = flange @ T_FLANGE_COSMOS_EE
    return poses


def episode_rows(episode: DroidEpisode) -> np.ndarray:
    """The raw (not normalized) 10D rows [T − 1, 10] of an episode: step t moves from frame t's
    pose to frame t + 1's with frame t's gripper command."""
    if episode.length < 2:
        return np.zeros((0, len(COLUMNS)))
    deltas = encode_backward_framewise(cosmos_ee_poses(episode.cartesian_position))
    grasp = droid_to_grasp(episode.action_gripper_position[:-1])
    return np.concatenate([deltas, grasp[:, None]], axis=1)


def windowed_rows(rows: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """The rows of every ``window``-step window of one episode, stacked ([W · window, 10]); none
    when the episode has fewer than ``window`` steps."""
    if len(rows) < window:
        return np.zeros((0, rows.shape[1]))
    starts = np.arange(len(rows) - window + 1)
    return rows[(starts[:, None] + np.arange(window)[None, :]).reshape(-1)]


@dataclass(frozen=True)
class WindowStats:
    """The statistics and what they were computed over."""

    stats: ActionStats
    episodes: int
    windows: int
    skipped_short: int


def compute_action_stats(readers: Sequence[DatasetReader], window: int = WINDOW,
                         source: str = "") -> WindowStats:
    """q01, q99, min, max, mean and std per column of every ``window``-step window of every episode
    in ``readers``, as ``droid_lerobot`` quantile stats. DatasetError when no episode is long enough."""
    if window < 1:
        raise DatasetError(f"window must be a positive number of steps, got {window}")
    pooled: list[np.ndarray] = []
    episodes = skipped = 0
    for reader in readers:
        for i in range(len(reader)):
            rows = windowed_rows(episode_rows(reader.droid(i)), window)
            episodes += 1
            if len(rows):
                pooled.append(rows)
            else:
                skipped += 1
    if not pooled:
        raise DatasetError(f"no episode has {window} steps (window); {episodes} episodes read, all shorter")
    raw = np.concatenate(pooled)
    droid = get_embodiment("droid")
    values = {"q01": np.quantile(raw, 0.01, axis=0), "q99": np.quantile(raw, 0.99, axis=0),
              "min": raw.min(axis=0), "max": raw.max(axis=0), "mean": raw.mean(axis=0), "std": raw.std(axis=0)}
    stats = ActionStats("quantile", values, domain_name=droid.domain_name, columns=COLUMNS, source=source)
    return WindowStats(stats, episodes, len(raw) // window, skipped)


def stats_document(result: WindowStats, source: str) -> dict[str, Any]:
    """The JSON form ``stats/droid_lerobot.json`` has (``load_stats`` reads it), with what the
    numbers were computed over."""
    doc = result.stats.to_json_dict()
    doc["source"] = source
    doc["windows"] = {"steps": WINDOW, "count": result.windows, "episodes": result.episodes,
                      "episodes_shorter_than_a_window": result.skipped_short}
    return doc


def compare(ours: ActionStats, reference: ActionStats | None = None) -> list[dict[str, Any]]:
    """Per column: our q01 / q99, the reference's (DROID's shipped stats by default), our span
    over theirs, and how far each of our bounds lies outside theirs in units of their span
    (0 inside)."""
    theirs = reference if reference is not None else load_stats("droid_lerobot")
    table = []
    for i, name in enumerate(COLUMNS):
        lo, hi = float(ours.values["q01"][i]), float(ours.values["q99"][i])
        ref_lo, ref_hi = float(theirs.values["q01"][i]), float(theirs.values["q99"][i])
        span = max(ref_hi - ref_lo, 1e-12)
        table.append({"column": name, "q01": lo, "q99": hi, "droid_q01": ref_lo, "droid_q99": ref_hi,
                      "span_ratio": (hi - lo) / span, "below": max(ref_lo - lo, 0.0) / span,
                      "above": max(hi - ref_hi, 0.0) / span})
    return table


def format_comparison(table: list[dict[str, Any]]) -> str:
    """The comparison as a plain-text table (one row per column)."""
    lines = [f"{'column':6}  {'q01':>10}  {'q99':>10}  {'DROID q01':>10}  {'DROID q99':>10}  {'span/DROID':>10}  "
             f"{'outside':>8}"]
    for row in table:
        outside = row["below"] + row["above"]
        lines.append(f"{row['column']:6}  {row['q01']:10.6f}  {row['q99']:10.6f}  {row['droid_q01']:10.6f}  "
                     f"{row['droid_q99']:10.6f}  {row['span_ratio']:10.3f}  {outside:8.3f}")
    return "\n".join(lines)
