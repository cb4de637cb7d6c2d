"""Charts drawn on the server as inline SVG: no chart library, no JavaScript.

Horizontal positions are percentages of the chart's width, so a chart fills a phone or a laptop
screen with text at its normal size (nothing is scaled). In right-to-left pages every x is
mirrored (x -> 100 - x) and the SVG's ``direction`` makes ``text-anchor="start"`` mean the right
edge, so the same code draws both. Every bar and point carries its value in text, not colour
alone, and each chart has a title for screen readers; the pages also show the numbers in tables.

Pure functions: plain values in, markup out (no Flask, no database).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

PASS_COLOUR, WARN_COLOUR, FAIL_COLOUR, NONE_COLOUR = "#0b6b2f", "#8a5300", "#b00020", "#767676"
TRACK_COLOUR, INK, MUTED = "#e8e8e3", "#111111", "#4a4a4a"
ROW_HEIGHT = 46
TARGET_HEIGHT = 44  # a bar that is a link is tapped anywhere on its row
BAR_HEIGHT = 18
BAR_SPAN = 64.0  # % of the width a 100 % bar takes; the rest holds its value and count
# SVG text does not wrap: longer labels are cut (the whole name is in the bar's tooltip and in
# the tables beside the charts). 38 characters fit a 390 px phone screen.
LABEL_CHARS = 38


@dataclass(frozen=True)
class Bar:
    """One bar: ``value`` 0..1 (None: nothing to measure), ``text`` its value as written,
    ``note`` what it counts (e.g. "44/54"), written smaller after the value."""

    label: str
    value: float | None
    text: str
    note: str = ""
    href: str | None = None


def band_colour(value: float | None, good: float = 0.85, fair: float = 0.60) -> str:
    """Green from ``good``, amber from ``fair``, red below; grey when there is no value."""
    if value is None:
        return NONE_COLOUR
    if value >= good:
        return PASS_COLOUR
    if value >= fair:
        return WARN_COLOUR
    return FAIL_COLOUR


def _x(percent: float, rtl: bool) -> str:
    return f"{(100.0 - percent) if rtl else percent:.2f}%"


def _span(start: float, width: float, rtl: bool) -> tuple[str, str]:
    """``x`` and ``width`` attributes of a rectangle from ``start`` to ``start + width``."""
    left = 100.0 - start - width if rtl else start
    return f"{left:.2f}%", f"{width:.2f}%"


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def _open(title: str, height: int, rtl: bool, css: str, *, links: bool = False) -> list[str]:
    # A chart whose bars are links is a group of links, not one image (axe: nested-interactive).
    role = "group" if links else "img"
    return [
        f'<svg class="{css}" role="{role}" aria-label="{escape(title)}" width="100%" '
        f'height="{height}" direction="{"rtl" if rtl else "ltr"}" font-size="15" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]


def bar_chart(
    title: str, bars: Sequence[Bar], *, rtl: bool = False, good: float = 0.85, fair: float = 0.60
) -> Markup:
    """Horizontal bars, one per row: the label above, the bar and its value below.

    Labels sit on their own line so long region names fit a 390 px phone screen.
    """
    height = max(1, len(bars)) * ROW_HEIGHT
    parts = _open(title, height, rtl, "chart bars", links=any(bar.href for bar in bars))
    for n, bar in enumerate(bars):
        top = n * ROW_HEIGHT
        row: list[str] = [
            f"<title>{escape(bar.label)}: {escape(bar.text)}"
            f"{' (' + escape(bar.note) + ')' if bar.note else ''}</title>"
        ]
        if bar.href:  # the whole row is the link's target: 44 px tall, the full width
            row.append(
                f'<rect x="0" y="{top}" width="100%" height="{TARGET_HEIGHT}" fill="transparent"/>'
            )
        row.append(
            f'<text x="{_x(0, rtl)}" y="{top + 15}" fill="{INK}" '
            f'text-anchor="start">{escape(_short(bar.label))}</text>'
        )
        track_x, track_w = _span(0, BAR_SPAN, rtl)
        row.append(
            f'<rect x="{track_x}" y="{top + 21}" width="{track_w}" '
            f'height="{BAR_HEIGHT}" fill="{TRACK_COLOUR}" rx="3"/>'
        )
        width = BAR_SPAN * max(0.0, min(1.0, bar.value or 0.0))
        if bar.value is not None and width > 0:
            bar_x, bar_w = _span(0, width, rtl)
            row.append(
                f'<rect x="{bar_x}" y="{top + 21}" width="{bar_w}" '
                f'height="{BAR_HEIGHT}" fill="{band_colour(bar.value, good, fair)}" '
                f'rx="3"/>'
            )
        # The value just past the end of the bar, in the reserved margin if the bar is full.
        note = (
            f' <tspan fill="{MUTED}" font-weight="400" font-size="13">{escape(bar.note)}</tspan>'
            if bar.note
            else ""
        )
        row.append(
            f'<text x="{_x(width + 1.5, rtl)}" y="{top + 35}" fill="{INK}" '
            f'font-weight="700" text-anchor="start">{escape(bar.text)}{note}</text>'
        )
        body = "".join(row)
        if bar.href:
            body = f'<a href="{escape(bar.href)}">{body}</a>'
        parts.append(f"<g>{body}</g>")
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Point:
    day: date
    value: int
    label: str = ""  # the day as the page writes it (its tooltip); ISO when not given


def _labelled(values: Sequence[int], most: int) -> set[int]:
    """Indexes of the points whose value is written: evenly spaced, the last and the peak."""
    count = len(values)
    if count <= most:
        return set(range(count))
    step = -(-count // most)
    chosen = set(range(0, count, step))
    previous = max(chosen)
    if previous != count - 1 and count - 1 - previous < step:
        chosen.discard(previous)  # too close to the last one: the two would overlap
    chosen.add(count - 1)
    peak = max(range(count), key=lambda n: values[n])
    if peak not in chosen and min(peak, count - 1 - peak) >= step / 2:
        # The busiest day is worth reading: it replaces the labels that would touch it.
        chosen = {n for n in chosen if abs(n - peak) >= step / 2 or n in (0, count - 1)}
        chosen.add(peak)
    return chosen


def trend_chart(
    title: str, points: Sequence[Point], *, rtl: bool = False, most_labels: int = 6
) -> Markup:
    """A daily line with dots; values written above evenly spaced days, the last and the peak.

    Time runs right to left in Arabic, like the text. Dates are written day/month.
    """
    height, top, bottom = 190, 28, 150
    parts = _open(title, height, rtl, "chart trend")
    if not points:
        parts.append("</svg>")
        return Markup("".join(parts))
    peak = max(point.value for point in points) or 1
    count = len(points)
    margin = 3.0

    def x_of(n: int) -> float:
        return margin + (100 - 2 * margin) * (n / (count - 1) if count > 1 else 0.5)

    def y_of(value: int) -> float:
        return bottom - (bottom - top) * value / peak

    # Baseline, then the line in a nested SVG whose 0..1000 units stretch to the width.
    parts.append(
        f'<line x1="0" x2="100%" y1="{bottom}" y2="{bottom}" stroke="{MUTED}" stroke-width="1"/>'
    )
    coordinates = " ".join(
        f"{(100 - x_of(n) if rtl else x_of(n)) * 10:.1f},{y_of(point.value):.1f}"
        for n, point in enumerate(points)
    )
    parts.append(
        f'<svg x="0" y="0" width="100%" height="{height}" viewBox="0 0 1000 {height}" '
        f'preserveAspectRatio="none"><polyline points="{coordinates}" fill="none" '
        f'stroke="#0b5d3b" stroke-width="2.5" vector-effect="non-scaling-stroke"/></svg>'
    )
    labelled = _labelled([point.value for point in points], most_labels)
    for n, point in enumerate(points):
        cx = _x(x_of(n), rtl)
        cy = y_of(point.value)
        parts.append(
            f'<circle cx="{cx}" cy="{cy:.1f}" r="3.5" fill="#0b5d3b">'
            f"<title>{escape(point.label or point.day.isoformat())}: {point.value}</title></circle>"
        )
        if n in labelled:
            # The first and last labels lean inwards so they are not cut at the edges.
            anchor = "start" if n == 0 else "end" if n == count - 1 else "middle"
            parts.append(
                f'<text x="{cx}" y="{cy - 8:.1f}" fill="{INK}" font-weight="700" '
                f'text-anchor="{anchor}">{point.value}</text>'
            )
            parts.append(
                f'<text x="{cx}" y="{bottom + 20}" fill="{MUTED}" font-size="13" '
                f'text-anchor="{anchor}">{point.day:%d/%m}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
