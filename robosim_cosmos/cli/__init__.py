"""The ``robosim-cosmos`` command line: one module per command, :mod:`.main` puts them together."""

from __future__ import annotations

from .main import build_parser, main

__all__ = ["build_parser", "main"]
