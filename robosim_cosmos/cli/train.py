"""``robosim-cosmos train --dataset DIR --out CKPT``: train the baseline visuomotor policy on
recorded LeRobot datasets (seeded, deterministic on CPU, resumable, with a time budget)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..rollout.options import parse_image_size
from ..training import TrainOptions, build_training_set, train
from ..training.data import PADS
from ..training.loop import BALANCES, IMAGE_SIZE, KEYPOINTS, OPEN_LOOP_STEPS, make_config
from .action_stats import dataset_roots


def run(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    # a recording folder holds success/ and failure/: only successes are demonstrations
    roots = [root for path in args.dataset for root in dataset_roots(path) if root.name != "failure"]
    options = TrainOptions(steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                           max_minutes=args.max_minutes, save_every=args.save_every, threads=args.threads,
                           val_fraction=args.val_fraction, balance=args.balance, ema=args.ema)
    if not args.quiet:
        print(f"reading {len(roots)} dataset(s): {', '.join(map(str, roots))}", file=sys.stderr)
    bar_read = None if args.quiet else tqdm(desc="decoding episodes", unit="ep", file=sys.stderr)

    def read_progress(done: int, total: int) -> None:
        if bar_read is not None:
            bar_read.total = total  # per dataset: the bar restarts for each
            bar_read.n = done
            bar_read.refresh()

    data = build_training_set(roots, args.image_size, args.camera, chunk=16, cache=args.cache, progress=read_progress,
                              pad=args.pad, drop_misses=args.drop_misses)
    if bar_read is not None:
        bar_read.close()
    config = make_config(data, args.image_size, args.camera, 16, coords=args.coords, keypoints=args.keypoints,
                         open_loop_steps=args.open_loop_steps, ee_state=args.ee_state)
    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not (out / "train_state.json").is_file():
        raise ConfigError(f"{out} exists and holds no training run to resume; choose an empty folder")
    bar = None if args.quiet else tqdm(total=options.steps, desc="training", unit="step", file=sys.stderr)

    def on_step(step: int, steps: int, loss: float) -> None:
        if bar is not None:
            bar.update(step - bar.n)
            bar.set_postfix(loss=f"{loss:.4f}")

    result = train(data, out, options, config, on_step)
    if bar is not None:
        bar.close()
    doc: dict[str, Any] = result.to_json()
    (out / "train_result.json").write_text(json.dumps(doc, indent=1) + "\n")
    last_val = f", validation L1 {result.val_losses[-1][1]:.4f}" if result.val_losses else ""
    print(f"{result.step} steps ({'stopped for --max-minutes; ' if result.stopped_for_budget else ''}"
          f"{result.total_seconds / 60:.1f} min in all, {result.samples_per_s:.0f} samples/s), "
          f"{result.samples} samples, {result.parameters / 1e6:.2f} M parameters, train L1 "
          f"{result.losses[-1][1] if result.losses else float('nan'):.4f}{last_val} -> {out} "
          f"(run it with --policy baseline:{out})")
    return 0


def add(sub: Any) -> None:
    p = sub.add_parser(
        "train", help="train the baseline visuomotor policy on recorded datasets",
        description="Train the small baseline policy (an exterior and the wrist camera, joints, instruction -> a "
                    "16-row cosmos_ee_delta chunk normalized with the dataset's own q01/q99) on LeRobot datasets "
                    "recorded with `robosim-cosmos record`. Seeded and deterministic on CPU; writes a checkpoint "
                    "folder (model.safetensors, config.json, stats.json) every --save-every steps; the same "
                    "command again resumes a killed run from its last checkpoint.")
    p.add_argument("--dataset", action="append", required=True, metavar="DIR",
                   help="a dataset root (or a recording folder with success/ and failure/); repeatable")
    p.add_argument("--out", required=True, metavar="CKPT", help="the checkpoint folder (created; resumed if it holds "
                                                                 "a run)")
    p.add_argument("--steps", type=int, default=5500, help="optimizer steps (the learning-rate schedule's length; "
                                                           "default %(default)s)")
    p.add_argument("--max-minutes", type=float, default=None, metavar="M",
                   help="stop after M minutes of training (a checkpoint is written then)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save-every", type=int, default=250, metavar="STEPS")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default %(default)s)")
    p.add_argument("--val-fraction", type=float, default=0.05,
                   help="episodes held out for a validation loss (default %(default)s)")
    p.add_argument("--balance", choices=BALANCES, default="frames",
                   help="frames: every frame once per epoch; sqrt_episodes: a frame's chance ∝ 1/√(episode length), "
                        "so short tasks (a Reach is ~15 steps) weigh more (default %(default)s)")
    p.add_argument("--ema", type=float, default=0.0, metavar="DECAY",
                   help="save an exponential moving average of the weights with this decay per step (e.g. 0.999; "
                        "default 0: the last step's weights)")
    p.add_argument("--pad", choices=PADS, default="still",
                   help="targets past an episode's end (it ends the step the task succeeds): continue repeats the "
                        "last row, still holds still there (default %(default)s)")
    p.add_argument("--drop-misses", action="store_true",
                   help="in an episode where the fingers close on nothing (recorded with --policy-arg miss=M), leave "
                        "out the frames before that: the policy learns the way out of a miss, not the miss")
    p.add_argument("--image-size", type=parse_image_size, default=IMAGE_SIZE, metavar="HxW",
                   help="each camera's size at the model's input (default {}x{})".format(*IMAGE_SIZE))
    p.add_argument("--camera", default="exterior_image_1_left", help="the exterior camera the model reads")
    p.add_argument("--cache", default=None, metavar="DIR",
                   help="a folder for each dataset's decoded, downscaled frames and targets: written once, reused "
                        "while the dataset and settings are the same (decoding video is the slow part)")
    p.add_argument("--coords", action="store_true",
                   help="feed each pixel's x and y to the image encoders as two extra channels (CoordConv)")
    p.add_argument("--keypoints", type=int, default=KEYPOINTS, metavar="K",
                   help="spatial-softmax keypoints per camera beside the flattened features (0: none; "
                        "default %(default)s)")
    p.add_argument("--ee-state", action=argparse.BooleanOptionalAction, default=True,
                   help="append the flange pose (forward kinematics of the joints) to the state the model reads "
                        "(default: on)")
    p.add_argument("--open-loop-steps", type=int, default=OPEN_LOOP_STEPS, metavar="N",
                   help="rows of each chunk a rollout of the checkpoint executes before asking again "
                        "(saved with it; a rollout's --open-loop-steps overrides it; default %(default)s)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)
