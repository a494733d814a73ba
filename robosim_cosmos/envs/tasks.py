"""Tabletop tasks: which objects a scene holds, how a seed lays them out, what the
instruction says, and the physical success predicate.

Each task binds to a compiled model (ids looked up once), then ``reset`` places objects
and colours from the episode RNG and returns the instruction, ``is_success`` reads the
physics state, and ``state`` exposes privileged information for scripted policies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import mujoco
import numpy as np

CUBE_HALF = 0.025
WORKSPACE_X = (0.42, 0.64)
WORKSPACE_Y = (-0.2, 0.2)
FINGER_BODIES: tuple[str, str] = ("left_finger", "right_finger")
"""Finger bodies of the project's grippers (others pass theirs to ``Task.bind``)."""

COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.85, 0.15, 0.12),
    "green": (0.15, 0.7, 0.2),
    "blue": (0.15, 0.3, 0.85),
    "yellow": (0.95, 0.8, 0.1),
    "orange": (0.95, 0.5, 0.1),
    "purple": (0.55, 0.2, 0.7),
}
BOWL_COLOURS: dict[str, tuple[float, float, float]] = {
    "white": (0.88, 0.88, 0.86),
    "grey": (0.5, 0.5, 0.52),
    "pink": (0.9, 0.55, 0.65),
    "teal": (0.1, 0.55, 0.55),
}


@dataclass(frozen=True)
class TaskState:
    """Privileged task facts in the world (= robot base) frame, metres; not an observation."""

    tcp_pos: np.ndarray
    """[3] point between the fingertips."""


@dataclass(frozen=True)
class ReachState(TaskState):
    target_pos: np.ndarray
    """[3] centre of the target ball."""


@dataclass(frozen=True)
class CubeState(TaskState):
    cube_pos: np.ndarray
    """[3] cube centre."""
    cube_rot: np.ndarray
    """[3, 3] cube orientation."""
    cube_half_size: float
    cube_colour: str
    cube_start: np.ndarray
    """[3] cube centre at reset."""


@dataclass(frozen=True)
class CubeInBowlState(CubeState):
    bowl_pos: np.ndarray
    """[3] bowl base centre."""
    bowl_inner_radius: float
    bowl_colour: str


@dataclass(frozen=True)
class PushCubeState(CubeState):
    goal_pos: np.ndarray
    """[3] centre of the goal square on the table."""
    goal_half_size: float


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


def _uniform_xy(rng: np.random.Generator, margin: float = 0.0) -> np.ndarray:
    return np.array([
        rng.uniform(WORKSPACE_X[0] + margin, WORKSPACE_X[1] - margin),
        rng.uniform(WORKSPACE_Y[0] + margin, WORKSPACE_Y[1] - margin),
    ])


class Task:
    """Base class; subclasses set the class attributes and implement the hooks."""

    name: ClassVar[str]
    objects: ClassVar[tuple[str, ...]]
    """Scene object files (``envs/objects/<name>.xml``) the task needs."""
    instances: ClassVar[tuple[tuple[str, str], ...]] = ()
    """Library objects as (slot, kind) pairs (``envs/objects/library``)."""
    instructions: ClassVar[tuple[str, ...]]
    """The default tier's templates."""
    vague_instructions: ClassVar[tuple[str, ...]] = ()
    specific_instructions: ClassVar[tuple[str, ...]] = ()
    max_episode_steps: ClassVar[int]
    tier: str = "default"
    """The instruction tier ``reset`` fills (set by the env)."""

    @property
    def tier_instructions(self) -> dict[str, tuple[str, ...]]:
        """Instruction templates by tier (vague, default, specific)."""
        return {"vague": self.vague_instructions, "default": self.instructions,
                "specific": self.specific_instructions}

    def bind(self, model: mujoco.MjModel, finger_bodies: tuple[str, str] = FINGER_BODIES) -> None:
        """Look ids up once. ``finger_bodies``: the gripper's left and right finger bodies
        (``RobotDescription.finger_bodies``); a body in either's subtree counts as that finger."""
        self.model = model
        self._tcp = model.site("tcp").id
        self._left = subtree(model, model.body(finger_bodies[0]).id)
        self._right = subtree(model, model.body(finger_bodies[1]).id)
        self._finger_geoms = {g for g in range(model.ngeom) if model.geom_bodyid[g] in (*self._left, *self._right)}

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

    # helpers ---------------------------------------------------------------
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


