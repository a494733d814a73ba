"""Baseline policy cost: training throughput (samples/s), wall time to the checkpoint, and inference
milliseconds per 16-row chunk on the CPU, against the scripted expert's milliseconds per chunk
measured in the same invocation on the same observations (the baseline). Prints JSON.

    python benchmarks/train.py --checkpoint CKPT             # a finished `robosim-cosmos train` run
    python benchmarks/train.py --dataset DIR [--steps 60]     # a short training measured here

With ``--checkpoint`` the training figures are the run's own (``train_result.json`` /
``train_state.json``: steps, samples/s, wall minutes to the checkpoint, summed over resumes); with
``--dataset`` a fresh run of ``--steps`` steps is timed here into a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import gymnasium as gym

import robosim_cosmos  # noqa: F401  (registers the envs)
from robosim_cosmos.policies.registry import create_policy
from robosim_cosmos.training import TrainOptions, build_training_set, train
from robosim_cosmos.training.loop import IMAGE_SIZE, KEYPOINTS, OPEN_LOOP_STEPS, make_config


def _ms_per_chunk(policy: Any, env: gym.Env, seeds: range, calls: int) -> float:
    times = []
    for seed in seeds:
        obs, info = env.reset(seed=seed)
        policy.reset()
        instruction = info.get("instruction", "") if isinstance(info, dict) else ""
        for _ in range(calls):
            t0 = time.perf_counter()
            policy.get_actions(obs, instruction)
            times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def inference(checkpoint: str, args: argparse.Namespace) -> dict[str, Any]:
    env = gym.make(args.env, action_mode="cosmos", image_size=(90, 160), camera_rig="sim-evals", room="plain")
    try:
        baseline = create_policy(f"baseline:{checkpoint}", threads=args.threads)
        scripted = create_policy("scripted", env=env)
        seeds = range(args.seed, args.seed + 3)
        ms_baseline = _ms_per_chunk(baseline, env, seeds, args.calls)
        ms_scripted = _ms_per_chunk(scripted, env, seeds, args.calls)
    finally:
        env.close()
    return {"env": args.env, "image_size": [90, 160], "threads": args.threads,
            "baseline_ms_per_chunk": round(ms_baseline, 2), "scripted_ms_per_chunk": round(ms_scripted, 2),
            "baseline_vs_scripted": round(ms_baseline / ms_scripted, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="a finished training run's folder")
    source.add_argument("--dataset", action="append", help="train --steps here on this dataset (repeatable)")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--env", default="robosim_cosmos/DroidReach-v0")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--calls", type=int, default=10, help="chunks timed per episode start (3 starts)")
    args = parser.parse_args()
    report: dict[str, Any] = {"cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        if args.checkpoint:
            ckpt = args.checkpoint
            result = json.loads((Path(ckpt) / "train_result.json").read_text())
        else:
            t0 = time.perf_counter()
            data = build_training_set(args.dataset, IMAGE_SIZE)
            report["read_seconds"] = round(time.perf_counter() - t0, 1)
            ckpt = f"{tmp}/ckpt"
            options = TrainOptions(steps=args.steps, save_every=args.steps, threads=args.threads)
            config = make_config(data, IMAGE_SIZE, "exterior_image_1_left", 16, keypoints=KEYPOINTS,
                                 open_loop_steps=OPEN_LOOP_STEPS, ee_state=True)  # the `train` command's defaults
            result = train(data, ckpt, options, config).to_json()
        report["training"] = {"steps": result["step"], "samples": result["samples"],
                              "parameters": result["parameters"], "samples_per_s": round(result["samples_per_s"], 1),
                              "wall_minutes_to_checkpoint": round(result["total_seconds"] / 60, 2),
                              "final_train_l1": result["losses"][-1][1] if result["losses"] else None,
                              "final_val_l1": result["val_losses"][-1][1] if result["val_losses"] else None}
        report["inference"] = inference(ckpt, args)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
