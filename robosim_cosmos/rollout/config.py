"""``RolloutConfig``: everything a run depends on, in one frozen dataclass.

The CLI builds one, :func:`robosim_cosmos.rollout` accepts one (or its fields as keyword
arguments), ``summary.json`` records it (secrets redacted) and ``run.json`` records its
:meth:`~RolloutConfig.identity`: the fields that change what an episode means.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal, get_args

from .._version import __version__
from ..datasets.schemas import DEFAULT_SCHEMA, SCHEMA_NAMES, SchemaName, check_schema
from ..datasets.video import DEFAULT_CODEC, VIDEO_CODECS, VideoCodec, check_codec
from ..envs import InstructionTier, check_tier, task_of
from ..envs.camera_rig import DEFAULT_RIG, rig_text
from ..envs.rooms import DEFAULT_ROOM, ROOM_STYLES, RoomStyle, check_room
from ..envs.scene import RENDER_QUALITIES as RENDER_QUALITIES  # the CLI's choices
from ..envs.scene import RenderQuality, check_render_quality
from ..errors import ConfigError
from ..metrics.adaptive import AdaptiveRule
from ..metrics.world_model import SCORINGS, Scoring, check_scoring
from ..observations import DROID_IMAGE_SIZE
from ..policies.registry import SPEC_FORMS, backend_of, parse_policy_args, spec_stats
from ..policy_api import DEFAULT_OPEN_LOOP_STEPS
from ..records.redact import redact_kwargs
from ..records.shards import Shard
from .options import option, parse_image_size

Executor = Literal["local", "ray"]
EXECUTORS: tuple[Executor, ...] = get_args(Executor)
"""``local``: in this process or ``num_envs`` worker processes; ``ray``: ``num_envs`` Ray actors."""

Execution = Literal["native", "joint_position"]
EXECUTIONS: tuple[Execution, ...] = get_args(Execution)
ROBOTS_HELP = "embedded | menagerie | PATH"


@dataclass(frozen=True)
class RolloutConfig:
    """One closed-loop evaluation.

    env_id: a registered id (``robosim-cosmos envs``). policy: a spec string
    (:func:`robosim_cosmos.create_policy`), or a label when a ready policy object is run.
    Episode i uses seed ``seed + i``. Each chunk: re-anchor on the observed pose, ask the
    policy, execute the first ``open_loop_steps`` rows (None: the policy's own default, as its
    reference client runs it, e.g. 8 for openpi joint velocities, the whole chunk for joint
    positions; else 8). ``execution="joint_position"``
    decodes cosmos chunks to joint targets (IK from the observed joints) and runs the env
    in joint-position mode. ``max_steps`` overrides the env's time limit. ``steps_after_success``:
    an episode goes on this many steps after the task first succeeds (within the time limit) and
    succeeds if the task still holds then; 0 ends it on success. ``num_envs``
    worker processes run episodes in parallel, each with its own env and policy.
    ``render_quality``: the env's look, ``fast`` or ``faithful`` (textures, shadows, AA;
    several times slower; what an image policy sees, so part of the run identity).
    ``camera_rig``: the exterior cameras (``envs.camera_rig``): ``droid`` (poses drawn per episode
    like DROID's, the default), ``sim-evals`` (the public simulators' fixed poses) or two explicit
    poses (a list, or its JSON text); also part of the identity. ``room``: what surrounds the
    station (``envs.rooms``): ``droid`` (drawn per episode from DROID's scene-type mix, the
    default), one scene type, or ``plain``; part of the identity.
    ``instruction_tier``: which of the task's instruction templates the env samples from
    (``vague``, ``default`` or ``specific``; the scene of a seed is the same in every tier).
    ``image_size``: (height, width) of every camera (DROID records 180 × 320; RoboLab's Cosmos 3
    client renders 360 × 640 and sends the exteriors at half size).

    ``stats``: the action statistics the env de-normalizes cosmos rows with (a shipped domain or a
    stats JSON path; None: the policy checkpoint's own when it keeps them, ``baseline:CKPT``'s
    ``CKPT/stats.json``, else the embodiment's); part of the identity. ``record_dataset``: a folder
    that receives the completed episodes as a LeRobot v3.0 dataset in ``dataset_schema`` (cameras
    encoded with ``dataset_codec``) when the run ends: each worker stages its episodes in
    ``out/dataset_episodes/`` as they finish, so a resumed run adds to them, and the dataset is
    built from every staged episode of the run (of the suite). Not part of the identity.

    Re-running the same identity (:data:`IDENTITY_FIELDS`) into ``out`` resumes it; another
    identity is refused unless ``overwrite`` (delete the folder's results and start over).
    ``retry_errors``: on resume, run the episodes that ended with an error again (same seeds)
    and replace their lines. Policy arguments named like a secret (``api_key``, ``token``, ...)
    are written as ``***`` everywhere.

    ``world_model_scoring``: when a chunk carries a predicted video, score each predicted frame
    against the simulator's frame of the same view after the same step (``full``: PSNR and SSIM
    of frames and of the robot's pixels; ``frames``: frames only, no segmentation renders;
    ``off``). ``save_chunks``: write ``chunks/episode_<n>.npz`` (each chunk's start state, its
    executed rows and the frames that followed) for ``robosim-cosmos score``. Neither changes
    what an episode does, so neither is part of the identity.

    ``episodes_adaptive``: adaptive sampling (RoboLab's rule) instead of a fixed ``episodes``:
    at most this many episodes, run in order (episode i, seed ``seed + i``), and no new one is
    started once at least ``min_episodes`` completed (error-free) episodes are recorded and the
    width of their 95 % Beta interval (:func:`~.stats.beta_interval`) is at most ``ci_width``.
    Episodes already started then still finish and are recorded. ``episodes`` is not used with
    it, so giving both (``episodes`` other than its default 1) is a ConfigError, as are
    ``ci_width`` or ``min_episodes`` without it and ``min_episodes > episodes_adaptive`` (a rule
    that can never hold). Resuming continues with the next episode indices and runs nothing when
    the recorded episodes already satisfy the rule.
    """

    env_id: str = option(identity=True, help="env id, e.g. robosim_cosmos/DroidCubeInBowl-v0 (see `envs`)")
    policy: str = option(flag="--policy", required=True, identity=True,
                         help=f"policy spec: {' | '.join(SPEC_FORMS)}")
    episodes: int = option(1, flag="--episodes", arg=int, help="how many episodes (default {default})")
    seed: int = option(0, flag="--seed", arg=int, identity=True, help="episode i uses seed SEED + i")
    out: str = option("runs/rollout", flag="--out", required=True,
                      help="output folder; re-running the same settings into it resumes, other settings are refused")
    open_loop_steps: int | None = option(
        None, flag="--open-loop-steps", arg=int, identity=True,
        help="rows executed per chunk (default: the policy's own, as its reference client runs it (openpi: 8 for "
             "joint velocities, the whole chunk for joint positions), else 8)")
    instruction: str | None = option(None, flag="--instruction", identity=True, env="instruction",
                                     help="override the sampled instruction")
    video: bool = option(True, flag="--no-video", action="store_false", identity=True, help="skip the mp4s")
    robot: str = option("embedded", flag="--robot", identity=True, env="robot", help=f"{ROBOTS_HELP} (a Panda MJCF)")
    num_envs: int = option(1, flag="--num-envs", arg=int, help="worker processes (one env + policy each)")
    execution: Execution = option(
        "native", flag="--execution", choices=EXECUTIONS, identity=True,
        help="joint_position: decode cosmos chunks to joint targets and run the env in joint mode")
    max_steps: int | None = option(None, flag="--max-steps", arg=int, identity=True, env="max_episode_steps",
                                   help="override the env's time limit (steps)")
    steps_after_success: int = option(
        0, flag="--steps-after-success", arg=int, metavar="N", identity=True,
        help="keep running N more steps once the task first succeeds (the episode then succeeds if it still does): "
             "for recording demonstrations that settle past the success boundary instead of stopping on it "
             "(default {default}: end on success)")
    policy_kwargs: dict[str, Any] = option(
        flag="--policy-arg", action="append", metavar="KEY=VALUE", parse=parse_policy_args, identity=True,
        default_factory=dict, help="keyword argument for the policy backend, repeatable "
                                   "(e.g. num_inference_steps=4, device=cuda, dtype=bfloat16)")
    overwrite: bool = option(False, flag="--overwrite", action="store_true",
                             help="delete the --out folder's run (results.jsonl, summary.json, run.json, videos/) "
                                  "and start over")
    retry_errors: bool = option(False, flag="--retry-errors", action="store_true",
                                help="on resume, run the episodes that ended with an error again (same seeds) "
                                     "and replace their lines")
    render_quality: RenderQuality = option(
        "fast", flag="--render-quality", choices=RENDER_QUALITIES, identity=True, env="render_quality",
        help="fast: flat look (default); faithful: textures, shadows, anti-aliasing (slower)")
    camera_rig: str = option(
        DEFAULT_RIG, flag="--camera-rig", metavar="RIG", identity=True, env="camera_rig",
        help="the exterior cameras: droid (each episode draws both poses from the spread of real DROID "
             "calibrations; default), sim-evals (the public DROID simulators' fixed poses) or a JSON list of two "
             "poses, each [x, y, z, rx, ry, rz] as DROID records its extrinsics")
    room: RoomStyle = option(
        DEFAULT_ROOM, flag="--room", choices=ROOM_STYLES, identity=True, env="room",
        help="what surrounds the station: droid (each episode draws a room, work surface, clutter and lights from "
             "DROID's scene-type mix; default), one scene type (industrial_office, kitchen, office) or plain "
             "(the bare grey room)")
    instruction_tier: InstructionTier = option(
        "default", identity=True, env="instruction_tier",
        help="the instruction tier the env samples from (the CLI's --tiers)")
    world_model_scoring: Scoring = option(
        "frames", flag="--world-model-scoring", choices=SCORINGS,
        help="score predicted videos against the simulator's frames: frames (whole frames, the default), "
             "full (also the robot's pixels: a segmentation render per camera and step), off")
    save_chunks: bool = option(False, flag="--save-chunks", action="store_true",
                               help="save each chunk's start frames, executed rows and following frames to chunks/ "
                                    "(for `score`)")
    episodes_adaptive: int | None = option(
        None, flag="--episodes-adaptive", arg=int, metavar="MAX",
        help="adaptive sampling instead of --episodes: run episodes in order, at most MAX, and stop once the 95% "
             "Beta interval of the success rate is at most --ci-width wide over at least --min-episodes completed "
             "episodes (in a suite, each task and tier on its own)")
    ci_width: float = option(0.14, flag="--ci-width", arg=float, metavar="W",
                             help="with --episodes-adaptive: the interval width to stop at (default {default})")
    min_episodes: int = option(10, flag="--min-episodes", arg=int, metavar="N",
                               help="with --episodes-adaptive: completed episodes needed before stopping "
                                    "(default {default})")
    image_size: tuple[int, int] = option(
        DROID_IMAGE_SIZE, flag="--image-size", arg=parse_image_size, metavar="HxW", identity=True, env="image_size",
        help="camera image size (default {default}, DROID's; 360x640 as RoboLab's Cosmos 3 client)")
    executor: Executor = option(
        "local", flag="--executor", choices=EXECUTORS,
        help="local: this process or --num-envs worker processes (default); ray: --num-envs Ray actors")
    ray_address: str | None = option(
        None, flag="--ray-address", metavar="ADDR",
        help="with --executor ray: an existing cluster (HOST:PORT, ray://HOST:PORT or auto); default: a local Ray "
             "instance for this run")
    shard: Shard | str | None = option(
        None, flag="--shard", metavar="I/N", identity=True,
        help="run only shard I (0-based) of N: episodes dealt round-robin over task x tier x episode (a single run: "
             "over its episodes), into this --out; combine the shard folders with `robosim-cosmos merge`")
    stats: str | None = option(
        None, flag="--stats", metavar="DOMAIN_OR_PATH", identity=True, env="stats",
        help="action statistics the env de-normalizes cosmos rows with (a shipped domain or a stats JSON, e.g. "
             "from `robosim-cosmos action-stats`); default: a baseline:CKPT policy's own CKPT/stats.json, else the "
             "embodiment's own (droid_lerobot)")
    record_dataset: str | None = option(
        None, flag="--record-dataset", metavar="DIR",
        help="also write the completed episodes as a LeRobot v3.0 dataset into DIR when the run ends (each episode "
             "staged in OUT/dataset_episodes/ as it finishes, so a resumed run adds to it)")
    dataset_schema: SchemaName = option(
        DEFAULT_SCHEMA, flag="--dataset-schema", choices=SCHEMA_NAMES,
        help="with --record-dataset: the DROID schema (cosmos3-droid: NVIDIA's Cosmos 3 data, 360x640, success/ and "
             "failure/ side by side (default); openpi-droid; lerobot-droid)")
    dataset_codec: VideoCodec = option(
        DEFAULT_CODEC, flag="--dataset-codec", choices=VIDEO_CODECS,
        help="with --record-dataset: the camera streams' codec (av1: LeRobot's default (default); h264)")

    def __post_init__(self) -> None:
        task_of(self.env_id)  # ConfigError listing the ids
        if not isinstance(self.policy, str) or not self.policy:
            raise ConfigError(f"policy must be a spec string, got {self.policy!r}")
        for name in ("episodes", "open_loop_steps", "num_envs"):
            value = getattr(self, name)
            if name == "open_loop_steps" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ConfigError(f"seed must be an integer, got {self.seed!r}")
        if self.seed < 0:
            raise ConfigError(f"seed must be >= 0 (episode i uses seed + i; gymnasium rejects negative seeds), "
                              f"got {self.seed}")
        if self.max_steps is not None and (
            isinstance(self.max_steps, bool) or not isinstance(self.max_steps, int) or self.max_steps < 1
        ):
            raise ConfigError(f"max_steps must be a positive integer or None, got {self.max_steps!r}")
        after = self.steps_after_success
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise ConfigError(f"steps_after_success must be an integer >= 0, got {after!r}")
        if self.execution not in EXECUTIONS:
            raise ConfigError(f"unknown execution {self.execution!r}; valid: {list(EXECUTIONS)}")
        check_render_quality(self.render_quality)  # ConfigError naming the valid ones
        object.__setattr__(self, "camera_rig", rig_text(self.camera_rig))  # ConfigError for a bad rig
        check_room(self.room)
        check_tier(self.instruction_tier)  # ConfigError naming the tiers
        check_scoring(self.world_model_scoring)
        self._check_recording()
        object.__setattr__(self, "save_chunks", bool(self.save_chunks))
        self._check_adaptive()
        self._check_distribution()
        size = self.image_size
        if (isinstance(size, str) or not hasattr(size, "__len__") or len(size) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 16 for v in size)):
            raise ConfigError(f"image_size must be (height, width) in pixels, each at least 16, got {size!r}")
        object.__setattr__(self, "image_size", (int(size[0]), int(size[1])))
        if not isinstance(self.policy_kwargs, dict):
            raise ConfigError(f"policy_kwargs must be a dict, got {type(self.policy_kwargs).__name__}")
        object.__setattr__(self, "out", str(self.out))
        object.__setattr__(self, "robot", str(self.robot))
        object.__setattr__(self, "video", bool(self.video))
        object.__setattr__(self, "overwrite", bool(self.overwrite))
        object.__setattr__(self, "retry_errors", bool(self.retry_errors))

    def _identity_open_loop(self) -> int | str:
        """The open-loop steps as the identity records them: unset means 8 for every backend
        whose default is 8 (so folders written when 8 was the fixed default still resume), and
        ``"policy default"`` for the clients that bring their own (openpi, RoboArena). A ready
        Policy object with its own default should be given an explicit value."""
        if self.open_loop_steps is not None:
            return self.open_loop_steps
        try:
            own = backend_of(self.policy).own_open_loop
        except ConfigError:  # a label for a ready Policy object: recorded as before, 8
            own = False
        return "policy default" if own else DEFAULT_OPEN_LOOP_STEPS

    def _check_distribution(self) -> None:
        """ConfigError for executor, Ray address and shard options that are malformed or clash."""
        if self.executor not in EXECUTORS:
            raise ConfigError(f"unknown executor {self.executor!r}; valid: {list(EXECUTORS)}")
        if self.ray_address is not None and self.executor != "ray":
            raise ConfigError("ray_address (--ray-address) needs executor='ray' (--executor ray)")
        if self.shard is not None:
            shard = self.shard if isinstance(self.shard, Shard) else Shard.parse(str(self.shard))
            object.__setattr__(self, "shard", shard)
            if self.episodes_adaptive is not None:
                raise ConfigError("a shard runs a fixed share of the episodes; adaptive sampling decides the count "
                                  "as results come in: use one or the other")

    def _check_recording(self) -> None:
        """ConfigError for a malformed dataset recording or stats option."""
        check_schema(self.dataset_schema)
        check_codec(self.dataset_codec)
        if self.stats is None:
            # a checkpoint that carries its own statistics (baseline:CKPT) is decoded with them
            object.__setattr__(self, "stats", spec_stats(self.policy))
        for name in ("record_dataset", "stats"):
            value = getattr(self, name)
            if isinstance(value, os.PathLike):
                value = os.fspath(value)
                object.__setattr__(self, name, value)
            if value is not None and (not isinstance(value, str) or not value):
                raise ConfigError(f"{name} must be a non-empty path (or None), got {value!r}")

    def _check_adaptive(self) -> None:
        """ConfigError for adaptive-sampling options that are malformed or do not go together."""
        cap, width, least = self.episodes_adaptive, self.ci_width, self.min_episodes
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
            raise ConfigError(f"episodes_adaptive must be a positive integer (the most episodes to run) or None, "
                              f"got {cap!r}")
        if isinstance(width, bool) or not isinstance(width, (int, float)) or not 0.0 < width <= 1.0:
            raise ConfigError(f"ci_width must be a number in (0, 1] (the widest 95 % interval to stop at), "
                              f"got {width!r}")
        object.__setattr__(self, "ci_width", float(width))
        if isinstance(least, bool) or not isinstance(least, int) or least < 1:
            raise ConfigError(f"min_episodes must be a positive integer, got {least!r}")
        if cap is None:
            given = [k for k, v in ADAPTIVE_DEFAULTS.items() if getattr(self, k) != v]
            if given:
                raise ConfigError(f"{' and '.join(given)} only apply with episodes_adaptive (--episodes-adaptive MAX)")
            return
        if self.episodes != 1:
            raise ConfigError(f"give either episodes (a fixed count, got {self.episodes}) or episodes_adaptive "
                              f"(a maximum, got {cap}), not both")
        if least > cap:
            raise ConfigError(f"min_episodes ({least}) exceeds episodes_adaptive ({cap}): the stopping rule could "
                              "never hold; lower min_episodes or raise the maximum")

    def adaptive_rule(self) -> AdaptiveRule | None:
        """The adaptive-sampling stopping rule; None for a fixed number of episodes."""
        if self.episodes_adaptive is None:
            return None
        return AdaptiveRule(self.env_id, self.episodes_adaptive, self.ci_width, self.min_episodes)

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        """Every field name (the keyword arguments :func:`robosim_cosmos.rollout` accepts)."""
        return tuple(f.name for f in fields(cls))

    def redacted(self) -> RolloutConfig:
        """A copy whose secret policy arguments read ``***``."""
        return replace(self, policy_kwargs=redact_kwargs(self.policy_kwargs))

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form, secrets redacted (written into summary.json)."""
        doc = asdict(self)
        doc["policy_kwargs"] = redact_kwargs(self.policy_kwargs)
        doc["shard"] = self.shard.to_json() if isinstance(self.shard, Shard) else None
        doc["image_size"] = list(self.image_size)  # as it reads back from JSON
        return doc

    def identity(self) -> dict[str, Any]:
        """What makes two runs' episodes comparable (written to run.json): the
        :data:`IDENTITY_FIELDS`, secrets redacted, and the robosim_cosmos version."""
        doc = {name: getattr(self, name) for name in IDENTITY_FIELDS}
        doc["policy_kwargs"] = redact_kwargs(self.policy_kwargs)
        doc["shard"] = self.shard.to_json() if isinstance(self.shard, Shard) else None
        doc["open_loop_steps"] = self._identity_open_loop()
        doc["image_size"] = list(self.image_size)
        doc["version"] = __version__
        return doc

    @classmethod
    def from_identity(cls, identity: dict[str, Any], out: str, **fields: Any) -> RolloutConfig:
        """A config holding a recorded identity (run.json's) for the folder ``out`` and ``fields``
        for the rest; a shard in the identity is dropped (merged shards are one unsharded run)."""
        names = set(cls.option_names())
        values = {k: v for k, v in identity.items() if k in names and k != "shard"}
        if values.get("open_loop_steps") == "policy default":  # how the identity records "unset" for some
            values["open_loop_steps"] = None
        return cls(**{**values, "out": out, **fields})


IDENTITY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(RolloutConfig) if f.metadata["identity"])
"""The fields that change what an episode means: a run folder holds episodes of one identity.
``episodes``, ``num_envs``, ``out``, ``overwrite`` and ``retry_errors`` are not among them (more
episodes extend a run, more workers change nothing, the others say what to do with the folder);
nor are ``episodes_adaptive``, ``ci_width`` and ``min_episodes``, which like ``episodes`` only say
how many episodes run."""
ADAPTIVE_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(RolloutConfig)
                                     if f.name in ("ci_width", "min_episodes")}
"""RoboLab's adaptive-sampling rule: stop once the 95 % Beta interval is at most 0.14 wide over at
least 10 completed episodes."""
