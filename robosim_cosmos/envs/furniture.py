"""Furniture built from boxes and cylinders (:mod:`.room_parts`): each builder fills a
:class:`~.room_parts.Piece` of a drawn width standing against a wall run; :data:`PIECES` names
them all with their width ranges.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .room_parts import ACCENTS, BLACK, CARDBOARD, DARK, STEEL, WHITE, Piece, pick, shade

# -- pieces against a wall: each takes (rng, piece, width) and fills the piece --------------


def _top_items(rng: np.random.Generator, p: Piece, width: float, depth: float, top: float) -> None:
    """Things standing on a bench or desk top: monitors, boxes, a toolbox, bottles."""
    a = 0.1
    while a < width - 0.25:
        kind = rng.integers(4)
        if kind == 0:  # a monitor on its stand, facing the room
            w = rng.uniform(0.45, 0.65)
            if a + w > width:
                break
            p.box(a + w / 2, 0.2, top + 0.12, (0.04, 0.04, 0.12), DARK)
            p.box(a + w / 2, 0.23, top + 0.24 + 0.17, (w / 2, 0.02, 0.17), BLACK, "room_glossy")
            a += w + rng.uniform(0.05, 0.3)
        elif kind == 1:  # a cardboard or plastic box
            w = rng.uniform(0.15, 0.4)
            h = rng.uniform(0.08, 0.3)
            colour = CARDBOARD if rng.random() < 0.6 else pick(rng, ACCENTS)
            p.box(a + w / 2, depth * rng.uniform(0.3, 0.6), top + h / 2, (w / 2, rng.uniform(0.08, 0.2), h / 2),
                  shade(rng, colour))
            a += w + rng.uniform(0.05, 0.25)
        elif kind == 2:  # bottles and cans
            for i in range(int(rng.integers(1, 4))):
                r = rng.uniform(0.025, 0.045)
                h = rng.uniform(0.08, 0.25)
                p.cylinder(a + 0.05 + 0.09 * i, depth * 0.6, top + h / 2, r, h / 2, pick(rng, ACCENTS))
            a += 0.35
        else:  # a toolbox or an instrument
            w = rng.uniform(0.25, 0.45)
            h = rng.uniform(0.1, 0.2)
            p.box(a + w / 2, depth * 0.45, top + h / 2, (w / 2, 0.12, h / 2), pick(rng, (BLACK, DARK, ACCENTS[0],
                                                                                             ACCENTS[1])))
            a += w + rng.uniform(0.05, 0.3)


def bench(rng: np.random.Generator, p: Piece, width: float) -> None:
    """A lab workbench: a slab on steel legs, a lower shelf, things on top."""
    top = rng.uniform(0.75, 0.92)
    depth = rng.uniform(0.6, 0.8)
    slab = pick(rng, (("room_wood", (1.0, 1.0, 1.0, 1.0)), ("room_flat", DARK), ("room_flat", WHITE),
                       ("room_glossy", STEEL)))
    p.box(width / 2, depth / 2, top - 0.02, (width / 2, depth / 2, 0.02), slab[1], slab[0])
    for a in (0.03, width - 0.03):
        for d in (0.05, depth - 0.05):
            p.box(a, d, (top - 0.04) / 2, (0.02, 0.02, (top - 0.04) / 2), STEEL, "room_glossy")
    p.box(width / 2, depth / 2, 0.15, (width / 2 - 0.03, depth / 2 - 0.03, 0.01), DARK)
    if rng.random() < 0.6:
        p.box(width * 0.3, depth / 2, 0.22, (0.2, 0.18, 0.06), shade(rng, CARDBOARD))
    _top_items(rng, p, width, depth, top)


def desk(rng: np.random.Generator, p: Piece, width: float) -> None:
    """An office desk: top, side panels, a drawer block, a monitor and a keyboard."""
    top = rng.uniform(0.72, 0.76)
    depth = rng.uniform(0.6, 0.75)
    wood = pick(rng, (("room_wood", (1.0, 1.0, 1.0, 1.0)), ("room_flat", WHITE), ("room_flat", DARK)))
    p.box(width / 2, depth / 2, top - 0.015, (width / 2, depth / 2, 0.015), wood[1], wood[0])
    for a in (0.015, width - 0.015):
        p.box(a, depth / 2, (top - 0.03) / 2, (0.015, depth / 2 - 0.02, (top - 0.03) / 2), wood[1], wood[0])
    p.box(width - 0.25, depth / 2, 0.3, (0.2, depth / 2 - 0.05, 0.28), pick(rng, (DARK, WHITE, STEEL)))
    for z in (0.15, 0.32, 0.49):
        p.box(width - 0.25, depth - 0.04, z, (0.08, 0.01, 0.008), STEEL)
    w = rng.uniform(0.45, 0.6)
    p.box(width / 2, 0.12, top + 0.1, (0.04, 0.04, 0.1), DARK)
    p.box(width / 2, 0.15, top + 0.2 + 0.16, (w / 2, 0.02, 0.16), BLACK, "room_glossy")
    p.box(width / 2, depth * 0.6, top + 0.01, (0.22, 0.07, 0.01), pick(rng, (BLACK, WHITE)))


def shelving(rng: np.random.Generator, p: Piece, width: float) -> None:
    """Open steel shelving, floor to ~2 m, with bins, boxes and binders on every shelf."""
    height = rng.uniform(1.7, 2.1)
    depth = rng.uniform(0.35, 0.5)
    frame = pick(rng, (STEEL, DARK, (0.2, 0.3, 0.55, 1.0)))
    for a in (0.02, width - 0.02):
        for d in (0.02, depth - 0.02):
            p.box(a, d, height / 2, (0.015, 0.015, height / 2), frame, "room_glossy")
    shelves = int(rng.integers(4, 6))
    for i in range(shelves):
        z = 0.1 + i * (height - 0.15) / (shelves - 1)
        p.box(width / 2, depth / 2, z, (width / 2, depth / 2, 0.012), frame, "room_glossy")
        if i == shelves - 1:
            break
        gap = (height - 0.15) / (shelves - 1) - 0.04
        if rng.random() < 0.4:
            p.box(width / 2, depth * 0.45, z + gap * 0.4, (width / 2 - 0.04, depth * 0.4, gap * 0.38),
                  (1.0, 1.0, 1.0, 1.0), "room_books")
        else:
            a = 0.05
            while a < width - 0.15:
                w = rng.uniform(0.12, 0.35)
                h = gap * rng.uniform(0.4, 0.9)
                colour = CARDBOARD if rng.random() < 0.5 else pick(rng, (*ACCENTS, BLACK, WHITE))
                p.box(min(a + w / 2, width - 0.08), depth * 0.5, z + 0.012 + h / 2,
                      (min(w / 2, width - 0.08 - a), depth * 0.4, h / 2), shade(rng, colour))
                a += w + rng.uniform(0.0, 0.08)


def bookshelf(rng: np.random.Generator, p: Piece, width: float) -> None:
    """A wooden bookcase full of books."""
    height = rng.uniform(1.2, 2.0)
    depth = 0.32
    wood = pick(rng, (("room_wood", (1.0, 1.0, 1.0, 1.0)), ("room_flat", WHITE), ("room_flat", DARK)))
    p.box(width / 2, 0.01, height / 2, (width / 2, 0.01, height / 2), wood[1], wood[0])
    for a in (0.01, width - 0.01):
        p.box(a, depth / 2, height / 2, (0.01, depth / 2, height / 2), wood[1], wood[0])
    shelves = int(height / 0.35) + 1
    for i in range(shelves):
        z = 0.02 + i * (height - 0.04) / (shelves - 1)
        p.box(width / 2, depth / 2, z, (width / 2, depth / 2, 0.012), wood[1], wood[0])
        if i < shelves - 1:
            gap = (height - 0.04) / (shelves - 1)
            p.box(width / 2, depth * 0.5, z + gap * 0.42, (width / 2 - 0.03, depth * 0.4, gap * 0.38),
                  (1.0, 1.0, 1.0, 1.0), "room_books")


def kitchen_run(rng: np.random.Generator, p: Piece, width: float) -> None:
    """Kitchen cabinets: base units with doors and handles, a counter with a sink and appliances,
    a tiled backsplash and wall units."""
    counter = rng.uniform(0.88, 0.94)
    body = pick(rng, (WHITE, (0.55, 0.4, 0.28, 1.0), (0.3, 0.33, 0.36, 1.0), (0.78, 0.74, 0.66, 1.0)))
    door = shade(rng, body, 0.08)
    p.box(width / 2, 0.29, (counter - 0.04) / 2, (width / 2, 0.29, (counter - 0.04) / 2), body)
    n = max(1, int(width / 0.5))
    for i in range(n):
        a = (i + 0.5) * width / n
        p.box(a, 0.585, (counter - 0.04) / 2 + 0.05, (width / n / 2 - 0.012, 0.008, (counter - 0.04) / 2 - 0.06),
              door)
        p.box(a + width / n * 0.35, 0.6, counter - 0.15, (0.008, 0.01, 0.06), STEEL, "room_glossy")
    p.box(width / 2, 0.31, 0.05, (width / 2, 0.28, 0.05), BLACK)  # the toe kick's shadow line
    stone = pick(rng, (("room_granite", (1.0, 1.0, 1.0, 1.0)), ("room_granite", (0.6, 0.58, 0.56, 1.0)),
                        ("room_flat", WHITE), ("room_wood", (1.0, 1.0, 1.0, 1.0))))
    p.box(width / 2, 0.31, counter - 0.02, (width / 2, 0.32, 0.02), stone[1], stone[0])
    p.box(width / 2, 0.005, counter + 0.3, (width / 2, 0.005, 0.3), (1.0, 1.0, 1.0, 1.0), "room_tiles")
    sink = rng.uniform(0.2, width - 0.6)
    p.box(sink + 0.3, 0.32, counter + 0.001, (0.28, 0.2, 0.002), (0.35, 0.36, 0.38, 1.0), "room_glossy")
    p.cylinder(sink + 0.3, 0.08, counter + 0.15, 0.015, 0.15, STEEL, "room_glossy")
    a = sink + 0.7
    for _ in range(int(rng.integers(1, 4))):
        if a > width - 0.3:
            break
        kind = rng.integers(3)
        if kind == 0:  # microwave: dark door window in a steel or black case
            p.box(a + 0.25, 0.3, counter + 0.16, (0.25, 0.19, 0.16), pick(rng, (BLACK, STEEL, WHITE)))
            p.box(a + 0.2, 0.495, counter + 0.16, (0.16, 0.005, 0.11), BLACK, "room_glossy")
            a += 0.6
        elif kind == 1:  # kettle / coffee machine
            p.cylinder(a + 0.1, 0.3, counter + 0.12, 0.08, 0.12, pick(rng, (BLACK, STEEL, WHITE, ACCENTS[0])))
            a += 0.3
        else:  # paper towels, jars
            p.cylinder(a + 0.08, 0.25, counter + 0.14, 0.06, 0.14, WHITE)
            p.cylinder(a + 0.25, 0.3, counter + 0.08, 0.045, 0.08, pick(rng, ACCENTS))
            a += 0.4
    if rng.random() < 0.8:  # wall cabinets
        z0 = counter + rng.uniform(0.5, 0.6)
        p.box(width / 2, 0.17, z0 + 0.35, (width / 2, 0.17, 0.35), body)
        for i in range(n):
            a = (i + 0.5) * width / n
            p.box(a, 0.345, z0 + 0.35, (width / n / 2 - 0.012, 0.006, 0.33), door)
            p.box(a + width / n * 0.35, 0.36, z0 + 0.08, (0.008, 0.01, 0.05), STEEL, "room_glossy")


def fridge(rng: np.random.Generator, p: Piece, width: float) -> None:
    """A tall refrigerator with two doors and long handles."""
    colour = pick(rng, (STEEL, WHITE, BLACK))
    p.box(width / 2, 0.35, 0.9, (width / 2 - 0.01, 0.35, 0.9), colour, "room_glossy")
    p.box(width / 2, 0.705, 1.35, (width / 2 - 0.02, 0.005, 0.005), DARK)
    p.box(width - 0.08, 0.73, 1.0, (0.012, 0.012, 0.3), DARK)


def chair(rng: np.random.Generator, p: Piece, width: float) -> None:
    """An office chair, a little away from the wall: seat, back, column and a five-star base."""
    fabric = pick(rng, (BLACK, DARK, (0.2, 0.25, 0.4, 1.0), (0.45, 0.45, 0.47, 1.0)))
    d = rng.uniform(0.4, 0.9)
    a = width / 2
    p.box(a, d, 0.47, (0.24, 0.24, 0.04), fabric)
    p.box(a, d - 0.22, 0.78, (0.22, 0.03, 0.26), fabric)
    p.cylinder(a, d, 0.25, 0.025, 0.2, DARK, "room_glossy")
    p.box(a, d, 0.05, (0.3, 0.025, 0.02), BLACK)
    p.box(a, d, 0.05, (0.025, 0.3, 0.02), BLACK)


def boxes(rng: np.random.Generator, p: Piece, width: float) -> None:
    """A stack of cardboard boxes on the floor."""
    a = 0.0
    while a < width - 0.2:
        w = rng.uniform(0.3, 0.6)
        z = 0.0
        for _ in range(int(rng.integers(1, 4))):
            h = rng.uniform(0.2, 0.45)
            p.box(a + w / 2, 0.3, z + h / 2, (w / 2 - 0.01, rng.uniform(0.18, 0.3), h / 2), shade(rng, CARDBOARD))
            z += h
            w *= rng.uniform(0.7, 1.0)
        a += w + 0.05


def whiteboard(rng: np.random.Generator, p: Piece, width: float) -> None:
    """A whiteboard on the wall with an aluminium frame and a few dark marker lines."""
    h = rng.uniform(0.8, 1.1)
    z = rng.uniform(1.3, 1.6)
    p.box(width / 2, 0.015, z, (width / 2, 0.015, h / 2), STEEL, "room_glossy")
    p.box(width / 2, 0.025, z, (width / 2 - 0.03, 0.01, h / 2 - 0.03), (0.96, 0.96, 0.95, 1.0), "room_glossy")
    for _ in range(int(rng.integers(3, 8))):
        p.box(rng.uniform(0.2, width - 0.2), 0.036, z + rng.uniform(-h / 3, h / 3),
              (rng.uniform(0.05, 0.25), 0.002, 0.004), pick(rng, (BLACK, (0.1, 0.2, 0.6, 1.0), ACCENTS[0])))


def door(rng: np.random.Generator, p: Piece, width: float) -> None:
    """A door in its frame, with a handle."""
    leaf = pick(rng, (("room_wood", (1.0, 1.0, 1.0, 1.0)), ("room_flat", (0.5, 0.52, 0.55, 1.0)),
                       ("room_flat", WHITE), ("room_flat", DARK)))
    p.box(width / 2, 0.02, 1.05, (width / 2, 0.02, 1.05), DARK)
    p.box(width / 2, 0.03, 1.02, (width / 2 - 0.05, 0.015, 1.0), leaf[1], leaf[0])
    p.box(width - 0.15, 0.06, 1.0, (0.06, 0.015, 0.012), STEEL, "room_glossy")


def window(rng: np.random.Generator, p: Piece, width: float) -> None:
    """A window on the wall: bright daylight panes behind dark mullions."""
    h = rng.uniform(1.0, 1.5)
    z = rng.uniform(1.1, 1.4) + h / 2
    p.box(width / 2, 0.01, z, (width / 2, 0.01, h / 2), (0.92, 0.95, 1.0, 1.0))
    n = int(rng.integers(2, 5))
    for i in range(n + 1):
        p.box(i * width / n, 0.025, z, (0.02, 0.015, h / 2), DARK)
    p.box(width / 2, 0.025, z - h / 2, (width / 2, 0.015, 0.02), DARK)
    p.box(width / 2, 0.025, z + h / 2, (width / 2, 0.015, 0.02), DARK)


def bin_(rng: np.random.Generator, p: Piece, width: float) -> None:
    """A waste bin."""
    h = rng.uniform(0.3, 0.6)
    p.cylinder(width / 2, 0.3, h / 2, rng.uniform(0.14, 0.22), h / 2, pick(rng, (BLACK, DARK, ACCENTS[1], STEEL)))


def cart(rng: np.random.Generator, p: Piece, width: float) -> None:
    """A steel utility cart with things on its shelves."""
    for z in (0.15, 0.5, 0.85):
        p.box(width / 2, 0.5, z, (width / 2, 0.25, 0.012), STEEL, "room_glossy")
    for a in (0.02, width - 0.02):
        for d in (0.27, 0.73):
            p.box(a, d, 0.45, (0.012, 0.012, 0.45), STEEL, "room_glossy")
    _top_items(rng, p, width, 0.5, 0.86)


def plant(rng: np.random.Generator, p: Piece, width: float) -> None:
    """A potted plant: a pot and a few stacked green masses."""
    p.cylinder(width / 2, 0.3, 0.18, 0.16, 0.18, pick(rng, (WHITE, DARK, (0.6, 0.35, 0.22, 1.0))))
    for i in range(3):
        p.cylinder(width / 2 + rng.uniform(-0.06, 0.06), 0.3 + rng.uniform(-0.06, 0.06), 0.5 + 0.22 * i,
                   0.2 - 0.04 * i, 0.12, shade(rng, (0.18, 0.4, 0.15, 1.0), 0.3))


def monitor(rng: np.random.Generator, p: Piece, width: float) -> None:
    """A monitor on a small stand table, as on a lab's side desk."""
    p.box(width / 2, 0.3, 0.35, (width / 2, 0.25, 0.35), pick(rng, (DARK, WHITE, STEEL)))
    p.box(width / 2, 0.25, 0.8, (0.04, 0.04, 0.1), DARK)
    p.box(width / 2, 0.28, 1.05, (min(0.3, width / 2), 0.02, 0.18), BLACK, "room_glossy")


