"""robosim_cosmos: Cosmos 3 robot policies in closed loop against a simulated DROID Franka."""

from . import _gl  # noqa: F401  (must run before anything imports mujoco)

__version__ = "0.1.0"

from .envs import ENV_IDS, register_envs  # noqa: E402

register_envs()

__all__ = ["ENV_IDS", "register_envs", "__version__"]
