"""``create_policy(spec, **kwargs)``: one string names every policy backend.

Forms:
- ``scripted``                 privileged scripted policy; needs ``env=`` (a DroidEnv or a wrapper)
- ``replay:PATH``              chunks from an action file, in order, cycling
- ``cosmos3://HOST:PORT``      a remote Cosmos 3 policy server (also ``"cosmos3"`` with host=, port=)
- ``diffusers:PATH``           a Cosmos 3 checkpoint in-process (also ``"diffusers"`` with model=)

Backends are imported only when asked for.
"""

from __future__ import annotations

from typing import Any

SPEC_FORMS = (
    "scripted",
    "replay:PATH",
    "cosmos3://HOST:PORT (or 'cosmos3' with host=, port=)",
    "diffusers:PATH (or 'diffusers' with model=)",
)

# Static facts the rollout runner needs before it can build the policy (scripted needs the env).
NEEDS_ENV = ("scripted",)


def _unknown(spec: object) -> ValueError:
    return ValueError(f"unknown policy spec {spec!r}; valid forms: {', '.join(SPEC_FORMS)}")


def spec_kind(spec: str) -> str:
    """'scripted' | 'replay' | 'cosmos3' | 'diffusers'; ValueError listing the forms otherwise."""
    if not isinstance(spec, str):
        raise _unknown(spec)
    if spec == "scripted":
        return "scripted"
    if spec.startswith("replay:") and len(spec) > len("replay:"):
        return "replay"
    if spec == "cosmos3" or spec.startswith("cosmos3://"):
        return "cosmos3"
    if spec == "diffusers" or (spec.startswith("diffusers:") and len(spec) > len("diffusers:")):
        return "diffusers"
    raise _unknown(spec)


def _host_port(spec: str) -> tuple[str, int]:
    rest = spec[len("cosmos3://"):].rstrip("/")
    if rest.startswith("["):  # [ipv6]:port
        host, _, port = rest[1:].partition("]:")
    else:
        host, _, port = rest.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"policy spec {spec!r}: expected cosmos3://HOST:PORT (e.g. cosmos3://127.0.0.1:8000)")
    return host, int(port)


def create_policy(spec: str, **kwargs: Any):
    """Build a policy from a spec string; keyword arguments go to the backend's constructor.

    >>> create_policy("replay:examples/droid_chunk.json")          # doctest: +SKIP
    >>> create_policy("scripted", env=env)                          # doctest: +SKIP
    >>> create_policy("cosmos3://gpu-box:8000", api_key="...")      # doctest: +SKIP
    >>> create_policy("diffusers:/ckpt/cosmos3", device="cuda")     # doctest: +SKIP
    """
    kind = spec_kind(spec)
    if kind == "scripted":
        if kwargs.get("env") is None:
            raise ValueError(
                "the scripted policy reads privileged simulator state: pass env=... "
                "(create_policy('scripted', env=env))"
            )
        env = kwargs.pop("env")
        from .scripted import ScriptedPolicy

        return ScriptedPolicy(env, **kwargs)
    if kind == "replay":
        from .replay import ReplayPolicy

        return ReplayPolicy(spec[len("replay:"):], **kwargs)
    if kind == "cosmos3":
        from .cosmos3_client import Cosmos3ServicePolicy

        if spec != "cosmos3":
            host, port = _host_port(spec)
            kwargs.setdefault("host", host)
            kwargs.setdefault("port", port)
        return Cosmos3ServicePolicy(**kwargs)
    # diffusers
    from .diffusers_policy import DiffusersCosmos3Policy

    if spec != "diffusers":
        if "model" in kwargs:
            raise ValueError(f"policy spec {spec!r} already names the model; do not pass model= too")
        kwargs["model"] = spec[len("diffusers:"):]
    elif "model" not in kwargs:
        raise ValueError("create_policy('diffusers') needs model=PATH (or use the spec 'diffusers:PATH')")
    return DiffusersCosmos3Policy(**kwargs)


def parse_policy_args(pairs: list[str] | None) -> dict[str, Any]:
    """``["num_inference_steps=4", "device=cuda"]`` -> keyword arguments for :func:`create_policy`.

    Values are read as JSON when they parse (numbers, true/false/null, lists), else kept as text.
    """
    import json

    kwargs: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ValueError(f"--policy-arg must look like KEY=VALUE (e.g. num_inference_steps=4), got {pair!r}")
        if key in kwargs:
            raise ValueError(f"--policy-arg {key!r} given twice")
        try:
            kwargs[key] = json.loads(text)
        except json.JSONDecodeError:
            kwargs[key] = text
    return kwargs


def needs_images(policy: object) -> bool:
    """Whether a policy reads camera images (attribute ``needs_images``, default True)."""
    return bool(getattr(policy, "needs_images", True))
