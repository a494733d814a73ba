"""Rollout speed: wall seconds per simulated second for one scripted DroidCubeInBowl episode,
without video, with video but no predicted-world panel (the baseline), and with the panel
(the scripted expert's simulator prediction, forecast by the env). Prints JSON.

    python benchmarks/rollout.py [--episodes 1] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import robosim_cosmos


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--env", default="robosim_cosmos/DroidCubeInBowl-v0")
    parser.add_argument("--policy", default="scripted")
    args = parser.parse_args()

    report: dict = {"env": args.env, "policy": args.policy, "episodes": args.episodes,
                    "cpu_count": os.cpu_count()}
    runs = {
        "no_video": (False, {}),
        "video_without_prediction": (True, {"predict_video": False}),
        "video": (True, {}),
    }
    for label, (video, policy_kwargs) in runs.items():
        if args.policy != "scripted" and policy_kwargs:
            continue
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            res = robosim_cosmos.rollout(args.env, args.policy, episodes=args.episodes, seed=args.seed,
                                         out=out, video=video, progress=False, policy_kwargs=policy_kwargs)
            total = time.perf_counter() - t0
        sim = sum(r["sim_seconds"] for r in res.results)
        wall = sum(r["wall_seconds"] for r in res.results)
        report[label] = {
            "sim_seconds": round(sim, 3),
            "episode_wall_seconds": round(wall, 3),
            "total_wall_seconds_with_setup": round(total, 3),
            "wall_per_sim_second": round(wall / sim, 4) if sim else None,
            "x_real_time": round(sim / wall, 2) if wall else None,
            "steps": sum(r["steps"] for r in res.results),
            "successes": sum(bool(r["success"]) for r in res.results),
            "errors": [r["error"] for r in res.results if r["error"]],
            "policy_latency_ms_mean": round(1e3 * res.results[0]["policy_latency_s"]["mean"], 3)
            if res.results[0]["policy_latency_s"]["mean"] is not None else None,
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
