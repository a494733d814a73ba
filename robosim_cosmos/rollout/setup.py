"""Build the env and policy a :class:`RolloutConfig` names, and connect them."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import gymnasium as gym

from ..errors import PolicyError
from ..policies.registry import NEEDS_ENV, create_policy, spec_kind
from ..policy_api import ENV_ACTION_MODE, LAYOUTS, Layout, Policy, open_loop_steps
from .config import RolloutConfig


def make_env(cfg: RolloutConfig, layout: Layout, obs_mode: str) -> gym.Env:
    """The config's env in the action mode that executes ``layout`` (or joint positions)."""
    # --execution joint_position decodes cosmos chunks; other layouts keep their own action mode
    convert = cfg.execution == "joint_position" and layout == "cosmos_ee_delta"
    action_mode = "joint_position" if convert else ENV_ACTION_MODE[layout]
    kwargs: dict[str, Any] = {"action_mode": action_mode, "obs_mode": obs_mode}
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if f.metadata["env"] and value is not None and value != "":  # unset: the env's own default
            kwargs[f.metadata["env"]] = value
    return gym.make(cfg.env_id, **kwargs)


_VIDEO_KWARGS = frozenset({"return_video", "predict_video"})


def _configure(policy: Policy, cfg: RolloutConfig) -> None:
    if not _VIDEO_KWARGS & set(cfg.policy_kwargs):  # an explicit backend option wins
        policy.set_return_video(cfg.video)  # without video nobody looks at it: skip the work


def executed_rows(cfg: RolloutConfig, policy: Policy, chunk_rows: int) -> int:
    """Rows of a ``chunk_rows``-row chunk the run executes: the run's ``open_loop_steps``, else the
    policy's default (known once it is connected), else 8; at most the chunk."""
    return open_loop_steps(cfg.open_loop_steps, policy.default_open_loop_steps, chunk_rows)


def _set_horizon(policy: Policy, cfg: RolloutConfig) -> None:
    policy.set_execution_horizon(executed_rows(cfg, policy, int(getattr(policy, "chunk_size", 1 << 30))))


def build(cfg: RolloutConfig, policy: Policy | None = None) -> tuple[gym.Env, Policy]:
    """(env, policy) for a config; ``policy`` overrides ``cfg.policy`` with a ready object."""
    if policy is None and spec_kind(cfg.policy) in NEEDS_ENV:
        # Built on the rollout's own env: it reads privileged state and never looks at images.
        env = make_env(cfg, "cosmos_ee_delta", "state")
        try:
            policy = create_policy(cfg.policy, env=env, **cfg.policy_kwargs)
            _configure(policy, cfg)
            _set_horizon(policy, cfg)
        except BaseException:
            env.close()
            raise
        if ENV_ACTION_MODE[policy.layout] != "cosmos" and cfg.execution == "native":
            env.close()
            env = make_env(cfg, policy.layout, "state")
        return env, policy
    owned = policy is None
    if policy is None:
        policy = create_policy(cfg.policy, **cfg.policy_kwargs)
    if not isinstance(policy, Policy):
        raise PolicyError(f"{type(policy).__name__} is not a robosim_cosmos Policy (subclass policy_api.Policy)")
    try:
        _configure(policy, cfg)
        policy.connect()  # a remote server announces its layout (and chunk, horizon) in the metadata frame
        _set_horizon(policy, cfg)
        if policy.layout not in ENV_ACTION_MODE:
            raise PolicyError(f"policy {type(policy).__name__} has layout {policy.layout!r}; valid: {list(LAYOUTS)}")
        return make_env(cfg, policy.layout, "rgb" if policy.needs_images else "state"), policy
    except BaseException:
        if owned:  # a policy built here (an open connection, a loaded model) is released here
            policy.close()
        raise
