"""Tasks as data: a :class:`TaskSpec` names its objects (slot → kind), goal predicates in one
or more steps, and instruction templates in three tiers; :class:`SpecTask` runs any spec.

At reset a ``SpecTask`` scales and paints the objects from the episode's seed, lays them out
without overlaps (:mod:`.layout`) and fills the instruction of the requested tier; success and
subtask progress are read from physics through the predicates of :mod:`.predicates`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

import mujoco
import numpy as np

from ..errors import ConfigError
from .layout import TABLETOP_LAYOUT, Layout, NoLayoutError, sample_layout
from .objects import Instance, ObjectKind, catalog
from .predicates import (
    DEFAULT_THRESHOLDS,
    ObjectView,
    PredicateKind,
    Region,
    Thresholds,
    in_region,
    inside,
    lifted,
    next_to,
    on,
    out_of,
    stacked,
)
from .predicates import upright as is_upright
from .task import FINGER_BODIES, Task, TaskState, side_words

InstructionTier = Literal["vague", "default", "specific"]
TIERS: tuple[InstructionTier, ...] = get_args(InstructionTier)

REGION_SLOT = "region"
SIZE_DRAWS = 20
"""How often a reset draws the objects' sizes before giving up: a draw of the largest sizes may
leave no overlap-free layout (about 1 seed in 700 of DroidCupOnPlate)."""
REGION_HALF = 0.045
"""Half side of the goal square a pushed object must reach (its centre over it)."""


@dataclass(frozen=True)
class Goal:
    """One predicate: ``subject`` slot, ``kind``, and the ``reference`` slot (or
    ``"region"``) it relates to; ``lifted`` and ``upright`` take none. ``thresholds``: numbers
    other than the predicates' defaults, where a task keeps its own."""

    kind: PredicateKind
    subject: str
    reference: str | None = None
    thresholds: Thresholds = DEFAULT_THRESHOLDS


@dataclass(frozen=True)
class TaskSpec:
    """A task as data.

    name: snake_case task name; env_name: CamelCase for the gym id ``robosim_cosmos/<env_name>-v0``;
    objects: (slot, kind) pairs, targets and references first, then distractors; steps: goals
    that must all hold at the end, grouped in the order they are done; instructions: templates
    per tier, filled with each slot's words (``{a}`` "red block", ``{a_noun}``, ``{a_colour}``,
    ``{a_category}``, ``{a_side}`` "on the left"); starts_in: slot → container slot it starts
    inside; region: whether a goal square is placed (near ``steps[0][0].subject``), region_half
    its half side; layout: the table area objects are put in.
    """

    name: str
    env_name: str
    objects: tuple[tuple[str, str], ...]
    steps: tuple[tuple[Goal, ...], ...]
    instructions: dict[InstructionTier, tuple[str, ...]]
    starts_in: dict[str, str] = field(default_factory=dict)
    region: bool = False
    max_episode_steps: int = 400
    region_half: float = REGION_HALF
    layout: Layout = TABLETOP_LAYOUT

    def __post_init__(self) -> None:
        slots = [s for s, _ in self.objects]
        if len(set(slots)) != len(slots):
            raise ConfigError(f"task {self.name!r}: duplicate slots {slots}")
        kinds = [catalog().kind(kind) for _slot, kind in self.objects]
        scene = [k.kind for k in kinds if k.scene_file is not None]
        if len(set(scene)) != len(scene):  # attached without a prefix, so only once
            raise ConfigError(f"task {self.name!r}: scene object kinds {scene} may appear once each")
        for goal in self.goals:
            refs = [goal.subject] + ([goal.reference] if goal.reference not in (None, REGION_SLOT) else [])
            if any(r not in slots for r in refs):
                raise ConfigError(f"task {self.name!r}: goal {goal} names a slot not in {slots}")
        if set(self.instructions) != set(TIERS):
            raise ConfigError(f"task {self.name!r}: instructions need exactly the tiers {list(TIERS)}")
        if len({len(t) for t in self.instructions.values()}) != 1:
            raise ConfigError(f"task {self.name!r}: every tier needs as many instruction templates")

    @property
    def goals(self) -> tuple[Goal, ...]:
        return tuple(g for step in self.steps for g in step)

    @property
    def targets(self) -> tuple[str, ...]:
        """Slots the task moves (the subjects of its goals), in order."""
        return tuple(dict.fromkeys(g.subject for g in self.goals))


