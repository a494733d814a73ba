"""The object library's geometry (envs/objects/library/<kind>.xml and its mesh), checked with
real MuJoCo against the catalog: names, mass, size, collision pieces inside the visual shape,
resting upright on a table, containers holding a block, grasp widths."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import mujoco
import numpy as np
import pytest

from robosim_cosmos.envs.objects import catalog
from tools.assets.files import asset_makers
from tools.assets.library import LIBRARY_KINDS, library_mesh_file

ENVS = Path(__file__).resolve().parent.parent / "envs"
CATALOG = json.loads((ENVS / "objects" / "library" / "catalog.json").read_text())["kinds"]
KINDS = sorted(CATALOG)
CONTAINERS = [k for k in KINDS if "container" in CATALOG[k]]
GRASPABLE = [k for k in KINDS if "grasp" in CATALOG[k]]
TIMESTEP = 1 / 15 / 33
TOL = 0.003
BLOCK = 0.02  # half-size of the 4 cm test block
BOX, CYLINDER, CAPSULE, SPHERE, MESH = (int(t) for t in (
    mujoco.mjtGeom.mjGEOM_BOX, mujoco.mjtGeom.mjGEOM_CYLINDER, mujoco.mjtGeom.mjGEOM_CAPSULE,
    mujoco.mjtGeom.mjGEOM_SPHERE, mujoco.mjtGeom.mjGEOM_MESH))


def _spec(kind: str) -> mujoco.MjSpec:
    """A table plane at z = 0 (friction 0.8), the scene's solver options, ``kind`` attached as
    the task code does (prefix ``obj0/``)."""
    spec = mujoco.MjSpec()
    spec.option.timestep = TIMESTEP
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    spec.option.impratio = 10
    spec.worldbody.add_geom(name="table", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[1, 1, 0.01],
                            friction=[0.8, 0.005, 0.0001])
    child = mujoco.MjSpec.from_file(str(ENVS / "objects" / "library" / f"{kind}.xml"))
    spec.attach(child, frame=spec.worldbody.add_frame(), prefix="obj0/")
    return spec


def _add_block(spec: mujoco.MjSpec, pos: tuple[float, float, float]) -> None:
    body = spec.worldbody.add_body(name="block", pos=list(pos))
    body.add_freejoint()
    body.add_geom(type=mujoco.mjtGeom.mjGEOM_BOX, size=[BLOCK] * 3, mass=0.04, friction=[0.9, 0.005, 0.0001])


def _at_rest(kind: str) -> tuple[mujoco.MjModel, mujoco.MjData]:
    model = _spec(kind).compile()
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    return model, data


def _collision_geoms(model: mujoco.MjModel) -> list[int]:
    body = model.body("obj0/body").id
    return [g for g in range(model.ngeom) if model.geom_bodyid[g] == body and model.geom_contype[g]]


def _visual_points(model: mujoco.MjModel, data: mujoco.MjData) -> np.ndarray:
    """The visual mesh's vertices [N, 3] in the world, as compiled (MuJoCo recentres meshes)."""
    g = model.geom("obj0/visual").id
    m = model.geom_dataid[g]
    verts = model.mesh_vert[model.mesh_vertadr[m]: model.mesh_vertadr[m] + model.mesh_vertnum[m]]
    return data.geom_xpos[g] + verts @ data.geom_xmat[g].reshape(3, 3).T


def _half_extents(model: mujoco.MjModel, data: mujoco.MjData, g: int) -> np.ndarray:
    """Exact world AABB half-extents [3] of primitive geom ``g``."""
    rot, size, kind = data.geom_xmat[g].reshape(3, 3), model.geom_size[g], int(model.geom_type[g])
    axis = np.abs(rot[:, 2])
    if kind == BOX:
        return np.abs(rot) @ size
    if kind == CYLINDER:
        return size[0] * np.sqrt(np.clip(1 - axis**2, 0, 1)) + size[1] * axis
    if kind == CAPSULE:
        return size[0] + size[1] * axis
    if kind == SPHERE:
        return np.full(3, size[0])
    raise AssertionError(f"collision geom type {kind} is not a primitive this library uses")


