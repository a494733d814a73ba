"""``baseline:CKPT``: the small visuomotor policy trained here (``robosim-cosmos train``).

It reads one exterior camera and the wrist camera (box-downscaled to the checkpoint's size), the
joints and gripper, and the instruction, and answers a 16-row ``cosmos_ee_delta`` chunk
normalized with the checkpoint's own action statistics (``CKPT/stats.json``). A rollout of
``baseline:CKPT`` de-normalizes with those statistics automatically (the backend's
``stats_file``); a client that runs it served over the websocket needs ``--stats CKPT/stats.json``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._optional import require
from ..errors import InvalidInputError
from ..policy_api import ActionChunk, Layout, Policy
from .baseline_model import downscale, load_checkpoint, model_state, pack_tokens, state_vector


class BaselinePolicy(Policy):
    """The baseline checkpoint at ``path`` on the CPU (``threads`` torch threads; None leaves
    torch's setting alone).

    ensemble: temporal ensembling (as ACT does): each answered row is the mean of every
    prediction made so far for that step (the new chunk's row and the still-unexecuted rows of
    earlier chunks, which the rollout's execution horizon aligns), so one noisy prediction moves
    the arm less. Off by default; a checkpoint's config may turn it on.
    """

    layout: Layout = "cosmos_ee_delta"
    needs_images = True
    predicts_video = False

    def __init__(self, path: str | Path, threads: int | None = None, ensemble: bool | None = None) -> None:
        self._torch = require("torch")
        if threads is not None:
            self._torch.set_num_threads(int(threads))
        self.path = Path(path)
        self.model, self.config, self.stats = load_checkpoint(self.path)
        self.chunk_size = self.config.chunk
        self.default_open_loop_steps = self.config.open_loop_steps
        self.camera = self.config.exterior_camera
        if ensemble is not None and not isinstance(ensemble, bool):
            raise InvalidInputError(f"ensemble must be true or false, got {ensemble!r}")
        self.ensemble = self.config.ensemble if ensemble is None else ensemble
        self._tokens: dict[str, np.ndarray] = {}
        self._horizon = self.default_open_loop_steps
        self._pending: list[np.ndarray] = []

    def set_execution_horizon(self, steps: int) -> None:
        """The rollout executes ``steps`` rows of each chunk: how far earlier predictions move on."""
        self._horizon = max(1, int(steps))

    def reset(self) -> None:
        self._pending = []

    def inputs(self, observation: Mapping[str, Any], instruction: str) -> tuple[Any, ...]:
        """The model's input tensors for one observation (batch of one)."""
        torch = self._torch
        cfg = self.config
        images = []
        for key in (cfg.exterior_camera, cfg.wrist_camera):
            if key not in observation:
                raise InvalidInputError(f"the baseline policy reads {key!r}; the observation has {sorted(observation)}")
            small = np.array(downscale(observation[key], cfg.image_size))  # a writable copy for torch
            images.append(torch.from_numpy(small[None]))
        for key in ("joint_position", "gripper_position"):
            if key not in observation:
                raise InvalidInputError(f"the baseline policy reads {key!r}; the observation has {sorted(observation)}")
        state = model_state(state_vector(observation["joint_position"], observation["gripper_position"]), cfg.ee_state)
        if instruction not in self._tokens:
            self._tokens[instruction] = cfg.token_ids(instruction)
        flat, offsets = pack_tokens([self._tokens[instruction]])
        return (images[0], images[1], torch.from_numpy(state), torch.from_numpy(flat),
                torch.from_numpy(offsets))

    def get_actions(self, observation: Mapping[str, Any], instruction: str) -> ActionChunk:
        t0 = time.perf_counter()
        with self._torch.no_grad():
            rows = self.model(*self.inputs(observation, instruction))[0].numpy().astype(np.float32)
        info: dict[str, Any] = {}
        if self.ensemble:
            rows, info["ensembled"] = self._ensemble(rows)
        info["latency_s"] = time.perf_counter() - t0
        # tanh keeps every value inside the decoder's [-1, 1] (a mean of such rows too): nothing is clipped
        return ActionChunk(rows, "cosmos_ee_delta", "droid", None, info)

    def _ensemble(self, rows: np.ndarray) -> tuple[np.ndarray, int]:
        """``rows`` [chunk, 10] averaged per step with the unexecuted rows of earlier predictions,
        and how many predictions the first row averages."""
        self._pending = [p[self._horizon:] for p in self._pending if len(p) > self._horizon] + [rows]
        total = np.zeros_like(rows, dtype=np.float64)
        count = np.zeros(len(rows))
        for p in self._pending:
            total[:len(p)] += p
            count[:len(p)] += 1
        return (total / count[:, None]).astype(np.float32), int(count[0])