class _CubeTask(Task):
    """Shared cube handling: pose, colour and free-joint address."""

    def bind(self, model: mujoco.MjModel, finger_bodies: tuple[str, str] = FINGER_BODIES) -> None:
        super().bind(model, finger_bodies)
        self._cube_body = model.body("cube").id
        self._cube_geom = model.geom("cube").id
        self._cube_qadr = model.jnt_qposadr[model.joint("cube_joint").id]
        self._cube_dadr = model.jnt_dofadr[model.joint("cube_joint").id]
        self._cube_mat = model.geom_matid[self._cube_geom]

    def _place_cube(self, data: mujoco.MjData, rng: np.random.Generator, xy: np.ndarray) -> str:
        colour = list(COLOURS)[int(rng.integers(len(COLOURS)))]
        self.model.mat_rgba[self._cube_mat, :3] = COLOURS[colour]
        yaw = rng.uniform(-np.pi / 4, np.pi / 4)
        q = self._cube_qadr
        data.qpos[q : q + 3] = [xy[0], xy[1], CUBE_HALF]
        data.qpos[q + 3 : q + 7] = [np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)]
        data.qvel[self._cube_dadr : self._cube_dadr + 6] = 0.0
        self.cube_colour = colour
        self._cube_start = np.array([xy[0], xy[1], CUBE_HALF])
        return colour

    def target_bodies(self) -> tuple[int, ...]:
        return (int(self._cube_body),)

    def cube_pose(self, data: mujoco.MjData) -> tuple[np.ndarray, np.ndarray]:
        """(position [3], rotation matrix [3, 3]) of the cube."""
        return data.xpos[self._cube_body].copy(), data.xmat[self._cube_body].reshape(3, 3).copy()

    def _cube_fields(self, data: mujoco.MjData) -> dict[str, object]:
        pos, rot = self.cube_pose(data)
        return {"tcp_pos": self._tcp_pos(data), "cube_pos": pos, "cube_rot": rot,
                "cube_half_size": CUBE_HALF, "cube_colour": self.cube_colour,
                "cube_start": self._cube_start.copy()}

    def state(self, data: mujoco.MjData) -> CubeState:
        return CubeState(**self._cube_fields(data))  # type: ignore[arg-type]


class Reach(Task):
    name = "reach"
    objects = ("target_marker",)
    instructions = (
        "move the gripper to the green ball",
        "reach for the green target",
        "touch the green sphere with the gripper",
    )
    vague_instructions = ("reach out", "move the arm over there", "go to the target")
    specific_instructions = (
        "move the gripper to the green ball floating {side}, {height} cm above the table",
        "reach for the green target {side} and hold the fingers on it",
        "bring the tip of the gripper to the green sphere {side}, {height} cm up",
    )
    max_episode_steps = 150
    success_radius = 0.025

    def bind(self, model: mujoco.MjModel, finger_bodies: tuple[str, str] = FINGER_BODIES) -> None:
        super().bind(model, finger_bodies)
        self._mocap = model.body_mocapid[model.body("target").id]

    def reset(self, data: mujoco.MjData, rng: np.random.Generator) -> str:
        xy = _uniform_xy(rng)
        data.mocap_pos[self._mocap] = [xy[0], xy[1], rng.uniform(0.08, 0.3)]
        return self._pick_instruction(rng, side=side_words(xy), height=f"{100 * data.mocap_pos[self._mocap][2]:.0f}")

    def target(self, data: mujoco.MjData) -> np.ndarray:
        return data.mocap_pos[self._mocap].copy()

    def is_success(self, data: mujoco.MjData) -> bool:
        return bool(np.linalg.norm(data.site_xpos[self._tcp] - self.target(data)) <= self.success_radius)

    def state(self, data: mujoco.MjData) -> ReachState:
        return ReachState(tcp_pos=self._tcp_pos(data), target_pos=self.target(data))


class LiftCube(_CubeTask):
    name = "lift_cube"
    objects = ("cube",)
    instructions = (
        "pick up the {colour} cube",
        "lift the {colour} block off the table",
        "grab the {colour} cube and raise it",
    )
    vague_instructions = ("pick it up", "lift the toy", "grab the block")
    specific_instructions = (
        "pick up the {colour} cube {side} of the table and lift it at least 5 cm",
        "grasp the {colour} block {side} with both fingers and raise it off the table",
        "close the gripper on the {colour} cube {side} and hold it up in the air",
    )
    max_episode_steps = 200
    lift_height = 0.05

    def reset(self, data: mujoco.MjData, rng: np.random.Generator) -> str:
        xy = _uniform_xy(rng, 0.02)
        colour = self._place_cube(data, rng, xy)
        return self._pick_instruction(rng, colour=colour, side=side_words(xy))

    def is_success(self, data: mujoco.MjData) -> bool:
        lifted = data.xpos[self._cube_body][2] >= CUBE_HALF + self.lift_height
        return bool(lifted and all(self._fingers_touching(data, self._cube_geom)))


