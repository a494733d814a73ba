"""Project exception classes."""

from __future__ import annotations


class RobosimCosmosError(Exception):
    """Base class for errors raised by robosim_cosmos."""


class ProtocolError(RobosimCosmosError):
    """A policy service broke the wire protocol or answered with an error frame.

    ``remote_traceback`` holds the server's traceback text when it sent one.
    """

    def __init__(self, message: str, remote_traceback: str | None = None):
        super().__init__(message)
        self.remote_traceback = remote_traceback


class PolicyError(RobosimCosmosError):
    """A policy returned something unusable (wrong shape, NaN, unknown layout)."""


class MissingDependencyError(ImportError, RobosimCosmosError):
    """An optional dependency is not installed; the message says how to install it."""
