"""The tabletop object library: what each kind is (``envs/objects/library/catalog.json``)
and how an instance of it in a compiled model is looked up, coloured and scaled.

Geometry lives in ``envs/objects/library/<kind>.xml`` (one free body named ``body``, primitive
collision pieces, a visual mesh, a ``paint`` material); the scene attaches each instance under
a prefix ``"<slot>/"``. Sizes are metres at scale 1, the body frame at the bottom centre.

The original tasks' cube and bowl (``envs/objects/cube.xml``, ``bowl.xml``) are kinds too
(:data:`SCENE_KINDS`): attached once without a prefix under their own names, the cube's body
frame at its centre, the bowl a fixed (mocap) body.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import mujoco
import numpy as np

from .._resources import envs_dir
from ..errors import ConfigError


@dataclass(frozen=True)
class Grasp:
    """Top-down grasp: tcp ``height`` above the base, finger closing axis ``yaw`` in the body
    frame, ``period`` of the object's yaw symmetry (0: round) and the ``width`` grasped."""

    height: float
    yaw: float
    period: float
    width: float
    xy: tuple[float, float] = (0.0, 0.0)
    """Where on the footprint (body frame) the fingers close; off-centre for curved objects."""


@dataclass(frozen=True)
class Container:
    """Inner half-extents [2] (x, y; equal for round ones) and the floor's top height."""

    inner: tuple[float, float]
    floor: float


@dataclass(frozen=True)
class Support:
    """Height of the surface things are put on, and the radius of its flat part."""

    height: float
    radius: float


@dataclass(frozen=True)
class ObjectKind:
    """One kind of object: its names, size [3] (bbox extents), mass and the roles it can play."""

    kind: str
    noun: str
    synonyms: tuple[str, ...]
    category: str
    size: tuple[float, float, float]
    mass_kg: float
    friction: float
    scale: tuple[float, float]
    colours: tuple[str, ...]
    grasp: Grasp | None = None
    container: Container | None = None
    support: Support | None = None
    any_face_down: bool = False
    """It rests on any face alike (a cube): heights are read at its centre less half its height."""
    scene_file: str | None = None
    """An original scene object (``envs/objects/<scene_file>.xml``): body, joint and material are
    named ``<scene_file>``, ``<scene_file>_joint``, ``<scene_file>``. None: a library kind."""
    origin_z: float = 0.0
    """Height of the body frame above the base (0: the bottom centre, as in the library)."""

    @property
    def footprint_radius(self) -> float:
        """Radius of the circle around the base centre that holds the whole footprint at the
        largest scale (the mug's handle included)."""
        x, y = self.size[0], self.size[1]
        off = 0.5 * (x - y) if self.kind == "mug" else 0.0  # body centred, handle on +x
        return float(np.hypot(0.5 * x + off, 0.5 * y) * self.scale[1])

    def radius_at(self, scale: float) -> float:
        """Footprint radius (as :attr:`footprint_radius`) at ``scale``."""
        return self.footprint_radius * scale / self.scale[1]

    @property
    def file(self) -> Path:
        if self.scene_file is not None:
            return envs_dir() / "objects" / f"{self.scene_file}.xml"
        return envs_dir() / "objects" / "library" / f"{self.kind}.xml"


CUBE_HALF = 0.025
"""Half the side of the original tasks' cube (``envs/objects/cube.xml``)."""

SCENE_KINDS: tuple[ObjectKind, ...] = (
    ObjectKind(kind="cube", noun="cube", synonyms=("block",), category="toy", size=(0.05, 0.05, 0.05),
               mass_kg=0.062, friction=1.0, scale=(1.0, 1.0),
               colours=("red", "green", "blue", "yellow", "orange", "purple"),
               grasp=Grasp(height=CUBE_HALF, yaw=0.0, period=float(np.pi / 2), width=0.05),
               any_face_down=True, scene_file="cube", origin_z=CUBE_HALF),
    ObjectKind(kind="fixed_bowl", noun="bowl", synonyms=("dish",), category="container", size=(0.168, 0.168, 0.05),
               mass_kg=0.446, friction=0.8, scale=(1.0, 1.0), colours=("white", "grey", "pink", "teal"),
               container=Container(inner=(0.072, 0.072), floor=0.006), scene_file="bowl"),
)
"""The original tasks' objects: a 5 cm cube on a free joint and a bowl that never moves."""


@dataclass(frozen=True)
class Catalog:
    palette: dict[str, tuple[float, float, float]]
    kinds: dict[str, ObjectKind]

    def kind(self, name: str) -> ObjectKind:
        """The kind ``name``; ConfigError listing the valid ones otherwise."""
        try:
            return self.kinds[name]
        except KeyError:
            raise ConfigError(f"unknown object kind {name!r}; valid: {sorted(self.kinds)}") from None


