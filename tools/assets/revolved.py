"""Designs of the round kinds, each a revolved (r, z) profile: bowl, plate, mug (with a swept
handle), cup, can, bottle and marker; and the faithful scene's own bowl mesh."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from .design import Design
from .mesh import Point, arc, merge, revolve, round_corners, sweep
from .pieces import Piece, quat_axis, segment_capsule, stacked_cylinders, wall_ring

# -- the scene's bowl ------------------------------------------------------------------------

BOWL_SEGMENTS = 48


def bowl_profile() -> list[Point]:
    """(r, z) of the bowl's closed cross-section, metres: from the inner floor's centre out
    and up the inside wall, over a rounded rim, down the outside to the foot and back to the
    axis underneath. Sized to the collision pieces in bowl.xml (floor 6 mm, inner radius
    0.072 m, outer 0.084 m, rim at 0.050 m), with rounded corners and a slight flare."""
    pts: list[Point] = [(0.0, 0.006), (0.030, 0.006)]
    pts += arc((0.058, 0.018), 0.012, -np.pi / 2, 0.0, 7)[1:]  # inner floor-to-wall fillet → (0.070, 0.018)
    pts += [(0.0715, 0.032), (0.0735, 0.046)]
    pts += arc((0.0785, 0.0470), 0.005, np.pi, 0.0, 9)  # rounded rim, inside (0.0735) to outside (0.0835)
    pts += [(0.0830, 0.034), (0.0815, 0.022)]
    pts += arc((0.068, 0.013), 0.013, 0.0, -np.pi / 2, 7)  # outer wall-to-base curve → (0.068, 0.000)
    pts += [(0.040, 0.0), (0.0, 0.0)]
    return pts


def bowl_mesh() -> tuple[np.ndarray, np.ndarray]:
    """The bowl's visual mesh: vertices [N, 3] (m, base centre at the origin), triangles [M, 3]."""
    return revolve(bowl_profile(), BOWL_SEGMENTS)


# -- library kinds --------------------------------------------------------------------------


def _line(p0: Point, p1: Point) -> Callable[[float], float]:
    """r(z) on the line through two (r, z) points."""
    return lambda z: p0[0] + (p1[0] - p0[0]) * (z - p0[1]) / (p1[1] - p0[1])


def _inner_wall(top: Point, bottom: Point, thickness: float) -> Callable[[float], float]:
    """The inner face r(z) of a straight wall whose outer face runs from ``bottom`` to ``top``
    (r, z), ``thickness`` measured square to it."""
    shift = thickness / np.cos(np.arctan2(top[0] - bottom[0], top[1] - bottom[1]))
    outer = _line(bottom, top)
    return lambda z: outer(z) - shift


def library_bowl_profile() -> list[Point]:
    """(r, z) of the library bowl's cross-section: a flat 6 mm floor, a straight flared 5 mm
    wall up to a rounded rim 16 cm across and 5.5 cm high, and a shallow foot ring."""
    inner = _inner_wall((0.0815, 0.055), (0.048, 0.0), 0.005)
    return round_corners([(0.0, 0.006, 0.0), (inner(0.006), 0.006, 0.012), (inner(0.055), 0.055, 0.002),
                          (0.0815, 0.055, 0.002), (0.048, 0.0, 0.006), (0.040, 0.0, 0.0008),
                          (0.039, 0.0015, 0.0008), (0.0, 0.0015, 0.0)])


def bowl_design() -> Design:
    """The library bowl: a floor disc and 20 tilted wall boxes."""
    inner = _inner_wall((0.0815, 0.055), (0.048, 0.0), 0.005)
    v, f = revolve(library_bowl_profile(), 36)
    pieces = [Piece("cylinder", (0.046, 0.003), (0.0, 0.0, 0.003)),
              *wall_ring((inner(0.006), 0.006), (inner(0.0545), 0.0545), 0.005, 20)]
    return Design("A 16 cm ceramic bowl, 5.5 cm high, flared walls.", v, f, pieces,
                  'specular="0.5" shininess="0.6"')


def plate_profile() -> list[Point]:
    """(r, z) of the plate: a flat well (top 10 mm) out to r = 8 cm, a 4 mm rim rising to
    18 mm at r = 10 cm, and a foot ring underneath."""
    d = np.array([0.0182, 0.008]) / np.hypot(0.0182, 0.008)
    under = np.array([0.080, 0.010]) + 0.004 * np.array([d[1], -d[0]])

    def z_under(r: float) -> float:
        return float(under[1] + (r - under[0]) * d[1] / d[0])

    return round_corners([(0.0, 0.010, 0.0), (0.080, 0.010, 0.008), (0.0982, 0.018, 0.0015), (0.1, 0.018, 0.0012),
                          (0.1, z_under(0.1), 0.0012), (0.0785, z_under(0.0785), 0.002), (0.078, 0.0, 0.0015),
                          (0.072, 0.0, 0.0008), (0.0705, 0.0025, 0.0008), (0.0, 0.0025, 0.0)])


