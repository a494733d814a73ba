"""Fidelity scorecard: what the exterior cameras see, next to real DROID frames, printed as JSON.

For each task and seed the env is reset (default rig, the chosen render preset) and the
scripted expert runs, in state mode, until its fingers close on the object; both exterior
cameras are measured at reset and at that grasp. Per statistic the JSON gives the sim's
median / min / max over those frames, the real reference (median / min / max and where it
comes from), whether the sim's median lies inside the real range (``in_range``), and the
issue-21 targets.

- ``camera_distance_m``: exterior camera to the scene's ``workspace_center`` body;
- ``cube_px``: the sides (width and height) of the bounding box of a 5 cm cube centred on
  ``workspace_center``, projected with the camera's pinhole model at 320 × 180;
- ``gripper_px``: flange to fingertip (the tcp plus the fingertips' reach beyond it), projected
  at 640 × 360, at the grasp only;
- image statistics (robosim_cosmos.metrics.image_stats): luma mean / std, dark share, edge
  density, saturation, and with DroidEnv.robot_mask the robot share and robot whiteness.

The real side: the image statistics are computed here on the reference frames (the 24 DROID
exterior thumbnails in ``droid_scenes/`` and episode 48330's two 180 × 320 frames);
camera distance and cube size come from the real calibrations in DESIGN §8b (the two with full
extrinsics in droid-dataset/droid ``calibration_info.json``, measured ZED 2 fx ≈ 531.7 px at
1280 wide); gripper length, robot share and whiteness were measured on episode 48330 (DESIGN §8b).
``by_scene_type`` repeats the image statistics' medians per drawn scene type. ``--sheet PNG``
also writes a contact sheet: the first three tasks (columns) in each of the three scene types
(rows), exterior 1 at reset, above a row of the real DROID thumbnails.
Usage: python benchmarks/fidelity.py [--seeds 5] [--tasks DroidCubeInBowl,...]
       [--render-quality fast|faithful] [--room droid] [--camera-rig droid] [--image-size 180x320]
       [--reference ../shared/reference] [--frames] [--save DIR] [--sheet PNG]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import gymnasium as gym
import imageio.v2 as imageio
import numpy as np
from scipy.spatial.transform import Rotation

import robosim_cosmos  # noqa: F401  (registers the envs, picks the GL backend)
from robosim_cosmos.envs.camera_geometry import distance, project
from robosim_cosmos.envs.droid_env import DroidEnv
from robosim_cosmos.kinematics.sites import site_pose
from robosim_cosmos.metrics.image_stats import image_stats
from robosim_cosmos.observations import EXTERIOR_CAMERAS
from robosim_cosmos.policies.expert import HOLDING_MIN
from robosim_cosmos.policies.scripted import ScriptedPolicy

DEFAULT_TASKS = ("DroidCubeInBowl", "DroidBlockInBowl", "DroidBlockInBowlThenCanOnPlate")
CUBE_M = 0.05
REAL_CALIBRATIONS = (
    # droid-dataset/droid droid/calibration/calibration_info.json: xyz (m) + extrinsic euler XYZ (rad),
    # camera to robot base, OpenCV camera axes (x right, y down, z forward)
    (0.41548840480128696, 0.4775470950869088, 0.4114322255308952, -2.2160410202605263, -0.02257694787387754,
     -2.963723863071196),
    (0.25955495037528126, -0.5001018266363574, 0.436881899751338, -2.2773456296459424, 0.3361897716248827,
     -0.5369007045203406),
)
REAL_POSITIONS_ONLY = ((0.286, 0.585, 0.383), (0.178, -0.563, 0.301))
"""Another real episode's exterior positions (DESIGN §8b), for camera distance only."""
ZED2_FX_1280 = 531.7
REAL_MEASURED = {
    # DESIGN §8b, episode 48330 at 640 wide
    "gripper_px": {"min": 98.0, "max": 119.0, "source": "DESIGN §8b: episode 48330, flange to fingertip"},
    "robot_share": {"min": 0.06, "max": 0.10, "source": "DESIGN §8b: episode 48330"},
    "robot_whiteness": {"min": 0.14, "max": 0.22, "source": "DESIGN §8b: episode 48330, luma > 200"},
}
TARGETS = {  # issue 21, "Must show"
    "luma_mean": (83.0, 122.0), "luma_std": (49.0, None), "edge_density": (0.12, None), "dark_share": (0.05, None),
}
IMAGE_KEYS = ("luma_mean", "luma_std", "dark_share", "edge_density", "saturation", "robot_share", "robot_whiteness")


def summary(values: list[float]) -> dict:
    v = np.asarray([x for x in values if x is not None], dtype=np.float64)
    if v.size == 0:
        return {"n": 0}
    return {"median": round(float(np.median(v)), 4), "min": round(float(v.min()), 4),
            "max": round(float(v.max()), 4), "n": int(v.size)}


def cube_corners(centre: np.ndarray) -> np.ndarray:
    signs = np.array(np.meshgrid([-1, 1], [-1, 1], [-1, 1])).T.reshape(-1, 3)
    return np.asarray(centre) + 0.5 * CUBE_M * signs


