"""Policy backends behind one interface (:class:`Policy`, :class:`ActionChunk`).

Backends load lazily: ``create_policy(spec)`` imports only the one it builds.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from ..errors import PolicyError
from .base import LAYOUT_WIDTH, ActionChunk, Layout, Policy
from .registry import SPEC_FORMS, create_policy

_LAZY = {
    "ReplayPolicy": ".replay",
    "ScriptedPolicy": ".scripted",
    "Cosmos3ServicePolicy": ".cosmos3_client",
    "DiffusersCosmos3Policy": ".diffusers_policy",
}

__all__ = ["ActionChunk", "Layout", "LAYOUT_WIDTH", "Policy", "PolicyError", "SPEC_FORMS", "create_policy", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
