"""Forecasts: a chunk simulated on copies of the physics state, exactly as ``step`` would run
it, and the memo that lets the following steps reuse it instead of simulating twice.

Deterministic physics makes a forecast the world the env shows if the same rows are stepped
next: a perfect predictor to score world models against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import mujoco
import numpy as np

from .control import Command, Controller, StepTargets


@dataclass(frozen=True)
class Forecast:
    """A chunk simulated on a copy of the state (the env itself is untouched).

    frames: uint8 [n + 1, H, W, 3] from the requested camera (frame 0 = the start state),
    or None without a camera; joint_positions: float64 [n, 7] observed after each step;
    ee_poses: float64 [n, 4, 4] observed ``cosmos_ee`` pose after each step.
    """

    frames: np.ndarray | None
    joint_positions: np.ndarray
    ee_poses: np.ndarray


@dataclass
class _Memo:
    """The steps of the last forecast, for ``step`` to take instead of simulating them again.

    Entry i holds the physics state before row i (``before[i]``, mj_getState), the row, the
    controller's targets and the full data after it (``after[i]``), and the camera frame after it.
    A step replays entry ``next`` only when state, command and action are bitwise the same, so
    the env's course is exactly what simulating would give.
    """

    rows: np.ndarray
    before: np.ndarray
    start_command: Command
    targets: list[StepTargets]
    after: list[mujoco.MjData]
    camera: str | None
    frames: np.ndarray | None
    next: int = 0


Read = Callable[[mujoco.MjData], np.ndarray]
"""Something observed in a state: the arm's joints [7], the ``cosmos_ee`` pose [4, 4], an image."""


class Forecaster:
    """Simulates chunks on reusable copies of one model's data and replays their steps."""

    def __init__(self, model: mujoco.MjModel, controller: Controller, joints: Read, ee_pose: Read) -> None:
        self.model, self.controller, self.joints, self.ee_pose = model, controller, joints, ee_pose
        self._scratch: list[mujoco.MjData] = []
        self._memo: _Memo | None = None
        self._sig = mujoco.mjtState.mjSTATE_INTEGRATION
        self._size = mujoco.mj_stateSize(model, self._sig)

    def clear(self) -> None:
        self._memo = None

    def forecast(self, data: mujoco.MjData, cmd: Command, rows: np.ndarray, camera: str | None,
                 render: Read | None) -> Forecast:
        """Simulate ``rows`` [n, action dim] from ``data`` and ``cmd``, rendering each state
        with ``render`` (None: no frames); remembered for :meth:`replay`."""
        n = len(rows)
        while len(self._scratch) < n + 1:
            self._scratch.append(mujoco.MjData(self.model))
        pool = self._scratch
        mujoco.mj_copyData(pool[0], self.model, data)
        before = np.empty((n, self._size))
        start, targets = cmd, []
        renders = [render(pool[0])] if render is not None else []
        qs, poses = np.empty((n, 7)), np.empty((n, 4, 4))
        for i in range(n):
            mujoco.mj_getState(self.model, pool[i], before[i], self._sig)
            step = self.controller.targets(self.controller.check(rows[i]), cmd, self.joints(pool[i]))
            targets.append(step)
            cmd = step.command
            mujoco.mj_copyData(pool[i + 1], self.model, pool[i])
            self.controller.actuate(pool[i + 1], cmd)
            qs[i], poses[i] = self.joints(pool[i + 1]), self.ee_pose(pool[i + 1])
            if render is not None:
                renders.append(render(pool[i + 1]))
        frames = np.stack(renders) if renders else None
        self._memo = _Memo(rows.copy(), before, start, targets, pool[1 : n + 1], camera, frames)
        return Forecast(frames, qs, poses)

    def replay(self, data: mujoco.MjData, cmd: Command,
               action: np.ndarray) -> tuple[StepTargets, tuple[str, np.ndarray] | None] | None:
        """The forecast's result for this step, when state, command and action match it exactly:
        ``data`` is set to the state after it; also the camera and frame it rendered (if any)."""
        memo = self._memo
        if memo is None or memo.next >= len(memo.targets):
            return None
        i = memo.next
        expected_cmd = memo.start_command if i == 0 else memo.targets[i - 1].command
        state = np.empty(self._size)
        mujoco.mj_getState(self.model, data, state, self._sig)
        if not (cmd is expected_cmd and np.array_equal(action, memo.rows[i]) and np.array_equal(state, memo.before[i])):
            return None
        mujoco.mj_copyData(data, self.model, memo.after[i])
        memo.next += 1
        frame = (memo.camera, memo.frames[i + 1]) if memo.frames is not None and memo.camera is not None else None
        return memo.targets[i], frame
