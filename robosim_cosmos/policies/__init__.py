"""Policy backends behind one contract (:class:`Policy`, :class:`ActionChunk`).

Backends load lazily: ``create_policy(spec)`` imports only the one it builds.
"""

from __future__ import annotations

from typing import Any

from ..errors import PolicyError
from ..policy_api import LAYOUT_WIDTH, ActionChunk, Layout, Policy
from .registry import BACKENDS, SPEC_FORMS, create_policy, policy_class

_CLASSES = {backend.class_name: kind for kind, backend in BACKENDS.items()}
"""Each backend's policy class by name, imported on first use."""

__all__ = ["LAYOUT_WIDTH", "SPEC_FORMS", "ActionChunk", "Layout", "Policy", "PolicyError", "create_policy",
           *_CLASSES]


def __getattr__(name: str) -> Any:
    if name in _CLASSES:
        return policy_class(_CLASSES[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
