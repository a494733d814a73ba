"""robosim_cosmos: Cosmos 3 robot policies in closed loop against a simulated DROID Franka."""

from . import _gl  # noqa: F401  (must run before anything imports mujoco)
from ._version import __version__
from .envs import ENV_IDS, register_envs

register_envs()

__all__ = ["ENV_IDS", "__version__", "create_policy", "register_envs", "rollout", "rollout_suite"]


def __getattr__(name: str) -> object:
    # Lazy: policies and the rollout runner load only when used.
    if name == "create_policy":
        from .policies.registry import create_policy

        return create_policy
    if name == "rollout":
        from importlib import import_module

        return import_module(".rollout", __name__)  # a callable module: rollout(...) runs it
    if name == "rollout_suite":
        from .rollout.suite import rollout_suite

        return rollout_suite
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