@cache
def catalog() -> Catalog:
    """The object catalog (read once)."""
    doc = json.loads((envs_dir() / "objects" / "library" / "catalog.json").read_text())
    palette = {name: (float(r), float(g), float(b)) for name, (r, g, b) in doc["palette"].items()}
    kinds = {}
    for name, k in doc["kinds"].items():
        kinds[name] = ObjectKind(
            kind=name, noun=k["noun"], synonyms=tuple(k["synonyms"]), category=k["category"],
            size=tuple(k["size"]), mass_kg=float(k["mass_kg"]), friction=float(k["friction"]),
            scale=tuple(k["scale"]), colours=tuple(k["colours"]),
            grasp=Grasp(**{**k["grasp"], "xy": tuple(k["grasp"].get("xy", (0.0, 0.0)))})
            if "grasp" in k else None,
            container=Container(inner=tuple(k["container"]["inner"]), floor=k["container"]["floor"])
            if "container" in k else None,
            support=Support(**k["support"]) if "support" in k else None,
        )
    kinds.update({k.kind: k for k in SCENE_KINDS})
    for kind in kinds.values():
        unknown = set(kind.colours) - set(palette)
        if unknown:
            raise ConfigError(f"object kind {kind.kind!r} uses colours not in the palette: {sorted(unknown)}")
    return Catalog(palette, kinds)


def _names(slot: str, kind: ObjectKind) -> tuple[str, str, str]:
    """Body, joint and material names of an instance in the compiled model."""
    if kind.scene_file is not None:
        return kind.scene_file, f"{kind.scene_file}_joint", kind.scene_file
    return f"{slot}/body", f"{slot}/joint", f"{slot}/paint"


class Instance:
    """One attached object in a compiled model (prefix ``"<slot>/"``): ids, and the colour and
    scale a reset gives it. Scaling is uniform about the body origin (geometry, mass, inertia);
    meshes changed by it must be uploaded again by a renderer (:attr:`mesh_ids`). A fixed
    (mocap) body has no joint: ``qadr`` and ``dadr`` are −1 and ``mocap`` its mocap index."""

    def __init__(self, model: mujoco.MjModel, slot: str, kind: ObjectKind) -> None:
        self.model, self.slot, self.kind = model, slot, kind
        body, joint, paint = _names(slot, kind)
        self.body = model.body(body).id
        self.mocap = int(model.body_mocapid[self.body])
        self.qadr = self.dadr = -1
        if self.mocap < 0:
            self.qadr = int(model.jnt_qposadr[model.joint(joint).id])
            self.dadr = int(model.jnt_dofadr[model.joint(joint).id])
        self.geoms = np.flatnonzero(model.geom_bodyid == self.body)
        self.collision_geoms = np.array([g for g in self.geoms if model.geom_contype[g] or model.geom_conaffinity[g]])
        self.material = model.mat(paint).id
        self.mesh_ids = sorted({int(model.geom_dataid[g]) for g in self.geoms
                                if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_MESH})
        self._geom_size = model.geom_size[self.geoms].copy()
        self._geom_pos = model.geom_pos[self.geoms].copy()
        self._geom_rbound = model.geom_rbound[self.geoms].copy()
        self._geom_aabb = model.geom_aabb[self.geoms].copy()
        self._mass = float(model.body_mass[self.body])
        self._inertia = model.body_inertia[self.body].copy()
        self._ipos = model.body_ipos[self.body].copy()
        self._verts = {m: model.mesh_vert[model.mesh_vertadr[m]: model.mesh_vertadr[m] + model.mesh_vertnum[m]].copy()
                       for m in self.mesh_ids}
        self.scale = 1.0
        self.colour = kind.colours[0]

    def set_colour(self, name: str) -> None:
        self.model.mat_rgba[self.material, :3] = catalog().palette[name]
        self.colour = name

    def set_scale(self, s: float) -> None:
        """Scale the instance by ``s`` relative to its file's size."""
        m, g = self.model, self.geoms
        m.geom_size[g] = self._geom_size * s
        m.geom_pos[g] = self._geom_pos * s
        m.geom_rbound[g] = self._geom_rbound * s
        m.geom_aabb[g] = self._geom_aabb * s
        m.body_mass[self.body] = self._mass * s**3
        m.body_inertia[self.body] = self._inertia * s**5
        m.body_ipos[self.body] = self._ipos * s
        for mesh, verts in self._verts.items():
            a = m.mesh_vertadr[mesh]
            m.mesh_vert[a: a + len(verts)] = verts * s
        self.scale = float(s)

    def size(self) -> np.ndarray:
        """Bounding box extents [3] at the current scale."""
        return np.asarray(self.kind.size) * self.scale

    def set_pose(self, data: mujoco.MjData, xyz: np.ndarray, yaw: float) -> None:
        """Place the base (bottom centre) at ``xyz`` with ``yaw`` about z, upright and at rest."""
        origin = np.asarray(xyz) + np.array([0.0, 0.0, self.kind.origin_z]) if self.kind.origin_z else xyz
        quat = [np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)]
        if self.mocap >= 0:
            data.mocap_pos[self.mocap] = origin
            data.mocap_quat[self.mocap] = quat
            return
        q = self.qadr
        data.qpos[q: q + 3] = origin
        data.qpos[q + 3: q + 7] = quat
        data.qvel[self.dadr: self.dadr + 6] = 0.0

    def pos(self, data: mujoco.MjData) -> np.ndarray:
        """Base (bottom centre) [3], world frame."""
        p = data.xpos[self.body].copy()
        if self.kind.origin_z:
            p -= self.rot(data)[:, 2] * self.kind.origin_z
        return p

    def rot(self, data: mujoco.MjData) -> np.ndarray:
        """Body rotation [3, 3]."""
        return data.xmat[self.body].reshape(3, 3).copy()
