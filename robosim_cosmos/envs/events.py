"""Per-episode events read from physics after every step (what RoboLab reports beside success).

- ``object_dropped``: a target object both fingers held slips out while the gripper is still
  commanded closed and the object is off its resting height (a release is not a drop);
- ``table_hit``: the gripper touches the table top (counted once per touch);
- ``wrong_object_grasped``: the gripper, commanded closed, holds an object the task does not
  move between both fingers (open fingers brushing a bowl's walls on the way in do not count);
- ``object_knocked_off``: an object falls below the table top (counted once per object).
"""

from __future__ import annotations

from typing import Literal, get_args

import mujoco
import numpy as np

EventName = Literal["object_dropped", "table_hit", "wrong_object_grasped", "object_knocked_off"]
EVENTS: tuple[EventName, ...] = get_args(EventName)

CLOSED_COMMAND = 0.5
"""Gripper commands at or above this (DROID: 0 open .. 1 closed) mean "keep holding"."""
AIRBORNE_M = 0.01
"""A drop needs the object this far above where it rested at reset."""
OFF_TABLE_Z_M = -0.05
"""An object whose origin is this far below the table top has left the table."""


class EventDetector:
    """Finds the events of one step from the contacts and body positions.

    movable: body ids of the free objects; targets: those the task means to move;
    left/right: body ids of each finger's subtree; gripper: body ids of the whole gripper;
    table_geom: the table top's geom id.
    """

    def __init__(self, model: mujoco.MjModel, movable: tuple[int, ...], targets: tuple[int, ...],
                 left: np.ndarray, right: np.ndarray, gripper: np.ndarray, table_geom: int) -> None:
        self.model = model
        self.movable = np.asarray(movable, dtype=int)
        self.targets = set(int(t) for t in targets)
        self.left, self.right, self.gripper = set(left.tolist()), set(right.tolist()), set(gripper.tolist())
        self.table_geom = int(table_geom)
        self.counts: dict[str, int] = dict.fromkeys(EVENTS, 0)
        self._held: set[int] = set()
        self._wrong: set[int] = set()
        self._touching_table = False
        self._off: set[int] = set()
        self._rest_z: dict[int, float] = {}

    def reset(self, data: mujoco.MjData) -> None:
        self.counts = dict.fromkeys(EVENTS, 0)
        self._held, self._off, self._wrong = self.held(data), set(), set()
        self._touching_table = self.gripper_on_table(data)
        self._rest_z = {int(b): float(data.xpos[b][2]) for b in self.movable}

    def held(self, data: mujoco.MjData) -> set[int]:
        """Movable bodies both fingers touch now."""
        left, right = set(), set()
        bodies = self.model.geom_bodyid
        for pair in data.contact.geom[: data.ncon]:
            a, b = int(bodies[pair[0]]), int(bodies[pair[1]])
            for finger, other in ((a, b), (b, a)):
                if finger in self.left:
                    left.add(other)
                elif finger in self.right:
                    right.add(other)
        return {int(b) for b in self.movable if b in left and b in right}

    def gripper_on_table(self, data: mujoco.MjData) -> bool:
        bodies = self.model.geom_bodyid
        for pair in data.contact.geom[: data.ncon]:
            if self.table_geom in (pair[0], pair[1]):
                other = pair[1] if pair[0] == self.table_geom else pair[0]
                if int(bodies[other]) in self.gripper:
                    return True
        return False

    def update(self, data: mujoco.MjData, gripper_command: float) -> tuple[EventName, ...]:
        """Events that began with this step (also added to :attr:`counts`)."""
        found: list[EventName] = []
        held = self.held(data)
        for body in self._held - held:
            airborne = data.xpos[body][2] > self._rest_z.get(body, 0.0) + AIRBORNE_M
            if body in self.targets and gripper_command >= CLOSED_COMMAND and airborne:
                found.append("object_dropped")
        closed = gripper_command >= CLOSED_COMMAND
        wrong = {b for b in held if b not in self.targets} if closed else set()
        if wrong - self._wrong:
            found.append("wrong_object_grasped")
        self._held, self._wrong = held, wrong
        on_table = self.gripper_on_table(data)
        if on_table and not self._touching_table:
            found.append("table_hit")
        self._touching_table = on_table
        for body in self.movable:
            if int(body) not in self._off and data.xpos[body][2] < OFF_TABLE_Z_M:
                self._off.add(int(body))
                found.append("object_knocked_off")
        for name in found:
            self.counts[name] += 1
        return tuple(found)
