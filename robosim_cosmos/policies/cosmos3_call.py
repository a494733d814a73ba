"""The inputs and outputs of one ``Cosmos3OmniPipeline`` call.

Inputs: the actions forward dynamics rolls out, the clip inverse dynamics explains, and the
``CosmosActionCondition`` that carries them with the image. Outputs: the action chunk and the
predicted video, checked against the chunk size and converted to numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidInputError, PolicyError
from .cosmos3_options import Mode


def check_instruction(instruction: object) -> str:
    """A non-empty task string."""
    if not isinstance(instruction, str) or not instruction.strip():
        raise InvalidInputError("instruction must be a non-empty string")
    return instruction


def forward_actions(actions: Any, raw_dim: int, chunk_size: int) -> np.ndarray:
    """Normalized actions ``[T, raw_dim]``, ``1 <= T <= chunk_size``, as finite float32."""
    raw = np.asarray(actions, dtype=np.float32)
    if raw.ndim != 2 or raw.shape[1] != raw_dim or not 1 <= raw.shape[0] <= chunk_size:
        raise InvalidInputError(
            f"actions must have shape [T, {raw_dim}] with 1 <= T <= chunk_size ({chunk_size}), "
            f"got {raw.shape}"
        )
    if not np.all(np.isfinite(raw)):
        raise InvalidInputError("actions contain NaN or inf")
    return raw


def inverse_clip(video: Any, chunk_size: int) -> np.ndarray:
    """A uint8 clip ``[chunk_size + 1, H, W, 3]``."""
    clip = np.asarray(video)
    expected = chunk_size + 1
    if clip.dtype != np.uint8 or clip.ndim != 4 or clip.shape[-1] != 3 or clip.shape[0] != expected:
        raise InvalidInputError(
            f"video must be uint8 [chunk_size + 1 = {expected}, H, W, 3], got {clip.dtype} {clip.shape}"
        )
    return clip


def action_condition(
    diffusers: Any,
    mode: Mode,
    *,
    chunk_size: int,
    domain_name: str,
    resolution_tier: int,
    view_point: str,
    image: Any = None,
    video: Any = None,
    raw_actions: Any = None,
) -> Any:
    """The ``CosmosActionCondition`` that asks the pipeline for ``mode``."""
    return diffusers.CosmosActionCondition(
        mode=mode,
        chunk_size=chunk_size,
        domain_name=domain_name,
        resolution_tier=resolution_tier,
        raw_actions=raw_actions,
        image=image,
        video=video,
        view_point=view_point,
    )


def actions_from_output(output: Any, chunk_size: int, raw_dim: int) -> np.ndarray:
    """The pipeline's actions as float32 ``[chunk_size, raw_dim]``."""
    action = getattr(output, "action", None)
    if not action:
        raise PolicyError("the pipeline returned no actions (is this an action checkpoint?)")
    array = action[0].detach().float().cpu().numpy()
    if array.ndim != 2 or array.shape[0] != chunk_size or array.shape[1] < raw_dim:
        raise PolicyError(
            f"expected actions [{chunk_size}, >= {raw_dim}] from the pipeline, got {array.shape}"
        )
    # The model's action head is padded (action_dim, e.g. 32 or 64); keep the
    # embodiment's own columns should a pipeline version not slice them.
    return np.ascontiguousarray(array[:, :raw_dim], dtype=np.float32)


def video_from_output(output: Any, chunk_size: int) -> np.ndarray:
    """The pipeline's decoded video (floats in [0, 1]) as uint8 ``[chunk_size + 1, H, W, 3]``."""
    frames = np.asarray(output.video, dtype=np.float32)
    expected = chunk_size + 1
    if frames.ndim != 4 or frames.shape[0] != expected or frames.shape[-1] != 3:
        raise PolicyError(f"expected a video [{expected}, H, W, 3] from the pipeline, got {frames.shape}")
    return (np.clip(frames, 0.0, 1.0) * 255.0).round().astype(np.uint8)
