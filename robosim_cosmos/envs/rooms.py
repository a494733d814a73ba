"""Procedural rooms around the station, drawn per episode from DROID's scene-type mix.

A :class:`Room` is plain data: the scene type, the work surface's height above the floor and
its material, the floor, the walls and furniture (:mod:`.furniture` pieces), the clutter on
the work surface and the lights. What each scene type holds is data (``envs/rooms/styles.json``);
:mod:`.room_model` puts a drawn room into a compiled scene. Everything is drawn from the
episode's generator, so a seed gives the same room.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal, get_args

import numpy as np

from .._resources import envs_dir
from ..errors import ConfigError
from .furniture import PIECES
from .room_parts import ACCENTS, BLACK, CARDBOARD, DARK, STEEL, WHITE, Part, Piece, Wall, as_rgba

RoomStyle = Literal["droid", "industrial_office", "kitchen", "office", "plain"]
ROOM_STYLES: tuple[RoomStyle, ...] = get_args(RoomStyle)
SceneType = Literal["industrial_office", "kitchen", "office"]
SCENE_TYPES: tuple[SceneType, ...] = get_args(SceneType)
DEFAULT_ROOM: RoomStyle = "droid"
"""``droid`` draws each episode's scene type from DROID's mix; a scene type fixes it; ``plain``
is the bare grey room the station had before (no room is drawn)."""

TABLE_KEEP_OUT = ((-0.3, 1.15), (-0.75, 0.75))
"""x and y range (m) around the robot's table that no furniture enters."""
TABLE_NEAR_EDGE_M = -0.1
"""The work surface's edge under the robot base (x, m); its far edge and half width are drawn."""
TABLE_FAR_EDGE_M = (0.95, 1.15)
TABLE_HALF_WIDTH_M = (0.55, 0.72)
"""The drawn extent of the work surface. A scene with a room compiles the largest one (the plain
room keeps its 1.0 × 1.2 m table), so drawing only shrinks it and its collision bounds stay
conservative."""
CLUTTER_INNER_M = (0.8, 0.38)
"""Clutter stands beyond x = 0.80 (the far strip) or |y| = 0.38 (the side strips) on the work
surface: outside every task layout's area (x 0.38–0.70, |y| ≤ 0.27, plus the objects' radius; and
the drawn keep-out keeps it clear of every object at reset)."""
ON_WALL = ("window", "whiteboard", "pegboard", "posters", "wall_shelf")
"""Pieces hung on a wall: they share a wall's length with each other, not with what stands below."""
CLUTTER_GAP_M = 0.03
"""Smallest gap between a clutter item's footprint and a task object's (or another item's)."""


def check_room(value: object) -> RoomStyle:
    """``value`` if it names a room style; ConfigError naming the valid ones otherwise."""
    if not isinstance(value, str) or value not in ROOM_STYLES:
        raise ConfigError(f"unknown room {value!r}; valid: {list(ROOM_STYLES)}")
    return value


@dataclass(frozen=True)
class Light:
    """A spot light: position [3] and direction [3] (world), colour, cone ``cutoff`` (deg) and
    bulb ``radius`` (m; a larger bulb softens the edges of the shadow it casts)."""

    pos: tuple[float, float, float]
    dir: tuple[float, float, float]
    diffuse: tuple[float, float, float]
    cutoff: float
    radius: float = 0.02


@dataclass(frozen=True)
class Room:
    """One drawn room (world frame: robot base at the origin, work surface at z = 0)."""

    scene_type: SceneType
    surface_height: float
    table_far_edge: float
    table_half_width: float
    work_surface: tuple[str, tuple[float, float, float, float]]
    floor: tuple[str, tuple[float, float, float, float]]
    parts: tuple[Part, ...]
    clutter: tuple[Part, ...]
    key: Light
    lights: tuple[Light, ...]
    ambient: float
    headlight: float
    dropped: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """What identifies this room in ``info`` and results (JSON-ready)."""
        return {"scene_type": self.scene_type, "surface_height_m": round(self.surface_height, 4),
                "table_m": [round(self.table_far_edge - TABLE_NEAR_EDGE_M, 4), round(2 * self.table_half_width, 4)],
                "work_surface": self.work_surface[0], "parts": len(self.parts), "clutter": len(self.clutter),
                "lights": 1 + len(self.lights), "dropped": dict(self.dropped)}


