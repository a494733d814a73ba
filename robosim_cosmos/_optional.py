"""Lazy imports of heavy optional dependencies with an install hint."""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingDependencyError

_EXTRA_OF = {
    "torch": "cosmos",
    "diffusers": "cosmos",
    "transformers": "cosmos",
    "PIL": "cosmos",
    "tokenizers": "cosmos",
    "safetensors": "cosmos",
    "ray": "ray",
    "matplotlib": "report",
    "pyarrow": "dataset",
    "av": "dataset",
}


def require(module: str) -> ModuleType:
    """Import ``module`` or raise MissingDependencyError naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        extra = _EXTRA_OF.get(top)
        hint = (
            f"pip install 'robosim_cosmos[{extra}]'" if extra else f"pip install {top}"
        )
        if top == "torch":
            hint += " (for the CPU build: pip install torch==2.13.0 first)"
        raise MissingDependencyError(
            f"optional dependency {module!r} is not installed ({exc}); install it with: {hint}"
        ) from exc
