"""One self-contained HTML page comparing finished runs: :func:`build_report`.

The page holds everything it shows (CSS inline, plots and stills as ``data:`` images, no script,
no address outside itself), so it can be mailed, archived or opened offline. Sections: what was
compared, success per task and per instruction tier with 95 % intervals, world-model error
against the horizon step, events, trajectory metrics, and a still from each episode's video.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from itertools import pairwise
from pathlib import Path
from typing import Any

from .._optional import require
from .._version import __version__
from ..errors import ConfigError
from ..records.results import write_atomic
from ..records.suite_summary import env_name
from . import plots
from .html import STYLE, Markup, esc, img, join, labelled, table, tag
from .runs import BETA, INTERVAL_NAMES, WILSON, RunData, Stats, interval, load_runs, tier_order
from .stills import stills

MAX_ERRORS = 50
"""Errored episodes listed per run at most (the rest are counted)."""
MAX_STILLS = 24
"""Stills per run at most: enough to see how a policy behaves, small enough to keep the page light."""
TRAJECTORY_COLUMNS = (("path_length_m", "path length (m)", 3), ("mean_speed_m_s", "mean speed (m/s)", 3),
                      ("max_speed_m_s", "max speed (m/s)", 3), ("sparc", "SPARC", 2),
                      ("time_to_success_s", "time to success (s)", 2))
VERSION_KEYS = ("robosim_cosmos", "mujoco", "python", "torch", "diffusers")
"""The versions the header lists (summary.json records a few more)."""
WORLD_MODEL_COLUMNS = (("psnr", "PSNR (dB)", 2), ("ssim", "SSIM", 3), ("robot_psnr", "robot PSNR (dB)", 2),
                       ("robot_ssim", "robot SSIM", 3))


# -- formatting --------------------------------------------------------------------------------

def _num(value: object, digits: int = 2) -> str:
    return f"{value:.{digits}f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "—"


def _pct(value: object) -> str:
    return f"{100 * value:.1f} %" if isinstance(value, (int, float)) else "n/a"


def _ci(stats: Stats, key: str) -> str:
    value = stats.get(key)
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        return f"[{100 * value[0]:.1f}, {100 * value[1]:.1f}] %"
    return "—"


def _who(run: RunData, i: int) -> Markup:
    return labelled(plots.colour(i), run.label)


# -- sections ----------------------------------------------------------------------------------

def _when(stamp: str | None) -> str:
    """run.json's ``created`` (ISO 8601 with offset) as ``YYYY-MM-DD HH:MM UTC``; as written otherwise."""
    if not stamp:
        return "—"
    try:
        return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S%z").astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return stamp


def _notes(run: RunData) -> str:
    notes = [run.unfinished] if run.unfinished else []
    if run.interrupted:
        notes.append(f"interrupted by {run.interrupted}: partial results")
    if run.adaptive:
        reason = run.adaptive.get("reason") or ("stopped early" if run.adaptive.get("stopped") else "")
        notes.append(f"adaptive episodes{': ' + str(reason) if reason else ''}")
    return "; ".join(notes) or "—"


def _header(runs: list[RunData]) -> Markup:
    env_ids = list(dict.fromkeys(e for run in runs for e in run.env_ids))
    runs_rows = [[_who(run, i), tag("code", run.policy), run.kind, ", ".join(env_name(e) for e in run.env_ids),
                  ", ".join(run.tiers), run.overall.get("episodes"), run.overall.get("completed", "—"),
                  run.overall.get("errors", 0), _notes(run)] for i, run in enumerate(runs)]
    provenance = [[_who(run, i), tag("code", run.path), tag("span", _when(run.created), class_="nowrap"),
                   ", ".join(f"{k} {v}" for k, v in run.versions.items() if k in VERSION_KEYS and v) or "—"]
                  for i, run in enumerate(runs)]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return join([
        tag("header", join([
            tag("h1", "Evaluation report"),
            tag("p", f"{len(runs)} run(s) compared over {len(env_ids)} task(s); generated {stamp} by "
                     f"robosim-cosmos {__version__}.", class_="meta"),
        ])),
        tag("section", join([
            tag("h2", "What was compared"),
            table(["run", "policy", "kind", "tasks", "tiers", "episodes", "completed", "errors", "notes"], runs_rows,
                  numeric=(5, 6, 7)),
            table(["run", "folder", "started", "versions"], provenance, caption="Provenance"),
            tag("p", join(["Env ids: ", join((tag("code", e) for e in env_ids), ", ")]), class_="note"),
        ]), class_="card"),
    ])