class CubeInBowl(_CubeTask):
    name = "cube_in_bowl"
    objects = ("cube", "bowl")
    instructions = (
        "put the {colour} cube in the bowl",
        "place the {colour} block into the {bowl} bowl",
        "drop the {colour} cube into the {bowl} bowl",
    )
    vague_instructions = ("put the toy away", "tidy up the block", "put it in the dish")
    specific_instructions = (
        "pick up the {colour} cube {side} and put it inside the {bowl} bowl {bowl_side}",
        "grasp the {colour} block {side}, carry it over the {bowl} bowl {bowl_side} and let go",
        "place the {colour} cube {side} into the middle of the {bowl} bowl {bowl_side}",
    )
    max_episode_steps = 300
    bowl_inner_radius = 0.072

    def bind(self, model: mujoco.MjModel, finger_bodies: tuple[str, str] = FINGER_BODIES) -> None:
        super().bind(model, finger_bodies)
        self._bowl_mocap = model.body_mocapid[model.body("bowl").id]
        self._bowl_mat = model.mat("bowl").id

    def reset(self, data: mujoco.MjData, rng: np.random.Generator) -> str:
        cube_xy = _uniform_xy(rng, 0.02)
        for _ in range(100):
            bowl_xy = _uniform_xy(rng, 0.03)
            if np.linalg.norm(bowl_xy - cube_xy) >= 0.17:
                break
        else:  # cannot happen for this workspace, but never leave the bowl on the cube
            bowl_xy = cube_xy + np.array([0.0, -0.17 if cube_xy[1] > 0 else 0.17])
        data.mocap_pos[self._bowl_mocap] = [bowl_xy[0], bowl_xy[1], 0.0]
        bowl = list(BOWL_COLOURS)[int(rng.integers(len(BOWL_COLOURS)))]
        self.model.mat_rgba[self._bowl_mat, :3] = BOWL_COLOURS[bowl]
        colour = self._place_cube(data, rng, cube_xy)
        self.bowl_colour = bowl
        return self._pick_instruction(rng, colour=colour, bowl=bowl, side=side_words(cube_xy),
                                      bowl_side=side_words(bowl_xy))

    def bowl_pos(self, data: mujoco.MjData) -> np.ndarray:
        return data.mocap_pos[self._bowl_mocap].copy()

    def is_success(self, data: mujoco.MjData) -> bool:
        cube = data.xpos[self._cube_body]
        inside = np.linalg.norm(cube[:2] - self.bowl_pos(data)[:2]) <= self.bowl_inner_radius - 0.015
        low = cube[2] <= 0.006 + CUBE_HALF + 0.02
        released = not any(self._fingers_touching(data, self._cube_geom))
        return bool(inside and low and released)

    def state(self, data: mujoco.MjData) -> CubeInBowlState:
        return CubeInBowlState(**self._cube_fields(data), bowl_pos=self.bowl_pos(data),  # type: ignore[arg-type]
                               bowl_inner_radius=self.bowl_inner_radius, bowl_colour=self.bowl_colour)


class PushCube(_CubeTask):
    name = "push_cube"
    objects = ("cube", "goal_region")
    instructions = (
        "push the {colour} cube onto the yellow square",
        "slide the {colour} block to the yellow goal",
        "nudge the {colour} cube into the yellow target area",
    )
    vague_instructions = ("move the block over", "push it to the goal", "slide the toy across")
    specific_instructions = (
        "push the {colour} cube {side} across the table until it sits on the yellow square",
        "without picking it up, slide the {colour} block {side} onto the yellow goal",
        "nudge the {colour} cube {side} along the table into the yellow target area",
    )
    max_episode_steps = 300
    goal_half = 0.04

    def bind(self, model: mujoco.MjModel, finger_bodies: tuple[str, str] = FINGER_BODIES) -> None:
        super().bind(model, finger_bodies)
        self._goal_mocap = model.body_mocapid[model.body("goal").id]

    def reset(self, data: mujoco.MjData, rng: np.random.Generator) -> str:
        for _ in range(100):
            cube_xy = _uniform_xy(rng, 0.03)
            angle = rng.uniform(-np.pi, np.pi)
            goal_xy = cube_xy + rng.uniform(0.1, 0.16) * np.array([np.cos(angle), np.sin(angle)])
            if (WORKSPACE_X[0] <= goal_xy[0] <= WORKSPACE_X[1]) and (WORKSPACE_Y[0] <= goal_xy[1] <= WORKSPACE_Y[1]):
                break
        data.mocap_pos[self._goal_mocap] = [goal_xy[0], goal_xy[1], 0.0]
        colour = self._place_cube(data, rng, cube_xy)
        return self._pick_instruction(rng, colour=colour, side=side_words(cube_xy))

    def goal_pos(self, data: mujoco.MjData) -> np.ndarray:
        return data.mocap_pos[self._goal_mocap].copy()

    def is_success(self, data: mujoco.MjData) -> bool:
        cube = data.xpos[self._cube_body]
        d = np.abs(cube[:2] - self.goal_pos(data)[:2])
        return bool(np.all(d <= self.goal_half) and cube[2] <= CUBE_HALF + 0.01)

    def state(self, data: mujoco.MjData) -> PushCubeState:
        return PushCubeState(**self._cube_fields(data), goal_pos=self.goal_pos(data),  # type: ignore[arg-type]
                             goal_half_size=self.goal_half)


TASKS: dict[str, type[Task]] = {t.name: t for t in (Reach, LiftCube, CubeInBowl, PushCube)}
"""The hand-written tasks; the suite's compositional ones are in ``suite_tasks.py``."""
