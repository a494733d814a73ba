"""Offscreen camera rendering, created lazily so no GL context exists before a worker uses it."""

from __future__ import annotations

import os

import mujoco
import numpy as np

from .._gl import GL_HINT, ensure_offscreen_context, require_rendering
from ..errors import RenderingError


class CameraRenderer:
    """Renders named cameras of one model at a fixed size; uint8 [H, W, 3], row 0 at the top."""

    def __init__(self, model: mujoco.MjModel, height: int, width: int) -> None:
        self.model = model
        self.height, self.width = int(height), int(width)
        self._renderer: mujoco.Renderer | None = None

    def _get(self) -> mujoco.Renderer:
        if self._renderer is None:
            require_rendering()  # a MUJOCO_GL mujoco refused: say so instead of failing obscurely
            ensure_offscreen_context()
            try:
                self._renderer = mujoco.Renderer(self.model, self.height, self.width)
            except Exception as exc:  # GL failures surface as many different types
                backend = os.environ.get("MUJOCO_GL", "<unset>")
                raise RenderingError(
                    f"cannot create an offscreen OpenGL context (MUJOCO_GL={backend}): {exc}; {GL_HINT}"
                ) from exc
        return self._renderer

    def render(self, data: mujoco.MjData, camera: str | int) -> np.ndarray:
        """One camera image uint8 [H, W, 3] of ``data`` (a copy the caller owns)."""
        r = self._get()
        r.update_scene(data, camera=camera)
        return r.render().copy()

    def upload_meshes(self, mesh_ids: list[int]) -> None:
        """Send meshes whose vertices changed in the model to the GL context again."""
        if self._renderer is None or not mesh_ids:
            return  # a context made later uploads the model as it is then
        r = self._renderer
        r._gl_context.make_current()
        for mesh in mesh_ids:
            mujoco.mjr_uploadMesh(self.model, r._mjr_context, int(mesh))

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
