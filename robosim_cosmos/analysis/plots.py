"""The report's plots, drawn with matplotlib's Agg canvas and returned as PNG data: URIs.

matplotlib (the ``report`` extra) is imported when a plot is drawn, never at import time. No
pyplot: each figure is a plain :class:`~matplotlib.figure.Figure` on its own Agg canvas, so no
global backend or figure registry is touched.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._optional import require

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")
"""One colour per run (matplotlib's tab10), the same in every plot and in the page's legends."""
DPI = 110


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


@dataclass(frozen=True)
class BarSeries:
    """One run's bars: a rate and its interval per group; a rate of None is drawn as "n/a" (no
    completed episode), unless ``missing`` says the run has no such group at all (nothing drawn)."""

    label: str
    colour: str
    rates: Sequence[float | None]
    intervals: Sequence[tuple[float, float] | None]
    missing: Sequence[bool] = ()


@dataclass(frozen=True)
class Curve:
    """One run's world-model scores by horizon step (``per_step`` of a summary)."""

    label: str
    colour: str
    per_step: dict[str, Any]


def _figure(width: float, height: float) -> Any:
    figure_mod = require("matplotlib.figure")
    backend = require("matplotlib.backends.backend_agg")
    fig = figure_mod.Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    backend.FigureCanvasAgg(fig)
    return fig


def to_data_uri(fig: Any) -> str:
    """The figure as a PNG data: URI (no Software tag: the page names nothing outside itself)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None}, facecolor="white")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _short(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit // 2 - 1] + "…" + text[-(limit // 2 - 1):]


def success_bars(groups: Sequence[str], series: Sequence[BarSeries], ylabel: str = "success rate") -> str:
    """Grouped bars: one group per task (or tier), one bar per run, its interval as an error bar."""
    n_groups, n_runs = len(groups), max(1, len(series))
    # About 0.4 inch per bar: a few bars make a small plot, many tasks a wide one (capped).
    width = min(15.0, max(4.2, 0.42 * n_groups * (n_runs + 0.7) + 1.4))
    fig = _figure(width, 3.3)
    ax = fig.add_subplot()
    bar = 0.8 / n_runs
    labelled = [False] * len(series)
    annotate = n_groups * n_runs <= 30  # rate labels only while they have room
    for j, s in enumerate(series):
        missing = list(s.missing) or [False] * n_groups
        for i, (rate, ci, absent) in enumerate(zip(s.rates, s.intervals, missing, strict=True)):
            x = i - 0.4 + bar * (j + 0.5)
            if absent:
                continue
            if rate is None:
                ax.text(x, 0.02, "n/a", ha="center", va="bottom", fontsize=7, color=s.colour, rotation=90)
                continue
            yerr = None if ci is None else [[max(0.0, rate - ci[0])], [max(0.0, ci[1] - rate)]]
            ax.bar(x, rate, bar * 0.9, color=s.colour, yerr=yerr, capsize=3,
                   error_kw={"elinewidth": 1, "ecolor": "#333333"}, label=_short(s.label) if not labelled[j] else None)
            labelled[j] = True
            if annotate:  # the rate at the bar's foot, clear of the error bar
                ax.text(x, 0.015, f"{rate:.0%}", ha="center", va="bottom", fontsize=7, rotation=90,
                        color="white" if rate >= 0.12 else "#333333")
    slanted = n_groups > 3 or any(len(g) > 14 for g in groups)
    ax.set_xticks(range(n_groups), list(groups), rotation=30 if slanted else 0,
                  ha="right" if slanted else "center", rotation_mode="anchor", fontsize=8)
    ax.set_xlim(-0.6, n_groups - 0.4)
    ax.set_ylim(0, 1.12)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0], ["0 %", "25 %", "50 %", "75 %", "100 %"])
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    if series:
        _legend(fig, ax.get_legend_handles_labels(), width)
    return to_data_uri(fig)


def _legend(fig: Any, handles_labels: tuple[list[Any], list[str]], width: float) -> None:
    """A legend above the plot, in as many columns as the figure's width holds (none when empty)."""
    handles, labels = handles_labels
    if not handles:
        return
    entry = 0.6 + 0.075 * max(len(label) for label in labels)  # inches: the handle plus about 8 pt per char
    ncol = max(1, min(len(handles), int(width // entry)))
    fig.legend(handles, labels, loc="outside upper center", ncol=ncol, frameon=False, fontsize=8)


def _points(per_step: dict[str, Any], key: str) -> tuple[list[float], list[float]]:
    pairs = [(float(s), float(v)) for s, v in zip(per_step.get("step") or [], per_step.get(key) or [], strict=False)
             if isinstance(v, (int, float))]
    return [s for s, _ in pairs], [v for _, v in pairs]


def horizon_curves(curves: Sequence[Curve]) -> str:
    """PSNR and SSIM against the horizon step, one colour per run: solid for the whole frame,
    dashed for the robot's pixels where they were scored."""
    fig = _figure(10.0, 3.6)
    axes = fig.subplots(1, 2)
    for ax, (metric, unit) in zip(axes, (("psnr", "PSNR (dB)"), ("ssim", "SSIM")), strict=True):
        for c in curves:
            for key, style in ((metric, "-"), (f"robot_{metric}", "--")):
                xs, ys = _points(c.per_step, key)
                if xs:
                    ax.plot(xs, ys, style, color=c.colour, marker="o", markersize=3, linewidth=1.5)
        ax.set_xlabel("horizon step (executed rows into the chunk)")
        ax.set_ylabel(unit)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    for ax, metric in zip(axes, ("psnr", "ssim"), strict=True):
        if limits := _limits(curves, metric):
            ax.set_ylim(*limits)
    # One entry per run (its colour), then one per line style: shorter than every run × style.
    line = require("matplotlib.lines").Line2D
    handles = [line([], [], color=c.colour, marker="o", markersize=3, linewidth=1.5) for c in curves]
    labels = [_short(c.label, 36) for c in curves]
    robot = any(_points(c.per_step, f"robot_{m}")[0] for c in curves for m in ("psnr", "ssim"))
    for style, text in (("-", "whole frame"), ("--", "robot pixels")) if robot else ():
        handles.append(line([], [], color="#444444", linestyle=style, linewidth=1.5))
        labels.append(text)
    _legend(fig, (handles, labels), 10.0)
    return to_data_uri(fig)


def _limits(curves: Sequence[Curve], metric: str) -> tuple[float, float] | None:
    """An axis with room around the values, so a flat line at the cap (PSNR 100 dB, SSIM 1.0,
    as a perfect predictor scores) shows as a line, not as the frame of the plot."""
    values = [v for c in curves for key in (metric, f"robot_{metric}") for v in _points(c.per_step, key)[1]]
    if not values:
        return None
    if metric == "ssim":
        return max(-1.0, min(values) - 0.05), 1.02
    return max(0.0, min(values) - 5.0), max(values) + 5.0