@cache
def styles() -> dict[str, Any]:
    """The scene types' contents (``envs/rooms/styles.json``), read once."""
    doc: dict[str, Any] = json.loads((envs_dir() / "rooms" / "styles.json").read_text())
    return doc


def _uniform(rng: np.random.Generator, span: list[float] | tuple[float, float]) -> float:
    return float(rng.uniform(span[0], span[1]))


def _choice(rng: np.random.Generator, options: list) -> Any:
    return options[int(rng.integers(len(options)))]


def _footprint(parts: list[Part]) -> tuple[np.ndarray, np.ndarray]:
    """xy bounds (lo [2], hi [2]) of parts (boxes as their turned rectangles)."""
    lo, hi = np.full(2, np.inf), np.full(2, -np.inf)
    for p in parts:
        if p.shape == "box":
            c, s = abs(np.cos(p.yaw)), abs(np.sin(p.yaw))
            reach = np.array([c * p.size[0] + s * p.size[1], s * p.size[0] + c * p.size[1]])
        else:
            reach = np.full(2, p.size[0])
        xy = np.array(p.pos[:2])
        lo, hi = np.minimum(lo, xy - reach), np.maximum(hi, xy + reach)
    return lo, hi


def _intrudes(parts: list[Part]) -> bool:
    lo, hi = _footprint(parts)
    (x0, x1), (y0, y1) = TABLE_KEEP_OUT
    return bool(lo[0] < x1 and hi[0] > x0 and lo[1] < y1 and hi[1] > y0)


def _walls(rng: np.random.Generator, floor_z: float) -> tuple[list[Wall], float]:
    """The room's four walls as runs (back, left, right, rear) and the ceiling height."""
    back, rear = _uniform(rng, (1.4, 2.4)), -_uniform(rng, (1.0, 1.6))
    left, right = _uniform(rng, (1.0, 2.0)), -_uniform(rng, (1.0, 2.0))
    height = _uniform(rng, (2.5, 3.0))
    runs = [
        Wall(np.array([back, left]), np.array([0.0, -1.0]), np.array([-1.0, 0.0]), left - right, floor_z),
        Wall(np.array([rear, left]), np.array([1.0, 0.0]), np.array([0.0, -1.0]), back - rear, floor_z),
        Wall(np.array([back, right]), np.array([-1.0, 0.0]), np.array([0.0, 1.0]), back - rear, floor_z),
        Wall(np.array([rear, right]), np.array([0.0, 1.0]), np.array([1.0, 0.0]), left - right, floor_z),
    ]
    return runs, height


def _wall_parts(runs: list[Wall], height: float, wall: tuple[str, tuple[float, ...]],
                ceiling: tuple[str, tuple[float, ...]], baseboard: tuple[float, ...]) -> list[Part]:
    """The walls (each with a baseboard) and the ceiling as boxes."""
    parts = []
    for run in runs:
        mid = run.start + run.along * run.length / 2 - run.inward * 0.03
        half = (run.length / 2 + 0.05, 0.03, height / 2)
        parts.append(Part("box", (float(mid[0]), float(mid[1]), run.floor_z + height / 2), half, run.yaw, wall[0],
                          as_rgba(list(wall[1]))))
        board = run.start + run.along * run.length / 2 + run.inward * 0.005
        parts.append(Part("box", (float(board[0]), float(board[1]), run.floor_z + 0.05),
                          (run.length / 2, 0.008, 0.05), run.yaw, "room_flat", as_rgba(list(baseboard))))
    b, l_, r_, rear = runs[0].start[0], runs[0].start[1], runs[2].start[1], runs[1].start[0]
    parts.append(Part("box", ((b + rear) / 2, (l_ + r_) / 2, runs[0].floor_z + height + 0.03),
                      ((b - rear) / 2 + 0.05, (l_ - r_) / 2 + 0.05, 0.03), 0.0, ceiling[0], as_rgba(list(ceiling[1]))))
    return parts


def _count(parts: list[Part]) -> np.ndarray:
    """Boxes and cylinders among ``parts``: int [2]."""
    return np.array([sum(p.shape == "box" for p in parts), sum(p.shape == "cylinder" for p in parts)])


