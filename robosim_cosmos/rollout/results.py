"""The run folder's files: ``results.jsonl`` (one line per episode) and ``summary.json``."""

from __future__ import annotations

import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from .._version import __version__
from .config import RolloutConfig
from .stats import success_summary

RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"


def read_results(path: Path) -> list[dict[str, Any]]:
    """Valid lines of results.jsonl; a torn last line (a crash mid-write) is dropped."""
    if not path.is_file():
        return []
    lines: list[dict[str, Any]] = []
    dropped = False
    for raw in path.read_text().splitlines():
        if not raw.strip():
            continue
        try:
            doc = json.loads(raw)
            if not isinstance(doc, dict) or "episode" not in doc or "env_id" not in doc:
                raise ValueError
            lines.append(doc)
        except ValueError:
            dropped = True
    if dropped:  # rewrite without the torn line so appends stay valid JSONL
        path.write_text("".join(json.dumps(d) + "\n" for d in lines))
    return lines


def append_result(path: Path, line: dict[str, Any]) -> None:
    """Append one line and make it durable before the next episode starts."""
    with path.open("a") as fh:
        fh.write(json.dumps(line) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in ("numpy", "mujoco", "mink", "gymnasium", "robosim_cosmos", "torch", "diffusers"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            if name == "robosim_cosmos":
                out[name] = __version__
            elif name not in ("torch", "diffusers"):  # optional ones are listed only when installed
                out[name] = None
    return out


def write_summary(out: Path, cfg: RolloutConfig, lines: list[dict[str, Any]],
                  policy_repr: str | None = None) -> dict[str, Any]:
    """Write summary.json atomically: success overall and per env, the config, versions."""
    per_env = {
        env_id: success_summary([r for r in lines if r["env_id"] == env_id])
        for env_id in sorted({r["env_id"] for r in lines})
    }
    summary = {
        "overall": success_summary(lines),
        "per_env": per_env,
        "config": cfg.to_json(),
        "policy": policy_repr,
        "versions": package_versions(),
        "command": sys.argv,
    }
    tmp = out / f"{SUMMARY_FILE}.tmp"
    tmp.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    os.replace(tmp, out / SUMMARY_FILE)
    return summary
