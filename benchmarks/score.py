"""Benchmark: what offline forward-dynamics scoring (``robosim-cosmos score``) costs per episode.

Run ``python benchmarks/score.py [--calls 3] [--threads 1]``; prints one JSON object. It records
one scripted DroidCubeInBowl episode with saved chunks (96 steps, 12 chunks of 8 executed rows),
builds the tiny random Cosmos 3 pipeline (``robosim_cosmos.testing``), and for each setting times
``forward_dynamics`` on the episode's first chunks: seconds per call (min and median of
``--calls``) and per episode (the min times the episode's chunks: score makes one call per chunk).
It measures how the settings scale the cost on this machine, not a real checkpoint's speed (the
tiny transformer is almost free, so its video decode weighs most). Needs the ``cosmos`` extra.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import robosim_cosmos
from robosim_cosmos.policies.registry import create_policy
from robosim_cosmos.records.chunks import load_episode, saved_episodes
from robosim_cosmos.testing import save_tiny_cosmos3_pipeline

SETTINGS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "num_inference_steps=4 guidance_scale=1.0": {"num_inference_steps": 4, "guidance_scale": 1.0},
    "num_inference_steps=4 guidance_scale=1.0 chunk_size=8": {"num_inference_steps": 4, "guidance_scale": 1.0,
                                                               "chunk_size": 8},
    "chunk_size=8": {"chunk_size": 8},
}
"""The settings timed: the checkpoint's defaults (35 denoising steps, guidance 6.0, the embodiment's
16-step chunk), and the ones that make scoring cheap."""


def _time_calls(ckpt: Path, kwargs: dict[str, Any], episode: Any, calls: int) -> dict[str, Any]:
    policy = create_policy(f"diffusers:{ckpt}", **kwargs)
    seconds = []
    try:
        for c in range(calls):
            chunk = c % len(episode.rows)
            rows = int(episode.rows[chunk])
            t0 = time.perf_counter()
            policy.forward_dynamics(episode.camera_images(chunk, 0), episode.instruction, episode.actions[chunk, :rows])
            seconds.append(time.perf_counter() - t0)
    finally:
        policy.close()
    return {"call_s_min": round(min(seconds), 2), "call_s_median": round(statistics.median(seconds), 2),
            "episode_s": round(min(seconds) * len(episode.rows), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3, help="forward_dynamics calls timed per setting")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: steadier on a shared machine)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "bowl"
        result = robosim_cosmos.rollout("robosim_cosmos/DroidCubeInBowl-v0", "scripted", out=str(run), video=False,
                                        save_chunks=True, progress=False)
        episode = load_episode(saved_episodes(run)[0])
        ckpt = save_tiny_cosmos3_pipeline(Path(tmp) / "tiny-cosmos3")
        out: dict[str, Any] = {
            "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                        "torch_threads": args.threads, "torch": torch.__version__},
            "episode": {"steps": result.results[0]["steps"], "chunks": len(episode.rows),
                        "rows_per_chunk": sorted(set(episode.rows.tolist()))},
        }
        out["settings"] = {name: _time_calls(ckpt, kwargs, episode, args.calls) for name, kwargs in SETTINGS.items()}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