def real_geometry(centre: np.ndarray) -> dict:
    """Camera distance and cube size of the real calibrations, measured as for the sim."""
    dists, sides = [], []
    for pose in REAL_CALIBRATIONS:
        t, R = np.array(pose[:3]), Rotation.from_euler("xyz", pose[3:]).as_matrix()
        local = (cube_corners(centre) - t) @ R  # OpenCV camera: z forward, y down
        f = ZED2_FX_1280 * 320 / 1280
        uv = f * local[:, :2] / local[:, 2:]
        sides += list(np.ptp(uv, axis=0))
        dists.append(float(np.linalg.norm(t - centre)))
    dists += [float(np.linalg.norm(np.array(p) - centre)) for p in REAL_POSITIONS_ONLY]
    src = "DESIGN §8b real calibrations (calibration_info.json; distance also another episode's positions)"
    return {"camera_distance_m": {**summary(dists), "source": src},
            "cube_px": {**summary(sides), "source": src + ", ZED 2 fx 531.7 px at 1280"}}


def real_image_stats(reference: Path) -> dict:
    from PIL import Image

    files = sorted((reference / "droid_scenes").glob("*.png")) + sorted(reference.glob("droid_exterior_*_180x320.png"))
    if not files:
        raise SystemExit(f"no reference frames under {reference} (pass --reference)")
    stats = [image_stats(np.asarray(Image.open(f).convert("RGB"))).as_dict() for f in files]
    src = f"{len(files)} real DROID exterior frames in {reference.name}/ (droid_scenes/ + episode 48330)"
    return {k: {**summary([s[k] for s in stats]), "source": src} for k in IMAGE_KEYS[:5]}


def measure_view(env: DroidEnv, camera: str, grasp: bool, save: Path | None = None) -> dict:
    m, d = env.model, env.data
    centre = d.xpos[m.body("workspace_center").id]
    image = env.render_camera(camera)
    if save is not None:
        import imageio.v3 as iio

        save.parent.mkdir(parents=True, exist_ok=True)
        iio.imwrite(save, image)
    row = image_stats(image, env.robot_mask(camera)).as_dict()
    row["camera_distance_m"] = distance(m, d, camera, centre)
    cube, _ = project(m, d, camera, cube_corners(centre), 180, 320)
    row["cube_px"] = list(np.ptp(cube, axis=0))
    if grasp:
        flange = site_pose(m, d, "flange")
        tip = flange @ env.robot.T_flange_tcp @ np.array([0.0, 0.0, env.robot.tip_below_tcp_m, 1.0])
        (a, b), _ = project(m, d, camera, np.stack([flange[:3, 3], tip[:3]]), 360, 640)
        row["gripper_px"] = float(np.linalg.norm(a - b))
    return row


def run_to_grasp(env: DroidEnv, limit: int = 300) -> bool:
    """Step the scripted expert (its chunks decoded to joint targets, 8 rows executed per chunk)
    until the fingers have closed on something and stopped; False if that never happens."""
    policy, steps, last = ScriptedPolicy(env), 0, 0.0
    while steps < limit:
        env.reanchor()
        dec = env.decoder.decode(policy.get_actions({}, env.instruction).actions, env.joint_positions())
        for q, g in zip(dec.joint_positions[:8], dec.gripper[:8], strict=True):
            _, _, terminated, truncated, _ = env.step(np.append(q, g).astype(np.float32))
            steps, reading = steps + 1, env.gripper_position()
            if reading > HOLDING_MIN and abs(reading - last) < 0.005:
                return True
            if terminated or truncated:
                return False
            last = reading
    return False


def measure(tasks: list[str], seeds: int, look: dict, size: tuple[int, int],
            save: Path | None = None) -> tuple[list[dict], int]:
    """Rows of per-view measurements over tasks × seeds × (reset, grasp) × exterior cameras, and
    the number of episodes whose grasp was never reached (measured at reset only). ``look``: the
    env's render_quality, room and camera_rig."""
    rows, missed = [], 0
    for task in tasks:
        env = gym.make(f"robosim_cosmos/{task}-v0", obs_mode="state", image_size=size, **look).unwrapped
        assert isinstance(env, DroidEnv)
        for seed in range(seeds):
            _, info = env.reset(seed=seed)
            scene = info["room"].get("scene_type", info["room"]["style"])
            for at in ("reset", "grasp"):
                if at == "grasp" and not run_to_grasp(env):
                    missed += 1
                    break
                for c in EXTERIOR_CAMERAS:
                    png = save / f"{task}_s{seed}_{at}_{c}.png" if save else None
                    rows.append({"task": task, "seed": seed, "at": at, "scene_type": scene,
                                 **measure_view(env, c, at == "grasp", png)})
        env.close()
    return rows, missed


def by_scene_type(rows: list[dict]) -> dict:
    """The image statistics' medians per drawn scene type, with the number of views."""
    out = {}
    for scene in sorted({r["scene_type"] for r in rows}):
        chosen = [r for r in rows if r["scene_type"] == scene]
        out[scene] = {"views": len(chosen),
                      **{k: round(float(np.median(v)), 4) if (v := [r[k] for r in chosen if r.get(k) is not None])
                         else None for k in IMAGE_KEYS}}
    return out