def _interval_note(runs: list[RunData]) -> str:
    methods = {run.label: interval(run.overall)[1] for run in runs}
    if set(methods.values()) == {BETA}:
        return f"Intervals shown (error bars): {INTERVAL_NAMES[BETA]}."
    if set(methods.values()) == {WILSON}:
        return (f"Intervals shown (error bars): {INTERVAL_NAMES[WILSON]} (these runs record no Beta interval).")
    wilson = ", ".join(label for label, m in methods.items() if m == WILSON)
    return (f"Intervals shown (error bars): {INTERVAL_NAMES[BETA]} where the run records it, else the "
            f"{INTERVAL_NAMES[WILSON]} (runs: {wilson}).")


Group = tuple[str, Callable[[RunData], Stats | None]]
"""A table's row name and how to get a run's statistics for it (None: the run has no such row)."""


def _stats_rows(runs: list[RunData], groups: Sequence[Group]) -> list[list[Any]]:
    rows = []
    for name, get in groups:
        for i, run in enumerate(runs):
            s = get(run)
            if s is None:
                continue
            rows.append([name, _who(run, i), f"{s.get('successes', 0)}/{s.get('completed', s.get('episodes'))}",
                         _pct(s.get("success_rate")), _ci(s, "ci95"), _ci(s, "ci95_beta"),
                         _num(s.get("mean_progress")), s.get("errors", 0)])
    return rows


def _bars(runs: list[RunData], groups: Sequence[str], names: Sequence[str],
          get: Callable[[RunData, str], Stats | None], alt: str) -> Markup:
    series = []
    for i, run in enumerate(runs):
        cells = [get(run, g) for g in groups]
        series.append(plots.BarSeries(run.label, plots.colour(i),
                                      [None if c is None else c.get("success_rate") for c in cells],
                                      [None if c is None else interval(c)[0] for c in cells],
                                      [c is None for c in cells]))
    return img(plots.success_bars(names, series), alt, class_="plot")


def _success(runs: list[RunData]) -> Markup:
    env_ids = list(dict.fromkeys(e for run in runs for e in run.env_ids))
    tiers = tier_order([t for run in runs for t in run.tiers])
    headers = ["", "run", "k/n", "rate", "Wilson 95 %", "Beta 95 %", "mean progress", "errors"]
    by_task = [(env_name(e), lambda r, e=e: r.per_task.get(e)) for e in env_ids]
    by_tier = [(t, lambda r, t=t: r.per_tier.get(t)) for t in tiers]
    parts = [
        tag("h2", "Success rate"),
        tag("p", _interval_note(runs) + " k/n counts completed episodes; errored ones are listed apart.",
            class_="note"),
        tag("div", join([
            tag("div", join([tag("h3", "By task"), _bars(runs, env_ids, [env_name(e) for e in env_ids],
                                                           lambda r, e: r.per_task.get(e), "success rate by task")])),
            tag("div", join([tag("h3", "By instruction tier"), _bars(runs, tiers, tiers,
                                                                       lambda r, t: r.per_tier.get(t),
                                                                       "success rate by instruction tier")])),
        ]), class_="plots"),
        table(headers[1:], [row[1:] for row in _stats_rows(runs, [("", lambda r: r.overall)])],
              numeric=(1, 2, 3, 4, 5, 6), caption="Overall"),
        table(["task", *headers[1:]], _stats_rows(runs, by_task), numeric=(2, 3, 4, 5, 6, 7), caption="By task"),
        table(["tier", *headers[1:]], _stats_rows(runs, by_tier), numeric=(2, 3, 4, 5, 6, 7),
              caption="By instruction tier"),
    ]
    if any(len(run.cells) > 1 for run in runs):
        parts.append(_heatmaps([run for run in runs if len(run.cells) > 1], runs, env_ids, tiers))
    if any(len(run.env_ids) > 1 and len(run.tiers) > 1 for run in runs):  # else one of the tables above says it
        grid = [(f"{env_name(e)} / {t}", lambda r, e=e, t=t: r.cells.get((e, t))) for e in env_ids for t in tiers]
        # the long form stays for copying numbers out, folded: the heatmaps are what one reads
        parts.append(tag("details", join([tag("summary", "By task and tier, as a table"),
                                          table(["task / tier", *headers[1:]], _stats_rows(runs, grid),
                                                numeric=(2, 3, 4, 5, 6, 7), caption="By task and tier")])))
    return tag("section", join(parts), id="success", class_="card")


