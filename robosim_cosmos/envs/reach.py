"""The reach task: bring the tcp to a green ball floating over the table (no object to move,
so no predicate; the one task that is not a ``TaskSpec``)."""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from .layout import BASIC_LAYOUT
from .task import FINGER_BODIES, Task, TaskState, side_words


@dataclass(frozen=True)
class ReachState(TaskState):
    target_pos: np.ndarray
    """[3] centre of the target ball."""


REACH_INSTRUCTIONS: dict[str, tuple[str, ...]] = {
    "vague": ("reach out", "move the arm over there", "go to the target"),
    "default": ("move the gripper to the green ball", "reach for the green target",
                "touch the green sphere with the gripper"),
    "specific": ("move the gripper to the green ball floating {side}, {height} cm above the table",
                 "reach for the green target {side} and hold the fingers on it",
                 "bring the tip of the gripper to the green sphere {side}, {height} cm up"),
}
"""Instruction templates by tier, filled with ``{side}`` and ``{height}`` (cm)."""


class Reach(Task):
    """Reach the green ball, drawn anywhere over the original table area 8–30 cm up; success:
    the tcp within 2.5 cm of its centre."""

    name = "reach"
    objects = ("target_marker",)
    max_episode_steps = 150
    success_radius = 0.025

    @property
    def tier_instructions(self) -> dict[str, tuple[str, ...]]:
        return REACH_INSTRUCTIONS

    def bind(self, model: mujoco.MjModel, finger_bodies: tuple[str, str] = FINGER_BODIES) -> None:
        super().bind(model, finger_bodies)
        self._mocap = model.body_mocapid[model.body("target").id]

    def reset(self, data: mujoco.MjData, rng: np.random.Generator) -> str:
        (x0, x1), (y0, y1) = BASIC_LAYOUT.x, BASIC_LAYOUT.y
        xy = np.array([rng.uniform(x0, x1), rng.uniform(y0, y1)])
        data.mocap_pos[self._mocap] = [xy[0], xy[1], rng.uniform(0.08, 0.3)]
        return self._pick_instruction(rng, side=side_words(xy), height=f"{100 * data.mocap_pos[self._mocap][2]:.0f}")

    def target(self, data: mujoco.MjData) -> np.ndarray:
        return data.mocap_pos[self._mocap].copy()

    def is_success(self, data: mujoco.MjData) -> bool:
        return bool(np.linalg.norm(data.site_xpos[self._tcp] - self.target(data)) <= self.success_radius)

    def state(self, data: mujoco.MjData) -> ReachState:
        return ReachState(tcp_pos=self._tcp_pos(data), target_pos=self.target(data))
