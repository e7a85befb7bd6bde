"""Small inline SVG charts for the run report: no plotting library, no script, no external file.

Each function returns one `<svg>` element as a string, sized in CSS pixels, with a `<title>`
(read by screen readers and shown as the tooltip) and a `data-chart` attribute naming the chart
so tests and browsers can find it. All text is XML-escaped here; callers pass plain strings.
An empty input gives a small chart saying "no data" rather than an error: a report about a bad
night must still render.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

# Chinese labels: name CJK fonts first, or browsers may pick one without the glyphs.
FONT = "'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif"
TONES = {
    "default": "#4a7fb5",
    "ok": "#4a7fb5",
    "warn": "#d99a00",
    "broken": "#c0392b",
    "muted": "#9aa5b1",
}
MARKER = "#222"
TEXT = "#222"
GRID = "#e3e6ea"
FONT_SIZE = 12


@dataclass(frozen=True)
class Bar:
    """One bar: `marker` draws a reference tick (e.g. the trailing median) across it."""

    label: str
    value: float
    marker: float | None = None
    tone: str = "default"
    note: str | None = None  # replaces the printed value when given
    tip: str | None = None  # tooltip; defaults to label and value


def text_width(text: str, size: int = FONT_SIZE) -> float:
    """Approximate rendered width: wide (CJK) characters take a full em, others about 0.6."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else 0.6 * size for c in text)


def _fmt(v: float) -> str:
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.2f}".rstrip("0")


def _svg(chart_id: str, title: str, width: float, height: float, body: list[str]) -> str:
    w, h = round(width), round(height)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{escape(chart_id)}" '
        f'role="img" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        f'font-family="{FONT}" font-size="{FONT_SIZE}" fill="{TEXT}">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def _empty(chart_id: str, title: str, width: int, text: str = "no data / 无数据") -> str:
    return _svg(
        chart_id, title, width, 40, [f'<text x="8" y="24" fill="{TONES["muted"]}">{escape(text)}</text>']
    )


def hbar_chart(
    bars: Sequence[Bar],
    *,
    chart_id: str,
    title: str,
    width: int = 720,
    bar_height: int = 16,
    marker_label: str | None = None,
    empty_text: str = "no data / 无数据",
) -> str:
    """Horizontal bars, one row per `Bar`, labels on the left, values at the bar's end.

    A bar's `marker` is drawn as a dark tick; `marker_label` explains it in a legend line.
    `empty_text` is what an empty chart says (no bars can be good news).
    """
    if not bars:
        return _empty(chart_id, title, width, empty_text)
    gap = 6
    label_w = min(260.0, max(text_width(b.label) for b in bars) + 12)
    value_w = max(text_width(b.note or _fmt(b.value)) for b in bars) + 12
    plot_w = max(80.0, width - label_w - value_w - 8)
    top = 22 if marker_label else 6
    vmax = max(max(b.value, b.marker or 0) for b in bars) or 1.0
    scale = plot_w / vmax
    body = []
    if marker_label:
        body.append(
            f'<line x1="{label_w:.1f}" y1="8" x2="{label_w:.1f}" y2="18" stroke="{MARKER}" stroke-width="2"/>'
            f'<text x="{label_w + 6:.1f}" y="17">{escape(marker_label)}</text>'
        )
    for i, b in enumerate(bars):
        y = top + i * (bar_height + gap)
        bw = max(0.0, b.value) * scale
        tip = b.tip or f"{b.label}: {b.note or _fmt(b.value)}"
        # A flagged row's label takes its colour too: a zero-length bar shows no colour at all.
        label_fill = f' fill="{TONES[b.tone]}"' if b.tone in ("warn", "broken") else ""
        body.append(
            f'<g class="bar"><title>{escape(tip)}</title>'
            f'<text x="{label_w - 6:.1f}" y="{y + bar_height - 4}" text-anchor="end"{label_fill}>'
            f"{escape(b.label)}</text>"
            f'<rect x="{label_w:.1f}" y="{y}" width="{bw:.1f}" height="{bar_height}" '
            f'fill="{TONES.get(b.tone, TONES["default"])}"/>'
            f'<text x="{label_w + bw + 4:.1f}" y="{y + bar_height - 4}">{escape(b.note or _fmt(b.value))}</text>'
        )
        if b.marker is not None:
            mx = label_w + b.marker * scale
            body.append(
                f'<line x1="{mx:.1f}" y1="{y - 2}" x2="{mx:.1f}" y2="{y + bar_height + 2}" '
                f'stroke="{MARKER}" stroke-width="2"/>'
            )
        body.append("</g>")
    height = top + len(bars) * (bar_height + gap) + 4
    return _svg(chart_id, title, width, height, body)


