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
from .adaptive import adaptive_summary
from .config import RolloutConfig
from .eval_info import EVAL_INFO_FILE, eval_info
from .redact import redact_argv, secret_values
from .stats import event_summary, mean_progress, success_summary
from .trajectory import trajectory_summary
from .world_model import world_model_summary

RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"


def parse_results(path: Path) -> tuple[list[dict[str, Any]], bool]:
    """(valid lines of results.jsonl, whether a torn line was skipped); reads only."""
    if not path.is_file():
        return [], False
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
    return lines, dropped


def read_results(path: Path) -> list[dict[str, Any]]:
    """Valid lines of results.jsonl; a torn last line (a crash mid-write) is dropped."""
    lines, dropped = parse_results(path)
    if dropped:  # rewrite without the torn line so appends stay valid JSONL
        path.write_text("".join(json.dumps(d) + "\n" for d in lines))
    return lines


def append_result(path: Path, line: dict[str, Any]) -> None:
    """Append one line and make it durable before the next episode starts."""
    with path.open("a") as fh:
        fh.write(json.dumps(line) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` all at once (a temp file beside it, fsynced, then renamed)."""
    tmp = path.with_name(f"{path.name}.tmp")
    with tmp.open("w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def rewrite_results(path: Path, lines: list[dict[str, Any]]) -> None:
    """Rewrite results.jsonl atomically with ``lines`` (a retried episode replaces its line)."""
    write_atomic(path, "".join(json.dumps(d) + "\n" for d in lines))


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
                  policy: dict[str, Any] | None = None, command: list[str] | None = None,
                  interrupted: str | None = None) -> dict[str, Any]:
    """Write summary.json atomically: success overall and per env, the mean final progress and the
    events (completed episodes; see :func:`~.stats.event_summary`), the config (secrets redacted),
    the policy (spec, redacted arguments, class), versions, the command line (redacted),
    adaptive sampling's state (:func:`~.adaptive.adaptive_summary`, None without it) and, when the
    run was stopped by a signal, its name in ``interrupted``. ``eval_info.json`` (lerobot-eval's
    shape, :mod:`.eval_info`) is rewritten beside it from the same lines."""
    per_env = {
        env_id: success_summary([r for r in lines if r["env_id"] == env_id])
        for env_id in sorted({r["env_id"] for r in lines})
    }
    summary = {
        "overall": success_summary(lines),
        "per_env": per_env,
        "mean_progress": mean_progress(lines),
        "events": event_summary(lines),
        "world_model": world_model_summary(lines),
        "trajectory": trajectory_summary(lines),
        "config": cfg.to_json(),
        "policy": policy if policy is not None else {"spec": cfg.policy, "args": cfg.to_json()["policy_kwargs"]},
        "versions": package_versions(),
        "command": redact_argv(sys.argv, secret_values(cfg.policy_kwargs)) if command is None else command,
        "adaptive": adaptive_summary(cfg, lines, interrupted),
        "interrupted": interrupted,
    }
    write_atomic(out / SUMMARY_FILE, json.dumps(summary, indent=2, default=str) + "\n")
    write_atomic(out / EVAL_INFO_FILE, json.dumps(eval_info(lines, cfg.video), indent=2) + "\n")
    return summary
