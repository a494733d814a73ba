"""Small HTML building blocks for the report: escaping, tables, images and the page's style.

Every text that comes from a run folder (labels, specs, instructions, paths) goes through
:func:`esc`; markup is only ever built here and in :mod:`.report` from fixed strings.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence


class Markup(str):
    """Text that is already HTML (built by these helpers): :func:`esc` leaves it as it is."""


def esc(value: object) -> Markup:
    """``value`` as HTML text: markup stays, anything else is escaped (quotes included)."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape("—" if value is None else str(value), quote=True))


def tag(name: str, body: object = "", **attrs: object) -> Markup:
    """``<name attrs>body</name>``; attribute names take ``_`` for ``-`` and ``class_`` for ``class``."""
    text = "".join(f' {k.rstrip("_").replace("_", "-")}="{esc(v)}"' for k, v in attrs.items() if v is not None)
    return Markup(f"<{name}{text}>{esc(body)}</{name}>")


def join(parts: Iterable[object], sep: str = "") -> Markup:
    return Markup(sep.join(esc(p) for p in parts))


def table(headers: Sequence[object], rows: Iterable[Sequence[object]], numeric: Iterable[int] = (),
          caption: object = None, class_: str | None = None) -> Markup:
    """A table; the columns in ``numeric`` are right-aligned (class ``num``)."""
    nums = set(numeric)
    head = tag("tr", join(tag("th", h, class_="num" if i in nums else None) for i, h in enumerate(headers)))
    body = join(tag("tr", join(tag("td", c, class_="num" if i in nums else None) for i, c in enumerate(row)))
                for row in rows)
    # In a scrolling box: a table wider than the page (long paths, many runs) scrolls on its own.
    return tag("div", tag("table", join([tag("caption", caption) if caption is not None else "",
                                         tag("thead", head), tag("tbody", body)]), class_=class_), class_="wide")


def img(src: str, alt: str, width: int | None = None, height: int | None = None, class_: str | None = None) -> Markup:
    """An image from a ``data:`` URI (the page loads nothing else)."""
    if not src.startswith("data:image/"):
        raise ValueError("the report embeds its images; expected a data:image/ URI")
    return Markup(f'<img src="{src}" alt="{esc(alt)}"' + (f' width="{width}" height="{height}"' if width else "")
                  + (f' class="{esc(class_)}"' if class_ else "") + ">")


def swatch(colour: str) -> Markup:
    return tag("span", "", class_="swatch", style=f"background:{colour}")


def labelled(colour: str, label: object) -> Markup:
    """A run's colour swatch and label, kept on one line."""
    return tag("span", join([swatch(colour), label]), class_="who")


STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #1d2330;
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
header { border-bottom: 3px solid #1f77b4; margin-bottom: 8px; padding-bottom: 8px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 16px 0 8px; padding-bottom: 4px; border-bottom: 1px solid #d5d9e0; }
h3 { font-size: 16px; margin: 20px 0 6px; }
p { margin: 6px 0; }
.meta { color: #5a6372; }
.note { color: #5a6372; font-size: 13px; }
section.card { background: #fff; border: 1px solid #dfe3ea; border-radius: 8px; padding: 4px 18px 16px;
               margin: 16px 0; }
table { border-collapse: collapse; margin: 8px 0 14px; font-size: 13px; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e6e9ef; text-align: left; vertical-align: top; }
th { background: #eef1f5; font-weight: 600; white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fafbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font-size: 12px; background: #eef1f5; padding: 1px 4px; border-radius: 3px; overflow-wrap: break-word; }
.wide { overflow-x: auto; max-width: 100%; }
.who, .nowrap { white-space: nowrap; }
code.error-text { white-space: pre-wrap; overflow-wrap: anywhere; display: inline-block; max-width: 640px; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 6px;
          vertical-align: -1px; }
img.plot { display: block; max-width: 100%; height: auto; margin: 4px 0 8px; }
.plots { display: flex; flex-wrap: wrap; gap: 8px 32px; align-items: flex-start; }
.stills { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 14px; }
figure { margin: 0; background: #fff; border: 1px solid #dfe3ea; border-radius: 6px; overflow: hidden; }
figure img { display: block; width: 100%; height: auto; background: #222; }
figcaption { padding: 6px 8px; font-size: 12px; }
figcaption .instr { color: #5a6372; font-style: italic; }
.outcome { font-weight: 600; padding: 0 5px; border-radius: 3px; color: #fff; }
table.heatmap td.heat { text-align: center; min-width: 92px; font-variant-numeric: tabular-nums; color: #1d2330; }
table.heatmap td.heat .rate { font-weight: 600; display: block; }
table.heatmap td.heat .band { font-size: 11px; color: #3b4250; }
table.heatmap td.empty { background: #eef1f5; color: #8a93a3; }
details > summary { cursor: pointer; color: #5a6372; margin: 8px 0; }
.success { background: #2e7d32; } .failure { background: #c62828; } .error { background: #6d6d6d; }
"""
