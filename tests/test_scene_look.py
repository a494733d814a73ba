"""Render presets: ``fast`` (flat, today's look) and ``faithful`` (textures, backdrop, smooth bowl,
shadows, anti-aliasing), the generated assets behind them, and render_quality in the run identity."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import mujoco
import numpy as np
import pytest

from robosim_cosmos.cli import main
from robosim_cosmos.envs.droid_env import DroidEnv
from robosim_cosmos.envs.objects import catalog
from robosim_cosmos.envs.scene import RENDER_QUALITIES, build_scene
from robosim_cosmos.errors import ConfigError
from robosim_cosmos.observations import CAMERAS
from robosim_cosmos.rollout import RolloutConfig
from tools.assets.files import asset_makers, generate
from tools.assets.png import read_png
from tools.assets.revolved import bowl_mesh

ENVS = Path(__file__).resolve().parent.parent / "envs"
BOWL = "robosim_cosmos/DroidCubeInBowl-v0"


def _images(quality: str, seed: int = 3, room: str = "droid") -> dict[str, np.ndarray]:
    env = DroidEnv("cube_in_bowl", render_quality=quality, room=room)  # type: ignore[arg-type]
    try:
        obs, _ = env.reset(seed=seed)
        return {camera: obs[camera] for camera in CAMERAS}
    finally:
        env.close()


def test_presets_are_fast_and_faithful_and_fast_is_the_default():
    assert RENDER_QUALITIES == ("fast", "faithful")
    assert DroidEnv("reach", obs_mode="state").render_quality == "fast"
    assert RolloutConfig(env_id=BOWL, policy="scripted").render_quality == "fast"


@pytest.mark.parametrize("make", [
    lambda: DroidEnv("reach", obs_mode="state", render_quality="pretty"),  # type: ignore[arg-type]
    lambda: build_scene(("cube",), render_quality="pretty"),  # type: ignore[arg-type]
    lambda: RolloutConfig(env_id=BOWL, policy="scripted", render_quality="pretty"),  # type: ignore[arg-type]
])
def test_unknown_render_quality_is_a_config_error_naming_the_valid_ones(make):
    with pytest.raises(ConfigError, match=r"unknown render_quality 'pretty'; valid: \['fast', 'faithful'\]"):
        make()


@pytest.mark.parametrize("quality", RENDER_QUALITIES)
def test_same_seed_gives_bit_identical_images_in_each_preset(quality):
    first, second = _images(quality), _images(quality)
    for camera in CAMERAS:
        assert first[camera].tobytes() == second[camera].tobytes(), camera


def test_fast_keeps_the_flat_model_faithful_switches_the_look_on():
    fast = build_scene(("cube", "bowl"), render_quality="fast").model
    faithful = build_scene(("cube", "bowl"), render_quality="faithful").model
    # fast: no shadow map, no AA, no textured geom, no faithful-only geoms, one light on
    assert (fast.vis.quality.shadowsize, fast.vis.quality.offsamples) == (0, 0)
    assert not any(fast.geom(i).name.endswith("_faithful") for i in range(fast.ngeom))
    used = fast.geom_matid[fast.geom_matid >= 0]
    assert np.all(fast.mat_texid[used] == -1)
    assert not np.any(fast.light_castshadow) and fast.light_active.sum() == 1
    # faithful: shadows, 4x AA, the table textured with the generated wood, the fill light on
    assert faithful.vis.quality.shadowsize > 0 and 0 < faithful.vis.quality.offsamples <= 4
    assert faithful.light_castshadow[faithful.light("key").id] and faithful.light_active.all()
    wood = faithful.mat_texid[faithful.mat("table").id, mujoco.mjtTextureRole.mjTEXROLE_RGB]
    assert wood == faithful.texture("wood").id
    # same physics: the same bodies, joints and actuators; every collision geom the same
    assert (fast.nbody, fast.njnt, fast.nu, fast.nq) == (faithful.nbody, faithful.njnt, faithful.nu, faithful.nq)


def test_faithful_images_differ_from_fast_and_carry_shadows():
    # the plain room, where fast is flat colours and faithful textured
    fast, faithful = _images("fast", room="plain"), _images("faithful", room="plain")
    for camera in CAMERAS:
        changed = np.any(fast[camera] != faithful[camera], axis=-1).mean()
        assert changed > 0.5, f"{camera}: only {changed:.0%} of pixels differ"

    # The shadow: the same faithful scene with the key light's shadow switched off is brighter
    # wherever an object (the arm, the cube, the bowl) stands between the key light and the table.
    env = DroidEnv("cube_in_bowl", render_quality="faithful")
    try:
        env.reset(seed=3)
        camera = "exterior_image_1_left"
        lit = env.render_camera(camera).astype(int)
        key = env.model.light("key").id
        env.model.light_castshadow[key] = 0
        env.close()  # a new GL context picks up the changed model
        unshadowed = env.render_camera(camera).astype(int)
    finally:
        env.close()
    darker = (unshadowed - lit).sum(axis=-1)
    # A clearly darker region (a cast shadow, ~3 % of the image); MuJoCo's shadow pass also
    # shades the lit area a little differently, so some pixels brighten, but far fewer strongly.
    assert (darker > 100).mean() > 0.02
    assert (darker > 100).mean() > 2 * (darker < -100).mean()


def test_generator_reproduces_the_committed_textures_and_meshes(tmp_path):
    """Re-running the generator gives the committed files: PNG pixels equal within 1/255 (the
    noise is float maths; a different libm could round a value the other way) and the same
    file bytes here; the OBJ with the same faces and vertices equal within 1e-6 m; the object
    library's MJCF the same bytes."""
    written = generate(tmp_path, catalog())
    assets = asset_makers(catalog())
    assert sorted(str(p.relative_to(tmp_path)) for p in written) == sorted(assets)
    for rel in assets:
        new, committed = (tmp_path / rel).read_bytes(), (ENVS / rel).read_bytes()
        assert len(committed) < 100_000, f"{rel} is {len(committed)} bytes: keep generated assets small"
        if rel.endswith(".png"):
            a, b = read_png(new).astype(int), read_png(committed).astype(int)
            assert a.shape == b.shape and np.abs(a - b).max() <= 1, rel
        elif rel.endswith(".obj"):
            def parse(text: bytes) -> tuple[np.ndarray, list[str]]:
                lines = text.decode().splitlines()
                verts = np.array([[float(x) for x in ln.split()[1:]] for ln in lines if ln.startswith("v ")])
                return verts, [ln for ln in lines if ln.startswith("f ")]

            (va, fa), (vb, fb) = parse(new), parse(committed)
            assert fa == fb and va.shape == vb.shape and np.abs(va - vb).max() <= 1e-6, rel
        assert new == committed, f"{rel}: run `python -m tools.assets` and commit the result"


