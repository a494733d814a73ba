"""Put drawn rooms (:mod:`.rooms`) into a compiled scene without recompiling it.

The loader adds a pool of visual-only boxes and cylinders and a few lights (:func:`add_room_pool`);
each reset, :class:`RoomModel` moves the pool's primitives to the room's parts (sizes,
materials, colours), hides the unused ones, restyles the table and floor and sets the lights.
The primitives never collide, so only what the cameras see changes.
"""

from __future__ import annotations

import mujoco
import numpy as np

from .._resources import envs_dir
from ..kinematics.empty_prefix import quiet_empty_prefix_warning
from .room_parts import Part
from .rooms import TABLE_FAR_EDGE_M, TABLE_HALF_WIDTH_M, TABLE_NEAR_EDGE_M, Light, Room

POOL_BOXES = 320
POOL_CYLINDERS = 72
POOL_LIGHTS = 4
CLUTTER_RESERVE = (110, 30)
"""Boxes and cylinders kept for the clutter (at most 28 items; a cable takes up to 4 boxes)."""
ROBOT_WHITE_EMISSION = 0.43
ROOM_NUMSTACKS = 8
ROOM_GROUP = 4
"""The geom group of everything a room shows (and the floor and table legs): the cameras draw it
as a still layer (:class:`.observation.Cameras`); MuJoCo's default options hide it."""
HIDDEN_GROUP = 5
"""The pool's unused primitives: no camera draws this group."""
_HIDDEN_POS = (0.0, 0.0, -50.0)
TABLE_LEGS = tuple(f"table_leg_{i}" for i in range(4))
STILL_GEOMS = ("floor", *TABLE_LEGS)
BACKDROP = ("back_wall", "left_wall_faithful", "right_wall_faithful", "cabinet_faithful", "shelf_faithful")
"""The plain room's walls and furniture, which a drawn room replaces."""


def add_room_pool(spec: mujoco.MjSpec) -> None:
    """Add the room materials (``envs/rooms/kit.xml``), the primitive pool and its lights to
    ``spec``, remove the plain room's backdrop (a drawn room brings its own walls) and make the
    table the largest a room draws (each room shrinks it)."""
    for name in BACKDROP:
        geom = spec.geom(name)
        if geom is not None:
            spec.delete(geom)
    table = spec.geom("table_top")
    body_x = float(table.parent.pos[0])
    half_x = (TABLE_FAR_EDGE_M[1] - TABLE_NEAR_EDGE_M) / 2
    table.size = [half_x, TABLE_HALF_WIDTH_M[1], table.size[2]]
    table.pos = [TABLE_NEAR_EDGE_M + half_x - body_x, 0.0, table.pos[2]]
    kit = mujoco.MjSpec.from_file(str(envs_dir() / "rooms" / "kit.xml"))
    with quiet_empty_prefix_warning():
        spec.attach(kit, frame=spec.worldbody.add_frame(), prefix="")
    # Curved primitives are drawn as stacks of rings; a room holds dozens of them, and 8 stacks
    # instead of MuJoCo's 16 look the same at camera resolution and cost a third less to draw.
    spec.visual.quality.numstacks = ROOM_NUMSTACKS
    for name in STILL_GEOMS:
        spec.geom(name).group = ROOM_GROUP
    body = spec.worldbody.add_body(name="room")
    for shape, count in (("box", POOL_BOXES), ("cylinder", POOL_CYLINDERS)):
        kind = mujoco.mjtGeom.mjGEOM_BOX if shape == "box" else mujoco.mjtGeom.mjGEOM_CYLINDER
        for i in range(count):
            body.add_geom(name=f"room/{shape}{i}", type=kind, size=[0.01, 0.01, 0.01], pos=list(_HIDDEN_POS),
                          contype=0, conaffinity=0, group=HIDDEN_GROUP, material="room_flat", mass=0.0)
    for i in range(POOL_LIGHTS):
        spec.worldbody.add_light(name=f"room/light{i}", pos=[0.0, 0.0, 2.0], dir=[0.0, 0.0, -1.0],
                                 diffuse=[0.0, 0.0, 0.0], specular=[0.1, 0.1, 0.1], castshadow=False)


