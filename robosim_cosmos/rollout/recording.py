"""Recording runs as LeRobot datasets (``record_dataset``): the observer that stages each episode
where its worker runs it, the check that a resumed run's episodes were all staged, and the build
of the dataset from the staged episodes when the run (or suite) ends.

A frame is one control step: the DROID state and the three cameras measured before the step,
and the joint-position targets and gripper the controller was commanded at it (whatever the
policy's layout: a cosmos row's IK targets, a joint-velocity row's targets), so the recorded
actions replayed in joint-position mode drive the same trajectory.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..datasets.schemas import get_schema
from ..datasets.signals import flange_cartesian
from ..datasets.staging import EpisodeFacts, EpisodeStager, StagedEpisode, VideoSpec
from ..datasets.writer import Recording, build_datasets
from ..envs import task_of
from ..envs.scene import CONTROL_HZ
from ..errors import DatasetError, RunFolderError
from ..image_resize import resize_bilinear
from ..observations import CAMERAS, STATE_KEYS
from ..records.files import staged_episode
from ..records.results import EpisodeResult
from ..records.shards import Shard
from .config import RolloutConfig
from .observers import ChunkStart, Frames, Observer, Step, note_error


def video_spec(cfg: RolloutConfig) -> VideoSpec:
    """How ``cfg``'s recording encodes its cameras: its codec, at its schema's image size."""
    return VideoSpec(cfg.dataset_codec, get_schema(cfg.dataset_schema).image_size, int(CONTROL_HZ))


@dataclass
class _Frame:
    state: dict[str, np.ndarray]
    images: dict[str, np.ndarray]


class DatasetRecording(Observer):
    """Stages an episode into ``out/dataset_episodes/episode_<n>`` (:mod:`..datasets.staging`)."""

    def __init__(self, out: Path, cfg: RolloutConfig, episode: int) -> None:
        self.out, self.cfg, self.episode = out, cfg, episode
        self.spec = video_spec(cfg)
        self.stager = EpisodeStager(out / staged_episode(episode), self.spec)
        self.pending: _Frame | None = None

    def _frame(self, obs: Mapping[str, Any], frames: Frames) -> _Frame:
        """The state and images of now (rendered at once: the env moves on after this call)."""
        state = {key: np.asarray(obs[key], dtype=np.float64).copy() for key in STATE_KEYS}
        # DROID's cartesian_position is the flange pose of the measured joints. The env reads its
        # site, which MuJoCo computed before integrating the last physics substep (up to ~0.2 mm
        # behind the joints while moving), so the dataset takes it from forward kinematics.
        state["cartesian_position"] = flange_cartesian(state["joint_position"])
        height, width = self.spec.size
        images = {}
        for camera in CAMERAS:
            image = frames.image(camera)
            if image.shape[:2] != (height, width):  # the run renders another size than the schema's
                image = resize_bilinear(image, height, width)
            images[camera] = image
        return _Frame(state, images)

    def on_chunk(self, chunk: ChunkStart) -> None:
        if self.pending is None:  # the first chunk starts from the reset state
            self.pending = self._frame(chunk.obs, chunk.frames)

    def on_step(self, step: Step) -> None:
        assert self.pending is not None
        info = step.info
        self.stager.add(self.pending.state, self.pending.images, np.asarray(info["commanded_joint_position"]),
                        float(info["commanded_gripper"]))
        self.pending = self._frame(step.frames.obs, step.frames)

    def finish(self, result: EpisodeResult) -> None:
        if result.error is not None or self.stager.frames == 0:
            self.stager.abort()  # an episode that raised is not data: it is run again with --retry-errors
            return
        cfg = self.cfg
        scene = {"robot": cfg.robot, "render_quality": cfg.render_quality, "image_size": list(cfg.image_size),
                 "instruction": cfg.instruction, "stats": cfg.stats, "room": cfg.room}
        facts = EpisodeFacts(cfg.env_id, task_of(cfg.env_id), result.instruction or "", cfg.instruction_tier,
                             result.seed, result.episode, bool(result.success), cfg.camera_rig, result.camera_poses,
                             scene)
        try:
            path = self.stager.finish(facts)
            result.dataset_episode = str(path.relative_to(self.out))
        except Exception as exc:  # noqa: BLE001 - the episode's numbers stand; the dataset will lack it
            self.stager.abort()
            note_error(result, "record_dataset", exc)

    def abort(self) -> None:
        self.stager.abort()


# -- the run folder's staged episodes ---------------------------------------------------------

def _recorded(lines: Sequence[Mapping[str, Any]], env_id: str) -> list[Mapping[str, Any]]:
    """The completed episodes of ``env_id`` among ``lines`` (errored ones are not data)."""
    return [line for line in lines if line.get("env_id") == env_id and not line.get("error")]


def check_staged(folder: Path, lines: Sequence[Mapping[str, Any]], cfg: RolloutConfig) -> None:
    """RunFolderError, before anything runs, when a completed episode in ``folder`` was not staged
    for a dataset (a run without ``record_dataset``), or was staged with another encoding: resuming
    would build a dataset without it."""
    spec = video_spec(cfg)
    missing, other = [], []
    for line in _recorded(lines, cfg.env_id):
        rel = line.get("dataset_episode")
        if not isinstance(rel, str) or not (folder / rel).is_dir():
            missing.append(int(line["episode"]))
            continue
        try:
            staged = StagedEpisode.read(folder / rel)
        except DatasetError:
            missing.append(int(line["episode"]))
            continue
        if staged.spec != spec:
            other.append(f"episode {line['episode']}: {staged.spec.describe()}")
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        raise RunFolderError(
            f"{folder} holds {len(missing)} completed episode(s) that were not staged for a dataset ({shown}): a run "
            "without --record-dataset, or staged files deleted; they cannot join the dataset. Use another --out, or "
            "--overwrite to run them again")
    if other:
        raise RunFolderError(
            f"{folder} staged its episodes in another encoding than {cfg.dataset_codec} {spec.size[0]}x{spec.size[1]} "
            f"({other[0]}); give the --dataset-codec and a --dataset-schema of the same image size they were "
            "recorded with, or --overwrite")


def staged_episodes(folder: Path, lines: Sequence[Mapping[str, Any]], env_id: str) -> list[StagedEpisode]:
    """The staged episodes of a run folder's completed episodes, in episode order."""
    chosen = sorted(_recorded(lines, env_id), key=lambda line: int(line["episode"]))
    out = []
    for line in chosen:
        rel = line.get("dataset_episode")
        if not isinstance(rel, str):
            raise DatasetError(f"{folder}: episode {line['episode']} was not staged for a dataset; run it again "
                               "(--overwrite)")
        out.append(StagedEpisode.read(folder / rel))
    return out


def build_recording(cfg: RolloutConfig, runs: Sequence[tuple[Path, Sequence[Mapping[str, Any]], str]],
                    note: Callable[[str], None]) -> Recording | None:
    """Build ``cfg.record_dataset`` from the staged episodes of ``runs`` ((run folder, its result
    lines, env id) in suite order). A shard builds nothing: its episodes join the dataset once the
    shards are merged and the unsharded command runs on the merged folder."""
    if cfg.record_dataset is None:
        return None
    if isinstance(cfg.shard, Shard):
        note(f"shard {cfg.shard.label}: its episodes are staged in each run folder's dataset_episodes/; merge the "
             "shards (robosim-cosmos merge), then run the command without --shard on the merged folder to build "
             f"the dataset in {cfg.record_dataset}")
        return None
    episodes = [e for folder, lines, env_id in runs for e in staged_episodes(folder, lines, env_id)]
    recording = build_datasets(cfg.record_dataset, get_schema(cfg.dataset_schema), episodes,
                               [folder for folder, _, _ in runs], replace_other=cfg.overwrite, command=sys.argv)
    return recording
