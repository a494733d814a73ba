"""The pinhole projection agrees with what MuJoCo renders: projected points land on the pixels
the segmentation pass shows for them, for a fovy camera, a sensor-size camera and the station's
exterior cameras."""

from __future__ import annotations

import gymnasium as gym
import mujoco
import numpy as np
import pytest

import robosim_cosmos  # noqa: F401  (registers the env ids)
from robosim_cosmos.envs.camera_geometry import distance, intrinsics, project
from robosim_cosmos.envs.rendering import CameraRenderer
from robosim_cosmos.observations import EXTERIOR_CAMERAS

_XML = """
<mujoco>
  <visual><global offwidth="320" offheight="180"/></visual>
  <worldbody>
    <camera name="fovy" pos="0 0 1" fovy="50"/>
    <camera name="zed" pos="0.1 -0.2 1.2" xyaxes="1 0 0 0 0.9 0.436" focal="0.0021 0.0021"
            sensorsize="0.005376 0.003024" resolution="1280 720"/>
    <geom name="ball" type="sphere" size="0.02" pos="0.12 0.07 0.2"/>
  </worldbody>
</mujoco>
"""


def _centroid(ids: np.ndarray, geom: int) -> np.ndarray:
    rows, cols = np.nonzero(ids == geom)
    assert rows.size > 20
    return np.array([cols.mean() + 0.5, rows.mean() + 0.5])  # pixel centres


@pytest.mark.parametrize("camera", ["fovy", "zed"])
def test_a_projected_sphere_centre_is_the_centroid_of_its_pixels(camera: str) -> None:
    model = mujoco.MjModel.from_xml_string(_XML)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    renderer = CameraRenderer(model, 180, 320)
    try:
        ids = renderer.render_geom_ids(data, camera)
    finally:
        renderer.close()
    ball = model.geom("ball").id
    pixels, depth = project(model, data, camera, data.geom_xpos[ball], 180, 320)
    assert depth[0] > 0
    # a sphere's silhouette is an ellipse whose centre sits a little off the projected centre
    # away from the optical axis; at this size and angle that is well under half a pixel
    assert np.abs(pixels[0] - _centroid(ids, ball)).max() < 0.5
    assert distance(model, data, camera, data.geom_xpos[ball]) == pytest.approx(float(np.linalg.norm(
        data.cam_xpos[model.camera(camera).id] - data.geom_xpos[ball])))


def test_intrinsics_scale_with_the_image_and_follow_the_lens() -> None:
    model = mujoco.MjModel.from_xml_string(_XML)
    fx, fy, cx, cy = intrinsics(model, "zed", 180, 320)
    assert fx == pytest.approx(0.0021 / 0.005376 * 320) and fy == pytest.approx(fx, rel=1e-6)
    assert (cx, cy) == (160.0, 90.0)
    assert intrinsics(model, "zed", 360, 640)[0] == pytest.approx(2 * fx)
    fy_fovy = intrinsics(model, "fovy", 180, 320)[1]
    assert fy_fovy == pytest.approx(90 / np.tan(np.deg2rad(25)))


def test_the_cubes_projected_box_matches_its_rendered_pixels_in_the_exterior_cameras() -> None:
    env = gym.make("robosim_cosmos/DroidCubeInBowl-v0", obs_mode="state").unwrapped
    try:
        env.reset(seed=0)
        m, d = env.model, env.data
        cube = next(g for g in range(m.ngeom) if m.geom_bodyid[g] == m.body("cube").id)
        half = m.geom_size[cube]
        signs = np.array(np.meshgrid([-1, 1], [-1, 1], [-1, 1])).T.reshape(-1, 3)
        corners = d.geom_xpos[cube] + (signs * half) @ d.geom_xmat[cube].reshape(3, 3).T
        for camera in EXTERIOR_CAMERAS:
            rows, cols = np.nonzero(env.cameras._get().render_geom_ids(d, camera) == cube)
            pixels, _ = project(m, d, camera, corners, 180, 320)
            # the rasterized box covers the pixels whose centres fall inside the projected one
            assert pixels[:, 0].min() - 1 <= cols.min() and cols.max() + 1 <= pixels[:, 0].max() + 1
            assert pixels[:, 1].min() - 1 <= rows.min() and rows.max() + 1 <= pixels[:, 1].max() + 1
            assert np.ptp(pixels, axis=0) == pytest.approx([np.ptp(cols) + 1, np.ptp(rows) + 1], abs=1.0)
    finally:
        env.close()
