"""Benchmark: what the websocket policy service costs over an in-process call.

Run ``python benchmarks/service.py [--requests 200]``; prints one JSON object with a
key per section. The service section sends a DROID request (three 180x320 uint8
images plus joint and gripper state) through PolicyServer and Cosmos3ServicePolicy
on 127.0.0.1 and compares it with calling the same policy directly.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from typing import Any, Callable, Mapping

import numpy as np

from robosim_cosmos.policies.base import ActionChunk
from robosim_cosmos.policies.cosmos3_client import Cosmos3ServicePolicy, observation_to_request
from robosim_cosmos.service import PolicyServer, packb, unpackb

TARGET_OVERHEAD_MS = 3.0
IMAGE_KEYS = ("exterior_image_1_left", "exterior_image_2_left", "wrist_image_left")


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


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="timed requests per measurement")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests first")
    args = parser.parse_args(argv)

    results: dict[str, Any] = {"machine": {"python": platform.python_version(), "cpu": platform.machine()}}
    # One entry per section; each returns {section_name: {...}} and is merged below.
    # Add further sections here (e.g. the diffusers latent-vs-video benchmark from
    # its own module) as `lambda: measure_x(...)`.
    sections: list[Callable[[], dict[str, Any]]] = [
        lambda: measure_service(args.requests, args.warmup),
    ]
    for section in sections:
        results.update(section())
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
