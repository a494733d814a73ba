"""The baseline visuomotor model: what it reads, how it is built, how a checkpoint is laid out.

Inputs (one frame, no history): one exterior camera and the wrist camera, each box-downscaled to
``image_size`` (uint8 [H, W, 3] -> float [3, H, W] in [0, 1]); the 7 joint angles and the
gripper position standardized with the training set's mean / std; the instruction as a bag of
words over the training set's vocabulary (unknown words map to one shared token). Output: a
``chunk`` × 10 chunk of ``cosmos_ee_delta`` rows in [−1, 1] (tanh), normalized with the
training dataset's own q01 / q99, so it decodes exactly as a Cosmos 3 chunk does.

A checkpoint is a folder: ``model.safetensors`` (weights), ``config.json`` (:class:`BaselineConfig`
plus the vocabulary and state normalization), ``stats.json`` (the action statistics, the form
``--stats PATH`` and ``load_stats`` read) and, while training, ``train_state.safetensors`` +
``train_state.json`` (optimizer moments, step, RNG) to resume from.

torch is imported lazily (the ``cosmos`` extra): importing this module costs nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._optional import require
from ..errors import ConfigError
from ..image_resize import resize_image
from ..kinematics.frames import dh_forward_kinematics
from ..kinematics.normalization import ActionStats, load_stats

ACTION_WIDTH = 10
"""cosmos_ee_delta row: ``[tx, ty, tz, r0..r5, grasp]``."""
STATE_WIDTH = 8
"""7 joint angles (rad) + gripper position (0 open .. 1 closed)."""
EE_WIDTH = 9
"""With ``ee_state``: the flange position (m) and the first two columns of its rotation, forward
kinematics of the joints (the actions are deltas in that frame)."""
UNKNOWN_WORD = "<unk>"
MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
STATS_FILE = "stats.json"


def words(instruction: str) -> list[str]:
    """Lower-case word tokens of an instruction (digits kept: '5 cm')."""
    return re.findall(r"[a-z0-9]+", instruction.lower())


def build_vocabulary(instructions: Iterable[str]) -> tuple[str, ...]:
    """Sorted vocabulary of ``instructions``' words, :data:`UNKNOWN_WORD` first (index 0)."""
    seen = sorted({w for text in instructions for w in words(text)})
    return (UNKNOWN_WORD, *seen)


