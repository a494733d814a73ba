"""World-model scoring in closed loop: each frame a policy predicted, against the frame the
simulator rendered after the same executed step, from the same view.

Frame k of a chunk's predicted video is the world after its k-th row (frame 0 is the state the
chunk starts from, which the model was given), so step k's score compares predicted frame k with
the view rendered after the env executed row k. The scores are summed up per horizon step, per
chunk and per episode (:func:`summarize`), and pooled over episodes (:func:`pool_records`); the
rollout computes them on a background thread (``rollout.observers``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np

from ..errors import ConfigError
from ..image_resize import resize_bilinear
from ..observations import CAMERAS, EXTERIOR_CAMERAS
from ..policies.conditioning import conditioning_image
from ..policy_api import Policy
from .images import FrameScore

Scoring = Literal["full", "frames", "off"]
SCORINGS: tuple[Scoring, ...] = get_args(Scoring)
"""``full``: frames and the robot's pixels (one segmentation render per camera in the view per
step); ``frames``: whole frames only; ``off``: no scoring."""
METRICS: tuple[str, ...] = ("psnr", "ssim", "robot_psnr", "robot_ssim")


def check_scoring(value: object) -> Scoring:
    if value not in SCORINGS:
        raise ConfigError(f"unknown world-model scoring {value!r}; valid: {list(SCORINGS)}")
    return value


@dataclass(frozen=True)
class View:
    """What a policy's predicted video shows: ``ego_view`` of one exterior camera, or
    ``concat_view`` (wrist over both exteriors)."""

    view_point: str
    camera: str

    @property
    def cameras(self) -> tuple[str, ...]:
        return (self.camera,) if self.view_point == "ego_view" else CAMERAS

    @property
    def label(self) -> str:
        return f"ego_view:{self.camera}" if self.view_point == "ego_view" else self.view_point

    @classmethod
    def of(cls, policy: Policy) -> View:
        """The view a policy declares (:attr:`Policy.view_point`, :attr:`Policy.camera`)."""
        view_point, camera = str(policy.view_point), str(policy.camera)
        if view_point not in ("ego_view", "concat_view"):
            raise ConfigError(f"policy view_point {view_point!r}; valid: ['ego_view', 'concat_view']")
        if view_point == "ego_view" and camera not in EXTERIOR_CAMERAS:
            raise ConfigError(f"policy camera {camera!r}; valid: {list(EXTERIOR_CAMERAS)}")
        return cls(view_point, camera)

    def compose(self, images: Mapping[str, np.ndarray]) -> np.ndarray:
        """The view's uint8 [H, W, 3] image from per-camera images, built by the policies' own code."""
        return conditioning_image(images, self.view_point, self.camera)  # type: ignore[arg-type]

    def compose_mask(self, masks: Mapping[str, np.ndarray]) -> np.ndarray:
        """The view's bool [H, W] robot mask from per-camera masks, composed like the images
        (a composite pixel is the robot's when its resampled value is at least half robot)."""
        as_images = {cam: np.repeat((masks[cam].astype(np.uint8) * 255)[..., None], 3, axis=2) for cam in masks}
        return self.compose(as_images)[..., 0] >= 128


def fit(predicted: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A predicted frame at the reference's size (bilinear, as the conditioning image is resized)."""
    if predicted.shape[:2] == shape[:2]:
        return predicted
    return resize_bilinear(predicted, int(shape[0]), int(shape[1]))


def _stats(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    arr = np.asarray(values, dtype=np.float64)
    return {"mean": float(arr.mean()), "min": float(arr.min())}


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def summarize(scored: list[tuple[int, int, FrameScore]], view: str) -> dict[str, Any] | None:
    """The results-line record (see the module docstring) of (chunk, step, score) triples."""
    if not scored:
        return None
    values = {name: [getattr(s, name) for _, _, s in scored if getattr(s, name) is not None] for name in METRICS}
    steps = sorted({step for _, step, _ in scored})
    per_step: dict[str, list[Any]] = {"step": steps, "frames": []}
    per_step.update({name: [] for name in METRICS})
    for step in steps:
        at = [s for _, k, s in scored if k == step]
        per_step["frames"].append(len(at))
        for name in METRICS:
            per_step[name].append(_mean([getattr(s, name) for s in at if getattr(s, name) is not None]))
    per_chunk = []
    for chunk in sorted({c for c, _, _ in scored}):
        at = [s for c, _, s in scored if c == chunk]
        row: dict[str, Any] = {"chunk": chunk, "frames": len(at)}
        row.update({name: _mean([getattr(s, name) for s in at if getattr(s, name) is not None]) for name in METRICS})
        per_chunk.append(row)
    record: dict[str, Any] = {"view": view, "frames": len(scored), "chunks": len(per_chunk)}
    record.update({name: _stats(values[name]) for name in METRICS})
    record["per_step"] = per_step
    record["per_chunk"] = per_chunk
    return record


def pool_per_step(records: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Per-step means pooled over several episode records, weighted by their frame counts."""
    steps = sorted({k for r in records for k in r["per_step"]["step"]})
    out: dict[str, list[Any]] = {"step": steps, "frames": []}
    out.update({name: [] for name in METRICS})
    for step in steps:
        total = 0
        sums = dict.fromkeys(METRICS, 0.0)
        weights = dict.fromkeys(METRICS, 0)
        for r in records:
            ps = r["per_step"]
            if step not in ps["step"]:
                continue
            i = ps["step"].index(step)
            n = int(ps["frames"][i])
            total += n
            for name in METRICS:
                if ps[name][i] is not None:
                    sums[name] += float(ps[name][i]) * n
                    weights[name] += n
        out["frames"].append(total)
        for name in METRICS:
            out[name].append(sums[name] / weights[name] if weights[name] else None)
    return out


def pool_records(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Episode records (:func:`summarize`) pooled: episodes, frames, views, frame-weighted means
    of each metric and the per-step curves; None without records."""
    if not records:
        return None
    frames = sum(int(r["frames"]) for r in records)
    out: dict[str, Any] = {"episodes": len(records), "frames": frames,
                           "view": ", ".join(sorted({str(r["view"]) for r in records}))}
    for name in METRICS:
        pairs = [(r[name]["mean"], int(r["frames"])) for r in records if r.get(name)]
        out[name] = sum(v * n for v, n in pairs) / sum(n for _, n in pairs) if pairs else None
    out["per_step"] = pool_per_step(records)
    return out


def world_model_summary(lines: list[dict[str, Any]]) -> dict[str, Any] | None:
    """summary.json's ``world_model``: frame-weighted means over completed episodes, per horizon step."""
    return pool_records([r["world_model"] for r in lines if not r.get("error") and r.get("world_model")])
