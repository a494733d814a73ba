"""Recording cost: scripted DroidCubeInBowl episodes recorded as a LeRobot v3.0 dataset, against the
same rollout with its side-by-side video (the baseline), measured in the same invocation, at the
schema's camera size. Per codec (AV1, LeRobot's default; H.264): wall seconds per episode (the
episode loop: rendering the three cameras and encoding them), the dataset build afterwards
(remuxing the staged streams, writing parquet and metadata), and the dataset's size per episode
(all of it, and the videos alone). Prints JSON.

    python benchmarks/record.py [--episodes 2] [--seed 0] [--schema cosmos3-droid] [--repeats 1]
    python benchmarks/record.py --stats-suite droid-tabletop [--stats-episodes 1]   # + q01/q99 vs DROID

``--stats-suite`` also records every task of a suite (openpi-droid, 180x320: the signals are what
count) and reports the Cosmos 3 action statistics of the scripted expert's motion next to DROID's
(``robosim-cosmos action-stats``): per column q01 / q99, their span over DROID's, and how far they
reach beyond DROID's range (also as a table on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import robosim_cosmos
from robosim_cosmos.datasets.action_stats import compare, compute_action_stats, format_comparison
from robosim_cosmos.datasets.reader import DatasetReader
from robosim_cosmos.datasets.schemas import get_schema
from robosim_cosmos.rollout import RolloutConfig
from robosim_cosmos.rollout.recording import build_recording


def _run(args: argparse.Namespace, out: str, **options) -> tuple[float, float, list]:
    t0 = time.perf_counter()
    res = robosim_cosmos.rollout(args.env, "scripted", episodes=args.episodes, seed=args.seed, out=out,
                                 progress=False, image_size=get_schema(args.schema).image_size, **options)
    total = time.perf_counter() - t0
    return total, sum(r["wall_seconds"] for r in res.results), res.results


def _videos_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*.mp4"))


def cost(args: argparse.Namespace) -> dict:
    report: dict = {"env": args.env, "policy": "scripted", "episodes": args.episodes, "schema": args.schema,
                    "image_size": list(get_schema(args.schema).image_size), "cpu_count": os.cpu_count()}
    best: dict[str, tuple] = {}
    for _ in range(max(1, args.repeats)):  # best of N: the 2-core machine is noisy
        with tempfile.TemporaryDirectory() as tmp:
            _, wall, results = _run(args, f"{tmp}/video", video=True)
            if "video" not in best or wall < best["video"][0]:
                best["video"] = (wall, results, None, None)
            for codec in ("av1", "h264"):
                data, runs = Path(tmp) / f"data-{codec}", f"{tmp}/runs-{codec}"
                _, wall, results = _run(args, runs, video=False, record_dataset=str(data), dataset_schema=args.schema,
                                        dataset_codec=codec)
                cfg = RolloutConfig(args.env, "scripted", episodes=args.episodes, seed=args.seed, out=runs,
                                    video=False, record_dataset=str(Path(tmp) / f"again-{codec}"),
                                    dataset_schema=args.schema, dataset_codec=codec)
                t0 = time.perf_counter()  # the build alone, again from the same staged episodes
                recording = build_recording(cfg, [(Path(runs), results, args.env)], lambda _: None)
                build = time.perf_counter() - t0
                assert recording is not None
                size = sum(s.bytes for s in recording.datasets.values())
                videos = sum(_videos_bytes(s.root / "videos") for s in recording.datasets.values())
                if codec not in best or wall < best[codec][0]:
                    best[codec] = (wall, results, build, (size, videos))
    steps = sum(r["steps"] for r in best["video"][1])
    base = best["video"][0]
    report["steps"] = steps
    report["rollout_with_video"] = {"seconds_per_episode": round(base / args.episodes, 3),
                                    "ms_per_step": round(1e3 * base / steps, 2)}
    for codec in ("av1", "h264"):
        wall, results, build, (size, videos) = best[codec]
        assert sum(r["steps"] for r in results) == steps  # the same episodes
        report[f"record_{codec}"] = {
            "seconds_per_episode": round(wall / args.episodes, 3),
            "ms_per_step": round(1e3 * wall / steps, 2),
            "vs_rollout_with_video": round(wall / base, 2),
            "build_seconds_per_episode": round(build / args.episodes, 3),
            "dataset_mb_per_episode": round(size / 1e6 / args.episodes, 3),
            "video_mb_per_episode": round(videos / 1e6 / args.episodes, 3),
            "dataset_kb_per_frame": round(size / 1e3 / steps, 2),
        }
    return report


def stats_table(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        suite = robosim_cosmos.rollout_suite("scripted", suite=args.stats_suite, episodes=args.stats_episodes,
                                             seed=args.seed, out=f"{tmp}/runs", video=False, quiet=True,
                                             record_dataset=f"{tmp}/data", dataset_schema="openpi-droid",
                                             image_size=get_schema("openpi-droid").image_size)
        seconds = time.perf_counter() - t0
        assert suite.dataset is not None
        readers = [DatasetReader(s.root) for s in suite.dataset.datasets.values()]
        result = compute_action_stats(readers)
        table = compare(result.stats)
        print(format_comparison(table), file=sys.stderr)  # stdout is the JSON
        return {"suite": args.stats_suite, "episodes": result.episodes, "windows": result.windows,
                "episodes_shorter_than_a_window": result.skipped_short,
                "success_rate": suite.summary["overall"]["success_rate"], "record_seconds": round(seconds, 1),
                "columns": [{k: round(v, 6) if isinstance(v, float) else v for k, v in row.items()} for row in table]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--env", default="robosim_cosmos/DroidCubeInBowl-v0")
    parser.add_argument("--schema", default="cosmos3-droid")
    parser.add_argument("--repeats", type=int, default=1, help="best of N for each configuration")
    parser.add_argument("--stats-suite", default=None, help="also record this suite and compare its action stats")
    parser.add_argument("--stats-episodes", type=int, default=1)
    parser.add_argument("--skip-cost", action="store_true", help="only the action statistics")
    args = parser.parse_args()
    report: dict = {} if args.skip_cost else cost(args)
    if args.stats_suite:
        report["action_stats_vs_droid"] = stats_table(args)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
