"""``create_policy(spec, **kwargs)``: one string names every policy backend.

Forms:
- ``scripted``                 privileged scripted policy; needs ``env=`` (a DroidEnv or a wrapper)
- ``replay:PATH``              chunks from an action file, in order, cycling
- ``cosmos3://HOST:PORT``      a remote Cosmos 3 policy server (also ``"cosmos3"`` with host=, port=)
- ``openpi://HOST:PORT``       an openpi or RoboArena DROID policy server, π0 / π0.5 (also ``"openpi"``)
- ``diffusers:PATH``           a Cosmos 3 checkpoint in-process (also ``"diffusers"`` with model=)

Backends are imported only when asked for.
"""

from __future__ import annotations

import inspect
import json
from typing import Any, Literal, TypeVar, get_args

from ..errors import ConfigError
from ..policy_api import Policy
from ..service.protocol import OPENPI_URL_SCHEME, URL_SCHEME, parse_address

SpecKind = Literal["scripted", "replay", "cosmos3", "diffusers", "openpi"]
SPEC_KINDS: tuple[SpecKind, ...] = get_args(SpecKind)
SPEC_FORMS: tuple[str, ...] = (
    "scripted",
    "replay:PATH",
    f"{URL_SCHEME}HOST:PORT (or 'cosmos3' with host=, port=)",
    "diffusers:PATH (or 'diffusers' with model=)",
    f"{OPENPI_URL_SCHEME}HOST:PORT (or 'openpi' with host=, port=; action_space=joint_velocity|joint_position)",
)

NEEDS_ENV: tuple[SpecKind, ...] = ("scripted",)
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


def _unknown(spec: object) -> ConfigError:
    return ConfigError(f"unknown policy spec {spec!r}; valid forms: {', '.join(SPEC_FORMS)}")


def spec_kind(spec: str) -> SpecKind:
    """Which backend a spec names; ConfigError listing the forms otherwise."""
    if not isinstance(spec, str):
        raise _unknown(spec)
    if spec == "scripted":
        return "scripted"
    if spec.startswith("replay:") and len(spec) > len("replay:"):
        return "replay"
    if spec == "cosmos3" or spec.startswith(URL_SCHEME):
        return "cosmos3"
    if spec == "diffusers" or (spec.startswith("diffusers:") and len(spec) > len("diffusers:")):
        return "diffusers"
    if spec == "openpi" or spec.startswith(OPENPI_URL_SCHEME):
        return "openpi"
    raise _unknown(spec)


def create_policy(spec: str, **kwargs: Any) -> Policy:
    """Build a policy from a spec string; keyword arguments go to the backend's constructor.

    >>> create_policy("replay:examples/droid_chunk.json")          # doctest: +SKIP
    >>> create_policy("scripted", env=env)                          # doctest: +SKIP
    >>> create_policy("cosmos3://gpu-box:8000", api_key="...")      # doctest: +SKIP
    >>> create_policy("diffusers:/ckpt/cosmos3", device="cuda")     # doctest: +SKIP
    >>> create_policy("openpi://gpu-box:8000", action_space="joint_velocity")  # doctest: +SKIP
    """
    kind = spec_kind(spec)
    if kind == "scripted":
        if kwargs.get("env") is None:
            raise ConfigError(
                "the scripted policy reads privileged simulator state: pass env=... "
                "(create_policy('scripted', env=env))"
            )
        from .scripted import ScriptedPolicy

        return _construct(ScriptedPolicy, **kwargs)
    if kind == "replay":
        from .replay import ReplayPolicy

        return _construct(ReplayPolicy, spec[len("replay:"):], **kwargs)
    if kind == "cosmos3":
        from ..service.client import Cosmos3ServicePolicy

        if spec != "cosmos3":
            host, port = parse_address(spec)
            kwargs.setdefault("host", host)
            kwargs.setdefault("port", port)
        return _construct(Cosmos3ServicePolicy, **kwargs)
    if kind == "openpi":
        from ..service.openpi_client import OpenpiPolicy

        if spec != "openpi":
            host, port = parse_address(spec, OPENPI_URL_SCHEME)
            kwargs.setdefault("host", host)
            kwargs.setdefault("port", port)
        return _construct(OpenpiPolicy, **kwargs)
    from .diffusers_policy import DiffusersCosmos3Policy

    if spec != "diffusers":
        if "model" in kwargs:
            raise ConfigError(f"policy spec {spec!r} already names the model; do not pass model= too")
        kwargs["model"] = spec[len("diffusers:"):]
    elif "model" not in kwargs:
        raise ConfigError("create_policy('diffusers') needs model=PATH (or use the spec 'diffusers:PATH')")
    return _construct(DiffusersCosmos3Policy, **kwargs)


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
