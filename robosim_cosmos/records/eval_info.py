"""``eval_info.json``: a run's results in the shape lerobot-eval writes, for tools that read it.

lerobot's single-env evaluator (``eval_policy`` in ``lerobot/scripts/eval.py``, now
``lerobot/scripts/lerobot_eval.py``) returns, and its ``eval`` script saved as eval_info.json::

    {"per_episode": [{"episode_ix", "sum_reward", "max_reward", "success", "seed"}, ...],
     "aggregated": {"avg_sum_reward", "avg_max_reward", "pc_success", "eval_s", "eval_ep_s"},
     "video_paths": [...]}            # only when it rendered videos

How our results map onto it, where they differ:

- Our envs expose no reward in the results, only ``progress``, the env's subtask progress in
  [0, 1] at the last step (1.0 on success). ``sum_reward`` and ``max_reward`` are both that final
  progress (a stand-in, not a summed per-step reward), and the averages average it. A line
  without ``progress`` (an older run) counts 1.0 for a success and 0.0 otherwise.
- Episodes that ended with an error say nothing about the policy (as in summary.json): they are
  left out of ``per_episode`` and ``aggregated``; summary.json counts them.
- ``episode_ix`` is the run's episode number (results.jsonl ``episode``; lerobot numbers from 0
  the same way, episode i using seed start + i), ``seed`` its seed.
- ``pc_success``: percentage of the completed episodes that succeeded.
- ``eval_s``: the sum of the completed episodes' ``wall_seconds`` (with worker processes or
  after a resume this is not the wall-clock time of one command); ``eval_ep_s`` = ``eval_s`` / n.
- With no completed episode the averages, ``pc_success`` and ``eval_ep_s`` are null (lerobot
  would write NaN, which is not JSON) and ``eval_s`` is 0.0.
- ``video_paths``: when the run records videos, each completed episode's video, relative to the
  run folder; ``predicted_video_paths`` (newer lerobot's key for a world model's imagined video)
  likewise when any episode has one.
"""

from __future__ import annotations

from typing import Any


def _episode(line: dict[str, Any]) -> dict[str, Any]:
    progress = line.get("progress")
    reward = float(progress) if isinstance(progress, (int, float)) else float(bool(line.get("success")))
    return {"episode_ix": int(line["episode"]), "sum_reward": reward, "max_reward": reward,
            "success": bool(line.get("success")), "seed": int(line["seed"])}


def eval_info(lines: list[dict[str, Any]], video: bool = True) -> dict[str, Any]:
    """The eval_info.json document for a run's result lines (see the module docstring); ``video``:
    whether the run records videos (then ``video_paths`` is present, as in lerobot)."""
    completed = sorted((r for r in lines if not r.get("error")),
                       key=lambda r: (str(r.get("env_id")), int(r["episode"])))
    per_episode = [_episode(r) for r in completed]
    n = len(per_episode)
    eval_s = sum(float(r.get("wall_seconds") or 0.0) for r in completed)
    aggregated: dict[str, float | None] = {
        "avg_sum_reward": sum(e["sum_reward"] for e in per_episode) / n if n else None,
        "avg_max_reward": sum(e["max_reward"] for e in per_episode) / n if n else None,
        "pc_success": 100.0 * sum(e["success"] for e in per_episode) / n if n else None,
        "eval_s": eval_s,
        "eval_ep_s": eval_s / n if n else None,
    }
    info: dict[str, Any] = {"per_episode": per_episode, "aggregated": aggregated}
    if video:
        info["video_paths"] = [r["video"] for r in completed if r.get("video")]
    predicted = [r["pred_video"] for r in completed if r.get("pred_video")]
    if predicted:
        info["predicted_video_paths"] = predicted
    return info