def test_bowl_visual_mesh_is_closed_never_collides_and_the_collision_pieces_are_unchanged():
    vertices, faces = bowl_mesh()
    directed = Counter((int(t[i]), int(t[(i + 1) % 3])) for t in faces for i in range(3))
    assert max(directed.values()) == 1  # consistently wound
    assert all((b, a) in directed for a, b in directed)  # every edge shared by exactly two triangles: closed
    volume = sum(np.dot(vertices[a], np.cross(vertices[b], vertices[c])) for a, b, c in faces) / 6
    assert volume > 0  # outward normals
    r = np.hypot(vertices[:, 0], vertices[:, 1])
    assert r.max() <= 0.0841 and vertices[:, 2].min() == 0.0 and 0.05 <= vertices[:, 2].max() <= 0.053

    fast = build_scene(("bowl",), render_quality="fast").model
    faithful = build_scene(("bowl",), render_quality="faithful").model
    visual = faithful.geom("bowl_faithful")
    assert visual.type == mujoco.mjtGeom.mjGEOM_MESH
    assert (visual.contype, visual.conaffinity, visual.group) == (0, 0, 2)
    assert faithful.body_mass[faithful.body("bowl").id] == fast.body_mass[fast.body("bowl").id]

    def pieces(model: mujoco.MjModel) -> list[tuple]:
        body = model.body("bowl").id
        return [
            (int(model.geom_type[i]), *np.round(model.geom_size[i], 9), *np.round(model.geom_pos[i], 9),
             *np.round(model.geom_quat[i], 9), int(model.geom_contype[i]), int(model.geom_conaffinity[i]),
             *model.geom_friction[i])
            for i in range(model.ngeom) if model.geom_bodyid[i] == body and model.geom_contype[i]
        ]

    assert len(pieces(fast)) == 15  # the base and 14 wall segments
    assert pieces(faithful) == pieces(fast)
    body = faithful.body("bowl").id
    hidden = [faithful.geom_group[i] for i in range(faithful.ngeom)
              if faithful.geom_bodyid[i] == body and faithful.geom_contype[i]]
    assert set(hidden) == {3}  # drawn as the smooth mesh instead
    assert all(fast.geom_group[i] == 0 for i in range(fast.ngeom) if fast.geom_bodyid[i] == fast.body("bowl").id)


