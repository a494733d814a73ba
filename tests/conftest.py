"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def menagerie_root() -> Path:
    """MuJoCo Menagerie root (test data, never vendored): $MENAGERIE_ROOT or ../shared/assets/menagerie.

    Skips the test when it holds no ``franka_emika_panda/panda.xml``. ``MENAGERIE_ROOT`` may also
    name the ``franka_emika_panda`` folder itself; the fixture then returns its parent.
    """
    root = Path(os.environ.get("MENAGERIE_ROOT", _REPO_ROOT.parent / "shared" / "assets" / "menagerie"))
    if (root / "panda.xml").is_file() and root.name == "franka_emika_panda":
        root = root.parent
    if not (root / "franka_emika_panda" / "panda.xml").is_file():
        pytest.skip(f"MuJoCo Menagerie Panda not found under {root}; set MENAGERIE_ROOT")
    return root


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A tiny random Cosmos3 checkpoint saved to disk, loaded like a real one (built once per run).

    Skips the test when the ``cosmos`` extra (torch, diffusers, transformers, pillow) is missing.
    """
    for module in ("torch", "diffusers", "transformers", "PIL"):
        pytest.importorskip(module)
    from robosim_cosmos.testing import save_tiny_cosmos3_pipeline

    return save_tiny_cosmos3_pipeline(tmp_path_factory.mktemp("ckpt") / "tiny-cosmos3")