def heat_colour(rate: float) -> str:
    """Background of a heatmap cell: red (0 %) through pale yellow (50 %) to green (100 %)."""
    stops = ((0.0, (214, 96, 77)), (0.5, (254, 224, 139)), (1.0, (102, 189, 99)))
    rate = min(1.0, max(0.0, float(rate)))
    for (a, ca), (b, cb) in pairwise(stops):
        if rate <= b:
            f = (rate - a) / (b - a)
            return "#" + "".join(f"{round(x + f * (y - x)):02x}" for x, y in zip(ca, cb, strict=True))
    return "#66bd63"


def _heat_cell(run: RunData, env_id: str, tier: str) -> Markup:
    stats = run.cells.get((env_id, tier))
    if stats is None or stats.get("success_rate") is None:
        return tag("td", "—", class_="heat empty", title=f"{env_name(env_id)} / {tier}: not run")
    rate = float(stats["success_rate"])
    bounds, method = interval(stats)
    k, n = stats.get("successes", 0), stats.get("completed", stats.get("episodes"))
    band = f"[{100 * bounds[0]:.0f}, {100 * bounds[1]:.0f}]" if bounds else ""
    title = (f"{env_name(env_id)} / {tier}: {k}/{n} = {100 * rate:.1f} %"
             + (f", {INTERVAL_NAMES[method]} [{100 * bounds[0]:.1f}, {100 * bounds[1]:.1f}] %" if bounds else ""))
    body = join([tag("span", f"{100 * rate:.0f} %", class_="rate"), tag("span", band, class_="band")])
    return tag("td", body, class_="heat", title=title, style=f"background:{heat_colour(rate)}",
               data_rate=f"{rate:.4f}", data_k=k, data_n=n)


def _heatmaps(runs: list[RunData], all_runs: list[RunData], env_ids: Sequence[str], tiers: Sequence[str]) -> Markup:
    """Per run, task × tier success rates as a coloured grid, each cell's 95 % interval beside its
    rate and the whole count on hover."""
    blocks = []
    for run in runs:
        i = all_runs.index(run)
        shown = [t for t in tiers if t in run.tiers]
        rows = [[tag("th", env_name(e), scope="row"), *[_heat_cell(run, e, t) for t in shown]] for e in env_ids
                if e in run.env_ids]
        head = tag("tr", join([tag("th", "task / tier"), *[tag("th", t) for t in shown]]))
        body = join(tag("tr", join(row)) for row in rows)
        blocks.append(tag("div", join([tag("h3", _who(run, i)),
                                       tag("table", join([tag("thead", head), tag("tbody", body)]),
                                           class_="heatmap")]), class_="wide"))
    note = tag("p", "Each cell: success rate, its 95 % interval in brackets, the count on hover; colour from red "
                    "(0 %) to green (100 %).", class_="note")
    return join([tag("h3", "By task and tier"), note, *blocks])