def test_render_quality_is_part_of_the_run_identity(tmp_path, capsys, monkeypatch, replay_chunk):
    assert RolloutConfig(env_id=BOWL, policy="scripted", render_quality="faithful").identity()[
        "render_quality"] == "faithful"
    monkeypatch.delenv("ROBOSIM_COSMOS_DEBUG", raising=False)
    out = tmp_path / "run"
    args = ["rollout", "--env", "robosim_cosmos/DroidReach-v0", "--policy", f"replay:{replay_chunk}",
            "--out", str(out), "--max-steps", "4", "--no-video"]
    assert main(args) == 0
    assert json.loads((out / "run.json").read_text())["identity"]["render_quality"] == "fast"
    capsys.readouterr()
    assert main([*args, "--render-quality", "faithful"]) == 2
    err = capsys.readouterr().err
    assert 'render_quality: "fast" in the folder, "faithful" now' in err, err


def test_station_still_writes_fast_above_faithful(tmp_path, capsys):
    import imageio.v2 as imageio

    path = tmp_path / "station.png"
    assert main(["demo", "--station-still", str(path)]) == 0
    assert capsys.readouterr().out.strip() == str(path)
    still = np.asarray(imageio.imread(path))
    assert still.shape == (360, 960, 3)
    assert np.any(still[:180] != still[180:])


def test_demo_gives_each_look_its_own_folder_and_takes_overwrite(tmp_path, capsys, monkeypatch):
    from robosim_cosmos.cli.demo import demo_folder

    assert (demo_folder("fast"), demo_folder("faithful")) == ("runs/demo", "runs/demo-faithful")
    out = str(tmp_path / "demo")
    assert main(["demo", "--out", out]) == 0
    capsys.readouterr()
    # Another look into the same folder is another run: refused with advice the demo itself takes.
    assert main(["demo", "--out", out, "--render-quality", "faithful"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["demo", "--out", out, "--render-quality", "faithful", "--overwrite"]) == 0
    assert "success" in capsys.readouterr().out
    assert json.loads((tmp_path / "demo" / "run.json").read_text())["identity"]["render_quality"] == "faithful"


@pytest.mark.parametrize("quality", RENDER_QUALITIES)
def test_the_robot_reads_white_with_black_caps_as_a_franka_does(quality):
    """Real DROID frames: 14–22 % of robot pixels brighter than luma 200 (white links), black joint
    caps and gripper. Faithful's dimmer headlight once left the links grey (1–2 %)."""
    # The fixed sim-evals views: the whole arm in frame at every seed (the droid rig may show a corner).
    env = DroidEnv("cube_in_bowl", render_quality=quality, camera_rig="sim-evals", room="plain")  # type: ignore[arg-type]
    try:
        for seed in (0, 5):
            env.reset(seed=seed)
            for camera in CAMERAS[:2]:  # the exterior views
                rgb = env.render_camera(camera).astype(float)
                luma = rgb @ np.array([0.299, 0.587, 0.114])  # Rec. 601
                robot = luma[env.robot_mask(camera)]
                assert robot.size > 0.05 * luma.size
                assert 0.12 <= (robot > 200).mean() <= 0.3, (seed, camera, (robot > 200).mean())
                assert (robot < 40).mean() >= 0.1, (seed, camera, (robot < 40).mean())
    finally:
        env.close()


@pytest.mark.parametrize("quality", RENDER_QUALITIES)
def test_in_drawn_rooms_the_robot_reads_white_as_often_as_in_droid(quality):
    """Drawn rooms light the robot differently every episode (2–5 lights of drawn strength), so
    its white share varies as real lighting does; over seeds its median lies in DROID's 14–22 %
    (with a margin), and its black caps and gripper stay dark."""
    env = DroidEnv("cube_in_bowl", render_quality=quality, camera_rig="sim-evals",  # type: ignore[arg-type]
                   image_size=(180, 320))
    white = []
    try:
        for seed in range(6):
            env.reset(seed=seed)
            for camera in CAMERAS[:2]:
                luma = env.render_camera(camera).astype(float) @ np.array([0.299, 0.587, 0.114])
                robot = luma[env.robot_mask(camera)]
                white.append((robot > 200).mean())
                assert (robot < 40).mean() >= 0.1, (seed, camera, (robot < 40).mean())
    finally:
        env.close()
    assert 0.1 <= np.median(white) <= 0.3, white
