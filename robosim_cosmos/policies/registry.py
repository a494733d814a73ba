"""``create_policy(spec, **kwargs)``: one string names every policy backend.

Forms:
- ``scripted``                 privileged scripted policy; needs ``env=`` (a DroidEnv or a wrapper)
- ``replay:PATH``              chunks from an action file, in order, cycling
- ``cosmos3://HOST:PORT``      a remote Cosmos 3 policy server (also ``"cosmos3"`` with host=, port=)
- ``openpi://HOST:PORT``       an openpi or RoboArena DROID policy server, π0 / π0.5 (also ``"openpi"``)
- ``diffusers:PATH``           a Cosmos 3 checkpoint in-process (also ``"diffusers"`` with model=)
- ``baseline:PATH``            the small visuomotor policy ``robosim-cosmos train`` writes
- ``null``                     holds still (zero motion, gripper unchanged); needs ``env=``

Each backend is one row of :data:`BACKENDS`; its module is imported only when asked for.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

from ..errors import ConfigError
from ..policy_api import Policy
from ..service.protocol import OPENPI_URL_SCHEME, URL_SCHEME, parse_address

SpecKind = Literal["scripted", "replay", "cosmos3", "diffusers", "openpi", "baseline", "null"]
SPEC_KINDS: tuple[SpecKind, ...] = get_args(SpecKind)


@dataclass(frozen=True)
class Backend:
    """One policy backend: how a spec names it and what builds it.

    module / class_name: where the policy class lives (relative to this package). form: how a
    spec names it (help text). prefix: a spec starting with it names this backend, a path (or,
    with ``address``, ``HOST:PORT``) following. path_kwarg: the keyword the path goes to (None:
    the first positional argument). bare: the kind alone is a spec too, then ``bare_needs`` must
    be passed as a keyword. needs_env: built on the rollout's own env (privileged state; cannot
    be served). own_open_loop: brings its own open-loop horizon, as its reference client runs it.
    stats_file: see the field.
    """

    module: str
    class_name: str
    form: str
    prefix: str | None = None
    address: bool = False
    path_kwarg: str | None = None
    bare: bool = True
    bare_needs: str | None = None
    needs_env: bool = False
    own_open_loop: bool = False
    stats_file: str | None = None
    """A file in the spec's path (a checkpoint folder) holding the action statistics its chunks are
    normalized with: a rollout de-normalizes with it unless ``--stats`` says otherwise."""

    def matches(self, kind: str, spec: str) -> bool:
        if self.bare and spec == kind:
            return True
        prefix = self.prefix
        return prefix is not None and spec.startswith(prefix) and (self.address or len(spec) > len(prefix))


BACKENDS: dict[SpecKind, Backend] = {
    "scripted": Backend(".scripted", "ScriptedPolicy", "scripted", needs_env=True),
    "replay": Backend(".replay", "ReplayPolicy", "replay:PATH", prefix="replay:", bare=False),
    "cosmos3": Backend("..service.client", "Cosmos3ServicePolicy",
                       f"{URL_SCHEME}HOST:PORT (or 'cosmos3' with host=, port=)", prefix=URL_SCHEME, address=True),
    "diffusers": Backend(".diffusers_policy", "DiffusersCosmos3Policy", "diffusers:PATH (or 'diffusers' with model=)",
                         prefix="diffusers:", path_kwarg="model", bare_needs="model"),
    "openpi": Backend("..service.openpi_client", "OpenpiPolicy",
                      f"{OPENPI_URL_SCHEME}HOST:PORT (or 'openpi' with host=, port=; "
                      "action_space=joint_velocity|joint_position)", prefix=OPENPI_URL_SCHEME, address=True,
                      own_open_loop=True),
    "baseline": Backend(".baseline", "BaselinePolicy", "baseline:PATH (a `robosim-cosmos train` checkpoint)",
                        prefix="baseline:", bare=False, stats_file="stats.json", own_open_loop=True),
    "null": Backend(".null", "NullPolicy", "null (holds still)", needs_env=True),
}
"""Every policy backend, in the order the help lists them: adding one is a module and a row."""
SPEC_FORMS: tuple[str, ...] = tuple(b.form for b in BACKENDS.values())
NEEDS_ENV: tuple[SpecKind, ...] = tuple(kind for kind, b in BACKENDS.items() if b.needs_env)
"""Backends built on the rollout's own env (they read privileged state); they cannot be served."""


_P = TypeVar("_P", bound=Policy)


