"""Test helpers that ship with the package (tiny offline models for CI and examples)."""

from __future__ import annotations

from .tiny_cosmos3 import build_tiny_cosmos3_pipeline, save_tiny_cosmos3_pipeline

__all__ = ["build_tiny_cosmos3_pipeline", "save_tiny_cosmos3_pipeline"]