def _furnish(rng: np.random.Generator, runs: list[Wall], counts: dict[str, list[int]], capacity: np.ndarray,
             dropped: dict[str, int]) -> list[Part]:
    """Pieces along the walls: each piece's count drawn from its range, in a random order, each
    put at a random free place of a random wall; a piece that would enter the robot's table
    area or exceed ``capacity`` (boxes, cylinders) is left out (counted in ``dropped``)."""
    wanted = [name for name, (lo, hi) in counts.items() for _ in range(int(rng.integers(lo, hi + 1)))]
    rng.shuffle(wanted)
    used: dict[int, list[tuple[float, float]]] = {i: [] for i in range(len(runs))}
    used_up: dict[int, list[tuple[float, float]]] = {i: [] for i in range(len(runs))}
    parts: list[Part] = []
    for name in wanted:
        build, (w0, w1) = PIECES[name]
        width = _uniform(rng, (w0, w1))
        placed = False
        for _ in range(20):
            wall = int(rng.integers(len(runs)))
            run = runs[wall]
            if run.length < width + 0.1:
                continue
            offset = _uniform(rng, (0.05, run.length - width - 0.05))
            taken = used_up[wall] if name in ON_WALL else used[wall]
            if any(offset < b + 0.05 and offset + width > a - 0.05 for a, b in taken):
                continue
            piece = Piece(run, offset)
            build(rng, piece, width)
            if _intrudes(piece.parts):
                continue
            if np.any(_count(parts) + _count(piece.parts) > capacity):
                break
            parts.extend(piece.parts)
            taken.append((offset, offset + width))
            placed = True
            break
        if not placed:
            dropped[name] = dropped.get(name, 0) + 1
    return parts


def _back_of_desk_item(rng: np.random.Generator, x: float, y: float, kind: int) -> tuple[list[Part], float]:
    """A taller thing for the far strip, behind the workspace from both cameras: a monitor on its
    foot facing the robot (``kind`` 8) or a lidded storage bin or tool case (9); and its radius."""
    if kind == 8:
        w = rng.uniform(0.18, 0.28)
        return [Part("box", (x, y, 0.006), (0.06, 0.08, 0.006), 0.0, "room_flat", DARK),
                Part("box", (x + 0.02, y, 0.12), (0.015, 0.02, 0.11), 0.0, "room_flat", DARK),
                Part("box", (x, y, 0.16 + rng.uniform(0.0, 0.05)), (0.012, w, w * 0.6), 0.0, "room_glossy", BLACK)], \
            w + 0.01
    hx, hy, hz = rng.uniform(0.05, 0.07), rng.uniform(0.1, 0.16), rng.uniform(0.05, 0.12)
    colour = _choice(rng, [*ACCENTS, BLACK, (0.85, 0.85, 0.8, 1.0)])
    return [Part("box", (x, y, hz), (hx, hy, hz), 0.0, "room_flat", colour),
            Part("box", (x, y, 2 * hz + 0.006), (hx + 0.005, hy + 0.005, 0.006), 0.0, "room_flat",
                 _choice(rng, [BLACK, DARK, WHITE]))], float(np.hypot(hx, hy)) + 0.01


