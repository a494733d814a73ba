"""Seeded layouts: where a reset puts each object (and the goal square) without overlaps.

Objects are placed largest footprint first, each uniformly inside the task's :class:`Layout`
(inset by half its footprint radius) and no closer than CLEARANCE_M to any placed footprint;
an object that starts inside a container is dropped onto its floor. Everything is drawn from
the episode's RNG, so a seed gives one layout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from .objects import Instance

CLEARANCE_M = 0.012
"""Smallest gap between two footprints at reset."""
DROP_GAP_M = 0.002
"""Objects that start inside another are put this far above its floor (not yet touching)."""

class NoLayoutError(ConfigError):
    """No overlap-free layout was found for the objects at their drawn sizes."""


Pose = tuple[np.ndarray, float]
"""Base position [3] and yaw (rad)."""


@dataclass(frozen=True)
class Layout:
    """Where a reset may put things (robot base frame, metres): the table area ``x`` × ``y`` and
    how far a goal square lies from the object pushed onto it."""

    x: tuple[float, float] = (0.38, 0.70)
    y: tuple[float, float] = (-0.27, 0.27)
    region_distance: tuple[float, float] = (0.11, 0.16)


TABLETOP_LAYOUT = Layout()
"""The compositional tasks' area: reachable with the tool pointing down."""
BASIC_LAYOUT = Layout(x=(0.42, 0.64), y=(-0.2, 0.2), region_distance=(0.10, 0.16))
"""The original four tasks' area (reach, lift, cube in bowl, push)."""


def sample_layout(rng: np.random.Generator, items: dict[str, Instance], layout: Layout, starts_in: dict[str, str],
                  region_for: str | None, task: str) -> tuple[dict[str, Pose], np.ndarray | None]:
    """Poses for every slot and the goal square's centre [2] (placed near slot ``region_for``;
    None: no square), no two footprints within CLEARANCE_M; deterministic in ``rng``."""
    for _ in range(200):
        placed = _scatter(rng, items, layout, starts_in, region_for)
        if placed is None:
            continue
        poses, region = placed
        for slot, container in starts_in.items():
            base, yaw = poses[container]
            box = items[container]
            floor = (box.kind.container.floor if box.kind.container else 0.0) * box.scale
            # lengthwise in the container, so a long object lies flat on its floor
            poses[slot] = (base + np.array([0.0, 0.0, floor + DROP_GAP_M]), yaw + float(rng.uniform(-0.1, 0.1)))
        return poses, region
    raise NoLayoutError(f"task {task!r}: no overlap-free layout found in 200 tries")


def _scatter(rng: np.random.Generator, items: dict[str, Instance], layout: Layout, starts_in: dict[str, str],
             region_for: str | None) -> tuple[dict[str, Pose], np.ndarray | None] | None:
    """One try at placing every object on the table (None: it did not fit)."""
    placed: list[tuple[np.ndarray, float]] = []  # occupied circles
    poses: dict[str, Pose] = {}
    region = None
    for slot in sorted(items, key=lambda s: -items[s].kind.footprint_radius):
        if slot in starts_in:
            continue
        item = items[slot]
        r = item.kind.radius_at(item.scale)
        xy = _free_spot(rng, layout, r, placed)
        if xy is None:
            return None
        placed.append((xy, r))
        poses[slot] = (np.array([xy[0], xy[1], 0.0]), float(rng.uniform(-np.pi, np.pi)))
        if slot == region_for:
            region = _place_region(rng, layout, xy, r, placed)
            if region is None:
                return None
    return poses, region


def _free_spot(rng: np.random.Generator, layout: Layout, r: float, placed: list[tuple[np.ndarray, float]],
               tries: int = 100) -> np.ndarray | None:
    (x0, x1), (y0, y1) = layout.x, layout.y
    for _ in range(tries):
        xy = np.array([rng.uniform(x0 + r * 0.5, x1 - r * 0.5), rng.uniform(y0 + r * 0.5, y1 - r * 0.5)])
        if all(np.linalg.norm(xy - p) >= r + q + CLEARANCE_M for p, q in placed):
            return xy
    return None


def _place_region(rng: np.random.Generator, layout: Layout, xy: np.ndarray, r: float,
                  placed: list[tuple[np.ndarray, float]]) -> np.ndarray | None:
    """A goal square ``layout.region_distance`` from the subject with a clear path (the path and
    the square are reserved so no other object stands in the way)."""
    (x0, x1), (y0, y1) = layout.x, layout.y
    for _ in range(100):
        angle = rng.uniform(-np.pi, np.pi)
        goal = xy + rng.uniform(*layout.region_distance) * np.array([np.cos(angle), np.sin(angle)])
        if not (x0 <= goal[0] <= x1 and y0 <= goal[1] <= y1):
            continue
        # the pusher stands behind the subject, so that side is reserved too
        behind = xy - 0.09 * (goal - xy) / np.linalg.norm(goal - xy)
        path = [behind, *(xy + t * (goal - xy) for t in (0.5, 1.0))]
        if all(np.linalg.norm(p - c) >= r + q + CLEARANCE_M for p in path for c, q in placed[:-1]):
            placed.extend((p, r) for p in path)
            return goal
    return None
