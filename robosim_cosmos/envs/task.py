"""What every task is to the env: it binds to a compiled model (ids looked up once), ``reset``
places its objects from the episode RNG and returns the instruction, ``is_success`` and
``progress`` read the physics state, and ``state`` exposes privileged facts for the expert.

Tasks are :class:`~robosim_cosmos.envs.task_spec.TaskSpec` data run by ``SpecTask``; the reach
task (a floating target, no object) is the one small subclass of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import mujoco
import numpy as np

FINGER_BODIES: tuple[str, str] = ("left_finger", "right_finger")
"""Finger bodies of the project's grippers (others pass theirs to ``Task.bind``)."""


@dataclass(frozen=True)
class TaskState:
    """Privileged task facts in the world (= robot base) frame, metres; not an observation."""

    tcp_pos: np.ndarray
    """[3] point between the fingertips."""


def subtree(model: mujoco.MjModel, root: int) -> np.ndarray:
    """Ids of ``root`` and every body below it."""
    ids = [b for b in range(model.nbody) if b == root or _has_ancestor(model, b, root)]
    return np.array(ids, dtype=int)


def _has_ancestor(model: mujoco.MjModel, body: int, ancestor: int) -> bool:
    while body > 0:
        body = int(model.body_parentid[body])
        if body == ancestor:
            return True
    return False


def side_words(xy: np.ndarray) -> str:
    """Where a point is, seen from the robot: "on the left", "on the right" or "in the middle"."""
    if xy[1] > 0.07:
        return "on the left"
    if xy[1] < -0.07:
        return "on the right"
    return "in the middle"


class Task:
    """Base class; subclasses set the class attributes and implement the hooks."""

    name: ClassVar[str]
    objects: ClassVar[tuple[str, ...]]
    """Scene object files (``envs/objects/<name>.xml``) the task needs."""
    instances: ClassVar[tuple[tuple[str, str], ...]] = ()
    """Library objects as (slot, kind) pairs (``envs/objects/library``)."""
    max_episode_steps: ClassVar[int]
    tier: str = "default"
    """The instruction tier ``reset`` fills (set by the env)."""

    @property
    def tier_instructions(self) -> dict[str, tuple[str, ...]]:
        """Instruction templates by tier (vague, default, specific); every tier has as many."""
        raise NotImplementedError

    def bind(self, model: mujoco.MjModel, finger_bodies: tuple[str, str] = FINGER_BODIES) -> None:
        """Look ids up once. ``finger_bodies``: the gripper's left and right finger bodies
        (``RobotDescription.finger_bodies``); a body in either's subtree counts as that finger."""
        self.model = model
        self._tcp = model.site("tcp").id
        self._left = subtree(model, model.body(finger_bodies[0]).id)
        self._right = subtree(model, model.body(finger_bodies[1]).id)

    def reset(self, data: mujoco.MjData, rng: np.random.Generator) -> str:
        raise NotImplementedError

    def is_success(self, data: mujoco.MjData) -> bool:
        raise NotImplementedError

    def state(self, data: mujoco.MjData) -> TaskState:
        """Privileged task state (world frame = robot base frame)."""
        return TaskState(tcp_pos=self._tcp_pos(data))

    def _tcp_pos(self, data: mujoco.MjData) -> np.ndarray:
        return data.site_xpos[self._tcp].copy()

    def progress(self, data: mujoco.MjData) -> float:
        """Subtask progress in [0, 1] (single-step tasks: 1 on success)."""
        return float(self.is_success(data))

    def target_bodies(self) -> tuple[int, ...]:
        """Bodies the task means the robot to move (for the wrong-object and drop events)."""
        return ()

    def mesh_ids(self) -> list[int]:
        """Meshes a reset may change (library objects are rescaled every reset)."""
        return []

    def movable_bodies(self) -> tuple[int, ...]:
        """Every free-floating body of the task's objects (for the knocked-off event)."""
        m = self.model
        return tuple(int(m.jnt_bodyid[j]) for j in range(m.njnt) if m.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE)

    def _pick_instruction(self, rng: np.random.Generator, **words: str) -> str:
        # every tier has as many templates, so the draw (and all that follows) is the same in each
        templates = self.tier_instructions[self.tier]
        return templates[int(rng.integers(len(templates)))].format(**words)

    def _fingers_touching(self, data: mujoco.MjData, geom: int) -> tuple[bool, bool]:
        """Whether the left and the right finger touch ``geom`` now."""
        pairs = data.contact.geom[: data.ncon]
        if pairs.size == 0:
            return False, False
        hit = pairs == geom
        rows = hit.any(axis=1)
        if not rows.any():
            return False, False
        others = np.where(hit[rows, 0], pairs[rows, 1], pairs[rows, 0])
        bodies = self.model.geom_bodyid[others]
        return bool(np.isin(bodies, self._left).any()), bool(np.isin(bodies, self._right).any())
