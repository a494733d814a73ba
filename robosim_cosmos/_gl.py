"""Choose MuJoCo's offscreen OpenGL backend.

mujoco reads ``MUJOCO_GL`` once, when it is imported. A value the user set wins. Otherwise,
if robosim_cosmos is imported first, EGL is chosen when libEGL is present, else OSMesa when
libOSMesa is. If mujoco was imported first on a machine without a display, the renderer
swaps in the same choice just before it creates its first context.
"""

from __future__ import annotations

import ctypes.util
import os
import sys

GL_HINT = (
    "set MUJOCO_GL=egl (needs libEGL, Debian: apt-get install libegl1 libgl1-mesa-dri) or "
    "MUJOCO_GL=osmesa (apt-get install libosmesa6) before Python imports mujoco"
)

_USER_SET = "MUJOCO_GL" in os.environ
_MUJOCO_IMPORTED_FIRST = "mujoco" in sys.modules


def _headless_backend() -> str | None:
    if not sys.platform.startswith("linux"):
        return None
    if ctypes.util.find_library("EGL"):
        return "egl"
    if ctypes.util.find_library("OSMesa"):
        return "osmesa"
    return None


def choose_backend() -> str | None:
    """Set ``MUJOCO_GL`` if unset and mujoco is not yet imported; returns the value in force."""
    if _USER_SET or _MUJOCO_IMPORTED_FIRST:
        return os.environ.get("MUJOCO_GL")
    backend = _headless_backend()
    if backend:
        os.environ["MUJOCO_GL"] = backend
    return os.environ.get("MUJOCO_GL")


def ensure_offscreen_context() -> None:
    """Before the first renderer: if mujoco was imported before us with no MUJOCO_GL and
    there is no display, point mujoco's context class at the headless backend."""
    if _USER_SET or not _MUJOCO_IMPORTED_FIRST or os.environ.get("DISPLAY"):
        return
    backend = _headless_backend()
    if backend is None:
        return
    from mujoco.rendering.classic import gl_context

    if backend == "egl":
        from mujoco.egl import GLContext
    else:
        from mujoco.osmesa import GLContext
    gl_context.GLContext = GLContext
    os.environ["MUJOCO_GL"] = backend  # worker processes inherit the choice


choose_backend()
