"""Designs of the box-shaped kinds: block and sponge (rounded boxes) and the basket (walls
lofted round a rectangle)."""

from __future__ import annotations

from collections.abc import Callable

from .design import Design
from .mesh import loft, round_corners, rounded_box
from .pieces import Piece


def block_design() -> Design:
    """A 4 cm toy block, edges rounded 1.5 mm."""
    v, f = rounded_box((0.02, 0.02, 0.02), 0.0015, 2)
    return Design("A 4 cm toy block with slightly rounded edges.", v, f,
                  [Piece("box", (0.02, 0.02, 0.02), (0.0, 0.0, 0.02))], 'specular="0.2" shininess="0.3"')


def sponge_design() -> Design:
    """A 9 x 6 x 3 cm kitchen sponge, edges rounded 3 mm."""
    v, f = rounded_box((0.045, 0.03, 0.015), 0.003, 3)
    return Design("A 9 x 6 x 3 cm kitchen sponge (a rounded box).", v, f,
                  [Piece("box", (0.045, 0.03, 0.015), (0.0, 0.0, 0.015))], 'specular="0.02" shininess="0.05"')


BASKET_CORE = (0.105, 0.065)
"""Half-extents of the rectangle the basket's rounded walls are offset from (inside: 5 mm)."""


def basket_design() -> Design:
    """An open 24 x 16 x 7 cm bin (an 18 cm banana lies flat in it): 1 cm walls, a 6 mm floor;
    a floor box and four wall boxes."""
    profile = round_corners([(0.0, 0.006, 0.0), (0.005, 0.006, 0.003), (0.005, 0.07, 0.002), (0.015, 0.07, 0.002),
                             (0.015, 0.0, 0.003), (0.0, 0.0, 0.0)])
    v, f = loft(profile, BASKET_CORE, 6)
    pieces = [Piece("box", (0.115, 0.075, 0.003), (0.0, 0.0, 0.003)),
              Piece("box", (0.005, 0.07, 0.032), (0.115, 0.0, 0.038)),
              Piece("box", (0.005, 0.07, 0.032), (-0.115, 0.0, 0.038)),
              Piece("box", (0.11, 0.005, 0.032), (0.0, 0.075, 0.038)),
              Piece("box", (0.11, 0.005, 0.032), (0.0, -0.075, 0.038))]
    return Design("An open plastic basket (bin), 24 x 16 x 7 cm, 1 cm walls.", v, f, pieces,
                  'specular="0.3" shininess="0.3"')


DESIGNS: dict[str, Callable[[], Design]] = {"block": block_design, "sponge": sponge_design, "basket": basket_design}
"""Each box-shaped kind's design function."""
