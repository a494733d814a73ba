"""The options of the in-process Cosmos 3 backend: their types, defaults and checks.

numpy only; the checks raise InvalidInputError naming the option and what it accepts.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

from ..embodiments import Embodiment, get_embodiment
from ..errors import InvalidInputError
from ..observations import EXTERIOR_CAMERAS
from ..policy_api import LAYOUT_WIDTH, Layout
from .conditioning import VIEW_POINTS

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

LAYOUT: Layout = "cosmos_ee_delta"
"""The only layout the backend returns: actions exactly as the model emits them."""


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_mode(mode: object) -> Mode:
    """``mode`` if it is one of :data:`MODES`."""
    if mode not in MODES:
        raise InvalidInputError(f"mode must be one of {list(MODES)}, got {mode!r}")
    return mode


def check_embodiment(name: str) -> Embodiment:
    """The embodiment called ``name``, if its actions are as wide as :data:`LAYOUT`."""
    spec = get_embodiment(name)
    if spec.raw_dim != LAYOUT_WIDTH[LAYOUT]:
        raise InvalidInputError(
            f"embodiment {spec.name!r} has {spec.raw_dim}-wide actions; this backend returns the "
            f"{LAYOUT_WIDTH[LAYOUT]}-wide {LAYOUT!r} layout (droid, bridge, umi, fractal, robomind_ur)"
        )
    return spec


def check_chunk_size(chunk_size: int | None, spec: Embodiment) -> int:
    """``chunk_size``, or the embodiment's default when None."""
    if chunk_size is None:
        chunk_size = spec.default_chunk
        if chunk_size is None:
            raise InvalidInputError(f"embodiment {spec.name!r} has no default chunk size; pass chunk_size")
    if not _is_int(chunk_size) or chunk_size < 1:
        raise InvalidInputError(f"chunk_size must be a positive int, got {chunk_size!r}")
    return chunk_size


def check_sampling(num_inference_steps: int, guidance_scale: float) -> None:
    """Denoising steps: a positive int; guidance: a finite number >= 1 (1 turns CFG off)."""
    if not _is_int(num_inference_steps) or num_inference_steps < 1:
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


def check_view(resolution_tier: object, view_point: object, camera: object) -> None:
    """The resolution tier, the view point and (for ``ego_view``) the exterior camera."""
    if resolution_tier not in RESOLUTION_TIERS:
        raise InvalidInputError(f"resolution_tier must be one of {list(RESOLUTION_TIERS)}, got {resolution_tier!r}")
    if view_point not in VIEW_POINTS:
        raise InvalidInputError(f"view_point must be one of {list(VIEW_POINTS)}, got {view_point!r}")
    if view_point == "ego_view" and camera not in EXTERIOR_CAMERAS:
        raise InvalidInputError(f"camera must be one of {list(EXTERIOR_CAMERAS)}, got {camera!r}")


def check_seed(seed: object) -> None:
    """None or an int."""
    if seed is not None and not _is_int(seed):
        raise InvalidInputError(f"seed must be an int or None, got {seed!r}")
