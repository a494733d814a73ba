"""The project's exception tree.

Every error robosim_cosmos raises on purpose derives from :class:`RobosimCosmosError`. The
ones that replace a built-in also subclass it (``InvalidInputError`` is a ``ValueError``,
``ResourceNotFoundError`` a ``FileNotFoundError``, ``MissingDependencyError`` an
``ImportError``), so ``except ValueError`` in callers keeps working.
"""

from __future__ import annotations


class RobosimCosmosError(Exception):
    """Base class for errors raised by robosim_cosmos."""


class InvalidInputError(RobosimCosmosError, ValueError):
    """An argument, observation or file content is malformed; the message says what is valid."""


class InvalidTypeError(InvalidInputError, TypeError):
    """An argument has the wrong type (also a ``TypeError``)."""


class InvalidActionError(InvalidInputError):
    """An action chunk or row cannot be executed (shape, NaN, out of range, unknown layout)."""


class StatsError(InvalidInputError):
    """Action normalization statistics are malformed or belong to another domain."""


class ConfigError(InvalidInputError):
    """A configuration value is invalid (unknown env id, robot, policy spec, rollout option)."""


class RunFolderError(ConfigError):
    """A rollout's output folder cannot be used: it is a file, holds another run's results, or
    another rollout is writing into it. Nothing in the folder was changed."""


class DatasetError(InvalidInputError):
    """A LeRobot dataset (or a recording's staged episodes) is malformed, of an unknown schema, or
    cannot be written where asked; the message says what was found and what is valid."""


class ResourceNotFoundError(RobosimCosmosError, FileNotFoundError):
    """A file, model or checkpoint the caller named does not exist."""


class RenderingError(RobosimCosmosError, RuntimeError):
    """No offscreen OpenGL context could be created; the message says which backend to install."""


class PolicyError(RobosimCosmosError):
    """A policy returned something unusable (wrong shape, NaN, unknown layout)."""


class ServerStartError(RobosimCosmosError, OSError):
    """A policy server could not start listening (port taken, bad host)."""


class ProtocolError(RobosimCosmosError):
    """A policy service broke the wire protocol or answered with an error frame.

    ``remote_traceback`` holds the server's traceback text when it sent one.
    """

    def __init__(self, message: str, remote_traceback: str | None = None):
        super().__init__(message)
        self.remote_traceback = remote_traceback


class WorkerError(RobosimCosmosError):
    """A rollout worker process died (killed, out of memory, a crash in native code)."""


class MissingDependencyError(RobosimCosmosError, ImportError):
    """An optional dependency is not installed; the message says how to install it."""
