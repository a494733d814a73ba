"""Replaying a LeRobot DROID dataset's episode in the station (``robosim-cosmos replay``).

The episode's joint-position actions (from joint velocities as ``q + 0.2·v`` when that is what the
dataset holds) drive the env in joint-position mode, and after every step the replayed joints and
flange are compared with the state the dataset recorded at the next frame. An episode robosim_cosmos
recorded carries its scene (env id, seed, tier, camera rig, robot, look): the same scene is built
from the seed, so the replay also reproduces the recorded outcome and, frame by frame, the recorded
camera images (compared as PSNR against the decoded video). Any other dataset is replayed in an
env of the caller's choice with the arm first placed at the episode's first recorded state.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from ..datasets.reader import DatasetReader, DroidEpisode
from ..datasets.schemas import get_schema
from ..datasets.signals import flange_cartesian
from ..envs.droid_env import DroidEnv
from ..errors import DatasetError
from ..image_resize import resize_bilinear
from ..kinematics.frames import JOINT_LIMITS, euler_xyz_to_matrix
from ..metrics.images import psnr
from ..records.results import value_stats

DEFAULT_REPLAY_ENV = "robosim_cosmos/DroidReach-v0"
"""The station a dataset recorded elsewhere is replayed in (no object in the arm's way)."""


@dataclass
class ReplayReport:
    """What a replay measured.

    Per step t (after executing action t): ``joint_error_rad`` (largest joint difference from the
    state recorded at frame t + 1), ``flange_position_mm`` and ``flange_rotation_deg`` (the flange
    of the replayed joints against the recorded ``cartesian_position``); the last action has no
    next frame, so these lists are one shorter than ``steps``. ``clipped_values``: action values
    held inside the Franka's joint limits or the gripper's [0, 1]. ``seeded``: the scene was rebuilt
    from the episode's seed; then ``recorded_success`` / ``replayed_success`` and, per video,
    ``frames`` (PSNR of the rendered views against the decoded frames, dB) are filled.
    """

    dataset: str
    episode: int
    env_id: str
    steps: int
    action_kind: str
    seeded: bool
    joint_error_rad: list[float] = field(default_factory=list)
    flange_position_mm: list[float] = field(default_factory=list)
    flange_rotation_deg: list[float] = field(default_factory=list)
    clipped_values: int = 0
    recorded_success: bool | None = None
    replayed_success: bool | None = None
    frames: dict[str, dict[str, float | int | None]] | None = None

    @property
    def reproduced(self) -> bool | None:
        """Whether the replay ended as the recording did (None when the dataset does not say)."""
        if self.recorded_success is None or self.replayed_success is None:
            return None
        return self.recorded_success == self.replayed_success

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["reproduced"] = self.reproduced
        doc["summary"] = {"joint_error_rad": value_stats(self.joint_error_rad),
                          "flange_position_mm": value_stats(self.flange_position_mm),
                          "flange_rotation_deg": value_stats(self.flange_rotation_deg)}
        return doc


def _env(env_id: str, scene: dict[str, Any] | None, steps: int, robot: str | None) -> gym.Env:
    kwargs: dict[str, Any] = {"action_mode": "joint_position", "obs_mode": "state", "max_episode_steps": steps + 1}
    if scene is not None:
        settings = scene.get("scene") or {}
        kwargs.update(instruction_tier=scene.get("instruction_tier") or "default",
                      camera_rig=scene.get("camera_rig") or "droid", robot=settings.get("robot") or "embedded",
                      render_quality=settings.get("render_quality") or "fast",
                      room=settings.get("room") or "plain")  # recorded before rooms: the plain one
        for key in ("image_size", "instruction", "stats"):
            if settings.get(key) is not None:
                kwargs[key] = tuple(settings[key]) if key == "image_size" else settings[key]
    if robot is not None:
        kwargs["robot"] = robot
    return gym.make(env_id, **kwargs)


def _flange_error(q: np.ndarray, recorded: np.ndarray) -> tuple[float, float]:
    """(mm, degrees) between the flange of joints ``q`` and a recorded cartesian_position [6]."""
    mine = flange_cartesian(q)
    turn = euler_xyz_to_matrix(mine[3:]) @ euler_xyz_to_matrix(recorded[3:]).T
    angle = np.arccos(np.clip((np.trace(turn) - 1.0) / 2.0, -1.0, 1.0))
    return float(np.linalg.norm(mine[:3] - recorded[:3]) * 1e3), float(np.degrees(angle))


def _actions(episode: DroidEpisode) -> tuple[np.ndarray, int]:
    """Joint-position env rows [T, 8] within the joint limits and [0, 1], and how many values had
    to be held inside them (reported, never hidden)."""
    rows = np.concatenate([episode.action_joint_position, episode.action_gripper_position[:, None]], axis=1)
    low = np.append(JOINT_LIMITS[:, 0], 0.0)
    high = np.append(JOINT_LIMITS[:, 1], 1.0)
    held = np.clip(rows, low, high)
    return held, int(np.count_nonzero(np.abs(held - rows) > 1e-6))


def replay_episode(dataset: str | os.PathLike[str], episode: int = 0, *, env_id: str | None = None,
                   robot: str | None = None, compare_frames: bool = True) -> ReplayReport:
    """Replay episode ``episode`` of the LeRobot dataset at ``dataset`` (any DROID schema).

    An episode robosim_cosmos recorded is replayed in its own scene (``env_id`` must then be None
    or its env); others in ``env_id`` (default :data:`DEFAULT_REPLAY_ENV`) from their first state.
    ``robot`` overrides the robot model. ``compare_frames``: for a seeded replay, render every
    recorded view at every frame and score it against the decoded video (costs a render per
    camera and step)."""
    reader = DatasetReader(dataset)
    ep = reader.droid(episode)
    scene = ep.scene
    if scene is not None and env_id is not None and env_id != scene["env_id"]:
        raise DatasetError(f"episode {episode} was recorded in {scene['env_id']}, not {env_id}; replay it without "
                           "--env (env_id=None), which rebuilds its scene from its seed")
    chosen = scene["env_id"] if scene is not None else (env_id or DEFAULT_REPLAY_ENV)
    env = _env(chosen, scene, ep.length, robot)
    try:
        base = env.unwrapped
        assert isinstance(base, DroidEnv)
        report = ReplayReport(str(dataset), episode, chosen, ep.length, ep.action_kind, scene is not None)
        if scene is not None:
            env.reset(seed=int(scene["seed"]))
            report.recorded_success = bool(scene["success"])
        else:
            env.reset(seed=0)
            base.place_robot(ep.joint_position[0], float(np.clip(ep.gripper_position[0], 0.0, 1.0)))
        rows, report.clipped_values = _actions(ep)
        views = _recorded_views(reader, episode) if scene is not None and compare_frames else {}
        scores: dict[str, list[float]] = {key: [] for key in views}
        info: dict[str, Any] = {}
        for t in range(ep.length):
            for key, (camera, frames) in views.items():
                scores[key].append(_score_view(base, camera, frames[t]))
            _, _, _, _, info = env.step(rows[t].astype(np.float32))
            if t + 1 < ep.length:
                q = base.joint_positions()
                report.joint_error_rad.append(float(np.abs(q - ep.joint_position[t + 1]).max()))
                mm, deg = _flange_error(q, ep.cartesian_position[t + 1])
                report.flange_position_mm.append(mm)
                report.flange_rotation_deg.append(deg)
        if scene is not None:
            report.replayed_success = bool(info.get("is_success"))
        if views:
            report.frames = {key: {"frames": len(values), "psnr_mean": float(np.mean(values)),
                                   "psnr_min": float(np.min(values))} for key, values in scores.items()}
        return report
    finally:
        env.close()


def _recorded_views(reader: DatasetReader, episode: int) -> dict[str, tuple[str, np.ndarray]]:
    """Each video of an episode the schema names a camera for: (camera, frames [T, H, W, 3])."""
    name = reader.schema_name
    if name is None:
        return {}
    schema = get_schema(name)
    return {f.key: (f.camera, reader.frames(episode, f.key)[0]) for f in schema.videos if f.key in reader.video_keys}


def _score_view(base: DroidEnv, camera: str, recorded: np.ndarray) -> float:
    image = base.render_camera(camera)
    if image.shape != recorded.shape:
        image = resize_bilinear(image, recorded.shape[0], recorded.shape[1])
    return psnr(recorded, image)