def _clutter_item(rng: np.random.Generator, xy: np.ndarray, zone: int) -> tuple[list[Part], float]:
    """One small thing on the work surface at ``xy`` and its footprint radius; items on the
    side strips (next to the exterior cameras) stay low."""
    x, y = float(xy[0]), float(xy[1])
    low = zone > 0
    kind = int(rng.integers(10 if zone == 0 else 8))
    # mostly square to the table's edges, as things are put down
    yaw = float(rng.choice([0.0, np.pi / 2]) + rng.normal(0.0, 0.25))
    if kind >= 8:
        return _back_of_desk_item(rng, x, y, kind)
    if kind == 0:  # mug
        r, h = rng.uniform(0.035, 0.045), rng.uniform(0.08, 0.1)
        return [Part("cylinder", (x, y, h / 2), (r, h / 2, 0.0), 0.0, "room_glossy",
                     _choice(rng, [WHITE, BLACK, *ACCENTS]))], r + 0.01
    if kind == 1:  # bottle
        r, h = rng.uniform(0.03, 0.04), (rng.uniform(0.08, 0.12) if low else rng.uniform(0.18, 0.26))
        return [Part("cylinder", (x, y, h / 2), (r, h / 2, 0.0), 0.0, "room_glossy",
                     _choice(rng, [*ACCENTS, (0.8, 0.9, 0.95, 1.0), DARK]))], r
    if kind == 2:  # book or binder, lying down
        hx, hy, hz = rng.uniform(0.06, 0.1), rng.uniform(0.08, 0.12), rng.uniform(0.01, 0.03)
        return [Part("box", (x, y, hz), (hx, hy, hz), yaw, "room_flat", _choice(rng, [*ACCENTS, BLACK, WHITE]))], \
            float(np.hypot(hx, hy))
    if kind == 3:  # roll of tape
        r = rng.uniform(0.04, 0.06)
        return [Part("cylinder", (x, y, 0.025), (r, 0.025, 0.0), 0.0, "room_flat",
                     _choice(rng, [(0.85, 0.8, 0.6, 1.0), BLACK, ACCENTS[1]]))], r
    if kind == 4:  # small cardboard box
        hx, hy = rng.uniform(0.05, 0.1), rng.uniform(0.05, 0.1)
        hz = rng.uniform(0.03, 0.05) if low else rng.uniform(0.05, 0.12)
        return [Part("box", (x, y, hz), (hx, hy, hz), yaw, "room_flat", CARDBOARD)], float(np.hypot(hx, hy))
    if kind == 5:  # laptop, closed or open
        hx, hy = 0.14, 0.1
        parts = [Part("box", (x, y, 0.01), (hx, hy, 0.01), yaw, "room_glossy", _choice(rng, [DARK, STEEL, BLACK]))]
        return parts, float(np.hypot(hx, hy))
    if kind == 6:  # sheets of paper, a notebook
        hx, hy = rng.uniform(0.07, 0.105), rng.uniform(0.05, 0.075)
        return [Part("box", (x, y, 0.002), (hx, hy, 0.002), yaw, "room_flat", _choice(rng, [WHITE, WHITE, ACCENTS[2]])),
                Part("box", (x, y, 0.004), (hx * 0.7, hy * 0.08, 0.001), yaw, "room_flat", DARK)], \
            float(np.hypot(hx, hy))
    # a cable lying in a few straight runs
    parts, r = [], 0.0
    start, heading = np.array([x, y]), yaw
    for _ in range(int(rng.integers(2, 5))):
        length = rng.uniform(0.06, 0.14)
        mid = start + 0.5 * length * np.array([np.cos(heading), np.sin(heading)])
        parts.append(Part("box", (float(mid[0]), float(mid[1]), 0.004), (length / 2, 0.004, 0.004), float(heading),
                          "room_flat", _choice(rng, [BLACK, BLACK, WHITE, ACCENTS[1]])))
        start = start + length * np.array([np.cos(heading), np.sin(heading)])
        r = max(r, float(np.linalg.norm(start - xy)))
        heading += rng.uniform(-1.2, 1.2)
    return parts, r + 0.01


def _clutter(rng: np.random.Generator, count: int, far: float, half_width: float,
             keep_out: list[tuple[np.ndarray, float]], dropped: dict[str, int]) -> list[Part]:
    """``count`` small things on the work surface's far and side strips (:data:`CLUTTER_INNER_M`
    to 3 cm from the edges of a surface reaching ``far`` and ``half_width``), never within
    :data:`CLUTTER_GAP_M` of a task object's footprint (``keep_out``: xy [2], radius) or of each other."""
    zones = (((CLUTTER_INNER_M[0], far - 0.03), (-half_width + 0.03, half_width - 0.03)),
             ((0.1, far - 0.03), (CLUTTER_INNER_M[1], half_width - 0.03)),
             ((0.1, far - 0.03), (-half_width + 0.03, -CLUTTER_INNER_M[1])))
    taken = list(keep_out)
    parts: list[Part] = []
    for _ in range(count):
        for _attempt in range(20):
            zone = int(rng.integers(len(zones)))
            (x0, x1), (y0, y1) = zones[zone]
            xy = np.array([rng.uniform(x0, x1), rng.uniform(y0, y1)])
            item, r = _clutter_item(rng, xy, zone)
            lo, hi = _footprint(item)
            inside = (lo[0] >= x0 - 0.02 and hi[0] <= far and lo[1] >= -half_width and hi[1] <= half_width
                      and (zone == 0 or min(abs(lo[1]), abs(hi[1])) >= CLUTTER_INNER_M[1] - 0.02))
            if inside and all(np.linalg.norm(xy - c) >= r + rc + CLUTTER_GAP_M for c, rc in taken):
                parts.extend(item)
                taken.append((xy, r))
                break
        else:
            dropped["clutter"] = dropped.get("clutter", 0) + 1
    return parts


