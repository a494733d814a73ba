"""Action normalization statistics and the four Cosmos normalization kinds.

quantile:     offset = (q99 + q01)/2, scale = max(q99 − q01, 1e-8)/2,
              n = clip((x − offset)/scale, −1, 1), x = n·scale + offset.
minmax:       the same formula with min/max in place of q01/q99.
quantile_rot: the same formula with ``global_raw.q01``/``global_raw.q99``.
meanstd:      n = (x − mean)/max(std, 1e-8), x = n·std + mean (no clipping).

Stats belong to one domain: loading a file for another embodiment's domain is an error,
even when the widths match.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import numpy as np

from .._resources import stats_dir
from ..embodiments import Embodiment, NormalizationKind, get_embodiment
from ..errors import ResourceNotFoundError, StatsError

NORMALIZATION_KINDS: tuple[NormalizationKind, ...] = get_args(NormalizationKind)
_REQUIRED = {
    "quantile": ("q01", "q99"),
    "quantile_rot": ("q01", "q99"),
    "minmax": ("min", "max"),
    "meanstd": ("mean", "std"),
}
_STAT_KEYS = ("q01", "q99", "min", "max", "mean", "std")
_SCALE_FLOOR = 1e-8


@dataclass(frozen=True)
class ActionStats:
    """Per-column statistics of raw actions for one domain.

    values: name → float64 [D] for whichever of q01, q99, min, max, mean, std are known.
    kind: which of them ``normalize``/``denormalize`` use.
    """

    kind: NormalizationKind
    values: Mapping[str, np.ndarray]
    domain_name: str | None = None
    columns: tuple[str, ...] | None = None
    source: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in _REQUIRED:
            raise StatsError(
                f"unknown normalization kind {self.kind!r}; valid: {', '.join(NORMALIZATION_KINDS)}"
            )
        where = f" in {self.source}" if self.source else ""
        clean: dict[str, np.ndarray] = {}
        for key, value in self.values.items():
            arr = np.asarray(value, dtype=np.float64)
            if arr.ndim != 1 or arr.size == 0:
                raise StatsError(f"stats {key!r}{where} must be a non-empty list, got shape {arr.shape}")
            if not np.all(np.isfinite(arr)):
                raise StatsError(f"stats {key!r}{where} contains NaN or inf at columns "
                                 f"{np.flatnonzero(~np.isfinite(arr)).tolist()}")
            clean[key] = arr
        missing = [k for k in _REQUIRED[self.kind] if k not in clean]
        if missing:
            raise StatsError(f"{self.kind} normalization needs stats {missing}{where}")
        widths = {k: v.size for k, v in clean.items()}
        if len(set(widths.values())) != 1:
            raise StatsError(f"stats{where} have inconsistent widths: {widths}")
        for lo, hi in (("q01", "q99"), ("min", "max")):
            if lo in clean and hi in clean and np.any(clean[hi] < clean[lo]):
                cols = np.flatnonzero(clean[hi] < clean[lo]).tolist()
                raise StatsError(f"stats{where}: {hi} < {lo} at columns {cols}")
        if "std" in clean and np.any(clean["std"] < 0):
            raise StatsError(f"stats{where}: negative std")
        if self.columns is not None and len(self.columns) != self.width_of(clean):
            raise StatsError(f"stats{where}: {len(self.columns)} column names for width {self.width_of(clean)}")
        object.__setattr__(self, "values", clean)

    @staticmethod
    def width_of(values: Mapping[str, np.ndarray]) -> int:
        return next(iter(values.values())).size

    @property
    def width(self) -> int:
        """Number of action columns D."""
        return self.width_of(self.values)

    def bounds(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Raw values [D] that normalize to −1 and +1 (q01/q99 or min/max); None for meanstd."""
        if self.kind == "meanstd":
            return None
        lo, hi = _REQUIRED[self.kind]
        return self.values[lo], self.values[hi]

    def _offset_scale(self) -> tuple[np.ndarray, np.ndarray]:
        bounds = self.bounds()
        if bounds is None:
            return self.values["mean"], np.maximum(self.values["std"], _SCALE_FLOOR)
        lo, hi = bounds
        return (hi + lo) / 2.0, np.maximum(hi - lo, _SCALE_FLOOR) / 2.0

    def _check(self, x: np.ndarray, name: str) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 0 or x.shape[-1] != self.width:
            raise StatsError(f"{name} must have shape [..., {self.width}], got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise StatsError(f"{name} contains NaN or inf")
        return x

    def normalize(self, raw: np.ndarray) -> np.ndarray:
        """Raw actions [..., D] → normalized (clipped to [−1, 1] except for meanstd)."""
        raw = self._check(raw, "raw actions")
        offset, scale = self._offset_scale()
        n: np.ndarray = (raw - offset) / scale
        return n if self.kind == "meanstd" else np.clip(n, -1.0, 1.0)

    def denormalize(self, normalized: np.ndarray) -> np.ndarray:
        """Normalized actions [..., D] → raw actions (float64)."""
        normalized = self._check(normalized, "normalized actions")
        offset, scale = self._offset_scale()
        raw: np.ndarray = normalized * scale + offset
        return raw

    def to_json_dict(self) -> dict[str, Any]:
        """The JSON form ``load_stats`` reads."""
        out: dict[str, Any] = {"normalization": self.kind}
        if self.domain_name:
            out["domain_name"] = self.domain_name
        if self.columns:
            out["columns"] = list(self.columns)
        target = out.setdefault("global_raw", {}) if self.kind == "quantile_rot" else out
        for key, arr in self.values.items():
            target[key] = [float(x) for x in arr]
        return out


def compute_stats(
    raw_actions: np.ndarray,
    kind: NormalizationKind = "quantile",
    domain_name: str | None = None,
    columns: tuple[str, ...] | None = None,
) -> ActionStats:
    """Statistics (q01, q99, min, max, mean, std) of raw actions [N, D] for your own data."""
    raw = np.asarray(raw_actions, dtype=np.float64)
    if raw.ndim != 2 or raw.shape[0] == 0 or raw.shape[1] == 0:
        raise StatsError(f"raw_actions must have shape [N, D] with N, D >= 1, got {raw.shape}")
    if not np.all(np.isfinite(raw)):
        raise StatsError("raw_actions contain NaN or inf")
    values = {
        "q01": np.quantile(raw, 0.01, axis=0),
        "q99": np.quantile(raw, 0.99, axis=0),
        "min": raw.min(axis=0),
        "max": raw.max(axis=0),
        "mean": raw.mean(axis=0),
        "std": raw.std(axis=0),
    }
    return ActionStats(kind=kind, values=values, domain_name=domain_name, columns=columns)


def save_stats(stats: ActionStats, path: str | os.PathLike[str]) -> Path:
    """Write stats as JSON; returns the path."""
    path = Path(path)
    path.write_text(json.dumps(stats.to_json_dict(), indent=2) + "\n")
    return path


def _parse(doc: object, source: str) -> ActionStats:
    if not isinstance(doc, dict):
        raise StatsError(f"stats file {source} must hold a JSON object")
    body = doc.get("action", doc) if isinstance(doc.get("action"), dict) else doc
    kind = body.get("normalization", doc.get("normalization", "quantile"))
    if kind not in _REQUIRED:
        raise StatsError(
            f"stats file {source}: unknown normalization {kind!r}; valid: {', '.join(NORMALIZATION_KINDS)}"
        )
    table = body.get("global_raw", {}) if kind == "quantile_rot" else body
    if not isinstance(table, dict):
        raise StatsError(f"stats file {source}: 'global_raw' must be an object")
    values = {k: table[k] for k in _STAT_KEYS if k in table}
    for key, value in values.items():
        if not isinstance(value, list) or not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in value
        ):
            raise StatsError(f"stats file {source}: {key!r} must be a list of numbers")
        if any(isinstance(x, float) and not math.isfinite(x) for x in value):
            raise StatsError(f"stats file {source}: {key!r} contains NaN or inf")
    columns = body.get("columns", doc.get("columns"))
    return ActionStats(
        kind=kind,
        values=values,
        domain_name=body.get("domain_name", doc.get("domain_name")),
        columns=tuple(columns) if columns else None,
        source=source,
    )


