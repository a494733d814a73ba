"""Rollout options declared once: a :class:`RolloutConfig` field carries its default, its help, its
command-line form and whether it belongs to the run identity in its metadata, and the CLI flags,
the options map and the run identity are all derived from it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import MISSING, Field, field
from typing import Any


def option(default: Any = MISSING, *, help: str, flag: str | None = None, identity: bool = False,
           env: str | None = None,
           arg: Callable[[str], Any] | None = None, choices: tuple[Any, ...] | None = None,
           action: str | None = None, metavar: str | None = None, required: bool = False,
           parse: Callable[[Any], Any] | None = None, default_factory: Any = MISSING) -> Any:
    """A config field with its option facts.

    help: the flag's help; ``{default}`` in it is replaced by the field's default (see
    :func:`show_default`). flag: the command-line form (None: no flag of its own). identity: part of
    what an episode means (run.json). env: the env keyword it is passed as (a value of None, or an
    empty text, leaves the env's own default). arg / choices / action / metavar / required: as argparse
    takes them. parse: turns what argparse collected into the field's value.
    """
    meta = {"help": help, "flag": flag, "identity": identity, "env": env, "arg": arg, "choices": choices,
            "action": action, "metavar": metavar, "required": required, "parse": parse}
    if default_factory is not MISSING:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


def show_default(value: Any) -> str:
    """A default as a user would type it: ``(180, 320)`` reads ``180x320``."""
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return f"{value[0]}x{value[1]}"
    return str(value)


def parse_image_size(text: str) -> tuple[int, int]:
    """``"180x320"`` -> (180, 320); argparse's error otherwise."""
    height, sep, width = text.lower().partition("x")
    if not sep or not height.strip().isdigit() or not width.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected HEIGHTxWIDTH such as 180x320, got {text!r}")
    return int(height), int(width)


def flag_help(f: Field[Any]) -> str:
    """The field's help with its default filled in."""
    default = f.default if f.default is not MISSING else None
    return str(f.metadata["help"]).replace("{default}", show_default(default))


