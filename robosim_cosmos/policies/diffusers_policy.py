"""In-process Cosmos 3 backend: a diffusers ``Cosmos3OmniPipeline`` behind the Policy API.

One object serves the three Cosmos 3 action modes:

* ``policy`` -- ``get_actions(observation, instruction)``: conditioning image + task
  -> normalized ``cosmos_ee_delta`` actions ``[chunk, 10]`` and (optionally) the
  predicted world video ``[chunk + 1, H, W, 3]``.
* ``forward_dynamics`` -- ``forward_dynamics(observation, instruction, actions)``:
  image + actions ``[T <= chunk, 10]`` -> predicted video; the returned chunk has
  no actions (``[0, 10]``).
* ``inverse_dynamics`` -- ``inverse_dynamics(video, instruction)``: a clip of
  ``chunk + 1`` uint8 frames -> the actions ``[chunk, 10]`` that explain it.

``mode`` picks what ``get_actions`` does, so a rollout runner can drive any mode
through the Policy protocol: in ``forward_dynamics`` mode the observation must carry
the actions under ``"actions"``, in ``inverse_dynamics`` mode the clip under
``"video"``. The explicit methods work whatever the mode.

Actions are returned exactly as the model emits them: quantile-normalized, NOT
de-normalized (that is the kinematics layer's job).

torch, diffusers and Pillow are imported lazily (``robosim_cosmos._optional.require``)
so importing this module costs nothing without them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

from .._optional import require
from ..embodiments import Embodiment, get_embodiment
from ..errors import ConfigError, InvalidInputError, InvalidTypeError, PolicyError, ResourceNotFoundError
from ..observations import DEFAULT_CAMERA, EXTERIOR_CAMERAS
from ..policy_api import LAYOUT_WIDTH, ActionChunk, Layout, Policy
from .conditioning import VIEW_POINTS, ViewPoint, conditioning_image, to_pipeline_image

Mode = Literal["policy", "forward_dynamics", "inverse_dynamics"]
MODES: tuple[Mode, ...] = get_args(Mode)
ResolutionTier = Literal[256, 480, 704, 720]
RESOLUTION_TIERS: tuple[ResolutionTier, ...] = get_args(ResolutionTier)
DType = Literal["float32", "bfloat16", "float16"]
DTYPES: tuple[DType, ...] = get_args(DType)

# Observation keys get_actions reads in the non-policy modes.
FORWARD_DYNAMICS_ACTIONS_KEY = "actions"
INVERSE_DYNAMICS_VIDEO_KEY = "video"

# The diffusers pipeline's own defaults. NVIDIA's RoboLab server runs its DROID
# joint-position policy with 4 steps and guidance 3.0: lower these for closed loop.
DEFAULT_NUM_INFERENCE_STEPS = 35
DEFAULT_GUIDANCE_SCALE = 6.0
# Used for the caption and mRoPE fps modulation when an embodiment has no rate.
PIPELINE_DEFAULT_FPS = 24.0

_PIPELINE_CLASS = "Cosmos3OmniPipeline"
_LAYOUT: Layout = "cosmos_ee_delta"


class DiffusersCosmos3Policy(Policy):
    """A Cosmos 3 checkpoint run in-process through diffusers.

    model: a local checkpoint folder (``model_index.json`` + ``transformer/ vae/
        scheduler/ text_tokenizer/``), a Hugging Face repo id already in the local
        cache, or a ready ``Cosmos3OmniPipeline``.
    embodiment: a name from ``robosim_cosmos.embodiments`` whose actions are 10 wide
        (droid, bridge, umi, fractal, ...); it selects the model's ``domain_name``.
    chunk_size: action steps per call; defaults to the embodiment's (16 for droid).
    resolution_tier: 256 / 480 / 704 / 720. The pipeline never upscales, so match it
        to the camera: 256 for DROID's 180 x 320 images.
    view_point: ``ego_view`` (one exterior camera, ``camera``) or ``concat_view``
        (wrist over both exteriors); see ``conditioning.py``.
    seed: None draws noise from torch's global RNG; an int seeds a private generator
        that ``reset()`` rewinds, so a seeded episode replays exactly.
    device, dtype: where and in what precision a checkpoint is loaded (default
        ``cpu`` / ``float32``); a pipeline object is moved only when they are given.
    return_video: False asks for latents only (``output_type="latent"``), skipping
        the VAE decode in policy mode; forward dynamics always decodes.
    """

    layout: Layout = _LAYOUT
    predicts_video = True

    def __init__(
        self,
        model: str | Path | Any,
        mode: Mode = "policy",
        embodiment: str = "droid",
        chunk_size: int | None = None,
        num_inference_steps: int = DEFAULT_NUM_INFERENCE_STEPS,
        guidance_scale: float = DEFAULT_GUIDANCE_SCALE,
        resolution_tier: ResolutionTier = 256,
        view_point: ViewPoint = "ego_view",
        camera: str = DEFAULT_CAMERA,
        seed: int | None = None,
        device: str | None = None,
        dtype: DType | None = None,
        return_video: bool = True,
        negative_prompt: str | None = None,
    ) -> None:
        self._torch = require("torch")
        self._diffusers = require("diffusers")
        require("PIL.Image")

        if mode not in MODES:
            raise InvalidInputError(f"mode must be one of {list(MODES)}, got {mode!r}")
        spec = get_embodiment(embodiment)
        if spec.raw_dim != LAYOUT_WIDTH[_LAYOUT]:
            raise InvalidInputError(
                f"embodiment {spec.name!r} has {spec.raw_dim}-wide actions; this backend returns the "
                f"{LAYOUT_WIDTH[_LAYOUT]}-wide {_LAYOUT!r} layout (droid, bridge, umi, fractal, robomind_ur)"
            )
        check_domain_table(spec, self._diffusers)
        if chunk_size is None:
            chunk_size = spec.default_chunk
            if chunk_size is None:
                raise InvalidInputError(f"embodiment {spec.name!r} has no default chunk size; pass chunk_size")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise InvalidInputError(f"chunk_size must be a positive int, got {chunk_size!r}")
        if isinstance(num_inference_steps, bool) or not isinstance(num_inference_steps, int) or num_inference_steps < 1:
            raise InvalidInputError(f"num_inference_steps must be a positive int, got {num_inference_steps!r}")
        if (
            isinstance(guidance_scale, bool)
            or not isinstance(guidance_scale, (int, float))
            or not np.isfinite(guidance_scale)
            or guidance_scale < 1.0
        ):
            raise InvalidInputError(
                f"guidance_scale must be a finite number >= 1.0 (1.0 = no CFG), got {guidance_scale!r}"
            )
        if resolution_tier not in RESOLUTION_TIERS:
            raise InvalidInputError(f"resolution_tier must be one of {list(RESOLUTION_TIERS)}, got {resolution_tier!r}")
        if view_point not in VIEW_POINTS:
            raise InvalidInputError(f"view_point must be one of {list(VIEW_POINTS)}, got {view_point!r}")
        if view_point == "ego_view" and camera not in EXTERIOR_CAMERAS:
            raise InvalidInputError(f"camera must be one of {list(EXTERIOR_CAMERAS)}, got {camera!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise InvalidInputError(f"seed must be an int or None, got {seed!r}")

        self.mode: Mode = mode
        self.embodiment: str = spec.name
        self.domain_name: str = spec.domain_name
        self.raw_dim: int = spec.raw_dim
        self.fps: float = float(spec.fps) if spec.fps else PIPELINE_DEFAULT_FPS
        self.chunk_size: int = chunk_size
        self.num_inference_steps = num_inference_steps
        self.guidance_scale = float(guidance_scale)
        self.resolution_tier = int(resolution_tier)
        self.view_point: ViewPoint = view_point
        self.camera = camera
        self.seed = seed
        self.set_return_video(return_video)
        self.negative_prompt = negative_prompt

        self.pipeline = self._resolve_pipeline(model, device, dtype)
        config = getattr(getattr(self.pipeline, "transformer", None), "config", None)
        if not getattr(config, "action_gen", False):
            raise InvalidInputError(
                "this Cosmos3 checkpoint has no action head (transformer.config.action_gen is False)"
            )
        self._generator: Any = None
        self.reset()

    # ------------------------------------------------------------------ loading

    def _torch_dtype(self, dtype: str | Any) -> Any:
        if isinstance(dtype, self._torch.dtype):
            return dtype
        if dtype not in DTYPES:
            raise InvalidInputError(f"dtype must be one of {list(DTYPES)} (or a torch.dtype), got {dtype!r}")
        return getattr(self._torch, dtype)

    def _resolve_pipeline(self, model: str | Path | Any, device: str | None, dtype: str | None) -> Any:
        if isinstance(model, (str, Path)):
            torch_dtype = self._torch_dtype(dtype if dtype is not None else "float32")
            pipeline = load_cosmos3_pipeline(model, dtype=torch_dtype)
            pipeline.to(device or "cpu")
            return pipeline
        if not isinstance(model, self._diffusers.Cosmos3OmniPipeline):
            raise InvalidTypeError(
                "model must be a checkpoint path, a cached repo id or a Cosmos3OmniPipeline, "
                f"got {type(model).__name__}"
            )
        if dtype is not None:
            model.to(dtype=self._torch_dtype(dtype))
        if device is not None:
            model.to(device)
        return model

    # ------------------------------------------------------------------ Policy API

    def reset(self) -> None:
        """Rewind the noise generator to ``seed`` (no-op without a seed)."""
        if self.seed is None:
            self._generator = None
            return
        # Draw noise where the model runs so a seed means the same thing on any device.
        device = self.pipeline.transformer.device
        self._generator = self._torch.Generator(device=device).manual_seed(self.seed)

    def get_actions(self, observation: Mapping[str, Any], instruction: str) -> ActionChunk:
        """Run the configured ``mode`` on one observation (see the module docstring)."""
        if self.mode == "forward_dynamics":
            if not isinstance(observation, Mapping) or FORWARD_DYNAMICS_ACTIONS_KEY not in observation:
                raise InvalidInputError(
                    "mode 'forward_dynamics' reads the actions to roll out from "
                    f"observation[{FORWARD_DYNAMICS_ACTIONS_KEY!r}]"
                )
            return self.forward_dynamics(observation, instruction, observation[FORWARD_DYNAMICS_ACTIONS_KEY])
        if self.mode == "inverse_dynamics":
            if not isinstance(observation, Mapping) or INVERSE_DYNAMICS_VIDEO_KEY not in observation:
                raise InvalidInputError(
                    f"mode 'inverse_dynamics' reads the clip from observation[{INVERSE_DYNAMICS_VIDEO_KEY!r}]"
                )
            return self.inverse_dynamics(observation[INVERSE_DYNAMICS_VIDEO_KEY], instruction)
        image = conditioning_image(observation, self.view_point, self.camera)
        return self._run("policy", instruction, image=to_pipeline_image(image), decode=self.return_video)

    def forward_dynamics(self, observation: Mapping[str, Any], instruction: str, actions: Any) -> ActionChunk:
        """Predict the video that ``actions`` (normalized, ``[T, 10]``, 1 <= T <= chunk) produce.

        Shorter action sequences are padded by repeating the last row (the pipeline's
        rule). Returns a chunk with no actions and ``predicted_video`` of chunk + 1
        frames.
        """
        raw = np.asarray(actions, dtype=np.float32)
        if raw.ndim != 2 or raw.shape[1] != self.raw_dim or not 1 <= raw.shape[0] <= self.chunk_size:
            raise InvalidInputError(
                f"actions must have shape [T, {self.raw_dim}] with 1 <= T <= chunk_size ({self.chunk_size}), "
                f"got {raw.shape}"
            )
        if not np.all(np.isfinite(raw)):
            raise InvalidInputError("actions contain NaN or inf")
        image = conditioning_image(observation, self.view_point, self.camera)
        return self._run(
            "forward_dynamics",
            instruction,
            image=to_pipeline_image(image),
            raw_actions=self._torch.from_numpy(raw.copy()),
            decode=True,
        )

    def inverse_dynamics(self, video: Any, instruction: str) -> ActionChunk:
        """Infer the actions ``[chunk, 10]`` connecting the frames of ``video``.

        video: uint8 ``[chunk + 1, H, W, 3]``, laid out like the policy's conditioning
        image (``view_point``). No video is returned.
        """
        clip = np.asarray(video)
        expected = self.chunk_size + 1
        if clip.dtype != np.uint8 or clip.ndim != 4 or clip.shape[-1] != 3 or clip.shape[0] != expected:
            raise InvalidInputError(
                f"video must be uint8 [chunk_size + 1 = {expected}, H, W, 3], got {clip.dtype} {clip.shape}"
            )
        frames = [to_pipeline_image(frame) for frame in clip]
        return self._run("inverse_dynamics", instruction, video=frames, decode=False)

    # ------------------------------------------------------------------ internals

    def _run(
        self,
        mode: Mode,
        instruction: str,
        *,
        image: Any = None,
        video: Any = None,
        raw_actions: Any = None,
        decode: bool,
    ) -> ActionChunk:
        if not isinstance(instruction, str) or not instruction.strip():
            raise InvalidInputError("instruction must be a non-empty string")
        condition = self._diffusers.CosmosActionCondition(
            mode=mode,
            chunk_size=self.chunk_size,
            domain_name=self.domain_name,
            resolution_tier=self.resolution_tier,
            raw_actions=raw_actions,
            image=image,
            video=video,
            view_point=self.view_point,
        )
        start = time.perf_counter()
        output = self.pipeline(
            prompt=instruction,
            negative_prompt=self.negative_prompt,
            action=condition,
            fps=self.fps,
            num_inference_steps=self.num_inference_steps,
            guidance_scale=self.guidance_scale,
            generator=self._generator,
            # "latent" skips the VAE decode; "np" gives float frames in [0, 1].
            output_type="np" if decode else "latent",
            # The guardrail is a separate package; checkpoints load without it.
            enable_safety_check=False,
        )
        latency = time.perf_counter() - start

        if mode == "forward_dynamics":
            actions = np.zeros((0, self.raw_dim), dtype=np.float32)
        else:
            actions = self._actions_from(output)
        predicted_video = self._video_from(output) if decode else None
        info: dict[str, Any] = {
            "latency_s": latency,
            "mode": mode,
            "domain_name": self.domain_name,
            "steps": self.num_inference_steps,
            "guidance_scale": self.guidance_scale,
            "chunk_size": self.chunk_size,
            "resolution_tier": self.resolution_tier,
            "view_point": self.view_point,
            "fps": self.fps,
            "seed": self.seed,
            "video_decoded": predicted_video is not None,
            "normalized": True,
        }
        return ActionChunk(
            actions=actions,
            layout=self.layout,
            embodiment=self.embodiment,
            predicted_video=predicted_video,
            info=info,
        )

    def _actions_from(self, output: Any) -> np.ndarray:
        action = getattr(output, "action", None)
        if not action:
            raise PolicyError("the pipeline returned no actions (is this an action checkpoint?)")
        array = action[0].detach().float().cpu().numpy()
        if array.ndim != 2 or array.shape[0] != self.chunk_size or array.shape[1] < self.raw_dim:
            raise PolicyError(
                f"expected actions [{self.chunk_size}, >= {self.raw_dim}] from the pipeline, got {array.shape}"
            )
        # The model's action head is padded (action_dim, e.g. 32 or 64); keep the
        # embodiment's own columns should a pipeline version not slice them.
        return np.ascontiguousarray(array[:, : self.raw_dim], dtype=np.float32)

    def _video_from(self, output: Any) -> np.ndarray:
        frames = np.asarray(output.video, dtype=np.float32)
        expected = self.chunk_size + 1
        if frames.ndim != 4 or frames.shape[0] != expected or frames.shape[-1] != 3:
            raise PolicyError(f"expected a video [{expected}, H, W, 3] from the pipeline, got {frames.shape}")
        return (np.clip(frames, 0.0, 1.0) * 255.0).round().astype(np.uint8)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(mode={self.mode!r}, embodiment={self.embodiment!r}, "
            f"chunk_size={self.chunk_size}, steps={self.num_inference_steps}, "
            f"guidance_scale={self.guidance_scale}, resolution_tier={self.resolution_tier}, "
            f"view_point={self.view_point!r}, seed={self.seed})"
        )


def check_domain_table(embodiment: Embodiment, diffusers: Any) -> None:
    """Refuse an embodiment whose domain id or action width the installed diffusers disagrees
    with: the model would be conditioned on another robot's domain."""
    module = getattr(getattr(getattr(diffusers, "pipelines", None), "cosmos", None), "pipeline_cosmos3_omni", None)
    ids = getattr(module, "_EMBODIMENT_TO_DOMAIN_ID", None)
    widths = getattr(module, "_EMBODIMENT_TO_RAW_ACTION_DIM", None)
    name = embodiment.domain_name
    if isinstance(ids, dict) and name in ids and ids[name] != embodiment.domain_id:
        raise ConfigError(
            f"diffusers maps domain {name!r} to id {ids[name]}, robosim_cosmos.embodiments says "
            f"{embodiment.domain_id}; update one of them"
        )
    if isinstance(widths, dict) and name in widths and widths[name] != embodiment.raw_dim:
        raise ConfigError(
            f"diffusers gives domain {name!r} {widths[name]}-wide actions, robosim_cosmos.embodiments says "
            f"{embodiment.raw_dim}; update one of them"
        )


