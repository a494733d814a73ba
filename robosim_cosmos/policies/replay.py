"""Replay policy: plays action chunks from a file, in order, cycling back to the first.

``replay:PATH`` in :func:`robosim_cosmos.create_policy`. The file takes any form
``robosim-cosmos decode`` accepts (see :mod:`robosim_cosmos.action_files`). The layout
comes from the ``layout`` argument (``--policy-arg layout=joint_vel``), else the file's
``"layout"`` key, else the row width (10 -> ``cosmos_ee_delta``, 8 -> ``joint_pos``: 8-wide rows
are only velocities when ``joint_vel`` is named).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..action_files import load_action_file
from ..errors import InvalidInputError
from ..policy_api import LAYOUT_OF_WIDTH, LAYOUT_WIDTH, LAYOUTS, ActionChunk, Layout, Policy


class ReplayPolicy(Policy):
    """Returns the file's chunks one per call; after the last chunk it starts again at the
    first (``reset()`` also rewinds). Observations and the instruction are ignored.

    path: the action file. layout: override the file's/width's layout (must match the width).
    """

    embodiment: str = "droid"
    needs_images: bool = False

    def __init__(self, path: str | os.PathLike, layout: Layout | None = None) -> None:
        actions = load_action_file(path)
        width = actions.width
        declared = layout or actions.layout
        if declared is None:
            if width not in LAYOUT_OF_WIDTH:
                raise InvalidInputError(
                    f"{actions.path}: rows are {width} wide; a replay file needs 10 (cosmos_ee_delta: "
                    "normalized [tx, ty, tz, r0..r5, grasp]) or 8 (joint_pos: 7 joint angles + gripper; "
                    "joint_vel when named) columns, or a 'layout' key"
                )
            declared = LAYOUT_OF_WIDTH[width]
        if declared not in LAYOUT_WIDTH:
            raise InvalidInputError(f"unknown layout {declared!r}; valid: {list(LAYOUTS)}")
        if LAYOUT_WIDTH[declared] != width:
            raise InvalidInputError(
                f"{actions.path}: layout {declared!r} needs {LAYOUT_WIDTH[declared]} columns, rows are {width} wide"
            )
        self.path = actions.path
        self.layout: Layout = declared
        self.chunks = [np.asarray(c, dtype=np.float32) for c in actions.chunks]
        self.chunk_size: int = max(len(c) for c in self.chunks)
        self._next = 0

    def reset(self) -> None:
        self._next = 0

    def get_actions(self, observation: Mapping[str, Any], instruction: str) -> ActionChunk:
        t0 = time.perf_counter()
        index = self._next
        self._next = (self._next + 1) % len(self.chunks)
        return ActionChunk(
            actions=self.chunks[index].copy(),
            layout=self.layout,
            embodiment=self.embodiment,
            info={"chunk_index": index, "latency_s": time.perf_counter() - t0},
        )

    def __repr__(self) -> str:
        return f"ReplayPolicy({str(self.path)!r}, layout={self.layout!r}, chunks={len(self.chunks)})"
