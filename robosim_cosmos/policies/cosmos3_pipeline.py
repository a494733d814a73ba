"""Loading a Cosmos 3 ``Cosmos3OmniPipeline`` and checking it against this project's tables.

A checkpoint is a local folder (``model_index.json`` + ``transformer/ vae/ scheduler/
text_tokenizer/``) or a Hugging Face repo id already in the local cache: nothing is
downloaded. torch, diffusers and safetensors are imported lazily, on first use.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from .._optional import require
from ..embodiments import Embodiment
from ..errors import ConfigError, InvalidInputError, InvalidTypeError, ResourceNotFoundError
from .cosmos3_options import DTYPES

_PIPELINE_CLASS = "Cosmos3OmniPipeline"


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


def check_action_head(pipeline: Any) -> None:
    """Refuse a checkpoint without an action head (a video-only Cosmos 3)."""
    config = getattr(getattr(pipeline, "transformer", None), "config", None)
    if not getattr(config, "action_gen", False):
        raise InvalidInputError("this Cosmos3 checkpoint has no action head (transformer.config.action_gen is False)")


def torch_dtype(dtype: str | Any) -> Any:
    """The torch dtype named by one of :data:`DTYPES` (a torch.dtype passes through)."""
    torch = require("torch")
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype not in DTYPES:
        raise InvalidInputError(f"dtype must be one of {list(DTYPES)} (or a torch.dtype), got {dtype!r}")
    return getattr(torch, dtype)


def resolve_pipeline(model: str | Path | Any, device: str | None, dtype: str | None) -> Any:
    """A ready pipeline: a checkpoint loaded (default ``cpu`` / ``float32``), or a pipeline
    object moved only when ``device`` or ``dtype`` is given."""
    if isinstance(model, (str, Path)):
        pipeline = load_cosmos3_pipeline(model, dtype=torch_dtype(dtype if dtype is not None else "float32"))
        pipeline.to(device or "cpu")
        return pipeline
    if not isinstance(model, require("diffusers").Cosmos3OmniPipeline):
        raise InvalidTypeError(
            "model must be a checkpoint path, a cached repo id or a Cosmos3OmniPipeline, "
            f"got {type(model).__name__}"
        )
    if dtype is not None:
        model.to(dtype=torch_dtype(dtype))
    if device is not None:
        model.to(device)
    return model


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


def _weight_shards(folder: Path) -> list[Path]:
    """The transformer's safetensors files: the shards an index names, or the single file."""
    index_file = folder / "diffusion_pytorch_model.safetensors.index.json"
    single_file = folder / "diffusion_pytorch_model.safetensors"
    if index_file.is_file():
        weight_map = json.loads(index_file.read_text()).get("weight_map", {})
        return sorted({folder / name for name in weight_map.values()})
    if single_file.is_file():
        return [single_file]
    raise InvalidInputError(f"no safetensors weights in {str(folder)!r}")


def _load_weights(model: Any, shards: list[Path], folder: Path, safetensors_torch: Any) -> None:
    """Fill every weight of ``model`` from ``shards``; refuse unknown or missing ones."""
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


def _load_transformer_without_accelerate(folder: Path, dtype: Any) -> Any:
    torch = require("torch")
    diffusers = require("diffusers")
    safetensors_torch = require("safetensors.torch")
    cls = diffusers.Cosmos3OmniTransformer
    if not (folder / "config.json").is_file():
        raise InvalidInputError(f"checkpoint has no transformer config at {str(folder / 'config.json')!r}")
    config = cls.load_config(str(folder))
    shards = _weight_shards(folder)

    skip_init: AbstractContextManager[object]
    try:  # skip random init: every weight is overwritten below
        from diffusers.models.modeling_utils import no_init_weights
    except ImportError:  # pragma: no cover - older/newer diffusers layout
        skip_init = nullcontext()
    else:
        skip_init = no_init_weights()
    with skip_init:
        model = cls.from_config(config)
    _load_weights(model, shards, folder, safetensors_torch)

    # Cast tensor by tensor (model.to(dtype) would also cast, and warn about, the
    # modules diffusers keeps in float32): any floating tensor under a listed module
    # stays float32, like diffusers' own loader does.
    keep_fp32 = getattr(cls, "_keep_in_fp32_modules", None) or []
    for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
        if tensor.is_floating_point():
            keep = any(module in name.split(".") for module in keep_fp32)
            tensor.data = tensor.data.to(torch.float32 if keep else dtype)
    return model.eval()