@dataclass(frozen=True)
class ObjectState:
    """One object for the expert: slot, kind facts, colour, scale, base position [3] (bottom
    centre), rotation [3, 3], and where it rested at reset [3]."""

    slot: str
    kind: ObjectKind
    colour: str
    scale: float
    pos: np.ndarray
    rot: np.ndarray
    start: np.ndarray

    @property
    def size(self) -> np.ndarray:
        return np.asarray(self.kind.size) * self.scale


@dataclass(frozen=True)
class SpecState(TaskState):
    """Privileged state of a spec task: every object by slot, the goals by step, the index of
    the first step not yet holding (``len(steps)`` when done), the goal region if any, and the
    table area of the task."""

    objects: dict[str, ObjectState]
    steps: tuple[tuple[Goal, ...], ...]
    step: int
    region: Region | None
    layout: Layout = TABLETOP_LAYOUT


class SpecTask(Task):
    """Runs one :class:`TaskSpec`."""

    def __init__(self, spec: TaskSpec) -> None:
        self.spec = spec
        self.name = spec.name  # type: ignore[misc]
        kinds = [catalog().kind(kind) for _slot, kind in spec.objects]
        scene = tuple(k.scene_file for k in kinds if k.scene_file is not None)
        self.objects = (*scene, *(("goal_region",) if spec.region else ()))  # type: ignore[misc]
        self.instances = tuple((s, k.kind) for (s, _), k in zip(spec.objects, kinds, strict=True)  # type: ignore[misc]
                               if k.scene_file is None)
        self.max_episode_steps = spec.max_episode_steps  # type: ignore[misc]

    @property
    def tier_instructions(self) -> dict[str, tuple[str, ...]]:
        return {str(tier): templates for tier, templates in self.spec.instructions.items()}

    def bind(self, model: mujoco.MjModel, finger_bodies: tuple[str, str] = FINGER_BODIES) -> None:
        super().bind(model, finger_bodies)
        kinds = catalog().kinds
        self.items = {slot: Instance(model, slot, kinds[kind]) for slot, kind in self.spec.objects}
        self._region_mocap = model.body_mocapid[model.body("goal").id] if self.spec.region else -1
        self._start = {slot: np.zeros(3) for slot in self.items}
        self._progress = 0
        self._scratch = mujoco.MjData(model)

    # -- reset ---------------------------------------------------------------------------
    def reset(self, data: mujoco.MjData, rng: np.random.Generator) -> str:
        for item in self.items.values():
            item.set_scale(rng.uniform(*item.kind.scale))
        self._paint(rng)
        mujoco.mj_setConst(self.model, self._scratch)  # masses changed; on a scratch: it resets its data
        for attempt in range(1, SIZE_DRAWS + 1):
            try:
                self._place(data, rng)
                break
            except NoLayoutError:  # sizes drawn too large to fit together (a rare seed): draw them again
                if attempt == SIZE_DRAWS:
                    raise
                for item in self.items.values():
                    item.set_scale(rng.uniform(*item.kind.scale))
                mujoco.mj_setConst(self.model, self._scratch)
        self._start = {slot: self.items[slot].pos(data) for slot in self.items}
        self._progress = 0
        return self._pick_instruction(rng, **self.words())

    def _place(self, data: mujoco.MjData, rng: np.random.Generator) -> None:
        """Lay the objects (and the goal square) out; redrawn while the first step already holds."""
        region_for = self.spec.steps[0][0].subject if self.spec.region else None
        for _ in range(50):  # a layout in which the first step already holds is no task
            layout, region = sample_layout(rng, self.items, self.spec.layout, self.spec.starts_in, region_for,
                                           self.name)
            for slot, (xyz, yaw) in layout.items():
                self.items[slot].set_pose(data, xyz, yaw)
            if region is not None:
                data.mocap_pos[self._region_mocap] = [region[0], region[1], 0.0]
            mujoco.mj_kinematics(self.model, data)
            self._start = {slot: self.items[slot].pos(data) for slot in self.items}
            if self.steps_done(data) == 0:
                break

    def _paint(self, rng: np.random.Generator) -> None:
        """Colours from the seed; objects of one kind never share a colour (so "the red block"
        names one of them)."""
        used: dict[str, set[str]] = {}
        for item in self.items.values():
            taken = used.setdefault(item.kind.kind, set())
            free = [c for c in item.kind.colours if c not in taken]
            colour = free[int(rng.integers(len(free)))]
            taken.add(colour)
            item.set_colour(colour)

    def words(self) -> dict[str, str]:
        """The words instruction templates are filled with (from the state at reset)."""
        out: dict[str, str] = {}
        for slot, item in self.items.items():
            out[slot] = f"{item.colour} {item.kind.noun}"
            out[f"{slot}_noun"] = item.kind.noun
            out[f"{slot}_colour"] = item.colour
            out[f"{slot}_category"] = item.kind.category
            out[f"{slot}_side"] = side_words(self._start[slot][:2])
        return out

    # -- success ---------------------------------------------------------------------------
    def view(self, data: mujoco.MjData, slot: str) -> ObjectView:
        item = self.items[slot]
        touch = [self._fingers_touching(data, int(g)) for g in item.collision_geoms]
        left, right = any(t[0] for t in touch), any(t[1] for t in touch)
        return ObjectView(item.kind, item.scale, item.pos(data), item.rot(data), self._start[slot],
                          held=left and right, touched=left or right)

    def region(self, data: mujoco.MjData) -> Region | None:
        if not self.spec.region:
            return None
        return Region(data.mocap_pos[self._region_mocap][:2].copy(), self.spec.region_half)

    def holds(self, goal: Goal, data: mujoco.MjData, views: dict[str, ObjectView] | None = None) -> bool:
        """Whether ``goal`` holds now."""
        views = views if views is not None else {}

        def v(slot: str) -> ObjectView:
            if slot not in views:
                views[slot] = self.view(data, slot)
            return views[slot]

        a, kind, t = v(goal.subject), goal.kind, goal.thresholds
        if kind == "lifted":
            return lifted(a)
        if kind == "upright":
            return is_upright(a)
        if kind == "in_region":
            region = self.region(data)
            return region is not None and in_region(a, region, t)
        assert goal.reference is not None
        b = v(goal.reference)
        if kind in ("on", "stacked"):
            return on(a, b) if kind == "on" else stacked(a, b)
        checks = {"in": inside, "next_to": next_to, "out_of": out_of}
        return checks[kind](a, b, t)

    def steps_done(self, data: mujoco.MjData) -> int:
        """How many leading steps hold now, every goal of each (and of those before it)."""
        views: dict[str, ObjectView] = {}
        done = 0
        for step in self.spec.steps:
            if not all(self.holds(g, data, views) for g in step):
                break
            done += 1
        return done

    def is_success(self, data: mujoco.MjData) -> bool:
        return self.steps_done(data) == len(self.spec.steps)

    def progress(self, data: mujoco.MjData) -> float:
        """Subtask progress in [0, 1]: the most leading steps that have held at once, latched."""
        self._progress = max(self._progress, self.steps_done(data))
        return self._progress / len(self.spec.steps)

    def target_bodies(self) -> tuple[int, ...]:
        return tuple(self.items[s].body for s in self.spec.targets)

    def mesh_ids(self) -> list[int]:
        return [m for item in self.items.values() for m in item.mesh_ids]

    def state(self, data: mujoco.MjData) -> SpecState:
        objects = {slot: ObjectState(slot, item.kind, item.colour, item.scale, item.pos(data), item.rot(data),
                                     self._start[slot].copy()) for slot, item in self.items.items()}
        return SpecState(tcp_pos=self._tcp_pos(data), objects=objects, steps=self.spec.steps,
                         step=self.steps_done(data), region=self.region(data), layout=self.spec.layout)