def _world_model(runs: list[RunData]) -> Markup:
    scored = [(i, run) for i, run in enumerate(runs) if run.world_model]
    parts: list[object] = [tag("h2", "World model: prediction error against horizon step")]
    if not scored:
        parts.append(tag("p", "No run has world-model scores: no policy's chunks carried a predicted video, or the "
                              "runs were recorded before world-model scoring.", class_="note"))
        return tag("section", join(parts), id="world-model", class_="card")
    parts.append(tag("p", "Predicted frame k of each chunk against the frame the simulator rendered after executing "
                          "row k, from the view the model was conditioned on; pooled over all frames of the completed "
                          "episodes. PSNR is capped at 100 dB (identical frames); a perfect predictor scores 100 dB "
                          "and SSIM 1.0. Dashed lines: the robot's pixels only.", class_="note"))
    curves = [plots.Curve(run.label, plots.colour(i), run.world_model.get("per_step") or {})
              for i, run in scored if run.world_model]
    if any(c.per_step.get("step") for c in curves):
        parts.append(img(plots.horizon_curves(curves), "PSNR and SSIM against horizon step", class_="plot"))
    rows = [[_who(run, i), tag("code", wm.get("view")), wm.get("episodes"), wm.get("frames"),
             *(_num(wm.get(k), d) for k, _, d in WORLD_MODEL_COLUMNS)]
            for i, run in scored if (wm := run.world_model)]
    parts.append(table(["run", "view", "episodes", "frames", *(h for _, h, _ in WORLD_MODEL_COLUMNS)], rows,
                       numeric=range(2, 8), caption="Means over all scored frames"))
    unscored = [run.label for run in runs if not run.world_model]
    if unscored:
        parts.append(tag("p", f"No world-model scores in: {', '.join(unscored)}.", class_="note"))
    return tag("section", join(parts), id="world-model", class_="card")


def _events(runs: list[RunData]) -> Markup:
    names = list(dict.fromkeys(n for run in runs for n in (run.overall.get("events") or {})))
    parts: list[object] = [tag("h2", "Events")]
    if not names:
        parts.append(tag("p", "No run records events.", class_="note"))
        return tag("section", join(parts), id="events", class_="card")
    parts.append(tag("p", "Completed episodes in which an event happened at least once, of all completed episodes, "
                          "and how often it happened in them.", class_="note"))
    rows = []
    for name in names:
        row: list[object] = [name.replace("_", " ")]
        for run in runs:
            ev = (run.overall.get("events") or {}).get(name)
            n = run.overall.get("completed", run.overall.get("episodes"))
            row.append("—" if not isinstance(ev, dict) else f"{ev.get('episodes', 0)} of {n} ({ev.get('count', 0)}×)")
        rows.append(row)
    parts.append(table(["event", *(_who(run, i) for i, run in enumerate(runs))], rows,
                       numeric=range(1, len(runs) + 1)))
    return tag("section", join(parts), id="events", class_="card")


def _trajectory(runs: list[RunData]) -> Markup:
    parts: list[object] = [tag("h2", "Trajectory")]
    rows = [[_who(run, i), tr.get("episodes", "—"), *(_num(tr.get(k), d) for k, _, d in TRAJECTORY_COLUMNS)]
            for i, run in enumerate(runs) if (tr := run.trajectory)]
    if not rows:
        parts.append(tag("p", "No run records trajectory metrics.", class_="note"))
    else:
        parts.append(tag("p", "End-effector path per completed episode, averaged; SPARC (spectral arc length of the "
                              "speed profile) is closer to 0 for smoother motion; time to success averages the "
                              "successful episodes.", class_="note"))
        parts.append(table(["run", "episodes", *(h for _, h, _ in TRAJECTORY_COLUMNS)], rows,
                           numeric=range(1, 2 + len(TRAJECTORY_COLUMNS))))
    return tag("section", join(parts), id="trajectory", class_="card")


def _clip(text: str, limit: int = 2000) -> str:
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"


