"""Policy backends behind one contract (:class:`Policy`, :class:`ActionChunk`).

Backends load lazily: ``create_policy(spec)`` imports only the one it builds.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from ..errors import PolicyError
from ..policy_api import LAYOUT_WIDTH, ActionChunk, Layout, Policy
from .registry import SPEC_FORMS, create_policy

_LAZY = {
    "ReplayPolicy": ".replay",
    "ScriptedPolicy": ".scripted",
    "DiffusersCosmos3Policy": ".diffusers_policy",
}

__all__ = ["LAYOUT_WIDTH", "SPEC_FORMS", "ActionChunk", "Layout", "Policy", "PolicyError", "create_policy",
           "Cosmos3ServicePolicy", *_LAZY]


def __getattr__(name: str) -> Any:
    if name == "Cosmos3ServicePolicy":
        from ..service.client import Cosmos3ServicePolicy

        return Cosmos3ServicePolicy
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
