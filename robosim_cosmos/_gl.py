"""Choose MuJoCo's offscreen OpenGL backend before mujoco is first imported.

mujoco reads ``MUJOCO_GL`` once, when it is imported. A value the user set wins; otherwise
EGL is used when libEGL is present, else OSMesa when libOSMesa is, else mujoco's default.
"""

from __future__ import annotations

import ctypes.util
import os
import sys

GL_HINT = (
    "set MUJOCO_GL=egl (needs libEGL, Debian: apt-get install libegl1 libgl1-mesa-dri) or "
    "MUJOCO_GL=osmesa (apt-get install libosmesa6) before Python imports mujoco"
)


def choose_backend() -> str | None:
    """Set ``MUJOCO_GL`` if unset and mujoco is not yet imported; returns the value in force."""
    if "MUJOCO_GL" in os.environ or "mujoco" in sys.modules:
        return os.environ.get("MUJOCO_GL")
    if sys.platform.startswith("linux"):
        if ctypes.util.find_library("EGL"):
            os.environ["MUJOCO_GL"] = "egl"
        elif ctypes.util.find_library("OSMesa"):
            os.environ["MUJOCO_GL"] = "osmesa"
    return os.environ.get("MUJOCO_GL")


choose_backend()