def _lights(rng: np.random.Generator, spec: dict[str, Any], runs: list[Wall], height: float
            ) -> tuple[Light, tuple[Light, ...]]:
    """A key light above the table (it casts the faithful preset's shadow) and ceiling lights."""
    tints = spec["tints"]
    tint = np.array(_choice(rng, tints))
    floor_z = runs[0].floor_z
    top = min(1.8, floor_z + height - 0.15)  # under the ceiling, which would shade everything
    key_pos = np.array([rng.uniform(0.0, 0.9), rng.uniform(-0.9, 0.9), rng.uniform(min(1.0, top), top)])
    target = np.array([0.52, 0.0, 0.0]) + rng.uniform(-0.15, 0.15, 3) * np.array([1.0, 1.0, 0.0])
    key_dir = (target - key_pos) / np.linalg.norm(target - key_pos)
    key = Light(tuple(key_pos), tuple(key_dir), tuple(tint * _uniform(rng, spec["diffuse"])), 70.0,
                _uniform(rng, spec["key_radius_m"]))
    back, rear = runs[0].start[0], runs[1].start[0]
    left, right = runs[0].start[1], runs[2].start[1]
    lights = []
    for _ in range(int(rng.integers(spec["lights"][0], spec["lights"][1] + 1))):
        pos = np.array([rng.uniform(rear + 0.3, back - 0.3), rng.uniform(right + 0.3, left - 0.3),
                        floor_z + height - 0.05])
        d = np.array([rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), -1.0])
        lights.append(Light(tuple(pos), tuple(d / np.linalg.norm(d)),
                            tuple(tint * _uniform(rng, spec["diffuse"]) * 0.6), float(rng.uniform(50, 80))))
    return key, tuple(lights)


def draw_room(rng: np.random.Generator, style: RoomStyle, keep_out: list[tuple[np.ndarray, float]],
              capacity: tuple[int, int]) -> Room:
    """One room of ``style`` (``droid``: the scene type drawn from DROID's mix) with at most
    ``capacity`` (boxes, cylinders) wall and furniture parts, clutter kept clear of ``keep_out``
    (task objects' xy [2] and footprint radius, m)."""
    style = check_room(style)
    if style == "plain":
        raise ConfigError("the plain room is not drawn")
    doc = styles()
    types = doc["types"]
    if style == "droid":
        weights = np.array([types[t]["weight"] for t in SCENE_TYPES], dtype=float)
        scene_type: SceneType = SCENE_TYPES[int(rng.choice(len(SCENE_TYPES), p=weights / weights.sum()))]
    else:
        scene_type = style
    spec = types[scene_type]
    height = _uniform(rng, spec["surface_height_m"])
    surface_material, surface_rgba = _choice(rng, spec["work_surface"])
    floor_material, floor_rgba = _choice(rng, spec["floor"])
    wall_material, wall_rgba = _choice(rng, spec["wall"])
    runs, ceiling = _walls(rng, -height)
    dropped: dict[str, int] = {}
    ceiling_look = _choice(rng, spec["ceiling"])
    baseboard = _choice(rng, [[0.12, 0.12, 0.13, 1.0], [0.3, 0.3, 0.32, 1.0], [0.85, 0.85, 0.83, 1.0]])
    parts = _wall_parts(runs, ceiling, (wall_material, tuple(wall_rgba)), (ceiling_look[0], tuple(ceiling_look[1])),
                        tuple(baseboard))
    parts += _furnish(rng, runs, spec["furniture"], np.array(capacity) - _count(parts), dropped)
    far, half_width = _uniform(rng, TABLE_FAR_EDGE_M), _uniform(rng, TABLE_HALF_WIDTH_M)
    lo, hi = spec["clutter"]
    clutter = _clutter(rng, int(rng.integers(lo, hi + 1)), far, half_width, keep_out, dropped)
    key, lights = _lights(rng, doc["lighting"], runs, ceiling)
    light = doc["lighting"]
    return Room(scene_type, height, far, half_width, (surface_material, as_rgba(surface_rgba)),
                (floor_material, as_rgba(floor_rgba)), tuple(parts), tuple(clutter), key, lights,
                _uniform(rng, light["ambient"]), _uniform(rng, light["headlight"]), dropped)

