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
so importing this module costs nothing without them. The options and their checks live in
``cosmos3_options``, checkpoint loading in ``cosmos3_pipeline``, one call's inputs and
outputs in ``cosmos3_call``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._optional import require
from ..errors import InvalidInputError
from ..observations import DEFAULT_CAMERA
from ..policy_api import ActionChunk, Layout, Policy
from .conditioning import ViewPoint, conditioning_image, to_pipeline_image
from .cosmos3_call import (
    action_condition,
    actions_from_output,
    check_instruction,
    forward_actions,
    inverse_clip,
    video_from_output,
)
from .cosmos3_options import (
    DEFAULT_GUIDANCE_SCALE,
    DEFAULT_NUM_INFERENCE_STEPS,
    FORWARD_DYNAMICS_ACTIONS_KEY,
    INVERSE_DYNAMICS_VIDEO_KEY,
    LAYOUT,
    PIPELINE_DEFAULT_FPS,
    DType,
    Mode,
    ResolutionTier,
    check_chunk_size,
    check_embodiment,
    check_mode,
    check_sampling,
    check_seed,
    check_view,
)
from .cosmos3_pipeline import check_action_head, check_domain_table, resolve_pipeline


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

    layout: Layout = LAYOUT
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

        self.mode: Mode = check_mode(mode)
        spec = check_embodiment(embodiment)
        check_domain_table(spec, self._diffusers)
        self.chunk_size: int = check_chunk_size(chunk_size, spec)
        check_sampling(num_inference_steps, guidance_scale)
        check_view(resolution_tier, view_point, camera)
        check_seed(seed)

        self.embodiment: str = spec.name
        self.domain_name: str = spec.domain_name
        self.raw_dim: int = spec.raw_dim
        self.fps: float = float(spec.fps) if spec.fps else PIPELINE_DEFAULT_FPS
        self.num_inference_steps = num_inference_steps
        self.guidance_scale = float(guidance_scale)
        self.resolution_tier = int(resolution_tier)
        self.view_point: ViewPoint = view_point
        self.camera = camera
        self.seed = seed
        self.set_return_video(return_video)
        self.negative_prompt = negative_prompt

        self.pipeline = resolve_pipeline(model, device, dtype)
        check_action_head(self.pipeline)
        self._generator: Any = None
        self.reset()

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
        raw = forward_actions(actions, self.raw_dim, self.chunk_size)
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
        frames = [to_pipeline_image(frame) for frame in inverse_clip(video, self.chunk_size)]
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
        check_instruction(instruction)
        condition = action_condition(
            self._diffusers,
            mode,
            chunk_size=self.chunk_size,
            domain_name=self.domain_name,
            resolution_tier=self.resolution_tier,
            view_point=self.view_point,
            image=image,
            video=video,
            raw_actions=raw_actions,
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
            actions = actions_from_output(output, self.chunk_size, self.raw_dim)
        predicted_video = video_from_output(output, self.chunk_size) if decode else None
        return ActionChunk(
            actions=actions,
            layout=self.layout,
            embodiment=self.embodiment,
            predicted_video=predicted_video,
            info=self._info(mode, latency, video_decoded=predicted_video is not None),
        )

    def _info(self, mode: Mode, latency: float, *, video_decoded: bool) -> dict[str, Any]:
        """What a chunk's ``info`` reports about the call that made it."""
        return {
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
            "video_decoded": video_decoded,
            "normalized": True,
        }

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(mode={self.mode!r}, embodiment={self.embodiment!r}, "
            f"chunk_size={self.chunk_size}, steps={self.num_inference_steps}, "
            f"guidance_scale={self.guidance_scale}, resolution_tier={self.resolution_tier}, "
            f"view_point={self.view_point!r}, seed={self.seed})"
        )