def pegboard(rng: np.random.Generator, p: Piece, width: float) -> None:
    """A tool pegboard on the wall with tools hanging from it."""
    z, h = rng.uniform(1.2, 1.5), rng.uniform(0.6, 0.9)
    p.box(width / 2, 0.008, z, (width / 2, 0.008, h / 2), (1.0, 1.0, 1.0, 1.0), "room_pegboard")
    a = 0.08
    while a < width - 0.08:
        length = rng.uniform(0.1, 0.3)
        p.box(a, 0.025, z + rng.uniform(-h / 4, h / 4), (rng.uniform(0.008, 0.025), 0.01, length / 2),
              pick(rng, (BLACK, DARK, ACCENTS[0], ACCENTS[2], STEEL)))
        a += rng.uniform(0.06, 0.15)


def posters(rng: np.random.Generator, p: Piece, width: float) -> None:
    """Papers, posters and signs pinned to the wall."""
    a = 0.0
    while a < width - 0.2:
        w, h = rng.uniform(0.2, 0.6), rng.uniform(0.28, 0.8)
        if a + w > width:
            break
        z = rng.uniform(1.1, 1.8)
        p.box(a + w / 2, 0.006, z, (w / 2, 0.004, h / 2), pick(rng, (WHITE, WHITE, (0.95, 0.9, 0.6, 1.0),
                                                                      *ACCENTS, DARK)))
        if rng.random() < 0.6:  # a picture or a block of print on it
            p.box(a + w / 2, 0.011, z + h * 0.1, (w * 0.35, 0.002, h * 0.25), pick(rng, (*ACCENTS, BLACK, DARK)))
        a += w + rng.uniform(0.05, 0.4)