@dataclass(frozen=True)
class BaselineConfig:
    """The architecture and its input conventions (saved in ``config.json``).

    image_size: (height, width) each camera is downscaled to. exterior_camera: which exterior
    view the model reads (plus the wrist). chunk: rows predicted per call. vocabulary: the
    instruction words (index 0 = unknown). state_mean / state_std: [8] standardization of
    joints + gripper. widths: conv channels of the stride-4 patch stem, then of each stride-2
    stage; embed: per-input feature size;
    hidden: the head's width. coords: two extra input channels holding each pixel's x and y in
    [−1, 1] (CoordConv), so where a thing is in the image is an input value, not only a weight.
    keypoints: spatial-softmax keypoints per camera (0: none), read off the patch stem's map (a
    3 x 3 conv of ``keypoint_width`` channels, then a 1 x 1 to ``keypoints`` maps); each map gives
    its softmax-expected image x, y and its peak logit, so where a few-pixel object is reaches the
    head finer than the stem's 4-pixel cells.
    open_loop_steps: rows of each chunk a rollout executes before asking again (the policy's
    default; ``--open-loop-steps`` overrides it). ee_state: append the flange pose (forward
    kinematics of the joints, :data:`EE_WIDTH` values) to the state, so the model need not learn
    the arm's kinematics to know where its gripper is and which way it points. ensemble: the
    policy's default for temporal ensembling (:class:`~robosim_cosmos.policies.baseline.BaselinePolicy`).
    """

    image_size: tuple[int, int] = (72, 128)
    exterior_camera: str = "exterior_image_1_left"
    wrist_camera: str = "wrist_image_left"
    chunk: int = 16
    vocabulary: tuple[str, ...] = (UNKNOWN_WORD,)
    state_mean: tuple[float, ...] = (0.0,) * STATE_WIDTH
    state_std: tuple[float, ...] = (1.0,) * STATE_WIDTH
    """[state_width] standardization of the state the model reads (:func:`model_state`)."""
    widths: tuple[int, ...] = (32, 64, 64)
    embed: int = 128
    hidden: int = 512
    coords: bool = False
    keypoints: int = 0
    keypoint_width: int = 16
    open_loop_steps: int = 8
    ee_state: bool = False
    ensemble: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        h, w = self.image_size
        if h < 16 or w < 16:
            raise ConfigError(f"image_size must be at least 16 x 16, got {self.image_size}")
        if self.chunk < 1:
            raise ConfigError(f"chunk must be >= 1, got {self.chunk}")
        if self.keypoints < 0:
            raise ConfigError(f"keypoints must be >= 0, got {self.keypoints}")
        if not 1 <= self.open_loop_steps <= self.chunk:
            raise ConfigError(f"open_loop_steps must be in 1..{self.chunk}, got {self.open_loop_steps}")
        if len(self.state_mean) != self.state_width or len(self.state_std) != self.state_width:
            raise ConfigError(f"state_mean / state_std must have {self.state_width} values")
        if not self.vocabulary or self.vocabulary[0] != UNKNOWN_WORD:
            raise ConfigError(f"the vocabulary must start with {UNKNOWN_WORD!r}")

    @property
    def state_width(self) -> int:
        return STATE_WIDTH + (EE_WIDTH if self.ee_state else 0)

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        for key in ("image_size", "vocabulary", "state_mean", "state_std", "widths"):
            doc[key] = list(doc[key])
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> BaselineConfig:
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(doc) - known)
        if unknown:
            raise ConfigError(f"baseline config has unknown keys {unknown}")
        kwargs: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in doc.items()}
        return cls(**kwargs)

    def token_ids(self, instruction: str) -> np.ndarray:
        """int64 [n] word indices of ``instruction`` (at least one: the unknown word if empty)."""
        index = {w: i for i, w in enumerate(self.vocabulary)}
        ids = [index.get(w, 0) for w in words(instruction)] or [0]
        return np.asarray(ids, dtype=np.int64)


