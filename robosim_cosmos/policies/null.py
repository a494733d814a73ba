"""``null``: the policy that holds still, the floor every evaluation compares against.

"Zero actions" means zero *motion*, not normalized zeros: under quantile normalization a
normalized 0 is the midpoint of q01 and q99, which for DROID's statistics is a small drift, not
standing still. So each chunk is the normalized form (with the env's own statistics) of the raw
row "identity translation and rotation, grasp = the gripper's current position": the arm stays where
it is and the gripper keeps its state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from ..envs.droid_env import DroidEnv
from ..errors import ConfigError
from ..kinematics.deltas import encode_backward_framewise
from ..kinematics.gripper import droid_to_grasp
from ..policy_api import ActionChunk, Layout, Policy


class NullPolicy(Policy):
    """Chunks of ``chunk_size`` rows that decode to no motion, gripper unchanged. Built on the
    rollout's env to read the statistics its decoder uses (so it cannot be served)."""

    layout: Layout = "cosmos_ee_delta"
    needs_images = False

    def __init__(self, env: gym.Env, chunk_size: int = 16) -> None:
        if chunk_size < 1:
            raise ConfigError(f"chunk_size must be >= 1, got {chunk_size}")
        base = env.unwrapped
        if not isinstance(base, DroidEnv):
            raise ConfigError(f"the null policy holds a DroidEnv still, got {type(base).__name__}")
        self.stats = base.decoder.stats
        self.chunk_size = int(chunk_size)
        self._still = encode_backward_framewise(np.stack([np.eye(4), np.eye(4)]))[0]

    def get_actions(self, observation: Mapping[str, Any], instruction: str) -> ActionChunk:
        grip = float(np.asarray(observation.get("gripper_position", 0.0), dtype=np.float64).reshape(-1)[0])
        raw = np.concatenate([self._still, droid_to_grasp(np.asarray([grip]))])
        rows = np.repeat(self.stats.normalize(raw)[None], self.chunk_size, axis=0)
        return ActionChunk(rows.astype(np.float32), "cosmos_ee_delta", "droid", None, {"latency_s": 0.0})