def available_stats() -> list[str]:
    """Domain names with a stats file shipped in ``stats/``."""
    return sorted(p.stem for p in stats_dir().glob("*.json"))


def load_stats(
    domain_or_path: str | os.PathLike[str] | None = None,
    embodiment: str | Embodiment | None = None,
) -> ActionStats:
    """Load stats by shipped domain name (or embodiment name) or from a JSON path.

    With ``embodiment`` given, the width must equal its raw action width and a stats file
    that names another domain is refused. ``domain_or_path=None`` uses the embodiment's
    own stats file.
    """
    emb = get_embodiment(embodiment) if embodiment is not None else None
    if domain_or_path is None:
        if emb is None:
            raise StatsError("give a stats domain/path or an embodiment")
        if emb.stats is None:
            raise StatsError(
                f"no stats file ships for embodiment {emb.name!r} ({emb.domain_name}); "
                f"pass a stats JSON path (build one with compute_stats); shipped: {available_stats()}"
            )
        domain_or_path = emb.stats
    text = os.fspath(domain_or_path)
    path = Path(text)
    if not (path.suffix == ".json" or os.sep in text or path.exists()):
        name = text
        with contextlib.suppress(ValueError):
            name = get_embodiment(text).stats or text
        path = stats_dir() / f"{name}.json"
        if not path.is_file():
            raise StatsError(
                f"no shipped stats for {text!r}; shipped domains: {available_stats()}, "
                "or pass a path to a stats JSON file"
            )
    if not path.is_file():
        raise ResourceNotFoundError(f"stats file not found: {path}")
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise StatsError(f"stats file {path} is not valid JSON: {exc}") from exc
    stats = _parse(doc, str(path))
    if emb is not None:
        check_stats_for(stats, emb)
    return stats


def check_stats_for(stats: ActionStats, embodiment: str | Embodiment) -> ActionStats:
    """``stats`` if they can normalize ``embodiment``'s actions: same width, same domain (when
    the stats name one) and the normalization kind the embodiment's processor uses."""
    emb = get_embodiment(embodiment)
    where = stats.source or "stats"
    if stats.width != emb.raw_dim:
        raise StatsError(f"{where} have width {stats.width} but embodiment {emb.name!r} needs {emb.raw_dim} columns")
    if stats.domain_name and stats.domain_name != emb.domain_name:
        raise StatsError(
            f"{where} belong to domain {stats.domain_name!r}, not {emb.domain_name!r} "
            f"(embodiment {emb.name!r}); stats of one domain never substitute for another's"
        )
    if stats.kind != emb.normalization:
        raise StatsError(
            f"{where} use {stats.kind!r} normalization; embodiment {emb.name!r} is normalized with "
            f"{emb.normalization!r}"
        )
    return stats
