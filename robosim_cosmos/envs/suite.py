"""Compositional tabletop tasks: a scene template of library objects, goal predicates in
one or more steps, and instruction templates in three tiers.

A :class:`TaskSpec` is data (the suite's tasks are listed in ``suite_tasks.py``);
:class:`SuiteTask` runs any spec: it lays the objects out from the episode's seed without
overlaps, paints and scales them, fills the instruction of the requested tier, and reads
success and subtask progress from physics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal, get_args

import mujoco
import numpy as np

from ..errors import ConfigError
from .objects import Instance, ObjectKind, catalog
from .predicates import ObjectView, PredicateKind, Region, in_region, inside, lifted, next_to, on, out_of, stacked
from .predicates import upright as is_upright
from .tasks import FINGER_BODIES, Task, TaskState, side_words

InstructionTier = Literal["vague", "default", "specific"]
TIERS: tuple[InstructionTier, ...] = get_args(InstructionTier)

SUITE_X = (0.38, 0.70)
SUITE_Y = (-0.27, 0.27)
"""Where objects are laid out (robot base frame, metres): reachable with the tool pointing down."""
REGION_SLOT = "region"
REGION_HALF = 0.045
CLEARANCE_M = 0.012
"""Smallest gap between two footprints at reset."""
DROP_GAP_M = 0.002
"""Objects that start inside another are put this far above its floor (not yet touching)."""


@dataclass(frozen=True)
class Goal:
    """One predicate: ``subject`` slot, ``kind``, and the ``reference`` slot (or
    ``"region"``) it relates to; ``lifted`` and ``upright`` take none."""

    kind: PredicateKind
    subject: str
    reference: str | None = None


@dataclass(frozen=True)
class TaskSpec:
    """A task as data.

    name: snake_case task name; env_name: CamelCase for the gym id ``robosim_cosmos/<env_name>-v0``;
    objects: (slot, kind) pairs, targets and references first, then distractors; steps: goals
    that must all hold at the end, grouped in the order they are done; instructions: templates
    per tier, filled with each slot's words (``{a}`` "red block", ``{a_noun}``, ``{a_colour}``,
    ``{a_category}``, ``{a_side}`` "on the left"); starts_in: slot → container slot it starts
    inside; region: whether a goal square is placed (near ``steps[0][0].subject``).
    """

    name: str
    env_name: str
    objects: tuple[tuple[str, str], ...]
    steps: tuple[tuple[Goal, ...], ...]
    instructions: dict[InstructionTier, tuple[str, ...]]
    starts_in: dict[str, str] = field(default_factory=dict)
    region: bool = False
    max_episode_steps: int = 400

    def __post_init__(self) -> None:
        slots = [s for s, _ in self.objects]
        if len(set(slots)) != len(slots):
            raise ConfigError(f"task {self.name!r}: duplicate slots {slots}")
        for _slot, kind in self.objects:
            catalog().kind(kind)
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
class SuiteState(TaskState):
    """Privileged state of a suite task: every object by slot, the goals by step, the index of
    the first step not yet holding (``len(steps)`` when done), and the goal region if any."""

    objects: dict[str, ObjectState]
    steps: tuple[tuple[Goal, ...], ...]
    step: int
    region: Region | None


class SuiteTask(Task):
    """Runs one :class:`TaskSpec`."""

    instructions: ClassVar[tuple[str, ...]] = ()

    def __init__(self, spec: TaskSpec) -> None:
        self.spec = spec
        self.name = spec.name  # type: ignore[misc]
        self.objects = (("goal_region",) if spec.region else ())  # type: ignore[misc]
        self.instances = spec.objects  # type: ignore[misc]
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
        for _ in range(50):  # a layout in which the first step already holds is no task
            layout, region = self._layout(rng)
            for slot, (xyz, yaw) in layout.items():
                self.items[slot].set_pose(data, xyz, yaw)
            if region is not None:
                data.mocap_pos[self._region_mocap] = [region[0], region[1], 0.0]
            mujoco.mj_kinematics(self.model, data)
            self._start = {slot: self.items[slot].pos(data) for slot in self.items}
            if self.steps_done(data) == 0:
                break
        self._start = {slot: self.items[slot].pos(data) for slot in self.items}
        self._progress = 0
        return self._instruction(rng)

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

    def _layout(self, rng: np.random.Generator) -> tuple[dict[str, tuple[np.ndarray, float]], np.ndarray | None]:
        """Poses for every slot (base xyz [3], yaw) and the region centre [2], no two footprints
        within CLEARANCE_M; deterministic in ``rng``."""
        for _ in range(200):
            placed: list[tuple[np.ndarray, float]] = []  # occupied circles
            poses: dict[str, tuple[np.ndarray, float]] = {}
            region = None
            order = sorted(self.items, key=lambda s: -self.items[s].kind.footprint_radius)
            ok = True
            for slot in order:
                if slot in self.spec.starts_in:
                    continue
                item = self.items[slot]
                r = item.kind.radius_at(item.scale)
                xy = self._free_spot(rng, r, placed)
                if xy is None:
                    ok = False
                    break
                placed.append((xy, r))
                poses[slot] = (np.array([xy[0], xy[1], 0.0]), float(rng.uniform(-np.pi, np.pi)))
                if self.spec.region and slot == self.spec.steps[0][0].subject:
                    region = self._place_region(rng, xy, r, placed)
                    if region is None:
                        ok = False
                        break
            if not ok:
                continue
            for slot, container in self.spec.starts_in.items():
                base, yaw = poses[container]
                box = self.items[container]
                floor = (box.kind.container.floor if box.kind.container else 0.0) * box.scale
                # lengthwise in the container, so a long object lies flat on its floor
                poses[slot] = (base + np.array([0.0, 0.0, floor + DROP_GAP_M]), yaw + float(rng.uniform(-0.1, 0.1)))
            return poses, region
        raise ConfigError(f"task {self.name!r}: no overlap-free layout found in 200 tries")

    @staticmethod
    def _free_spot(rng: np.random.Generator, r: float, placed: list[tuple[np.ndarray, float]],
                   tries: int = 100) -> np.ndarray | None:
        for _ in range(tries):
            xy = np.array([rng.uniform(SUITE_X[0] + r * 0.5, SUITE_X[1] - r * 0.5),
                           rng.uniform(SUITE_Y[0] + r * 0.5, SUITE_Y[1] - r * 0.5)])
            if all(np.linalg.norm(xy - p) >= r + q + CLEARANCE_M for p, q in placed):
                return xy
        return None

    def _place_region(self, rng: np.random.Generator, xy: np.ndarray, r: float,
                      placed: list[tuple[np.ndarray, float]]) -> np.ndarray | None:
        """A goal square 11–16 cm from the subject with a clear path (the path and the square are
        reserved so no distractor stands in the way)."""
        for _ in range(100):
            angle = rng.uniform(-np.pi, np.pi)
            goal = xy + rng.uniform(0.11, 0.16) * np.array([np.cos(angle), np.sin(angle)])
            if not (SUITE_X[0] <= goal[0] <= SUITE_X[1] and SUITE_Y[0] <= goal[1] <= SUITE_Y[1]):
                continue
            # the pusher stands behind the subject, so that side is reserved too
            behind = xy - 0.09 * (goal - xy) / np.linalg.norm(goal - xy)
            path = [behind, *(xy + t * (goal - xy) for t in (0.5, 1.0))]
            if all(np.linalg.norm(p - c) >= r + q + CLEARANCE_M for p in path for c, q in placed[:-1]):
                placed.extend((p, r) for p in path)
                return goal
        return None

    # -- instructions ----------------------------------------------------------------------
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

    def _instruction(self, rng: np.random.Generator) -> str:
        # every tier has as many templates, so a seed lays out the same scene in every tier
        templates = self.tier_instructions[self.tier]
        return templates[int(rng.integers(len(templates)))].format(**self.words())

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
        return Region(data.mocap_pos[self._region_mocap][:2].copy(), REGION_HALF)

    def holds(self, goal: Goal, data: mujoco.MjData, views: dict[str, ObjectView] | None = None) -> bool:
        """Whether ``goal`` holds now."""
        views = views if views is not None else {}
        def v(slot: str) -> ObjectView:
            if slot not in views:
                views[slot] = self.view(data, slot)
            return views[slot]
        a = v(goal.subject)
        kind = goal.kind
        if kind == "lifted":
            return lifted(a)
        if kind == "upright":
            return is_upright(a)
        if kind == "in_region":
            region = self.region(data)
            return region is not None and in_region(a, region)
        assert goal.reference is not None
        b = v(goal.reference)
        checks = {"in": inside, "on": on, "stacked": stacked, "next_to": next_to, "out_of": out_of}
        return checks[kind](a, b)

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

    def state(self, data: mujoco.MjData) -> SuiteState:
        objects = {slot: ObjectState(slot, item.kind, item.colour, item.scale, item.pos(data), item.rot(data),
                                     self._start[slot].copy()) for slot, item in self.items.items()}
        return SuiteState(tcp_pos=self._tcp_pos(data), objects=objects, steps=self.spec.steps,
                          step=self.steps_done(data), region=self.region(data))
