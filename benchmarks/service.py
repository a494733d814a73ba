"""Benchmark: what the websocket policy service costs, and what the Cosmos 3 video decode costs.

Run ``python benchmarks/service.py [--requests 200] [--repeats 5]``; prints one JSON
object with a key per section:

- ``service``: a DROID request (three 180x320 uint8 images plus joint and gripper
  state) answered with joint_pos [32, 8], through PolicyServer and
  Cosmos3ServicePolicy on 127.0.0.1, against calling the same policy directly.
- ``diffusers``: the tiny random Cosmos3 pipeline (``robosim_cosmos.testing``) asked
  for actions only (``output_type="latent"``) against actions plus decoded video,
  in-process and served. It measures plumbing and the relative cost of the VAE
  decode on this machine, not a real checkpoint's speed. Skipped (with the reason)
  without the ``cosmos`` extra.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from robosim_cosmos.observations import CAMERAS as IMAGE_KEYS
from robosim_cosmos.policy_api import ActionChunk
from robosim_cosmos.service import PolicyServer, packb, unpackb
from robosim_cosmos.service.client import Cosmos3ServicePolicy, observation_to_request

TARGET_OVERHEAD_MS = 3.0


class _JointEchoPolicy:
    """A near-free policy answering joint_pos [32, 8], so the figures are pure transport."""

    embodiment = "droid"
    layout = "joint_pos"
    chunk_size = 32

    def get_actions(self, observation: Mapping[str, Any], instruction: str) -> ActionChunk:
        q = np.asarray(observation["joint_position"], dtype=np.float32)
        actions = np.empty((self.chunk_size, 8), np.float32)
        actions[:, :7] = q
        actions[:, 7] = observation["gripper_position"][0]
        return ActionChunk(actions, "joint_pos")

    def reset(self) -> None:
        pass


def _observation(seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    obs: dict[str, Any] = {k: rng.integers(0, 256, (180, 320, 3), dtype=np.uint8) for k in IMAGE_KEYS}
    obs["joint_position"] = np.array([0, -np.pi / 5, 0, -4 * np.pi / 5, 0, 3 * np.pi / 5, 0])
    obs["gripper_position"] = np.array([0.0])
    return obs


def _stats_ms(seconds: list[float]) -> dict[str, float]:
    ms = 1e3 * np.asarray(seconds)
    return {"median": round(float(np.median(ms)), 4), "p90": round(float(np.percentile(ms, 90)), 4)}


def _time(call: Callable[[], Any], n: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        call()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def measure_service(n_requests: int = 200, warmup: int = 20) -> dict[str, Any]:
    """Median / p90 round trip through the server vs the same policy in-process."""
    policy = _JointEchoPolicy()
    obs = _observation()
    prompt = "put the marker in the cup"
    in_process = _time(lambda: policy.get_actions(obs, prompt), n_requests, warmup)
    request = packb(observation_to_request(obs, prompt))
    codec = _time(lambda: unpackb(packb(observation_to_request(obs, prompt))), n_requests, warmup)
    with PolicyServer(policy, port=0) as server, Cosmos3ServicePolicy(port=server.port) as client:
        chunk = client.get_actions(obs, prompt)
        assert chunk.actions.shape == (32, 8), chunk.actions.shape
        round_trip = _time(lambda: client.get_actions(obs, prompt), n_requests, warmup)
    direct, remote = _stats_ms(in_process), _stats_ms(round_trip)
    overhead = {k: round(remote[k] - direct[k], 4) for k in direct}
    return {
        "service": {
            "requests": n_requests,
            "request_bytes": len(request),
            "action_shape": list(chunk.actions.shape),
            "in_process_ms": direct,
            "round_trip_ms": remote,
            "request_codec_ms": _stats_ms(codec),
            "overhead_ms": overhead,
            "target_overhead_ms": TARGET_OVERHEAD_MS,
            "meets_target": overhead["median"] <= TARGET_OVERHEAD_MS,
        }
    }


def _timed_interleaved(calls: dict[str, Callable[[], Any]], repeats: int, warmup: int) -> dict[str, list[float]]:
    """Alternate the variants call by call so background load hits them alike."""
    for call in calls.values():
        for _ in range(warmup):  # first calls pay one-off allocation / kernel selection costs
            call()
    times: dict[str, list[float]] = {label: [] for label in calls}
    for _ in range(repeats):
        for label, call in calls.items():
            start = time.perf_counter()
            call()
            times[label].append(time.perf_counter() - start)
    return times


def measure_diffusers(
    repeats: int = 5,
    warmup: int = 1,
    chunk_size: int = 16,
    num_inference_steps: int = 4,
    guidance_scale: float = 3.0,
    resolution_tier: int = 256,
    seed: int = 0,
) -> dict[str, Any]:
    """Median seconds per call: latent (actions only) vs decoded video, in-process and served.

    Defaults: DROID's chunk of 16 and the step count / guidance of NVIDIA's RoboLab
    server (4, 3.0), on 180 x 320 images at tier 256.
    """
    try:
        import torch

        from robosim_cosmos.policies.diffusers_policy import DiffusersCosmos3Policy
        from robosim_cosmos.testing import build_tiny_cosmos3_pipeline
    except ImportError as exc:
        return {"diffusers": {"skipped": f"{exc}; pip install 'robosim_cosmos[cosmos]' torch==2.13.0"}}

    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    pipeline = build_tiny_cosmos3_pipeline(seed=seed)
    common = dict(chunk_size=chunk_size, num_inference_steps=num_inference_steps,
                  guidance_scale=guidance_scale, resolution_tier=resolution_tier, seed=seed)
    obs = _observation(seed)
    prompt = "put the marker in the bowl"
    latent = DiffusersCosmos3Policy(pipeline, return_video=False, **common)
    video = DiffusersCosmos3Policy(pipeline, return_video=True, **common)
    chunk = video.get_actions(obs, prompt)
    with PolicyServer(DiffusersCosmos3Policy(pipeline, **common), port=0) as latent_server, \
            PolicyServer(DiffusersCosmos3Policy(pipeline, **common), port=0, decode_video=True) as video_server, \
            Cosmos3ServicePolicy(port=latent_server.port) as latent_client, \
            Cosmos3ServicePolicy(port=video_server.port) as video_client:
        served = video_client.get_actions(obs, prompt)
        assert served.predicted_video is not None and served.predicted_video.shape == chunk.predicted_video.shape
        overhead: dict[str, list[float]] = {"actions_only": [], "with_video": []}

        def served(client: Cosmos3ServicePolicy, label: str) -> None:
            # Inference time varies by +-20 % call to call on a small CPU; the server's own
            # infer_ms for the same call isolates what the transport adds.
            start = time.perf_counter()
            reply = client.get_actions(obs, prompt)
            total = time.perf_counter() - start
            overhead[label].append(total - reply.info["server_timing"]["infer_ms"] / 1e3)

        times = _timed_interleaved({
            "actions_only": lambda: latent.get_actions(obs, prompt),
            "with_video": lambda: video.get_actions(obs, prompt),
            "served_actions_only": lambda: served(latent_client, "actions_only"),
            "served_with_video": lambda: served(video_client, "with_video"),
        }, repeats, warmup)
    median = {label: round(statistics.median(values), 4) for label, values in times.items()}
    return {
        "diffusers": {
            "model": "tiny random Cosmos3OmniPipeline (robosim_cosmos.testing)",
            "config": dict(common, repeats=repeats, warmup=warmup, image="180x320"),
            "action_shape": list(chunk.actions.shape),
            "video_shape": list(chunk.predicted_video.shape),
            "video_bytes": int(chunk.predicted_video.nbytes),
            "median_s": median,
            "video_decode_overhead_s": round(median["with_video"] - median["actions_only"], 4),
            "video_over_latent": round(median["with_video"] / median["actions_only"], 3),
            "service_overhead_ms": {
                label: round(1e3 * statistics.median(values[warmup:]), 3) for label, values in overhead.items()
            },
            "all_s": {label: [round(t, 3) for t in values] for label, values in times.items()},
            "torch": {"version": torch.__version__, "threads": torch.get_num_threads()},
        }
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="timed requests per measurement")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests first")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per diffusers variant")
    parser.add_argument("--chunk-size", type=int, default=16, help="diffusers chunk size")
    parser.add_argument("--steps", type=int, default=4, help="diffusers denoising steps")
    parser.add_argument("--skip-diffusers", action="store_true", help="transport figures only")
    args = parser.parse_args(argv)

    results: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpu": platform.machine(), "cpu_count": os.cpu_count()}
    }
    # One entry per section; each returns {section_name: {...}}, merged below.
    sections: list[Callable[[], dict[str, Any]]] = [
        lambda: measure_service(args.requests, args.warmup),
    ]
    if not args.skip_diffusers:
        sections.append(lambda: measure_diffusers(args.repeats, chunk_size=args.chunk_size,
                                                  num_inference_steps=args.steps))
    for section in sections:
        results.update(section())
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