# ---------------------------------------------------------------------- checkpoint loading


def resolve_checkpoint(model: str | Path) -> Path:
    """Return the local folder of a Cosmos3 diffusers checkpoint, or raise.

    A string that is not an existing path is tried as a Hugging Face repo id in the
    local cache only: nothing is downloaded here.
    """
    path = Path(model).expanduser()
    if not path.exists():
        cached = _cached_repo(str(model))
        if cached is None:
            raise ResourceNotFoundError(
                f"no Cosmos3 checkpoint at {str(model)!r} (not a local folder, nor a repo id in the "
                "Hugging Face cache); download it first, e.g. `hf download <repo> --local-dir <dir>`"
            )
        path = cached
    if not path.is_dir():
        raise InvalidInputError(f"{str(path)!r} is a file; pass the checkpoint folder holding model_index.json")
    index_file = path / "model_index.json"
    if not index_file.is_file():
        raise InvalidInputError(
            f"{str(path)!r} is not a diffusers Cosmos3 checkpoint: no model_index.json "
            "(expected model_index.json plus transformer/ vae/ scheduler/ text_tokenizer/)"
        )
    try:
        index = json.loads(index_file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInputError(f"cannot read {str(index_file)!r}: {exc}") from exc
    class_name = index.get("_class_name") if isinstance(index, dict) else None
    if class_name != _PIPELINE_CLASS:
        raise InvalidInputError(f"{str(path)!r} holds a {class_name!r} checkpoint, expected {_PIPELINE_CLASS!r}")
    return path


def _cached_repo(repo_id: str) -> Path | None:
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(parts) or repo_id.startswith((".", "~")):
        return None
    try:
        hub = require("huggingface_hub")
        return Path(hub.snapshot_download(repo_id, local_files_only=True))
    except Exception:  # noqa: BLE001 - not cached, offline, malformed id: all mean "not available locally"
        return None


def load_cosmos3_pipeline(model: str | Path, dtype: Any = None) -> Any:
    """Load a Cosmos3OmniPipeline from a local checkpoint with the safety checker off.

    Why not just ``from_pretrained``: without the ``accelerate`` package, diffusers
    0.42 refuses to load ``Cosmos3OmniTransformer`` (it keeps ``time_embedder`` in
    float32, which it only supports with accelerate's low-memory loader). In that
    case the transformer is built and filled here and handed to ``from_pretrained``.
    """
    torch = require("torch")
    diffusers = require("diffusers")
    path = resolve_checkpoint(model)
    dtype = dtype if dtype is not None else torch.float32
    kwargs: dict[str, Any] = {
        "dtype": dtype,  # diffusers >= 0.42 spelling; torch_dtype is the deprecated one
        "safety_checker": None,
        # Without this the pipeline instantiates the guardrail, an ImportError
        # unless the separate cosmos_guardrail package is installed.
        "enable_safety_checker": False,
    }
    if not _has_accelerate():
        kwargs["transformer"] = _load_transformer_without_accelerate(path / "transformer", dtype)
        # Say so explicitly: the remaining components load fine without accelerate,
        # and diffusers would otherwise warn about the fallback on every load.
        kwargs["low_cpu_mem_usage"] = False
    pipeline = diffusers.Cosmos3OmniPipeline.from_pretrained(str(path), **kwargs)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


def _has_accelerate() -> bool:
    try:
        require("accelerate")
    except ImportError:
        return False
    return True


def _load_transformer_without_accelerate(folder: Path, dtype: Any) -> Any:
    torch = require("torch")
    diffusers = require("diffusers")
    safetensors_torch = require("safetensors.torch")
    cls = diffusers.Cosmos3OmniTransformer
    if not (folder / "config.json").is_file():
        raise InvalidInputError(f"checkpoint has no transformer config at {str(folder / 'config.json')!r}")
    config = cls.load_config(str(folder))

    index_file = folder / "diffusion_pytorch_model.safetensors.index.json"
    single_file = folder / "diffusion_pytorch_model.safetensors"
    if index_file.is_file():
        weight_map = json.loads(index_file.read_text()).get("weight_map", {})
        shards = sorted({folder / name for name in weight_map.values()})
    elif single_file.is_file():
        shards = [single_file]
    else:
        raise InvalidInputError(f"no safetensors weights in {str(folder)!r}")

    skip_init: AbstractContextManager[object]
    try:  # skip random init: every weight is overwritten below
        from diffusers.models.modeling_utils import no_init_weights
    except ImportError:  # pragma: no cover - older/newer diffusers layout
        skip_init = nullcontext()
    else:
        skip_init = no_init_weights()
    with skip_init:
        model = cls.from_config(config)

    expected = set(model.state_dict())
    seen: set[str] = set()
    for shard in shards:
        state = safetensors_torch.load_file(str(shard), device="cpu")
        unexpected = set(state) - expected
        if unexpected:
            raise InvalidInputError(f"{shard.name} has weights the transformer does not: {sorted(unexpected)[:5]}")
        model.load_state_dict(state, strict=False)
        seen.update(state)
    missing = expected - seen
    if missing:
        raise InvalidInputError(f"transformer weights missing from {str(folder)!r}: {sorted(missing)[:5]}")

    # Cast tensor by tensor (model.to(dtype) would also cast, and warn about, the
    # modules diffusers keeps in float32): any floating tensor under a listed module
    # stays float32, like diffusers' own loader does.
    keep_fp32 = getattr(cls, "_keep_in_fp32_modules", None) or []
    for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
        if tensor.is_floating_point():
            keep = any(module in name.split(".") for module in keep_fp32)
            tensor.data = tensor.data.to(torch.float32 if keep else dtype)
    return model.eval()