def column_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    chart_id: str,
    title: str,
    width: int = 720,
    height: int = 180,
    percent: bool = False,
    tones: Sequence[str] | None = None,
) -> str:
    """Vertical bars over a category axis (e.g. runs in time order), value printed above each."""
    if not labels:
        return _empty(chart_id, title, width)
    bottom, top, left = 34, 18, 8
    plot_h = height - bottom - top
    slot = (width - 2 * left) / len(labels)
    bw = max(4.0, min(48.0, slot * 0.7))
    vmax = max(values) or 1.0
    body = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - left}" y2="{height - bottom}" stroke="{GRID}"/>'
    ]
    step = max(1, round(len(labels) / max(1, (width - 2 * left) // 70)))  # keep axis labels apart
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * max(0.0, v) / vmax
        x = left + i * slot + (slot - bw) / 2
        shown = f"{v:.0%}" if percent else _fmt(v)
        tone = TONES.get(tones[i] if tones else "default", TONES["default"])
        body.append(
            f'<g class="bar"><title>{escape(f"{label}: {shown}")}</title>'
            f'<rect x="{x:.1f}" y="{height - bottom - h:.1f}" width="{bw:.1f}" height="{h:.1f}" fill="{tone}"/>'
            f'<text x="{x + bw / 2:.1f}" y="{height - bottom - h - 4:.1f}" text-anchor="middle">{escape(shown)}</text>'
        )
        if i % step == 0 or i == len(labels) - 1:
            body.append(
                f'<text x="{x + bw / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle">{escape(label)}</text>'
            )
        body.append("</g>")
    return _svg(chart_id, title, width, height, body)


def heatmap(
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    cells: Sequence[Sequence[float]],
    *,
    chart_id: str,
    title: str,
    cell: int = 30,
) -> str:
    """A grid of counts (rows × columns), darker for more, the count printed in each cell.

    `cells[r][c]` belongs to `row_labels[r]` and `col_labels[c]`; column labels are printed as
    given (pass short ones, e.g. `11-14`).
    """
    if not row_labels or not col_labels:
        return _empty(chart_id, title, 320)
    label_w = max(text_width(r) for r in row_labels) + 12
    top = 22
    vmax = max((v for row in cells for v in row), default=0) or 1
    body = []
    for c, col in enumerate(col_labels):
        body.append(
            f'<text x="{label_w + c * cell + cell / 2:.1f}" y="{top - 8}" text-anchor="middle" '
            f'font-size="10">{escape(col)}</text>'
        )
    for r, row in enumerate(row_labels):
        y = top + r * cell
        body.append(
            f'<text x="{label_w - 6:.1f}" y="{y + cell / 2 + 4:.1f}" text-anchor="end">{escape(row)}</text>'
        )
        for c, v in enumerate(cells[r]):
            x = label_w + c * cell
            # Lightness from 96 % (zero) down to 38 %: readable at a glance, text flips to white.
            light = 96 - 58 * (v / vmax) if v else 98
            fg = "#fff" if light < 60 else TEXT
            body.append(
                f'<g class="cell"><title>{escape(f"{row} {col_labels[c]}: {_fmt(v)}")}</title>'
                f'<rect x="{x:.1f}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="hsl(210, 55%, {light:.0f}%)"/>'
                + (
                    f'<text x="{x + (cell - 2) / 2:.1f}" y="{y + cell / 2 + 3:.1f}" text-anchor="middle" '
                    f'font-size="10" fill="{fg}">{_fmt(v)}</text>'
                    if v
                    else ""
                )
                + "</g>"
            )
    width = label_w + len(col_labels) * cell + 8
    height = top + len(row_labels) * cell + 4
    return _svg(chart_id, title, width, height, body)


__all__ = ["Bar", "column_chart", "hbar_chart", "heatmap", "text_width"]
