"""Offscreen camera rendering, created lazily so no GL context exists before a worker uses it."""

from __future__ import annotations

import os

import mujoco
import numpy as np

from .._gl import GL_HINT, ensure_offscreen_context, require_rendering
from ..errors import RenderingError

_SEGMENT_ON = (mujoco.mjtRndFlag.mjRND_SEGMENT, mujoco.mjtRndFlag.mjRND_IDCOLOR)
_SEGMENT_OFF = (mujoco.mjtRndFlag.mjRND_SKYBOX, mujoco.mjtRndFlag.mjRND_REFLECTION,
                mujoco.mjtRndFlag.mjRND_HAZE, mujoco.mjtRndFlag.mjRND_SHADOW)


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

    def render(self, data: mujoco.MjData, camera: str | int, option: mujoco.MjvOption | None = None) -> np.ndarray:
        """One camera image uint8 [H, W, 3] of ``data`` (a copy the caller owns); ``option``
        chooses what is drawn (MuJoCo's default: geom groups 0–2)."""
        r = self._get()
        r.update_scene(data, camera=camera, scene_option=option)
        return r.render().copy()

    def render_rgbd(self, data: mujoco.MjData, camera: str | int,
                    option: mujoco.MjvOption) -> tuple[np.ndarray, np.ndarray]:
        """One camera image uint8 [H, W, 3] and its depth buffer float32 [H, W] (MuJoCo's
        reversed-z window depth: 1 at the near plane, falling toward 0 far away, 0 where
        nothing is drawn): two renders of the same camera compare depths directly."""
        r = self._get()
        r.update_scene(data, camera=camera, scene_option=option)
        rgb = np.empty((self.height, self.width, 3), dtype=np.uint8)
        depth = np.empty((self.height, self.width), dtype=np.float32)
        r._gl_context.make_current()  # another renderer may have made its context current
        mujoco.mjr_render(r._rect, r.scene, r._mjr_context)
        mujoco.mjr_readPixels(rgb, depth, r._rect, r._mjr_context)
        return np.ascontiguousarray(np.flipud(rgb)), np.ascontiguousarray(np.flipud(depth))

    def render_geom_ids(self, data: mujoco.MjData, camera: str | int,
                        option: mujoco.MjvOption | None = None) -> np.ndarray:
        """MuJoCo's segmentation rendering of one camera: int32 [H, W], the geom id seen at each
        pixel, -1 where no geom is (the skybox) or where the object is not a geom.

        Same pixels as ``mujoco.Renderer``'s segmentation mode, decoded here with one lookup
        table instead of its per-geom Python loop, and with the skybox, reflections, haze and
        shadows switched off for the pass (they do not change which geom a pixel shows).
        """
        r = self._get()
        r.update_scene(data, camera=camera, scene_option=option)
        scene = r.scene
        flags = (*_SEGMENT_ON, *_SEGMENT_OFF)
        saved = [scene.flags[f] for f in flags]
        for f in _SEGMENT_ON:
            scene.flags[f] = 1
        for f in _SEGMENT_OFF:
            scene.flags[f] = 0
        pixels = np.empty((self.height, self.width, 3), dtype=np.uint8)
        try:
            r._gl_context.make_current()  # another renderer may have made its context current
            mujoco.mjr_render(r._rect, scene, r._mjr_context)
            mujoco.mjr_readPixels(pixels, None, r._rect, r._mjr_context)
        finally:
            for f, value in zip(flags, saved, strict=True):
                scene.flags[f] = value
        rgb = pixels.astype(np.int32)
        segid = rgb[..., 0] | (rgb[..., 1] << 8) | (rgb[..., 2] << 16)  # segment id + 1; 0 = background
        lut = np.full(scene.ngeom + 1, -1, dtype=np.int32)
        for g in scene.geoms[: scene.ngeom]:
            if g.segid >= 0 and g.objtype == int(mujoco.mjtObj.mjOBJ_GEOM):
                lut[g.segid + 1] = g.objid
        return np.ascontiguousarray(np.flipud(lut[np.minimum(segid, scene.ngeom)]))

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
