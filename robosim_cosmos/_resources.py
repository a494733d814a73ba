"""Locate the package data folders ``envs/`` (MJCF) and ``stats/`` (normalization JSON).

An installed wheel carries them under ``robosim_cosmos/_data/``; a source checkout
(editable install, tests) has them at the repository root.
"""

from __future__ import annotations

from pathlib import Path

from .errors import ConfigError, ResourceNotFoundError

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Path of the data folder ``name`` ("envs" or "stats")."""
    if name not in ("envs", "stats"):
        raise ConfigError(f"unknown data folder {name!r}; valid: 'envs', 'stats'")
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise ResourceNotFoundError(
        f"robosim_cosmos data folder {name!r} not found next to {_PACKAGE_DIR}; "
        "reinstall the package (the wheel carries it under robosim_cosmos/_data/)"
    )


def envs_dir() -> Path:
    """Folder holding the MJCF robot and scene files."""
    return data_dir("envs")


def stats_dir() -> Path:
    """Folder holding the action normalization stats JSON files."""
    return data_dir("stats")
