"""Every generated file under ``envs/`` with the function making its bytes, and writing them.
The object catalog is read by the caller, once, and passed in."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from robosim_cosmos.envs.objects import Catalog, ObjectKind

from .library import LIBRARY_KINDS, library_design, library_mesh_file, library_xml_file
from .mesh import obj_text
from .mjcf import library_xml
from .png import png_bytes
from .revolved import bowl_mesh
from .textures import (
    books_texture,
    butcher_block_texture,
    carpet_texture,
    ceiling_texture,
    cinder_block_texture,
    concrete_texture,
    granite_texture,
    oak_texture,
    pegboard_texture,
    planks_texture,
    plaster_texture,
    tiles_texture,
    wood_texture,
)


def _library_obj(kind: str) -> bytes:
    d = library_design(kind)
    return obj_text(d.vertices, d.faces, f"{kind} visual mesh (library object)").encode()


def _library_xml(kind: ObjectKind) -> bytes:
    return library_xml(kind, library_design(kind.kind), library_mesh_file(kind.kind)).encode()


def asset_makers(catalog: Catalog) -> dict[str, Callable[[], bytes]]:
    """Each generated file, relative to ``envs/``, and the function producing its bytes: the
    faithful look's and the rooms' textures, the bowl mesh, then each library kind's mesh and MJCF (its mass,
    friction and sites from ``catalog``)."""
    makers: dict[str, Callable[[], bytes]] = {
        "textures/wood.png": lambda: png_bytes(wood_texture()),
        "textures/concrete.png": lambda: png_bytes(concrete_texture()),
        "textures/plaster.png": lambda: png_bytes(plaster_texture()),
        "textures/granite.png": lambda: png_bytes(granite_texture()),
        "textures/tiles.png": lambda: png_bytes(tiles_texture()),
        "textures/carpet.png": lambda: png_bytes(carpet_texture()),
        "textures/planks.png": lambda: png_bytes(planks_texture()),
        "textures/books.png": lambda: png_bytes(books_texture()),
        "textures/cinder_block.png": lambda: png_bytes(cinder_block_texture()),
        "textures/pegboard.png": lambda: png_bytes(pegboard_texture()),
        "textures/ceiling.png": lambda: png_bytes(ceiling_texture()),
        "textures/oak.png": lambda: png_bytes(oak_texture()),
        "textures/butcher_block.png": lambda: png_bytes(butcher_block_texture()),
        "meshes/bowl.obj": lambda: obj_text(*bowl_mesh(), "bowl visual mesh: a revolved profile").encode(),
    }
    for kind in LIBRARY_KINDS:
        makers[library_mesh_file(kind)] = partial(_library_obj, kind)
        makers[library_xml_file(kind)] = partial(_library_xml, catalog.kind(kind))
    return makers


def generate(out: Path, catalog: Catalog) -> list[Path]:
    """Write every asset under ``out`` (an ``envs`` folder); returns the paths written."""
    written = []
    for rel, make in asset_makers(catalog).items():
        path = Path(out) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(make())
        written.append(path)
    return written