def _errors(runs: list[RunData]) -> Markup:
    """The errored episodes and what they raised; nothing when no episode errored."""
    rows: list[list[object]] = []
    notes = []
    for i, run in enumerate(runs):
        errored = [ep for ep in run.episodes if ep.outcome == "error"]
        rows += [[_who(run, i), env_name(ep.env_id), ep.tier, ep.line.get("episode"), ep.line.get("seed"),
                  tag("code", _clip(str(ep.line["error"])), class_="error-text")] for ep in errored[:MAX_ERRORS]]
        if len(errored) > MAX_ERRORS:
            notes.append(f"{run.label}: {len(errored) - MAX_ERRORS} more errored episode(s) in its results.jsonl")
    if not rows:
        return Markup("")
    return tag("section", join([
        tag("h2", "Errored episodes"),
        tag("p", "Episodes that raised (the policy, the env or the connection failed): left out of the success "
                 "rate, counted under errors. The error as results.jsonl records it:", class_="note"),
        table(["run", "task", "tier", "episode", "seed", "error"], rows, numeric=(3, 4)),
        *(tag("p", note + ".", class_="note") for note in notes),
    ]), id="errors", class_="card")


def _stills(runs: list[RunData], limit: int) -> Markup:
    parts: list[object] = [tag("h2", "Episode stills"),
                           tag("p", "The frame 40 % into each episode's video.", class_="note")]
    for i, run in enumerate(runs):
        shots, left_out, unreadable = stills(run.episodes, limit)
        parts.append(tag("h3", _who(run, i)))
        figures = []
        for shot in shots:
            line = shot.episode.line
            outcome = shot.episode.outcome
            caption = join([
                env_name(shot.episode.env_id), " · ", shot.episode.tier, " · episode ", line.get("episode"),
                " · seed ", line.get("seed"), " ", tag("span", outcome, class_=f"outcome {outcome}"),
                tag("div", line.get("instruction") or "", class_="instr"),
            ])
            figures.append(tag("figure", join([
                img(shot.data_uri, f"{run.label}: {env_name(shot.episode.env_id)} episode {line.get('episode')}",
                    shot.width, shot.height),
                tag("figcaption", caption)])))
        if figures:
            parts.append(tag("div", join(figures), class_="stills"))
        without = sum(1 for ep in run.episodes if not ep.line.get("video"))
        notes = [f"{left_out} more episode(s) with a video left out (at most {limit} per run)" if left_out else "",
                 f"{unreadable} video(s) missing or unreadable" if unreadable else "",
                 f"{without} episode(s) without a video" if without else ""]
        if not figures and not any(notes):
            notes.append("no episode videos")
        if any(notes):
            parts.append(tag("p", "; ".join(n for n in notes if n) + ".", class_="note"))
    return tag("section", join(parts), id="stills", class_="card")


# -- the page ----------------------------------------------------------------------------------

def render(runs: list[RunData], max_stills: int = MAX_STILLS) -> str:
    """The report page for loaded runs (labelled), as HTML text."""
    body = join([_header(runs), _success(runs), _errors(runs), _world_model(runs), _events(runs),
                 _trajectory(runs), _stills(runs, max_stills)])
    title = "Evaluation report: " + ", ".join(run.label for run in runs)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
            f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n")


def build_report(run_dirs: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str],
                 labels: Sequence[str] | None = None, *, max_stills: int = MAX_STILLS) -> Path:
    """Write one self-contained HTML page comparing runs side by side; return its path.

    run_dirs: run folders (summary.json, results.jsonl) or suite folders (suite_summary.json);
    labels: one per folder (default: each run's policy spec, made unique). Needs matplotlib
    (``pip install 'robosim_cosmos[report]'``). ResourceNotFoundError / RunFolderError for a
    missing folder, a folder with neither summary or a run without episodes; ConfigError for
    labels that do not fit or an ``out`` that is a folder.
    """
    path = Path(out)
    if path.is_dir():
        raise ConfigError(f"--out {path} is a folder; name the HTML file to write, e.g. {path / 'report.html'}")
    if max_stills < 0:
        raise ConfigError(f"max_stills must be 0 or more, got {max_stills}")
    runs = load_runs(run_dirs, labels)
    require("matplotlib")  # after the folders are checked: bad input is reported first
    page = render(runs, max_stills)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, page)
    return path