def _construct(cls: type[_P], *args: Any, **kwargs: Any) -> _P:
    """``cls(*args, **kwargs)``, with unknown or missing keywords reported as ConfigError."""
    try:
        inspect.signature(cls).bind(*args, **kwargs)
    except TypeError as exc:
        params = [p for p in inspect.signature(cls).parameters if p not in ("self",)]
        raise ConfigError(f"{cls.__name__}: {exc}; its options: {', '.join(params)}") from None
    return cls(*args, **kwargs)


def spec_kind(spec: str) -> SpecKind:
    """Which backend a spec names; ConfigError listing the forms otherwise."""
    if isinstance(spec, str):
        for kind, backend in BACKENDS.items():
            if backend.matches(kind, spec):
                return kind
    raise ConfigError(f"unknown policy spec {spec!r}; valid forms: {', '.join(SPEC_FORMS)}")


def backend_of(spec: str) -> Backend:
    """The backend a spec names (:func:`spec_kind`'s row)."""
    return BACKENDS[spec_kind(spec)]


def spec_stats(spec: str) -> str | None:
    """The action statistics file a spec's chunks are normalized with, when its backend keeps
    them beside its checkpoint (``baseline:CKPT`` -> ``CKPT/stats.json``); None otherwise."""
    try:
        backend = backend_of(spec)
    except ConfigError:  # a label for a ready Policy object
        return None
    if backend.stats_file is None or backend.prefix is None or not spec.startswith(backend.prefix):
        return None
    return str(Path(spec[len(backend.prefix):]) / backend.stats_file)


def policy_class(kind: SpecKind) -> type[Policy]:
    """The backend's policy class, imported now (backends load only when asked for)."""
    backend = BACKENDS[kind]
    cls: type[Policy] = getattr(import_module(backend.module, __package__), backend.class_name)
    return cls


def _spec_arguments(kind: SpecKind, spec: str, kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Fill ``kwargs`` with what the spec names (address, path); the positional arguments."""
    backend = BACKENDS[kind]
    if spec == kind and backend.bare:
        if backend.bare_needs and backend.bare_needs not in kwargs:
            raise ConfigError(f"create_policy('{kind}') needs {backend.bare_needs}=PATH "
                              f"(or use the spec '{backend.prefix}PATH')")
        return ()
    if backend.prefix is None:
        return ()
    if backend.address:
        host, port = parse_address(spec, backend.prefix)
        kwargs.setdefault("host", host)
        kwargs.setdefault("port", port)
        return ()
    path = spec[len(backend.prefix):]
    if backend.path_kwarg is None:
        return (path,)
    if backend.path_kwarg in kwargs:
        raise ConfigError(f"policy spec {spec!r} already names the {backend.path_kwarg}; "
                          f"do not pass {backend.path_kwarg}= too")
    kwargs[backend.path_kwarg] = path
    return ()


def create_policy(spec: str, **kwargs: Any) -> Policy:
    """Build a policy from a spec string; keyword arguments go to the backend's constructor.

    >>> create_policy("replay:examples/droid_chunk.json")          # doctest: +SKIP
    >>> create_policy("scripted", env=env)                          # doctest: +SKIP
    >>> create_policy("cosmos3://gpu-box:8000", api_key="...")      # doctest: +SKIP
    >>> create_policy("diffusers:/ckpt/cosmos3", device="cuda")     # doctest: +SKIP
    >>> create_policy("openpi://gpu-box:8000", action_space="joint_velocity")  # doctest: +SKIP
    """
    kind = spec_kind(spec)
    if BACKENDS[kind].needs_env and kwargs.get("env") is None:
        raise ConfigError(f"the {kind} policy reads privileged simulator state: pass env=... "
                          f"(create_policy('{kind}', env=env))")
    args = _spec_arguments(kind, spec, kwargs)
    return _construct(policy_class(kind), *args, **kwargs)


def parse_policy_args(pairs: list[str] | None, option: str = "--policy-arg") -> dict[str, Any]:
    """``["num_inference_steps=4", "device=cuda"]`` -> keyword arguments for :func:`create_policy`.

    Values are read as JSON when they parse (numbers, true/false/null, lists), else kept as text.
    ``option`` names the command-line option in error messages.
    """
    kwargs: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ConfigError(f"{option} must look like KEY=VALUE (e.g. num_inference_steps=4), got {pair!r}")
        if key in kwargs:
            raise ConfigError(f"{option} {key!r} given twice")
        try:
            kwargs[key] = json.loads(text)
        except json.JSONDecodeError:
            kwargs[key] = text
    return kwargs
