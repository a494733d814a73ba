"""Cost of one in-process Cosmos 3 policy call: actions only vs actions + decoded video.

Runs on the tiny random pipeline (``robosim_cosmos.testing``), so the numbers measure
the plumbing and the relative cost of the VAE decode on this machine, not a real
checkpoint's speed. Usage::

    python benchmarks/diffusers_policy.py --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from typing import Any

import numpy as np


def _observation(seed: int = 0, height: int = 180, width: int = 320) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    keys = ("exterior_image_1_left", "exterior_image_2_left", "wrist_image_left")
    return {k: rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for k in keys}


def _timed_interleaved(policies: dict[str, Any], observation: dict, instruction: str, repeats: int, warmup: int) -> dict[str, list[float]]:
    """Alternate the variants call by call so background load hits them alike."""
    for policy in policies.values():
        for _ in range(warmup):  # first calls pay one-off allocation / kernel selection costs
            policy.get_actions(observation, instruction)
    times: dict[str, list[float]] = {label: [] for label in policies}
    for _ in range(repeats):
        for label, policy in policies.items():
            start = time.perf_counter()
            policy.get_actions(observation, instruction)
            times[label].append(time.perf_counter() - start)
    return times


def measure_diffusers(
    repeats: int = 5,
    warmup: int = 1,
    chunk_size: int = 16,
    num_inference_steps: int = 4,
    guidance_scale: float = 3.0,
    resolution_tier: int = 256,
    view_point: str = "ego_view",
    seed: int = 0,
) -> dict[str, Any]:
    """Median seconds per policy call with ``output_type="latent"`` vs with video decode.

    Defaults: DROID's chunk of 16 and the step count / guidance NVIDIA's RoboLab
    server uses (4, 3.0), on 180 x 320 images at tier 256.
    """
    import torch

    from robosim_cosmos.policies.diffusers_policy import DiffusersCosmos3Policy
    from robosim_cosmos.testing import build_tiny_cosmos3_pipeline

    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    pipeline = build_tiny_cosmos3_pipeline(seed=seed)  # the first build also pays lazy imports
    build_times = []
    for _ in range(3):
        build_start = time.perf_counter()
        build_tiny_cosmos3_pipeline(seed=seed)
        build_times.append(time.perf_counter() - build_start)
    build_s = min(build_times)

    common = dict(
        chunk_size=chunk_size,
        num_inference_steps=num_inference_steps,
        guidance_scale=guidance_scale,
        resolution_tier=resolution_tier,
        view_point=view_point,
        seed=seed,
    )
    observation = _observation(seed)
    instruction = "put the marker in the bowl"
    policies = {
        "actions_only": DiffusersCosmos3Policy(pipeline, return_video=False, **common),
        "with_video": DiffusersCosmos3Policy(pipeline, return_video=True, **common),
    }
    results = _timed_interleaved(policies, observation, instruction, repeats, warmup)

    actions_only = statistics.median(results["actions_only"])
    with_video = statistics.median(results["with_video"])
    return {
        "model": "tiny random Cosmos3OmniPipeline (robosim_cosmos.testing)",
        "config": dict(common, repeats=repeats, warmup=warmup, image="180x320"),
        "build_pipeline_s": round(build_s, 4),
        "median_s": {"actions_only": round(actions_only, 4), "with_video": round(with_video, 4)},
        "video_decode_overhead_s": round(with_video - actions_only, 4),
        "all_s": {k: [round(t, 4) for t in v] for k, v in results.items()},
        "machine": {
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(),
            "torch": torch.__version__,
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--chunk-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--guidance-scale", type=float, default=3.0)
    parser.add_argument("--resolution-tier", type=int, default=256, choices=(256, 480, 704, 720))
    args = parser.parse_args(argv)
    result = measure_diffusers(
        repeats=args.repeats,
        warmup=args.warmup,
        chunk_size=args.chunk_size,
        num_inference_steps=args.steps,
        guidance_scale=args.guidance_scale,
        resolution_tier=args.resolution_tier,
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