def _surface_samples(model: mujoco.MjModel, data: mujoco.MjData, g: int) -> np.ndarray:
    """Points [N, 3] on the surface of primitive geom ``g`` where it reaches furthest: a box's
    corners, edge middles and face centres; a cylinder's rims; a capsule's caps."""
    size, kind = model.geom_size[g], int(model.geom_type[g])
    ang = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    ring = np.stack([np.cos(ang), np.sin(ang), 0 * ang], axis=1)
    if kind == SPHERE:
        local = np.vstack([np.eye(3), -np.eye(3)]) * size[0]
    elif kind == BOX:
        grid = np.array(np.meshgrid([-1, 0, 1], [-1, 0, 1], [-1, 0, 1])).reshape(3, -1).T
        local = grid[np.abs(grid).sum(axis=1) > 0] * size
    elif kind == CYLINDER:
        ends = [[0, 0, -size[1]], [0, 0, size[1]]]
        local = np.vstack([ring * size[0] + end for end in ends] + ends)
    else:  # capsule: rings at the cylinder's ends and 45 degrees up the caps, and the poles
        r, h = size[0], size[1]
        local = np.vstack([ring * r + [0, 0, s * h] for s in (-1, 1)]
                          + [ring * r * np.sqrt(0.5) + [0, 0, s * (h + r * np.sqrt(0.5))] for s in (-1, 1)]
                          + [[0, 0, -h - r], [0, 0, h + r]])
    return data.geom_xpos[g] + local @ data.geom_xmat[g].reshape(3, 3).T


def _read_obj(path: Path) -> tuple[np.ndarray, np.ndarray]:
    lines = path.read_text().splitlines()
    verts = np.array([[float(x) for x in ln.split()[1:]] for ln in lines if ln.startswith("v ")])
    faces = np.array([[int(x) - 1 for x in ln.split()[1:]] for ln in lines if ln.startswith("f ")])
    return verts, faces