class RoomModel:
    """The pool in a compiled model, and how a :class:`Room` is shown with it."""

    def __init__(self, model: mujoco.MjModel) -> None:
        self.model = model
        self.boxes = [model.geom(f"room/box{i}").id for i in range(POOL_BOXES)]
        self.cylinders = [model.geom(f"room/cylinder{i}").id for i in range(POOL_CYLINDERS)]
        self.lights = [model.light(f"room/light{i}").id for i in range(POOL_LIGHTS)]
        self.key = model.light("key").id
        self.fill = model.light("fill").id
        self.table = model.geom("table_top").id
        self.floor = model.geom("floor").id
        self.legs = [model.geom(name).id for name in TABLE_LEGS]
        self.table_body_x = float(model.body_pos[model.geom_bodyid[self.table]][0])
        self.materials = {model.material(i).name: i for i in range(model.nmat)}
        self._pool = np.array(self.boxes + self.cylinders)
        self.robot_white = self.materials.get("panda_white")

    @property
    def capacity(self) -> tuple[int, int]:
        """How many wall and furniture boxes and cylinders fit (room is kept for the clutter)."""
        return POOL_BOXES - CLUTTER_RESERVE[0], POOL_CYLINDERS - CLUTTER_RESERVE[1]

    def _material(self, name: str) -> int:
        return self.materials[name]

    def _place(self, geom: int, part: Part) -> None:
        m = self.model
        m.geom_pos[geom] = part.pos
        m.geom_quat[geom] = (np.cos(part.yaw / 2), 0.0, 0.0, np.sin(part.yaw / 2))
        m.geom_size[geom] = part.size
        m.geom_matid[geom] = self._material(part.material)
        m.geom_rgba[geom] = part.rgba
        m.geom_group[geom] = ROOM_GROUP

    def _hide(self, geom: int) -> None:
        self.model.geom_pos[geom] = _HIDDEN_POS
        self.model.geom_group[geom] = HIDDEN_GROUP

    def _light(self, light: int, spec: Light) -> None:
        m = self.model
        m.light_pos[light] = spec.pos
        m.light_dir[light] = spec.dir
        m.light_diffuse[light] = spec.diffuse
        m.light_cutoff[light] = spec.cutoff
        m.light_bulbradius[light] = spec.radius
        m.light_active[light] = 1

    def _table(self, room: Room) -> None:
        """The work surface's drawn extent (shrunk from the compiled one, near edge kept under
        the robot) and legs reaching the floor."""
        m = self.model
        half_x = (room.table_far_edge - TABLE_NEAR_EDGE_M) / 2
        centre = TABLE_NEAR_EDGE_M + half_x - self.table_body_x
        m.geom_size[self.table][:2] = (half_x, room.table_half_width)
        m.geom_pos[self.table][0] = centre
        leg_half = (room.surface_height - 0.04) / 2
        for leg, (sx, sy) in zip(self.legs, ((1, 1), (1, -1), (-1, 1), (-1, -1)), strict=True):
            m.geom_size[leg][2] = leg_half
            m.geom_pos[leg] = (centre + sx * (half_x - 0.05), sy * (room.table_half_width - 0.05), -0.04 - leg_half)

    def apply(self, room: Room) -> int:
        """Show ``room``; returns how many of its parts did not fit the pool (drawn rooms are
        kept within its capacity, so 0)."""
        m = self.model
        # The compiler (and mj_setConst, which a task's reset may call) marks a geom whose frame
        # matches its body's, so that kinematics copies the body's rotation; the pool is turned
        # at run time, so its frames must always be composed.
        m.geom_sameframe[self._pool] = mujoco.mjtSameFrame.mjSAMEFRAME_NONE
        boxes = iter(self.boxes)
        cylinders = iter(self.cylinders)
        missing = 0
        used: set[int] = set()
        for part in (*room.parts, *room.clutter):
            geom = next(boxes if part.shape == "box" else cylinders, None)
            if geom is None:
                missing += 1
                continue
            self._place(geom, part)
            used.add(geom)
        for geom in (*self.boxes, *self.cylinders):
            if geom not in used:
                self._hide(geom)
        m.geom_matid[self.table] = self._material(room.work_surface[0])
        m.geom_rgba[self.table] = room.work_surface[1]
        m.geom_matid[self.floor] = self._material(room.floor[0])
        m.geom_rgba[self.floor] = room.floor[1]
        m.geom_pos[self.floor][2] = -room.surface_height
        self._table(room)
        self._light(self.key, room.key)
        m.light_active[self.fill] = 0
        for light, spec in zip(self.lights, room.lights, strict=False):
            self._light(light, spec)
        for light in self.lights[len(room.lights):]:
            m.light_active[light] = 0
        if self.robot_white is not None:
            # MuJoCo lights have no bounce light: white plastic under a room's many sources reads
            # grey without it (the faithful preset's robot look does the same)
            m.mat_emission[self.robot_white] = ROBOT_WHITE_EMISSION
        m.vis.headlight.ambient[:] = room.ambient
        m.vis.headlight.diffuse[:] = room.headlight
        return missing