def downscale(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 [H, W, 3] -> uint8 [size[0], size[1], 3], area-averaged (the same in training and at
    inference, so the model sees one image statistics)."""
    return resize_image(np.asarray(image), size[0], size[1], "box")


def state_vector(joint_position: np.ndarray, gripper_position: float | np.ndarray) -> np.ndarray:
    """float32 [8]: joints then gripper (DROID convention)."""
    grip = np.asarray(gripper_position, dtype=np.float32).reshape(-1)[:1]
    return np.concatenate([np.asarray(joint_position, np.float32).reshape(7), grip]).astype(np.float32)


def model_state(state: np.ndarray, ee_state: bool) -> np.ndarray:
    """float32 [N, 8 (+ 9 with ``ee_state``)] the model reads, from [N, 8] :func:`state_vector` rows:
    those, then with ``ee_state`` the flange position and rotation columns (forward kinematics)."""
    state = np.asarray(state, dtype=np.float32).reshape(-1, STATE_WIDTH)
    if not ee_state:
        return state
    poses = np.stack([dh_forward_kinematics(q) for q in state[:, :7].astype(np.float64)])
    ee = np.concatenate([poses[:, :3, 3], poses[:, :3, 0], poses[:, :3, 1]], axis=1)
    return np.concatenate([state, ee.astype(np.float32)], axis=1)


def image_encoder(config: BaselineConfig) -> Any:
    """One camera's encoder: uint8-scaled float [B, C, H, W] -> [B, embed] (flattened features), or
    [B, 2 * embed] with ``keypoints`` (flattened features and spatial-softmax keypoints)."""
    torch = require("torch")
    nn = torch.nn

    class SpatialSoftmax(nn.Module):  # type: ignore[name-defined]
        """[B, K, H, W] logits -> [B, 3K]: per map the softmax-expected x and y in [−1, 1] and
        the peak logit (is the thing in view at all)."""

        def __init__(self, k: int) -> None:
            super().__init__()
            self.log_temperature = nn.Parameter(torch.zeros(k))

        def forward(self, maps: Any) -> Any:
            b, k, h, w = maps.shape
            logits = (maps * torch.exp(-self.log_temperature).view(1, k, 1, 1)).flatten(2)
            weights = torch.softmax(logits, dim=-1).view(b, k, h, w)
            xs = torch.linspace(-1.0, 1.0, w, device=maps.device)
            ys = torch.linspace(-1.0, 1.0, h, device=maps.device)
            x = (weights.sum(dim=2) * xs).sum(dim=-1)
            y = (weights.sum(dim=3) * ys).sum(dim=-1)
            return torch.cat([x, y, logits.amax(dim=-1)], dim=1)

    class Encoder(nn.Module):  # type: ignore[name-defined]
        """The stem's map feeds both the flattened global features and ``keypoints`` spatial-softmax
        keypoints (a 3 x 3 conv of ``keypoint_width`` and a 1 x 1 to the keypoint maps): [B, 2 * embed]."""

        def __init__(self, stem: Any, flat: Any) -> None:
            super().__init__()
            self.stem, self.flat = stem, flat
            width, k = config.keypoint_width, config.keypoints
            self.points = nn.Sequential(nn.Conv2d(config.widths[0], width, 3, padding=1), nn.ReLU(),
                                        nn.Conv2d(width, k, 1), SpatialSoftmax(k),
                                        nn.Linear(3 * k, config.embed), nn.ReLU())

        def forward(self, x: Any) -> Any:
            base = self.stem(x)
            return torch.cat([self.flat(base), self.points(base)], dim=1)

    # a 4 x 4 stride-4 patch stem, then stride-2 3 x 3 stages: ~3x cheaper on CPU than
    # stride-2 convs from full resolution, and the flatten below keeps where things are
    stem: list[Any] = [nn.Conv2d(5 if config.coords else 3, config.widths[0], 4, stride=4),
                       nn.GroupNorm(8, config.widths[0]), nn.ReLU()]
    layers: list[Any] = []
    channels = config.widths[0]
    for width in config.widths[1:]:
        layers += [nn.Conv2d(channels, width, 3, stride=2, padding=1), nn.GroupNorm(8, width), nn.ReLU()]
        channels = width
    # flattening the last map (5 x 8 at 72 x 128) keeps where things are, which a pooled
    # feature would lose: the targets are positions relative to the gripper
    head = [nn.Flatten(1), nn.LazyLinear(config.embed), nn.ReLU()]
    if not config.keypoints:
        return nn.Sequential(*stem, *layers, *head)
    return Encoder(nn.Sequential(*stem), nn.Sequential(*layers, *head))


def build_model(config: BaselineConfig) -> Any:
    """The torch module: two conv encoders (exterior, wrist), a state MLP, a word-embedding bag,
    and an MLP head to ``chunk`` × 10 rows in [−1, 1]."""
    torch = require("torch")
    nn = torch.nn

    class BaselineNet(nn.Module):  # type: ignore[name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.exterior = image_encoder(config)
            self.wrist = image_encoder(config)
            self.state = nn.Sequential(nn.Linear(config.state_width, config.embed), nn.ReLU())
            self.words = nn.EmbeddingBag(len(config.vocabulary), config.embed, mode="mean")
            per_camera = 2 if config.keypoints else 1
            self.head = nn.Sequential(nn.Linear((2 * per_camera + 2) * config.embed, config.hidden), nn.ReLU(),
                                      nn.Linear(config.hidden, config.hidden), nn.ReLU(),
                                      nn.Linear(config.hidden, config.chunk * ACTION_WIDTH))
            self.register_buffer("state_mean", torch.tensor(config.state_mean, dtype=torch.float32))
            self.register_buffer("state_std", torch.tensor(config.state_std, dtype=torch.float32))
            # materialize the lazy layers now, so the parameter count and the optimizer see them
            h, w = config.image_size
            with torch.no_grad():
                c = 5 if config.coords else 3
                self.exterior(torch.zeros(1, c, h, w))
                self.wrist(torch.zeros(1, c, h, w))

        def forward(self, exterior: Any, wrist: Any, state: Any, tokens: Any, offsets: Any) -> Any:
            """exterior, wrist: uint8 [B, H, W, 3]; state: float [B, 8]; tokens / offsets: the
            EmbeddingBag's flat word ids and per-sample starts. -> float [B, chunk, 10]."""
            def image(x: Any) -> Any:
                x = x.permute(0, 3, 1, 2).float() / 255.0
                if not config.coords:
                    return x
                b, _, h, w = x.shape
                ys = torch.linspace(-1.0, 1.0, h).view(1, 1, h, 1).expand(b, 1, h, w)
                xs = torch.linspace(-1.0, 1.0, w).view(1, 1, 1, w).expand(b, 1, h, w)
                return torch.cat([x, xs, ys], dim=1)

            s = (state - self.state_mean) / self.state_std
            feats = torch.cat([self.exterior(image(exterior)), self.wrist(image(wrist)), self.state(s),
                               self.words(tokens, offsets)], dim=1)
            return torch.tanh(self.head(feats)).view(-1, config.chunk, ACTION_WIDTH)

    return BaselineNet()


def pack_tokens(token_lists: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The EmbeddingBag inputs of a batch: flat ids int64 [sum n] and starts int64 [B]."""
    lengths = np.asarray([len(t) for t in token_lists], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return np.concatenate(list(token_lists)).astype(np.int64), offsets


def parameter_count(model: Any) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def save_checkpoint(folder: str | Path, model: Any, config: BaselineConfig, stats_doc: dict[str, Any]) -> Path:
    """Write weights, config and action statistics into ``folder`` (each file replaced whole, so
    a kill mid-write leaves the previous checkpoint readable)."""
    st = require("safetensors.torch")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    _atomic(out / MODEL_FILE, lambda p: st.save_file(tensors, str(p)))
    _atomic(out / CONFIG_FILE, lambda p: p.write_text(json.dumps(config.to_json(), indent=1)))
    _atomic(out / STATS_FILE, lambda p: p.write_text(json.dumps(stats_doc, indent=1)))
    return out


def _atomic(path: Path, write: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    tmp.replace(path)


def load_checkpoint(folder: str | Path) -> tuple[Any, BaselineConfig, ActionStats]:
    """(model in eval mode, config, action stats) of a checkpoint folder; ConfigError naming what
    is missing."""
    root = Path(folder)
    missing = [name for name in (MODEL_FILE, CONFIG_FILE, STATS_FILE) if not (root / name).is_file()]
    if missing:
        raise ConfigError(f"{root} is not a baseline checkpoint (missing {', '.join(missing)}); "
                          "train one with `robosim-cosmos train --dataset DIR --out CKPT`")
    try:
        config = BaselineConfig.from_json(json.loads((root / CONFIG_FILE).read_text()))
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{root / CONFIG_FILE}: {exc}") from None
    stats = load_stats(str(root / STATS_FILE))
    st = require("safetensors.torch")
    model = build_model(config)
    model.load_state_dict(st.load_file(str(root / MODEL_FILE)))
    model.eval()
    return model, config, stats
