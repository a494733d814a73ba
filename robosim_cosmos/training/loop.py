"""The training loop: seeded and deterministic on CPU, L1 chunk regression, a checkpoint folder
written every ``save_every`` steps and at the end, resumable after a kill, with a wall-clock
budget.

Determinism: the sample order of epoch e is a permutation drawn from ``(seed, e)`` and each step's
augmentation from ``(seed, step)``, so the batch at step s does not depend on when the run was
interrupted; torch runs with deterministic algorithms and a fixed thread count. A resumed run
restores the weights, the AdamW moments and the step, and continues as if never stopped.

Augmentation: every image is shifted by up to ``shift`` pixels (replicate-padded, then cropped
back), which is what lets a small conv net trained on ~100 demos per task generalize to unseen
object positions (DrQ-style random shifts).
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

from .._optional import require
from ..errors import ConfigError
from ..policies.baseline_model import (
    BaselineConfig,
    build_model,
    build_vocabulary,
    load_checkpoint,
    model_state,
    pack_tokens,
    parameter_count,
    save_checkpoint,
)
from .data import TrainingSet

IMAGE_SIZE = (90, 160)
"""The ``train`` command's input size (the recorded size: no downscale) and architecture, the one
README reports: 32 keypoints per camera, the flange pose in the state, 4 rows per chunk executed."""
KEYPOINTS = 32
OPEN_LOOP_STEPS = 4
Balance = Literal["frames", "sqrt_episodes"]
BALANCES: tuple[Balance, ...] = get_args(Balance)
TRAIN_STATE_FILE = "train_state.safetensors"
TRAIN_META_FILE = "train_state.json"
RAW_PREFIX = "weights."


@dataclass(frozen=True)
class TrainOptions:
    """steps: the schedule's length (cosine learning-rate decay to 10 % over it); max_minutes:
    stop earlier when this much wall time has passed (a checkpoint is written then);
    save_every: steps between checkpoints; threads: torch CPU threads; val_fraction: episodes
    held out for a validation loss (every ``save_every`` steps); balance: how batches draw
    samples: ``frames`` (every frame once per epoch: a 100-step CubeInBowl episode counts seven
    times a 15-step Reach), or ``sqrt_episodes`` (with replacement, a frame's chance ∝ 1 / √(its
    episode's length), so short tasks are not drowned out by long ones); ema: when above 0, the
    checkpoint holds an exponential moving average of the weights (each step
    ``avg = ema · avg + (1 − ema) · weights``), a smoother policy than the last step's weights; the
    raw weights are kept with the training state for resuming."""

    steps: int = 4000
    batch_size: int = 64
    lr: float = 3e-4
    weight_decay: float = 1e-4
    warmup: int = 100
    seed: int = 0
    max_minutes: float | None = None
    save_every: int = 250
    threads: int = 2
    shift: int = 4
    val_fraction: float = 0.05
    balance: Balance = "frames"
    ema: float = 0.0

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "save_every", "threads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if not self.lr > 0:
            raise ConfigError(f"lr must be positive, got {self.lr}")
        if self.max_minutes is not None and not self.max_minutes > 0:
            raise ConfigError(f"max_minutes must be positive, got {self.max_minutes}")
        if not 0 <= self.val_fraction < 1:
            raise ConfigError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if self.balance not in BALANCES:
            raise ConfigError(f"balance must be one of {list(BALANCES)}, got {self.balance!r}")
        if not 0 <= self.ema < 1:
            raise ConfigError(f"ema must be in [0, 1) (0: off), got {self.ema}")


@dataclass
class TrainResult:
    """What a run did: steps done (in total, over resumes), wall seconds of this invocation and in
    total, samples per second, losses (step, train L1) every ``save_every`` steps, validation L1
    at each checkpoint, and whether the run stopped for its time budget."""

    checkpoint: str
    step: int
    seconds: float
    total_seconds: float
    samples_per_s: float
    parameters: int
    samples: int
    clipped_fraction: float
    losses: list[tuple[int, float]] = field(default_factory=list)
    val_losses: list[tuple[int, float]] = field(default_factory=list)
    stopped_for_budget: bool = False
    resumed_from: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _lr(options: TrainOptions, step: int) -> float:
    if step < options.warmup:
        return options.lr * (step + 1) / options.warmup
    progress = min(1.0, (step - options.warmup) / max(1, options.steps - options.warmup))
    return options.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def _split(data: TrainingSet, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sample indices of the training and validation episodes (whole episodes held out)."""
    episodes = np.unique(data.episode)
    held = round(fraction * len(episodes))
    if held == 0 or held >= len(episodes):
        return np.arange(len(data)), np.zeros(0, dtype=np.int64)
    val_eps = np.random.default_rng([seed, 7]).choice(episodes, held, replace=False)
    is_val = np.isin(data.episode, val_eps)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def _batch_indices(train_idx: np.ndarray, options: TrainOptions, step: int,
                   weights: np.ndarray | None = None) -> np.ndarray:
    if weights is not None:  # drawn with replacement, from (seed, step) alone
        return np.random.default_rng([options.seed, step, 2]).choice(train_idx, options.batch_size, p=weights)
    per_epoch = max(1, len(train_idx) // options.batch_size)
    epoch, pos = divmod(step, per_epoch)
    order = np.random.default_rng([options.seed, epoch]).permutation(len(train_idx))
    return train_idx[order[pos * options.batch_size:(pos + 1) * options.batch_size]]


def _sample_weights(data: TrainingSet, train_idx: np.ndarray) -> np.ndarray:
    """Probabilities over ``train_idx``: ∝ 1 / √(length of the sample's episode)."""
    _, inverse, counts = np.unique(data.episode[train_idx], return_inverse=True, return_counts=True)
    w = 1.0 / np.sqrt(counts[inverse])
    return w / w.sum()


def _shift(images: np.ndarray, pad: int, rng: np.random.Generator) -> np.ndarray:
    """uint8 [B, H, W, 3], each shifted by up to ``pad`` pixels (edge-replicated)."""
    if pad <= 0:
        return images
    b, h, w, _ = images.shape
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="edge")
    dy, dx = rng.integers(0, 2 * pad + 1, size=(2, b))
    return np.stack([padded[i, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(b)])


class _Batcher:
    """Batches as torch tensors."""

    def __init__(self, data: TrainingSet, config: BaselineConfig, targets: np.ndarray) -> None:
        self.torch = require("torch")
        self.data, self.targets = data, targets
        self.tokens = [config.token_ids(text) for text in data.instructions]
        self.state = model_state(data.state, config.ee_state)

    def __call__(self, idx: np.ndarray, rng: np.random.Generator | None, shift: int) -> tuple[Any, ...]:
        t = self.torch
        d = self.data
        ext, wri = d.exterior[idx], d.wrist[idx]
        if rng is not None:
            ext, wri = _shift(ext, shift, rng), _shift(wri, shift, rng)
        flat, offsets = pack_tokens([self.tokens[i] for i in d.instruction[idx]])
        return (t.from_numpy(np.ascontiguousarray(ext)), t.from_numpy(np.ascontiguousarray(wri)),
                t.from_numpy(self.state[idx]), t.from_numpy(flat), t.from_numpy(offsets),
                t.from_numpy(self.targets[idx]))


def make_config(data: TrainingSet, image_size: tuple[int, int], exterior_camera: str,
                chunk: int, coords: bool = False, keypoints: int = 0, open_loop_steps: int = 8,
                ee_state: bool = False) -> BaselineConfig:
    """The model config for a training set: its vocabulary and state standardization."""
    state = model_state(data.state, ee_state)
    mean = state.mean(axis=0)
    std = np.maximum(state.std(axis=0), 1e-3)  # the gripper may never move in a set of reaches
    return BaselineConfig(image_size=image_size, exterior_camera=exterior_camera, chunk=chunk,
                          vocabulary=build_vocabulary(data.instructions),
                          state_mean=tuple(float(v) for v in mean), state_std=tuple(float(v) for v in std),
                          coords=coords, keypoints=keypoints, open_loop_steps=open_loop_steps,
                          ee_state=ee_state)


def _start(out: Path, data: TrainingSet, options: TrainOptions,
           config: BaselineConfig | None) -> tuple[Any, BaselineConfig, dict[str, Any]]:
    """The model to train, its config and the saved training state ({} when starting afresh):
    the checkpoint in ``out`` when there is one (resuming), else a new seeded model. Sets torch's
    threads and deterministic algorithms."""
    torch = require("torch")
    torch.set_num_threads(options.threads)
    torch.use_deterministic_algorithms(True)
    model, config, meta = _resume_or_build(out, data, options, config)
    chunk = data.raw.shape[1]
    if config.chunk != chunk:
        raise ConfigError(f"the model predicts {config.chunk} rows, the training set has {chunk}-row targets")
    return model, config, meta


def _resume_or_build(out: Path, data: TrainingSet, options: TrainOptions,
                     config: BaselineConfig | None) -> tuple[Any, BaselineConfig, dict[str, Any]]:
    torch = require("torch")
    if (out / TRAIN_META_FILE).is_file():
        model, config, _ = load_checkpoint(out)
        meta: dict[str, Any] = json.loads((out / TRAIN_META_FILE).read_text())
        for key, default in (("seed", None), ("ema", 0.0)):  # a run before ema had none
            saved = meta.get("options", {}).get(key, default)
            if saved != getattr(options, key):
                raise ConfigError(f"{out} was trained with {key} {saved}; resume it with the same {key} or train "
                                  "into a new folder")
        model.train()
        return model, config, meta
    torch.manual_seed(options.seed)
    config = config or make_config(data, (72, 128), "exterior_image_1_left", data.raw.shape[1])
    return build_model(config), config, {}


def _optimize(model: Any, optimizer: Any, batch: tuple[Any, ...], lr: float) -> float:
    """One AdamW step at ``lr`` on ``batch`` (inputs then targets); the batch's L1 loss."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    *inputs, target = batch
    loss = (model(*inputs) - target).abs().mean()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def _write_train_state(out: Path, optimizer: Any, doc: dict[str, Any], raw_model: Any = None) -> None:
    """The AdamW moments (and, when the checkpoint holds averaged weights, the raw ones as
    ``weights.<name>``) and the run's progress ``doc`` beside the checkpoint, each file replaced whole."""
    st = require("safetensors.torch")
    state, opt_meta = _flatten_optimizer(optimizer)
    if raw_model is not None:
        state |= {f"{RAW_PREFIX}{k}": v.detach().contiguous().clone() for k, v in raw_model.state_dict().items()}
    tmp = out / (TRAIN_STATE_FILE + ".tmp")
    st.save_file(state, str(tmp))
    tmp.replace(out / TRAIN_STATE_FILE)
    meta = out / (TRAIN_META_FILE + ".tmp")
    meta.write_text(json.dumps(doc | {"optimizer": opt_meta}))
    meta.replace(out / TRAIN_META_FILE)


def train(data: TrainingSet, out: str | Path, options: TrainOptions, config: BaselineConfig | None = None,
          on_step: Callable[[int, int, float], None] | None = None) -> TrainResult:
    """Train (or resume training) the baseline on ``data`` into the checkpoint folder ``out``.
    ``on_step(step, steps, loss)`` is called after every step (the CLI's progress bar)."""
    out = Path(out)
    targets, clipped = data.targets()
    model, config, meta = _start(out, data, options, config)
    resumed_from = int(meta.get("step", 0))
    model, averaged = _with_average(model, out, options, resumed_from)
    optimizer = require("torch").optim.AdamW(model.parameters(), lr=options.lr, weight_decay=options.weight_decay)
    if resumed_from:
        _load_optimizer(optimizer, out, meta)
    train_idx, val_idx = _split(data, options.val_fraction, options.seed)
    if len(train_idx) < options.batch_size:
        raise ConfigError(f"{len(train_idx)} training samples, fewer than one batch of {options.batch_size}")
    batcher = _Batcher(data, config, targets)
    weights = _sample_weights(data, train_idx) if options.balance == "sqrt_episodes" else None
    losses: list[tuple[int, float]] = [(int(s), float(v)) for s, v in meta.get("losses", [])]
    val_losses: list[tuple[int, float]] = [(int(s), float(v)) for s, v in meta.get("val_losses", [])]
    previous_seconds = float(meta.get("total_seconds", 0.0))
    start = time.perf_counter()
    step, stopped = resumed_from, False
    running: list[float] = []

    def save() -> None:
        policy = model if averaged is None else averaged
        if len(val_idx):
            val_losses.append((step, _evaluate(policy, batcher, val_idx)))
        save_checkpoint(out, policy, config, data.stats_document())
        _write_train_state(out, optimizer, {"step": step, "options": asdict(options), "losses": losses,
                                            "val_losses": val_losses,
                                            "total_seconds": previous_seconds + time.perf_counter() - start},
                           None if averaged is None else model)

    while step < options.steps:
        idx = _batch_indices(train_idx, options, step, weights)
        batch = batcher(idx, np.random.default_rng([options.seed, step, 1]), options.shift)
        value = _optimize(model, optimizer, batch, _lr(options, step))
        if averaged is not None:
            _update_average(averaged, model, options.ema)
        step += 1
        running.append(value)
        if on_step is not None:
            on_step(step, options.steps, value)
        if step % options.save_every == 0 or step == options.steps:
            losses.append((step, float(np.mean(running))))
            running = []
            save()
        if options.max_minutes is not None and time.perf_counter() - start > options.max_minutes * 60:
            stopped = True
            break
    if stopped and step % options.save_every != 0:
        if running:
            losses.append((step, float(np.mean(running))))
        save()
    seconds = time.perf_counter() - start
    done = step - resumed_from
    return TrainResult(str(out), step, seconds, previous_seconds + seconds,
                       done * options.batch_size / seconds if seconds > 0 else 0.0, parameter_count(model), len(data),
                       clipped / targets.size, losses, val_losses, stopped, resumed_from)


def _with_average(model: Any, out: Path, options: TrainOptions, resumed_from: int) -> tuple[Any, Any]:
    """(the model to train, the weight average a run with ``ema`` keeps, else None). Starting
    afresh the average is a copy of ``model``; resuming, ``model`` is the checkpoint's average and
    the raw weights come from the training state."""
    if not options.ema:
        return model, None
    other = copy.deepcopy(model)
    other.train()
    if not resumed_from:
        return model, other
    tensors = require("safetensors.torch").load_file(str(out / TRAIN_STATE_FILE))
    raw = {k[len(RAW_PREFIX):]: v for k, v in tensors.items() if k.startswith(RAW_PREFIX)}
    if not raw:
        raise ConfigError(f"{out} was trained without ema: resume it without --ema or train into a new folder")
    other.load_state_dict(raw)
    return other, model


def _update_average(averaged: Any, model: Any, decay: float) -> None:
    torch = require("torch")
    with torch.no_grad():
        for avg, new in zip(averaged.parameters(), model.parameters(), strict=True):
            avg.mul_(decay).add_(new.detach(), alpha=1 - decay)
        for avg, new in zip(averaged.buffers(), model.buffers(), strict=True):
            avg.copy_(new)


def _evaluate(model: Any, batcher: _Batcher, idx: np.ndarray) -> float:
    torch = batcher.torch
    model.eval()
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(idx), 256):
            ext, wri, state, tokens, offsets, target = batcher(idx[start:start + 256], None, 0)
            total += float((model(ext, wri, state, tokens, offsets) - target).abs().mean()) * len(target)
    model.train()
    return total / len(idx)


def _flatten_optimizer(optimizer: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """AdamW's per-parameter tensors as flat ``"<param index>.<name>"`` safetensors entries, and
    the non-tensor hyper-parameters as JSON."""
    sd = optimizer.state_dict()
    tensors: dict[str, Any] = {}
    for index, slot in sd["state"].items():
        for name, value in slot.items():
            tensors[f"{index}.{name}"] = value.detach().clone().contiguous().reshape(value.shape)
    groups = [{k: v for k, v in g.items() if k != "params"} | {"params": list(g["params"])} for g in sd["param_groups"]]
    return tensors, {"param_groups": groups}


def _load_optimizer(optimizer: Any, out: Path, meta: dict[str, Any]) -> None:
    """AdamW's state as :func:`_write_train_state` left it in ``out``."""
    tensors = require("safetensors.torch").load_file(str(out / TRAIN_STATE_FILE))
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith(RAW_PREFIX):
            continue  # the raw weights of a run with ema
        index, _, name = key.partition(".")
        state.setdefault(int(index), {})[name] = value
    groups = meta["optimizer"]["param_groups"]
    optimizer.load_state_dict({"state": state, "param_groups": groups})
