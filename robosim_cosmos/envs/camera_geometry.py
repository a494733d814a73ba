"""Pinhole projection of world points into a MuJoCo camera's image, as the renderer draws them.

MuJoCo cameras look along their −z axis with image up along +y. A camera with a sensor size
(``sensorsize`` and ``focal``, as the ZED cameras here) has fx = focal_x / sensor_w · W and
fy = focal_y / sensor_h · H pixels; one without uses ``fovy`` with square pixels. The
principal point sits at the image centre shifted by the camera's ``principal`` offset.
Pixel coordinates are (column, row) with row 0 at the top, continuous: pixel (i, j) covers
[i, i + 1) × [j, j + 1).
"""

from __future__ import annotations

import mujoco
import numpy as np


def intrinsics(model: mujoco.MjModel, camera: str | int, height: int, width: int) -> np.ndarray:
    """(fx, fy, cx, cy) [4] in pixels of ``camera`` rendered at ``height`` × ``width``."""
    cam = model.camera(camera).id
    sensor = np.asarray(model.cam_sensorsize[cam], dtype=np.float64)
    if sensor[0] > 0 and sensor[1] > 0:
        focal, principal = model.cam_intrinsic[cam, :2], model.cam_intrinsic[cam, 2:]
        fx, fy = focal[0] / sensor[0] * width, focal[1] / sensor[1] * height
        cx = 0.5 * width + principal[0] / sensor[0] * width
        cy = 0.5 * height - principal[1] / sensor[1] * height
        return np.array([fx, fy, cx, cy])
    fy = 0.5 * height / np.tan(np.deg2rad(float(model.cam_fovy[cam])) / 2.0)
    return np.array([fy, fy, 0.5 * width, 0.5 * height])


def project(model: mujoco.MjModel, data: mujoco.MjData, camera: str | int, points: np.ndarray,
            height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Project world points [N, 3]: pixel coordinates float64 [N, 2] (column, row) and depth
    along the optical axis [N] (metres; points with depth ≤ 0 lie behind the camera and their
    pixels mean nothing). ``data`` must hold the camera pose (after mj_forward or a step)."""
    cam = model.camera(camera).id
    pos, rot = data.cam_xpos[cam], data.cam_xmat[cam].reshape(3, 3)
    local = (np.atleast_2d(np.asarray(points, dtype=np.float64)) - pos) @ rot  # rows: R^T (p − pos)
    depth = -local[:, 2]
    fx, fy, cx, cy = intrinsics(model, cam, height, width)
    with np.errstate(divide="ignore", invalid="ignore"):
        pixels = np.stack([cx + fx * local[:, 0] / depth, cy - fy * local[:, 1] / depth], axis=1)
    return pixels, depth


def distance(model: mujoco.MjModel, data: mujoco.MjData, camera: str | int, point: np.ndarray) -> float:
    """Distance (metres) from the camera's optical centre to a world point [3]."""
    return float(np.linalg.norm(data.cam_xpos[model.camera(camera).id] - np.asarray(point, dtype=np.float64)))