def wall_shelf(rng: np.random.Generator, p: Piece, width: float) -> None:
    """A shelf board on brackets with jars, binders or boxes on it."""
    z = rng.uniform(1.3, 1.7)
    p.box(width / 2, 0.13, z, (width / 2, 0.13, 0.012), pick(rng, (WHITE, DARK, (0.6, 0.45, 0.3, 1.0))))
    for a in (0.1, width - 0.1):
        p.box(a, 0.1, z - 0.08, (0.01, 0.1, 0.06), DARK)
    a = 0.05
    while a < width - 0.12:
        w, h = rng.uniform(0.05, 0.2), rng.uniform(0.1, 0.3)
        if a + w > width:
            break
        p.box(a + w / 2, 0.13, z + 0.012 + h / 2, (w / 2, 0.1, h / 2), shade(rng, pick(rng, (*ACCENTS, WHITE,
                                                                                                BLACK, CARDBOARD))))
        a += w + rng.uniform(0.0, 0.1)


Builder = Callable[[np.random.Generator, Piece, float], None]
PIECES: dict[str, tuple[Builder, tuple[float, float]]] = {
    "bench": (bench, (1.2, 1.8)),
    "desk": (desk, (1.0, 1.6)),
    "shelving": (shelving, (0.9, 1.3)),
    "bookshelf": (bookshelf, (0.7, 1.2)),
    "kitchen_run": (kitchen_run, (1.8, 3.0)),
    "fridge": (fridge, (0.7, 0.9)),
    "chair": (chair, (0.6, 0.7)),
    "boxes": (boxes, (0.6, 1.4)),
    "whiteboard": (whiteboard, (1.2, 2.0)),
    "door": (door, (0.9, 1.0)),
    "window": (window, (1.0, 2.0)),
    "bin": (bin_, (0.4, 0.5)),
    "cart": (cart, (0.7, 0.9)),
    "plant": (plant, (0.5, 0.6)),
    "monitor": (monitor, (0.5, 0.7)),
    "pegboard": (pegboard, (0.8, 1.4)),
    "posters": (posters, (0.8, 2.0)),
    "wall_shelf": (wall_shelf, (0.6, 1.2)),
}
"""Each piece's builder and the range its width along the wall is drawn from (metres)."""
