"""Waypoints for every task, from privileged state: the scripted expert's one planner.

:class:`ExpertPlanner` works on the first goal of the first step that does not hold yet: a
top-down pick of its subject, then a place (into a container, onto a plate or a block,
beside an object, out of a container), a lift-and-hold, or a push into the goal region; the
reach task is a single waypoint at its target. It is a phase machine that re-plans from the
state at every call, retrying a grasp that failed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..envs.predicates import LIFT_M, NEXT_TO_GAP_M
from ..envs.reach import ReachState
from ..envs.robot_state import PrivilegedState
from ..envs.task_spec import Goal, ObjectState, SpecState
from .tool_path import CLOSED, OPEN, Waypoint, nearest_yaw, push_waypoints, wrap

FINGER_REACH_M = 0.055
"""Half the span of the open fingers along their closing axis, pads included."""
HOLDING_MIN = 0.08
"""Gripper readings (DROID 0 open .. 1 closed) above this, with the fingers still, mean they
closed on something: a 6.6 cm can reads about 0.2 in the 8.5 cm Robotiq."""
CLOSED_ON_NOTHING = 0.93
"""Gripper readings above this mean the fingers closed on nothing."""
DESCEND_ABOVE_M = 0.01
"""A tcp lined up over the grasp at least this far above it goes straight down to it."""
MIN_TCP_Z_M = 0.012
"""Lowest tcp height for a grasp (Franka-hand fingertips this far above the table)."""


def yaw_of(rot: np.ndarray) -> float:
    return float(np.arctan2(rot[1, 0], rot[0, 0]))


def radius(o: ObjectState) -> float:
    return o.kind.radius_at(o.scale)


@dataclass
class _Held:
    """The grasp being executed: subject slot and the tcp's height above the object's base."""

    slot: str
    offset: float


@dataclass(frozen=True)
class _Placement:
    """Where a held object goes: its base's xy [2], the base height to let go at, the tcp's
    carrying height and the finger yaw to put it down with."""

    xy: np.ndarray
    release_base: float
    carry_z: float
    yaw: float


class ExpertPlanner:
    """Phase machine for every task's privileged state (:class:`SpecState`, :class:`ReachState`).

    tip_clearance: extra tcp height for fingertips longer than the Franka hand's;
    push_z: tcp height while pushing; home_yaw: the finger yaw at DROID home (reaching keeps it);
    miss_m: how far across the fingers the episode's first grasp is aimed off the true grasp
    point (0: never), so the fingers close on nothing and the expert shows its recovery.
    close_steps: 0 holds the closed fingers still until two calls read the same gripper
    position; N > 0 closes for N steps and starts rising in the same chunk, and the next call's
    reading tells a grasp from a miss (see :class:`~robosim_cosmos.policies.scripted.ScriptedPolicy`).
    """

    def __init__(self, tip_clearance: float, push_z: float, home_yaw: float, miss_m: float = 0.0,
                 close_steps: int = 0) -> None:
        self.tip_clearance = tip_clearance
        self.push_z = push_z
        self.home_yaw = home_yaw
        self.miss_m = miss_m
        self.close_steps = close_steps
        self.reset()

    def reset(self) -> None:
        self.phase = "start"
        self._goal: tuple[int, Goal] | None = None
        self._held: _Held | None = None
        self._yaw: float | None = None
        self._spot: np.ndarray | None = None
        self._g_prev = 0.0
        self._calls = 0
        self.missed = False
        """Whether the fingers have closed on nothing this episode (which ends an aimed-off grasp)."""

    # -- entry -------------------------------------------------------------------------------
    def plan(self, state: PrivilegedState, cur_yaw: float) -> list[Waypoint]:
        """The waypoints from now on (``cur_yaw``: the finger yaw now); updates :attr:`phase`."""
        s = state.task
        if isinstance(s, ReachState):
            self.phase = "reach"
            return [Waypoint(s.target_pos, self.home_yaw, OPEN)]
        assert isinstance(s, SpecState), f"no plan for {type(s).__name__}"
        g = float(state.gripper_position)
        if s.step >= len(s.steps):  # every goal holds: keep a lifted object up, else back off and open
            lift = next((x for x in s.steps[-1] if x.kind == "lifted"), None)
            if lift is not None and self._held is not None:
                return self._place(s, lift, s.objects[lift.subject], g, cur_yaw)
            self.phase = "done"
            return [Waypoint(s.tcp_pos + np.array([0.0, 0.0, 0.02]), cur_yaw, OPEN)]
        goal = next((x for x in s.steps[s.step] if x.kind != "upright"), s.steps[s.step][0])
        if self._goal != (s.step, goal):
            self._goal, self.phase, self._spot = (s.step, goal), "start", None
        self._calls += 1
        try:
            if goal.kind == "in_region":
                return self._push(s, goal, cur_yaw)
            return self._pick_place(s, goal, g, cur_yaw)
        finally:
            self._g_prev = g

    # -- grasp geometry ----------------------------------------------------------------------
    def _grasp_point(self, o: ObjectState) -> np.ndarray:
        grasp = o.kind.grasp
        assert grasp is not None, f"{o.kind.kind} has no grasp"
        local = np.array([grasp.xy[0], grasp.xy[1], grasp.height]) * o.scale
        p = o.pos + o.rot @ local
        p[2] = max(p[2] - 0.004, MIN_TCP_Z_M) + self.tip_clearance
        return p

    def _grasp_yaw(self, s: SpecState, o: ObjectState, at: np.ndarray, cur_yaw: float) -> float:
        """The finger yaw (among the object's symmetric grasps) that keeps the open fingers
        farthest from the other objects, ties going to the smallest turn."""
        grasp = o.kind.grasp
        assert grasp is not None
        base = yaw_of(o.rot) + grasp.yaw
        step = grasp.period if grasp.period > 0 else np.pi / 12
        candidates = [nearest_yaw(base + k * step, cur_yaw, np.pi) for k in range(round(np.pi / step))]
        others = [x for x in s.objects.values() if x.slot != o.slot]

        def clearance(yaw: float) -> float:
            axis = np.array([np.cos(yaw), np.sin(yaw)])
            tips = [at[:2] + side * FINGER_REACH_M * axis for side in (-1.0, 1.0)]
            gaps = [np.linalg.norm(t - x.pos[:2]) - radius(x) for t in tips for x in others]
            return min(min(gaps, default=1.0), 0.05)

        return max(candidates, key=lambda y: (round(clearance(y), 3), -abs(wrap(y - cur_yaw))))

    def _in_hand(self, o: ObjectState, tcp: np.ndarray, grasp: np.ndarray, g: float) -> bool:
        """Whether the fingers still hold ``o`` where they grasped it."""
        held = self._held if self._held is not None and self._held.slot == o.slot else None
        return (HOLDING_MIN < g < CLOSED_ON_NOTHING and held is not None
                and abs((tcp[2] - o.pos[2]) - held.offset) < 0.025
                and bool(np.linalg.norm(tcp[:2] - grasp[:2]) < 0.035))

    # -- pick --------------------------------------------------------------------------------
    def _pick_place(self, s: SpecState, goal: Goal, g: float, cur_yaw: float) -> list[Waypoint]:
        o = s.objects[goal.subject]
        tcp = s.tcp_pos
        grasp = self._grasp_point(o)
        up = Waypoint(np.array([tcp[0], tcp[1], max(tcp[2], grasp[2] + 0.1)]), cur_yaw, OPEN)
        if self.phase in ("lift", "carry", "lower") and not self._in_hand(o, tcp, grasp, g):
            self.phase = "retreat"
        if self.phase == "retreat":
            if g > 0.1 or tcp[2] < grasp[2] + 0.06:
                return [up]
            self.phase = "start"
        if self.phase == "descend" and self.close_steps > 0 and g > HOLDING_MIN:
            self.phase, self._calls = "close", 1  # the descent's chunk closed the fingers and began to rise
        wps = self._approach(s, o, grasp, cur_yaw) if self.phase in ("start", "approach", "descend") else None
        if wps is None and self.phase == "close":
            wps = self._close(o, tcp, g, cur_yaw, up)
        if wps is not None:
            return wps
        if self.phase == "released":  # back off; if the goal still fails, pick it up again
            if tcp[2] < grasp[2] + 0.08 and g < 0.1:
                return [Waypoint(np.array([tcp[0], tcp[1], grasp[2] + 0.12]), cur_yaw, OPEN)]
            self.phase = "start"
            return self._pick_place(s, goal, g, cur_yaw)
        return self._place(s, goal, o, g, cur_yaw)

    def _approach(self, s: SpecState, o: ObjectState, grasp: np.ndarray, cur_yaw: float) -> list[Waypoint] | None:
        """Over the grasp point, turned, then down with open fingers; None once there (→ close)."""
        tcp = s.tcp_pos
        if self._yaw is None or self.phase == "start":
            self._yaw = self._grasp_yaw(s, o, grasp, cur_yaw)
        yaw = self._yaw
        grasp = self._aim(s, o, grasp, yaw)
        pre = np.array([grasp[0], grasp[1], grasp[2] + 0.1])
        xy_err = float(np.linalg.norm(tcp[:2] - grasp[:2]))
        down = [Waypoint(grasp, yaw, OPEN, dwell=2), *self._closing(grasp, yaw, still=20)]
        if self.phase == "descend" and xy_err < 0.015 and np.linalg.norm(tcp - grasp) < 0.008:
            self.phase, self._calls = "close", 0
            return None
        if self.phase == "descend" and xy_err < 0.015:
            return down
        # lined up above the grasp: straight down from there. Rising to ``pre`` first would let a
        # chunk executed open loop end where it began (up, then down again) and repeat forever.
        if xy_err < 0.008 and abs(wrap(cur_yaw - yaw)) < np.deg2rad(4) and tcp[2] > grasp[2] + DESCEND_ABOVE_M:
            self.phase = "descend"
            return down
        self.phase = "approach"
        wps = []
        if tcp[2] < pre[2] - 0.03 and xy_err > 0.015:  # low and off: rise first
            wps.append(Waypoint(np.array([tcp[0], tcp[1], pre[2]]), cur_yaw, OPEN))
        return [*wps, Waypoint(pre, yaw, OPEN, dwell=1), *down]

    def _aim(self, s: SpecState, o: ObjectState, grasp: np.ndarray, yaw: float) -> np.ndarray:
        """Where the fingers go down: ``grasp``, or until the first miss ``miss_m`` across the
        finger line, on the side farther from the other objects (a finger must not land on one)."""
        if not self.miss_m or self.missed:
            return grasp
        across = np.array([-np.sin(yaw), np.cos(yaw), 0.0])
        others = [x for x in s.objects.values() if x.slot != o.slot]

        def room(point: np.ndarray) -> float:
            return min((float(np.linalg.norm(point[:2] - x.pos[:2])) - radius(x) for x in others), default=1.0)

        return max((grasp + side * self.miss_m * across for side in (1.0, -1.0)), key=room)

    def _close(self, o: ObjectState, tcp: np.ndarray, g: float, cur_yaw: float, up: Waypoint) -> list[Waypoint] | None:
        """Close until the fingers stop; None once they hold something (→ lift)."""
        if g > CLOSED_ON_NOTHING:
            self.phase, self.missed = "retreat", True
            return [up]
        settled = abs(g - self._g_prev) < 0.01 and self._calls >= 2
        if g > HOLDING_MIN and (settled or (self.close_steps > 0 and self._calls >= 1)):
            self._held = _Held(o.slot, float(tcp[2] - o.pos[2]))
            self.phase = "lift"
            return None
        return self._closing(tcp, cur_yaw, still=40)

    def _closing(self, at: np.ndarray, yaw: float, still: int) -> list[Waypoint]:
        """Close the fingers at ``at`` and hold still ``still`` steps (``close_steps`` 0), or close
        for ``close_steps`` steps and rise (a held object rises with the tcp, so the offset the
        next call reads is the grasp's)."""
        if self.close_steps == 0:
            return [Waypoint(at, yaw, CLOSED, dwell=still)]
        return [Waypoint(at, yaw, CLOSED, dwell=self.close_steps),
                Waypoint(at + np.array([0.0, 0.0, 0.1]), yaw, CLOSED)]

    # -- place -------------------------------------------------------------------------------
    def _place(self, s: SpecState, goal: Goal, o: ObjectState, g: float, cur_yaw: float) -> list[Waypoint]:
        """Lift, carry over the place, lower, let go (or, for a lift goal, hold it up)."""
        assert self._held is not None
        tcp, offset = s.tcp_pos, self._held.offset
        place = self._placement(s, goal, o, cur_yaw)
        if place is None:  # lift and hold
            z = max(o.start[2] + LIFT_M + 0.05 + offset, tcp[2])
            return [Waypoint(np.array([tcp[0], tcp[1], z]), cur_yaw, CLOSED, dwell=40)]
        # the tcp goes where the subject's base lands under it
        tcp_xy = place.xy + (tcp[:2] - o.pos[:2])
        above = np.array([tcp_xy[0], tcp_xy[1], place.carry_z])
        low = np.array([tcp_xy[0], tcp_xy[1], place.release_base + offset])
        if self.phase == "lift":
            if tcp[2] < place.carry_z - 0.03:
                return [Waypoint(np.array([tcp[0], tcp[1], place.carry_z]), cur_yaw, CLOSED)]
            self.phase = "carry"
        if self.phase == "carry":
            xy_err = float(np.linalg.norm(o.pos[:2] - place.xy))
            if xy_err < 0.01 and abs(wrap(cur_yaw - place.yaw)) < np.deg2rad(3):
                self.phase = "lower"
            else:
                return [Waypoint(above, place.yaw, CLOSED, dwell=2)]
        if self.phase == "lower":
            if o.pos[2] - place.release_base < 0.006:
                self.phase = "release"
            else:
                return [Waypoint(low, place.yaw, CLOSED, dwell=1), Waypoint(low, place.yaw, OPEN, dwell=20)]
        # release: open where it is, then back off upwards
        if g < 0.05:
            self.phase, self._held = "released", None
        return [Waypoint(tcp, cur_yaw, OPEN, dwell=6),
                Waypoint(np.array([tcp[0], tcp[1], max(tcp[2] + 0.08, place.carry_z)]), cur_yaw, OPEN)]

    def _placement(self, s: SpecState, goal: Goal, o: ObjectState, cur_yaw: float) -> _Placement | None:
        """Where and how the held subject is put down; None for a lift."""
        target = self._place_target(s, goal, o)
        if target is None:
            return None
        assert self._held is not None
        place_yaw = cur_yaw
        ref = s.objects.get(goal.reference or "")
        if goal.kind == "stacked" and ref is not None:  # square on the block below
            turn = wrap(yaw_of(ref.rot) - yaw_of(o.rot))
            place_yaw = cur_yaw + ((turn + np.pi / 4) % (np.pi / 2) - np.pi / 4)
        elif goal.kind == "in" and ref is not None and ref.kind.container is not None \
                and ref.kind.container.inner[0] != ref.kind.container.inner[1]:  # lengthwise in a bin
            turn = wrap(yaw_of(ref.rot) - yaw_of(o.rot))
            place_yaw = cur_yaw + ((turn + np.pi / 2) % np.pi - np.pi / 2)
        return _Placement(target[0], target[1], self._carry_z(s, o.slot, self._held.offset), place_yaw)

    def _carry_z(self, s: SpecState, slot: str, offset: float) -> float:
        """A tcp height at which the held object clears every other object by 4 cm."""
        tops = [x.pos[2] + x.size[2] for x in s.objects.values() if x.slot != slot]
        return float(np.clip(max(tops, default=0.0) + 0.04 + offset, 0.16, 0.42))

    def _place_target(self, s: SpecState, goal: Goal, o: ObjectState) -> tuple[np.ndarray, float] | None:
        """Where the subject's base goes (xy and height above which it is let go), or None for a lift."""
        if goal.kind == "lifted":
            return None
        ref = s.objects.get(goal.reference or "")
        assert ref is not None
        if goal.kind == "in":
            return ref.pos[:2].copy(), float(ref.pos[2] + ref.size[2] + 0.015)
        if goal.kind in ("on", "stacked"):
            top = ref.kind.support.height * ref.scale if ref.kind.support else ref.size[2]
            return ref.pos[:2].copy(), float(ref.pos[2] + top + 0.008)
        if self._spot is None:
            gap = 0.5 * NEXT_TO_GAP_M if goal.kind == "next_to" else 0.03
            self._spot = self._free_spot(s, o, ref, gap)
        return self._spot, 0.008

    @staticmethod
    def _free_spot(s: SpecState, o: ObjectState, ref: ObjectState, gap: float) -> np.ndarray:
        """A spot on the table ``gap`` beyond ``ref``'s footprint, clear of everything else,
        the one nearest the robot's side of the workspace."""
        d = radius(o) + radius(ref) + gap
        others = [x for x in s.objects.values() if x.slot not in (o.slot, ref.slot)]
        (x0, x1), (y0, y1) = s.layout.x, s.layout.y
        best, best_cost = None, np.inf
        for angle in np.linspace(-np.pi, np.pi, 36, endpoint=False):
            xy = ref.pos[:2] + d * np.array([np.cos(angle), np.sin(angle)])
            if not (x0 - 0.02 <= xy[0] <= x1 + 0.02 and y0 - 0.03 <= xy[1] <= y1 + 0.03):
                continue
            clear = min((np.linalg.norm(xy - x.pos[:2]) - radius(x) - radius(o) for x in others), default=1.0)
            if clear < 0.015:
                continue
            cost = float(np.linalg.norm(xy - np.array([0.5, 0.0])))
            if cost < best_cost:
                best, best_cost = xy, cost
        if best is None:  # crowded: the side facing the robot
            best = ref.pos[:2] + d * np.array([-1.0, 0.0])
        return best

    # -- push --------------------------------------------------------------------------------
    def _push(self, s: SpecState, goal: Goal, cur_yaw: float) -> list[Waypoint]:
        o = s.objects[goal.subject]
        assert s.region is not None
        centre = o.pos[:2]
        u = s.region.centre - centre
        u = u / max(float(np.linalg.norm(u)), 1e-9)
        # half the object's footprint along the push direction
        half = 0.5 * (abs(u @ o.rot[:2, 0]) * o.size[0] + abs(u @ o.rot[:2, 1]) * o.size[1])
        self.phase, wps = push_waypoints(self.phase, s.tcp_pos, centre, s.region.centre, float(half), cur_yaw,
                                         self.push_z)
        return wps