def plate_design() -> Design:
    """The plate: a floor disc under the well and 20 tilted boxes under the rim."""
    slope = 0.008 / 0.0182
    v, f = revolve(plate_profile(), 44)
    pieces = [Piece("cylinder", (0.078, 0.005), (0.0, 0.0, 0.005)),
              *wall_ring((0.078, 0.010 - 0.002 * slope), (0.0975, 0.010 + 0.0175 * slope), 0.004, 20)]
    return Design("A 20 cm dinner plate: a flat well 10 mm up, a rim rising to 18 mm.", v, f, pieces,
                  'specular="0.5" shininess="0.6"')


MUG_HANDLE = {"x": 0.046, "z": 0.047, "ax": 0.0195, "az": 0.023, "thick": 0.0045, "wide": 0.0055}
"""The mug handle's centreline: straight stubs from the wall out to x, then half an ellipse
(semi-axes ax, az about (x, z)); its section is thick (in the xz plane) by wide (along y), half-sizes."""


def mug_profile() -> list[Point]:
    """(r, z) of the mug's body: an 8 cm cylinder 9 cm high, 6 mm wall, 8 mm floor."""
    return round_corners([(0.0, 0.008, 0.0), (0.034, 0.008, 0.004), (0.034, 0.09, 0.0025), (0.04, 0.09, 0.0025),
                          (0.04, 0.0, 0.003), (0.036, 0.0, 0.001), (0.0355, 0.0015, 0.001), (0.0, 0.0015, 0.0)])


def mug_handle_path() -> np.ndarray:
    """Centreline points [K, 3] of the handle, from the upper attachment to the lower."""
    h = MUG_HANDLE
    top, bottom = h["z"] + h["az"], h["z"] - h["az"]
    psi = np.linspace(np.pi / 2, -np.pi / 2, 11)
    arc = np.stack([h["x"] + h["ax"] * np.cos(psi), np.zeros_like(psi), h["z"] + h["az"] * np.sin(psi)], axis=1)
    stub = np.linspace(0.037, h["x"], 4)[:-1]
    return np.vstack([np.stack([stub, 0 * stub, 0 * stub + top], axis=1), arc,
                      np.stack([stub[::-1], 0 * stub, 0 * stub + bottom], axis=1)])


