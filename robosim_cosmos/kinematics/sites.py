"""The project's frame sites on ``link7`` (flange, cosmos_ee, tcp): adding them, reading them.

Their offsets come from :func:`robosim_cosmos.kinematics.frames.site_offsets_from_flange`.
"""

from __future__ import annotations

import mujoco
import numpy as np

from ..errors import ConfigError
from . import frames

SITE_NAMES: tuple[str, ...] = tuple(frames.SITE_OFFSETS_FROM_FLANGE)
"""Sites the loader adds to ``link7``: flange, cosmos_ee, tcp."""
SITE_BODY = "link7"
SITE_GROUP = 5
SITE_SIZE = 0.005


def add_frame_sites(spec: mujoco.MjSpec, gripper: str = "franka_hand") -> None:
    """Add (or move) the frame sites on ``link7`` of ``spec`` for ``gripper``'s tcp."""
    link7 = spec.body(SITE_BODY)
    for name, offset in frames.site_offsets_from_flange(gripper).items():
        pose = frames.T_LINK7_FLANGE @ offset
        quat = np.zeros(4)
        mujoco.mju_mat2Quat(quat, np.ascontiguousarray(pose[:3, :3]).ravel())
        site = spec.site(name)
        if site is None:
            site = link7.add_site(name=name)
        site.pos = pose[:3, 3]
        site.quat = quat
        site.size = [SITE_SIZE, SITE_SIZE, SITE_SIZE]
        site.group = SITE_GROUP
        site.rgba = [1.0, 0.3, 0.0, 0.5]


def site_pose(model: mujoco.MjModel, data: mujoco.MjData, site: str | int) -> np.ndarray:
    """World pose [4, 4] of ``site`` (name or id) from ``data`` (after mj_kinematics/mj_forward)."""
    site_id = site if isinstance(site, int) else mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, site)
    if site_id < 0:
        raise ConfigError(f"model has no site named {site!r}")
    pose = np.eye(4)
    pose[:3, :3] = data.site_xmat[site_id].reshape(3, 3)
    pose[:3, 3] = data.site_xpos[site_id]
    return pose
