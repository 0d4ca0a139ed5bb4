"""Cycle-time plots as standalone SVG text: a page can inline them, no plotting library needed."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from engine.analysis import stats

_FONT = 'font-family="sans-serif" font-size="11"'


def _frame(width: int, height: int, title: str, body: list[str]) -> str:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title, {chr(34): "&quot;"})}">')
    caption = f'<text x="{width / 2:.0f}" y="14" text-anchor="middle" {_FONT}>{escape(title)}</text>'
    return "\n".join([head, caption, *body, "</svg>"])


def histogram_svg(values: Sequence[float], bins: int = 20, title: str = "cycle time (h)",
                  width: int = 480, height: int = 240) -> str:
    """Histogram of ``values`` (hours): one bar per equal-width bin, min and max on the axis."""
    if not values:
        return _frame(width, height, title, [f'<text x="20" y="40" {_FONT}>no data</text>'])
    hist = stats.histogram(values, bins)
    counts, edges = hist["counts"], hist["edges"]
    left, bottom, top = 40, height - 24, 24
    plot_w, plot_h = width - left - 10, bottom - top
    peak = max(counts) or 1
    bar_w = plot_w / len(counts)
    body = [f'<line x1="{left}" y1="{bottom}" x2="{width - 10}" y2="{bottom}" stroke="#333"/>',
            f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" {_FONT}>{peak}</text>']
    for i, count in enumerate(counts):
        h = plot_h * count / peak
        body.append(f'<rect x="{left + i * bar_w:.1f}" y="{bottom - h:.1f}" width="{max(bar_w - 1, 1):.1f}" '
                    f'height="{h:.1f}" fill="#4a7ebb"><title>{edges[i]:g}–{edges[i + 1]:g} h: '
                    f'{count}</title></rect>')
    body.append(f'<text x="{left}" y="{height - 8}" {_FONT}>{edges[0]:g} h</text>')
    body.append(f'<text x="{width - 10}" y="{height - 8}" text-anchor="end" {_FONT}>{edges[-1]:g} h</text>')
    return _frame(width, height, title, body)


def box_plot_svg(series: dict[str, Sequence[float]], title: str = "cycle time (h)",
                 width: int = 480, row: int = 40) -> str:
    """Horizontal box plots (min, p25, median, p75, p90 whisker, max dot), one row per series."""
    height = 40 + row * max(len(series), 1)
    every = [v for values in series.values() for v in values]
    low, high = (min(every), max(every)) if every else (0.0, 1.0)
    span = (high - low) or 1.0
    left, right = 110, width - 20

    def x(v: float) -> float:
        return left + (right - left) * (v - low) / span

    body = []
    for i, (name, values) in enumerate(series.items()):
        y = 30 + i * row + row / 2
        body.append(f'<text x="{left - 6}" y="{y + 4:.0f}" text-anchor="end" {_FONT}>{escape(name)}</text>')
        if not values:
            continue
        q = {p: stats.percentile(values, p) for p in (0, 25, 50, 75, 90, 100)}
        body.append(f'<line x1="{x(q[0]):.1f}" y1="{y}" x2="{x(q[90]):.1f}" y2="{y}" stroke="#333"/>')
        body.append(f'<rect x="{x(q[25]):.1f}" y="{y - 10}" width="{max(x(q[75]) - x(q[25]), 1):.1f}" '
                    f'height="20" fill="#cfe0f3" stroke="#333"><title>p25 {q[25]:.1f} h, median '
                    f'{q[50]:.1f} h, p75 {q[75]:.1f} h, p90 {q[90]:.1f} h</title></rect>')
        body.append(f'<line x1="{x(q[50]):.1f}" y1="{y - 10}" x2="{x(q[50]):.1f}" y2="{y + 10}" '
                    'stroke="#c00" stroke-width="2"/>')
        body.append(f'<circle cx="{x(q[100]):.1f}" cy="{y}" r="2" fill="#333"/>')
    body.append(f'<text x="{left}" y="{height - 6}" {_FONT}>{low:.1f} h</text>')
    body.append(f'<text x="{right}" y="{height - 6}" text-anchor="end" {_FONT}>{high:.1f} h</text>')
    return _frame(width, height, title, body)
