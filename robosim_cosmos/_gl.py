"""Choose MuJoCo's offscreen OpenGL backend.

mujoco reads ``MUJOCO_GL`` once, when it is imported. A value the user set wins. Otherwise,
if robosim_cosmos is imported first, EGL is chosen when libEGL is present, else OSMesa when
libOSMesa is. If mujoco was imported first on a machine without a display, the renderer
swaps in the same choice just before it creates its first context.

A ``MUJOCO_GL`` that mujoco would refuse (a value it does not know, or ``egl``/``osmesa``
without their library) makes ``import mujoco`` itself raise. So that commands which never
render (``--version``, ``--help``, ``envs``, ``decode``) still work, mujoco is then imported
with rendering disabled and the user's value is put back; :func:`require_rendering` (called
before the first renderer and by the CLI before commands that render) raises a one-line
RenderingError naming the value and the fix.
"""

from __future__ import annotations

import ctypes.util
import os
import platform
import sys

from .errors import RenderingError

GL_HINT = (
    "set MUJOCO_GL=egl (needs libEGL, Debian: apt-get install libegl1 libgl1-mesa-dri) or "
    "MUJOCO_GL=osmesa (apt-get install libosmesa6) before Python imports mujoco"
)

# What mujoco's rendering/classic/gl_context.py accepts (after lower() and strip()).
DISABLED_VALUES: tuple[str, ...] = ("disable", "disabled", "off", "false", "0")
_PLATFORM_VALUES: dict[str, tuple[str, ...]] = {
    "Linux": ("glx", "egl", "osmesa"),
    "Windows": ("wgl",),
    "Darwin": ("cgl",),
}
VALID_VALUES: tuple[str, ...] = (
    *DISABLED_VALUES, "enable", "enabled", "on", "true", "1", "glfw", "",
    *_PLATFORM_VALUES.get(platform.system(), ()),
)
"""Every ``MUJOCO_GL`` value the installed mujoco accepts on this platform."""
_LIBRARIES = {"egl": ("EGL", "libEGL", "apt-get install libegl1 libgl1-mesa-dri"),
              "osmesa": ("OSMesa", "libOSMesa", "apt-get install libosmesa6")}

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


def mujoco_gl_problem(value: str | None) -> str | None:
    """Why ``import mujoco`` would fail with ``MUJOCO_GL=value``, or None if it would not."""
    if value is None:
        return None
    name = value.lower().strip()
    if name not in VALID_VALUES:
        shown = ", ".join((*_PLATFORM_VALUES.get(platform.system(), ()), "glfw", "disable"))
        return f"MUJOCO_GL={value!r} is not a value mujoco accepts here (valid: {shown})"
    if name in _LIBRARIES and sys.platform.startswith("linux"):
        lib, soname, install = _LIBRARIES[name]
        if not ctypes.util.find_library(lib):
            return f"MUJOCO_GL={value!r} needs {soname}, which is not installed ({install})"
    return None


_USER_VALUE = os.environ.get("MUJOCO_GL")
_IMPORT_PROBLEM = None if _MUJOCO_IMPORTED_FIRST else mujoco_gl_problem(_USER_VALUE)
"""Set when the user's MUJOCO_GL would have crashed ``import mujoco``; rendering is off then."""


def _import_mujoco_without_gl() -> None:
    """Import mujoco with MUJOCO_GL=disable, then restore the user's value (workers inherit it)."""
    saved = os.environ.get("MUJOCO_GL")
    os.environ["MUJOCO_GL"] = "disable"
    try:
        import mujoco  # noqa: F401
    finally:
        if saved is None:
            os.environ.pop("MUJOCO_GL", None)
        else:
            os.environ["MUJOCO_GL"] = saved


def rendering_problem() -> str | None:
    """Why no camera can be rendered in this process, or None if nothing is known to be wrong."""
    if _IMPORT_PROBLEM is not None:
        return _IMPORT_PROBLEM
    value = os.environ.get("MUJOCO_GL")
    if value is not None and value.lower().strip() in DISABLED_VALUES:
        return f"MUJOCO_GL={value!r} turns mujoco's rendering off"
    return None


def require_rendering() -> None:
    """RenderingError (one line: the MUJOCO_GL value and the fix) when rendering cannot work."""
    problem = rendering_problem()
    if problem is not None:
        raise RenderingError(
            f"cannot render camera images: {problem}; unset MUJOCO_GL (then EGL or OSMesa is picked "
            f"when installed) or {GL_HINT}"
        )


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
if _IMPORT_PROBLEM is not None:
    _import_mujoco_without_gl()