def contact_sheet(path: Path, tasks: list[str], look: dict, reference: Path, seed: int = 0) -> None:
    """The first three tasks in each scene type (exterior 1 at reset, 180 × 320) above the real
    DROID thumbnails, as one labelled PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from robosim_cosmos.envs.rooms import SCENE_TYPES

    tasks = tasks[:3]
    thumbs = sorted((reference / "droid_scenes").glob("*.png"))[: len(tasks) * 2]
    fig, axes = plt.subplots(len(SCENE_TYPES) + 2, len(tasks), figsize=(3.2 * len(tasks), 1.9 * (len(SCENE_TYPES) + 2)))
    for row, scene in enumerate(SCENE_TYPES):
        for col, task in enumerate(tasks):
            env = gym.make(f"robosim_cosmos/{task}-v0", image_size=(180, 320), **{**look, "room": scene}).unwrapped
            obs, _ = env.reset(seed=seed + row)
            axes[row, col].imshow(obs[EXTERIOR_CAMERAS[0]])
            axes[row, col].set_title(f"{task.removeprefix('Droid')} · {scene.replace('_', ' ')}", fontsize=8)
            env.close()
    for i, thumb in enumerate(thumbs):
        ax = axes[len(SCENE_TYPES) + i // len(tasks), i % len(tasks)]
        ax.imshow(np.asarray(imageio.imread(thumb))[..., :3])
        ax.set_title(f"real DROID ({thumb.stem})", fontsize=8)
    for ax in axes.flat:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def scorecard(rows: list[dict], real: dict) -> dict:
    """Per statistic: sim summary, real reference, and whether the sim median lies in the real range."""
    sim = {k: summary([r.get(k) for r in rows]) for k in IMAGE_KEYS}
    sim["camera_distance_m"] = summary([r["camera_distance_m"] for r in rows])
    sim["cube_px"] = summary([side for r in rows for side in r["cube_px"]])
    sim["gripper_px"] = summary([r["gripper_px"] for r in rows if "gripper_px" in r])
    out = {}
    for key, s in sim.items():
        ref = real.get(key)
        inside = None
        if ref is not None and s.get("n"):
            inside = bool(ref["min"] <= s["median"] <= ref["max"])
        out[key] = {"sim": s, "real": ref, "in_range": inside}
    return out


def targets(card: dict) -> dict:
    out = {}
    for key, (lo, hi) in TARGETS.items():
        value = card[key]["sim"].get("median")
        met = value is not None and value >= lo and (hi is None or value <= hi)
        out[key] = {"target": [lo, hi], "sim_median": value, "met": bool(met)}
    return out


def main() -> None:
    repo = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(DEFAULT_TASKS), help="comma-separated task names (no -v0)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--render-quality", default="fast", help="render preset (fast, faithful)")
    parser.add_argument("--image-size", default="180x320", help="HxW of the rendered exterior frames")
    parser.add_argument("--reference", type=Path, default=repo.parent / "shared" / "reference",
                        help="folder of the real DROID reference frames (default ../shared/reference)")
    parser.add_argument("--frames", action="store_true", help="also print every measured view")
    parser.add_argument("--room", default="droid", help="the env's room (droid, a scene type, plain)")
    parser.add_argument("--camera-rig", default="droid", help="the exterior camera rig (droid, sim-evals)")
    parser.add_argument("--save", type=Path, default=None, help="write every measured view as a PNG in this folder")
    parser.add_argument("--sheet", type=Path, default=None, help="write a contact sheet of tasks × scene types here")
    args = parser.parse_args()
    look = {"render_quality": args.render_quality, "room": args.room, "camera_rig": args.camera_rig}
    size = tuple(int(v) for v in args.image_size.lower().split("x"))
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]

    t0 = time.perf_counter()
    rows, missed = measure(tasks, args.seeds, look, (size[0], size[1]), args.save)
    probe = gym.make(f"robosim_cosmos/{tasks[0]}-v0", obs_mode="state").unwrapped
    probe.reset(seed=0)
    centre = probe.data.xpos[probe.model.body("workspace_center").id].copy()
    probe.close()
    real = {**real_image_stats(args.reference), **real_geometry(centre), **REAL_MEASURED}
    card = scorecard(rows, real)
    report = {
        "setup": {"tasks": tasks, "seeds": args.seeds, **look,
                  "image_size": f"{size[0]}x{size[1]}", "cameras": list(EXTERIOR_CAMERAS),
                  "views": len(rows), "grasps_missed": missed, "mujoco_gl": os.environ.get("MUJOCO_GL"),
                  "seconds": round(time.perf_counter() - t0, 1)},
        "statistics": card,
        "targets": targets(card),
        "by_scene_type": by_scene_type(rows),
    }
    if args.sheet:
        contact_sheet(args.sheet, tasks, look, args.reference)
        report["sheet"] = str(args.sheet)
    if args.frames:
        report["frames"] = [{k: (np.round(v, 4).tolist() if isinstance(v, (float, list)) else v) for k, v in r.items()}
                            for r in rows]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
