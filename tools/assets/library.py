"""The object library's designs by kind (each kind in exactly one design module) and where each
kind's generated files go under ``envs/``."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from . import banana, blocks, revolved
from .design import Design

DESIGNS: dict[str, Callable[[], Design]] = {**blocks.DESIGNS, **revolved.DESIGNS, **banana.DESIGNS}
"""Each library kind's design function."""

LIBRARY_KINDS = tuple(DESIGNS)
"""The kinds the generator designs; the catalog lists the same ones (tests/test_objects.py)."""


@cache
def library_design(kind: str) -> Design:
    """The geometry of the library kind ``kind``."""
    return DESIGNS[kind]()


def library_mesh_file(kind: str) -> str:
    """The kind's visual mesh, relative to ``envs/`` (the bowl's differs from the older bowl.obj)."""
    return "meshes/library_bowl.obj" if kind == "bowl" else f"meshes/{kind}.obj"


def library_xml_file(kind: str) -> str:
    """The kind's MJCF, relative to ``envs/``."""
    return f"objects/library/{kind}.xml"
