"""IK benchmark: our solver against the common mink settings, on the same chunks.

Prints JSON. Chunks: random DROID-range chunks (16 steps, every per-step delta inside
the DROID q01/q99) from the DROID home pose. Baselines, in the same run:
- ``baseline_common_loop``: the widely copied loop — mink.solve_ik (qpsolvers, daqp) with
  PostureTask cost 1e-2, lm_damping 1.0, ConfigurationLimit, up to 20 iterations, 1 mm stop.
- ``baseline_common_settings``: the same settings through our solver's QP path, so the
  settings alone are compared.
Usage: python benchmarks/ik.py [--chunks 50] [--robot embedded]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import mink
import numpy as np

from robosim_cosmos.kinematics import frames
from robosim_cosmos.kinematics.decode import ChunkDecoder, _ik_model, make_ik_solver
from robosim_cosmos.kinematics.ik import COMMON_SETTINGS, pose_error
from robosim_cosmos.kinematics.normalization import load_stats
from robosim_cosmos.testing.chunks import random_droid_chunk


def common_mink_loop(robot: str):
    """The usual per-target loop with plain mink.solve_ik; returns solve(targets, q0)."""
    model, joints = _ik_model(robot)
    config = mink.Configuration(model)
    frame = mink.FrameTask("cosmos_ee", "site", position_cost=1.0, orientation_cost=1.0, lm_damping=1.0)
    posture = mink.PostureTask(model, cost=1e-2)
    limits = [mink.ConfigurationLimit(model)]
    qadr = [model.jnt_qposadr[model.joint(j).id] for j in joints]
    site = model.site("cosmos_ee").id
    dt = 1.0 / 15.0

    def solve(targets: np.ndarray, q0: np.ndarray):
        q = model.qpos0.copy()
        q[qadr] = q0
        config.update(q)
        posture.set_target(config.q)
        pos, rot, iters = [], [], []
        for target in targets:
            frame.set_target(mink.SE3.from_matrix(target))
            n_iter = 20  # the cap, unless it converges sooner
            for k in range(1, 21):
                v = mink.solve_ik(config, [frame, posture], dt, "daqp", limits=limits)
                config.integrate_inplace(v, dt)
                if np.linalg.norm(config.data.site_xpos[site] - target[:3, 3]) < 1e-3:
                    n_iter = k
                    break
            T = np.eye(4)
            T[:3, :3] = config.data.site_xmat[site].reshape(3, 3)
            T[:3, 3] = config.data.site_xpos[site]
            p, r = pose_error(T, target)
            pos.append(p * 1e3)
            rot.append(np.rad2deg(r))
            iters.append(n_iter)
        return np.array(pos), np.array(rot), np.array(iters)

    return solve


def run(solve, chunks) -> dict:
    times, pos, rot, iters = [], [], [], []
    solve(chunks[0], frames.DROID_HOME)  # warm up caches
    for targets in chunks:
        t0 = time.perf_counter()
        p, r, k = solve(targets, frames.DROID_HOME)
        times.append(time.perf_counter() - t0)
        pos.append(p)
        rot.append(r)
        iters.append(k)
    pos, rot, iters = map(np.concatenate, (pos, rot, iters))
    times = np.array(times)
    n_targets = len(chunks[0])
    return {
        "ms_per_chunk_median": float(np.median(times) * 1e3),
        "ms_per_target_median": float(np.median(times) / n_targets * 1e3),
        "position_error_mm": {"mean": float(pos.mean()), "max": float(pos.max())},
        "rotation_error_deg": {"mean": float(rot.mean()), "max": float(rot.max())},
        "iterations_per_target": {"mean": float(iters.mean()), "max": int(iters.max())},
    }


def ours(settings=None, robot="embedded"):
    solver = make_ik_solver(robot, settings)

    def solve(targets, q0):
        res = solver.solve(targets, q0)
        return res.position_error_mm, res.rotation_error_deg, res.iterations

    return solve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=50)
    parser.add_argument("--robot", default="embedded")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    stats = load_stats(embodiment="droid")
    decoder = ChunkDecoder("droid", robot=args.robot)
    anchor = decoder.anchor_pose(frames.DROID_HOME)
    rng = np.random.default_rng(args.seed)
    chunks = [decoder.poses(stats.denormalize(random_droid_chunk(rng, stats)), anchor) for _ in range(args.chunks)]
    result = {
        "robot": args.robot,
        "chunks": args.chunks,
        "steps_per_chunk": 16,
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
        "ours": run(ours(None, args.robot), chunks),
        "baseline_common_loop": run(common_mink_loop(args.robot), chunks),
        "baseline_common_settings": run(ours(COMMON_SETTINGS, args.robot), chunks),
    }
    o = result["ours"]
    for name in ("baseline_common_loop", "baseline_common_settings"):
        b = result[name]
        result[f"vs_{name}"] = {
            "time_ratio": o["ms_per_chunk_median"] / b["ms_per_chunk_median"],
            "mean_position_error_reduction": (
                b["position_error_mm"]["mean"] / max(o["position_error_mm"]["mean"], 1e-12)
            ),
            "max_position_error_reduction": b["position_error_mm"]["max"] / max(o["position_error_mm"]["max"], 1e-12),
            "max_rotation_error_reduction": b["rotation_error_deg"]["max"] / max(o["rotation_error_deg"]["max"], 1e-12),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