def mug_handle_mesh() -> tuple[np.ndarray, np.ndarray]:
    """The handle: an elliptic tube along :func:`mug_handle_path`, its ends inside the wall."""
    path = mug_handle_path()
    tangent = np.gradient(path, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    y = np.array([0.0, 1.0, 0.0])
    frames = np.stack([np.cross(tangent, y), np.broadcast_to(y, path.shape)], axis=1)
    radii = np.tile([MUG_HANDLE["thick"], MUG_HANDLE["wide"]], (len(path), 1))
    tips = (path[0] - [0.001, 0.0, 0.0], path[-1] - [0.001, 0.0, 0.0])
    return sweep(path, frames, radii, 12, tips)


def mug_design() -> Design:
    """The mug: a floor disc, 16 wall boxes and six capsules along the handle."""
    path = mug_handle_path()
    knots = [np.array([0.040, 0.0, path[0, 2]]), path[3], path[5], path[8], path[11], path[13],
             np.array([0.040, 0.0, path[-1, 2]])]
    handle = [segment_capsule(a, b, MUG_HANDLE["thick"]) for a, b in itertools.pairwise(knots)]
    v, f = merge(revolve(mug_profile(), 32), mug_handle_mesh())
    pieces = [Piece("cylinder", (0.04, 0.004), (0.0, 0.0, 0.004)),
              *wall_ring((0.034, 0.008), (0.034, 0.09), 0.006, 16), *handle]
    return Design("A ceramic coffee mug: an 8 cm cylinder 9 cm high (centred on the origin) with its "
                  "handle on +x, so its bounding box runs from x = -0.04 to 0.07.", v, f, pieces,
                  'specular="0.5" shininess="0.6"')


def cup_outer(z: float) -> float:
    """The paper cup's outer radius at height z: 66 mm across at 6 cm, flaring upwards."""
    return 0.02973 + 0.0545 * z


def cup_profile() -> list[Point]:
    """(r, z) of a paper cup: a 1 mm tapered wall, a rolled bead at the 9 cm rim, the floor
    disc (top 4 mm up) on a skirt."""
    rc = cup_outer(0.0875)
    lower = round_corners([(0.0, 0.004, 0.0), (cup_outer(0.004) - 0.001, 0.004, 0.001),
                           (cup_outer(0.0875) - 0.001, 0.0875, 0.0)])
    bead = arc((rc, 0.0885), 0.0015, np.pi, -7 * np.pi / 18, 9)
    upper = round_corners([(cup_outer(0.0855), 0.0855, 0.0), (cup_outer(0.0), 0.0, 0.0008),
                           (cup_outer(0.0) - 0.001, 0.0, 0.0004), (cup_outer(0.0025) - 0.001, 0.0025, 0.0004),
                           (0.0, 0.0025, 0.0)])
    return lower + bead + upper


def cup_design() -> Design:
    """The paper cup: a floor disc and 16 thin tilted wall boxes."""
    inner = [(cup_outer(z) - 0.002, z) for z in (0.004, 0.087)]
    v, f = revolve(cup_profile(), 36)
    pieces = [Piece("cylinder", (cup_outer(0.0), 0.002), (0.0, 0.0, 0.002)), *wall_ring(inner[0], inner[1], 0.002, 16)]
    return Design("A paper cup, 7.2 cm across the rim and 9 cm high, tapered, thin wall.", v, f, pieces,
                  'specular="0.1" shininess="0.1"')


def can_profile() -> list[Point]:
    """(r, z) of a 330 ml drinks can: a recessed lid inside a rolled rim, a necked top, a
    66 mm body and a domed base on a stand ring."""
    return round_corners([(0.0, 0.1185, 0.0), (0.0262, 0.1185, 0.001), (0.0282, 0.122, 0.0008), (0.0298, 0.122, 0.0008),
                          (0.0298, 0.1185, 0.001), (0.033, 0.111, 0.003), (0.033, 0.009, 0.004),
                          (0.0275, 0.0012, 0.001), (0.026, 0.0, 0.0005), (0.0245, 0.0, 0.0005),
                          (0.0225, 0.0015, 0.002), (0.0, 0.0025, 0.0)])


def can_design() -> Design:
    """The can: four stacked cylinders, and a silver lid."""
    v, f = revolve(can_profile(), 36)
    lid = Piece("cylinder", (0.025, 0.0002), (0.0, 0.0, 0.1188))
    return Design("A drinks can, 66 mm across and 122 mm high, with a silver lid.", v, f,
                  stacked_cylinders(can_profile(), [0.0, 0.003, 0.009, 0.111, 0.1205]),
                  'specular="0.8" shininess="0.8"', (lid,), 'rgba="0.78 0.79 0.8 1" specular="0.9" shininess="0.9"')


def bottle_profile() -> list[Point]:
    """(r, z) of a water bottle: a 64 mm body, a shoulder, a 28 mm neck and a 31 mm cap."""
    return round_corners([(0.0, 0.18, 0.0), (0.0155, 0.18, 0.0015), (0.0155, 0.162, 0.0006), (0.014, 0.162, 0.0004),
                          (0.014, 0.148, 0.015), (0.032, 0.118, 0.03), (0.032, 0.0, 0.005), (0.026, 0.0, 0.002),
                          (0.022, 0.002, 0.003), (0.0, 0.0025, 0.0)])


def bottle_design() -> Design:
    """The bottle: eight stacked cylinders, and a white cap."""
    v, f = revolve(bottle_profile(), 30)
    cap = Piece("cylinder", (0.0158, 0.0093), (0.0, 0.0, 0.1711))
    cuts = [0.0, 0.004, 0.112, 0.12, 0.128, 0.136, 0.144, 0.1615, 0.18]
    return Design("A plastic water bottle, 64 mm across and 18 cm high, with a white cap.", v, f,
                  stacked_cylinders(bottle_profile(), cuts), 'specular="0.6" shininess="0.7"', (cap,),
                  'rgba="0.92 0.92 0.9 1" specular="0.3" shininess="0.3"')


def marker_profile() -> list[Point]:
    """(r, s) of the marker along its axis: a 17 mm barrel, an 18 mm cap with a rounded end
    over the last 45 mm, 13 cm in all."""
    return round_corners([(0.0, 0.13, 0.0), (0.009, 0.13, 0.004), (0.009, 0.085, 0.0005), (0.0085, 0.085, 0.0003),
                          (0.0085, 0.0, 0.0025), (0.0, 0.0, 0.0)])


def marker_design() -> Design:
    """The marker lying along x: two crossed boxes (an octagonal prism round its 18 mm section)
    and a white label band."""
    v, f = revolve(marker_profile(), 24)
    v = np.stack([v[:, 2] - 0.065, v[:, 0], v[:, 1] + 0.009], axis=1)  # revolve axis z -> x, a rotation
    side = 0.009 * np.tan(np.pi / 8)
    pieces = [Piece("box", (0.0635, 0.009, side), (0.0, 0.0, 0.009)),
              Piece("box", (0.0635, side, 0.009), (0.0, 0.0, 0.009))]
    band = Piece("cylinder", (0.0087, 0.02), (-0.025, 0.0, 0.009), quat_axis(1, np.pi / 2))
    return Design("A capped felt-tip marker, 13 cm long and 18 mm thick, lying along x.", v, f, pieces,
                  'specular="0.4" shininess="0.5"', (band,), 'rgba="0.93 0.93 0.91 1" specular="0.2"')


DESIGNS: dict[str, Callable[[], Design]] = {
    "bowl": bowl_design, "plate": plate_design, "mug": mug_design, "cup": cup_design, "can": can_design,
    "bottle": bottle_design, "marker": marker_design,
}
"""Each round kind's design function."""