def _winding(points: np.ndarray, verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Generalized winding number [P] of the closed mesh at each point (inside: ~1)."""
    a, b, c = (verts[faces[:, i]][None] - points[:, None] for i in range(3))
    la, lb, lc = (np.linalg.norm(x, axis=-1) for x in (a, b, c))
    det = np.einsum("pmi,pmi->pm", a, np.cross(b, c))
    den = (la * lb * lc + np.einsum("pmi,pmi->pm", a, b) * lc + np.einsum("pmi,pmi->pm", a, c) * lb
           + np.einsum("pmi,pmi->pm", b, c) * la)
    return np.asarray(2 * np.arctan2(det, den).sum(axis=1) / (4 * np.pi))


def _distance(points: np.ndarray, verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Distance [P] from each point to the mesh surface."""
    a, b, c = (verts[faces[:, i]][None] for i in range(3))
    p = points[:, None]
    n = np.cross(b - a, c - a)
    n = n / np.linalg.norm(n, axis=-1, keepdims=True)
    height = np.einsum("pmi,pmi->pm", p - a, np.broadcast_to(n, (len(points), *n.shape[1:])))
    q = p - height[..., None] * n
    inside = np.ones(height.shape, bool)
    for x, y in ((a, b), (b, c), (c, a)):
        inside &= np.einsum("pmi,pmi->pm", np.cross(y - x, q - x), np.broadcast_to(n, q.shape)) >= 0

    def segment(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        t = np.clip(np.einsum("pmi,pmi->pm", p - x, np.broadcast_to(y - x, q.shape))
                    / np.einsum("mi,mi->m", (y - x)[0], (y - x)[0]), 0, 1)
        return np.asarray(np.linalg.norm(p - (x + t[..., None] * (y - x)), axis=-1))

    edges = np.minimum(np.minimum(segment(a, b), segment(b, c)), segment(c, a))
    return np.asarray(np.where(inside, np.abs(height), edges).min(axis=1))


# -- the files ------------------------------------------------------------------------------


def test_the_generator_writes_every_catalog_kind():
    assert sorted(LIBRARY_KINDS) == KINDS
    assets = asset_makers(catalog())
    for kind in KINDS:
        assert f"objects/library/{kind}.xml" in assets and library_mesh_file(kind) in assets


@pytest.mark.parametrize("kind", KINDS)
def test_file_compiles_attached_with_the_contract_names(kind):
    facts = CATALOG[kind]
    model, _ = _at_rest(kind)
    body = model.body("obj0/body").id
    assert int(model.joint("obj0/joint").type[0]) == int(mujoco.mjtJoint.mjJNT_FREE)
    assert model.jnt_bodyid[model.joint("obj0/joint").id] == body
    paint = model.mat("obj0/paint").id
    visual = model.geom("obj0/visual")
    assert int(visual.type[0]) == MESH and visual.matid == paint
    assert (visual.contype, visual.conaffinity, visual.group) == (0, 0, 2)
    assert np.allclose(model.site("obj0/top").pos, [0, 0, facts["size"][2]])
    assert model.site("obj0/top").bodyid == body
    if "container" in facts:
        assert np.allclose(model.site("obj0/inside").pos, [0, 0, facts["container"]["floor"]])
    geoms = [g for g in range(model.ngeom) if model.geom_bodyid[g] == body]
    collision = _collision_geoms(model)
    assert [model.geom(g).name for g in collision] == [f"obj0/collision_{i}" for i in range(len(collision))]
    for g in geoms:
        name = model.geom(g).name
        assert name in ("obj0/visual", *(model.geom(c).name for c in collision)) or (
            name.startswith("obj0/visual_trim_") and model.geom_contype[g] == model.geom_conaffinity[g] == 0
            and model.geom_group[g] == 2 and model.geom_matid[g] == model.mat("obj0/trim").id)
    for g in collision:
        assert int(model.geom_type[g]) in (BOX, CYLINDER, CAPSULE, SPHERE)
        assert model.geom_group[g] == 3 and model.geom_matid[g] == paint
        assert np.allclose(model.geom_friction[g], [facts["friction"], 0.005, 0.0001])
        assert model.geom_condim[g] == (4 if "grasp" in facts else 3)


@pytest.mark.parametrize("kind", KINDS)
def test_body_mass_is_the_catalog_mass(kind):
    model, _ = _at_rest(kind)
    body = model.body("obj0/body").id
    assert abs(model.body_mass[body] - CATALOG[kind]["mass_kg"]) < 1e-9
    inertia = model.body_inertia[body]
    assert np.all(inertia > 0) and inertia.max() <= inertia.sum() - inertia.max() + 1e-12


@pytest.mark.parametrize("kind", KINDS)
def test_visual_mesh_is_closed_outward_small_and_the_catalog_size(kind):
    verts, faces = _read_obj(ENVS / library_mesh_file(kind))
    assert len(faces) <= 1500
    directed = Counter((int(t[i]), int(t[(i + 1) % 3])) for t in faces for i in range(3))
    assert max(directed.values()) == 1 and all((b, a) in directed for a, b in directed)
    assert np.einsum("mi,mi->m", verts[faces[:, 0]], np.cross(verts[faces[:, 1]], verts[faces[:, 2]])).sum() > 0

    model, data = _at_rest(kind)
    size = np.array(CATALOG[kind]["size"])
    lo, hi = _visual_points(model, data).min(axis=0), _visual_points(model, data).max(axis=0)
    assert np.allclose(lo, verts.min(axis=0), atol=1e-6) and np.allclose(hi, verts.max(axis=0), atol=1e-6)
    assert np.allclose(hi - lo, size, atol=TOL), (hi - lo, size)
    assert abs(lo[2]) < 1e-6
    centre_x = (size[0] - size[1]) / 2 if kind == "mug" else 0.0  # the mug's body is centred, its handle on +x
    assert np.allclose((lo + hi)[:2] / 2, [centre_x, 0.0], atol=TOL)


@pytest.mark.parametrize("kind", KINDS)
def test_collision_pieces_lie_within_the_visual_shape(kind):
    model, data = _at_rest(kind)
    points = _visual_points(model, data)
    lo, hi = points.min(axis=0) - TOL, points.max(axis=0) + TOL
    verts, faces = _read_obj(ENVS / library_mesh_file(kind))
    for g in _collision_geoms(model):
        half = _half_extents(model, data, g)
        centre = data.geom_xpos[g]
        assert np.all(centre - half >= lo) and np.all(centre + half <= hi), model.geom(g).name
        assert centre[2] - half[2] >= -1e-6, model.geom(g).name
        # the far corners/rims of every piece are inside the mesh or within 3 mm of it
        samples = _surface_samples(model, data, g)
        outside = samples[_winding(samples, verts, faces) < 0.5]
        if len(outside):
            worst = _distance(outside, verts, faces).max()
            assert worst <= TOL, f"{model.geom(g).name} reaches {worst * 1e3:.1f} mm outside the visual mesh"


# -- physics ----------------------------------------------------------------------------------


def _simulate(model: mujoco.MjModel, data: mujoco.MjData, seconds: float = 1.5) -> None:
    for _ in range(round(seconds / model.opt.timestep)):
        mujoco.mj_step(model, data)


@pytest.mark.parametrize("kind", KINDS)
def test_dropped_on_the_table_it_rests_upright_where_it_fell(kind):
    model = _spec(kind).compile()
    data = mujoco.MjData(model)
    body = model.body("obj0/body").id
    q, v = model.jnt_qposadr[model.joint("obj0/joint").id], model.jnt_dofadr[model.joint("obj0/joint").id]
    data.qpos[q: q + 3] = [0.0, 0.0, 0.005]
    _simulate(model, data)
    assert np.linalg.norm(data.qvel[v: v + 3]) < 1e-3 and np.linalg.norm(data.qvel[v + 3: v + 6]) < 0.02
    z_axis = data.xmat[body].reshape(3, 3)[:, 2]
    assert np.degrees(np.arccos(np.clip(z_axis[2], -1, 1))) < 3.0
    assert abs(data.xpos[body][2]) < 0.003
    assert np.linalg.norm(data.xpos[body][:2]) < 0.005


@pytest.mark.parametrize("kind", CONTAINERS)
def test_a_block_dropped_inside_stays_inside(kind):
    facts = CATALOG[kind]["container"]
    spec = _spec(kind)
    _add_block(spec, (0.0, 0.0, facts["floor"] + 0.02 + BLOCK))
    model = spec.compile()
    data = mujoco.MjData(model)
    _simulate(model, data)
    offset = data.xpos[model.body("block").id] - data.xpos[model.body("obj0/body").id]
    assert np.all(np.abs(offset[:2]) <= facts["inner"]), offset
    assert offset[2] < CATALOG[kind]["size"][2]
    assert np.linalg.norm(data.cvel[model.body("block").id]) < 0.01


@pytest.mark.parametrize("kind", CONTAINERS)
def test_a_block_dropped_beside_does_not_end_up_inside(kind):
    facts = CATALOG[kind]
    spec = _spec(kind)
    _add_block(spec, (-(max(facts["size"][:2]) / 2 + 0.03), 0.0, 0.02 + BLOCK))
    model = spec.compile()
    data = mujoco.MjData(model)
    _simulate(model, data)
    offset = data.xpos[model.body("block").id] - data.xpos[model.body("obj0/body").id]
    assert np.any(np.abs(offset[:2]) > facts["container"]["inner"]), offset
    assert abs(offset[2] - BLOCK) < 0.002  # on the table


@pytest.mark.parametrize("kind", GRASPABLE)
def test_grasp_width_is_the_width_across_the_closing_axis(kind):
    grasp = CATALOG[kind]["grasp"]
    model, data = _at_rest(kind)
    axis = np.array([np.cos(grasp["yaw"]), np.sin(grasp["yaw"]), 0.0])
    centre = np.array([0.0, 0.0, grasp["height"]])
    groups = np.array([0, 0, 0, 1, 0, 0], dtype=np.uint8)
    hit = np.zeros(1, dtype=np.int32)
    reach = 0.3
    near = mujoco.mj_ray(model, data, centre + reach * axis, -axis, groups, 0, -1, hit)
    far = mujoco.mj_ray(model, data, centre - reach * axis, axis, groups, 0, -1, hit)
    assert near > 0 and far > 0
    assert abs((2 * reach - near - far) - grasp["width"]) <= 0.004, 2 * reach - near - far
