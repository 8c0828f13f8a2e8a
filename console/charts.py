"""Charts drawn on the server as SVG: no chart library, nothing fetched from the internet, printable. Every label
goes through markupsafe.escape, since store and product names are user text."""
from __future__ import annotations

from markupsafe import Markup, escape

PALETTE = ("#165dff", "#14c9c9", "#f7ba1e", "#722ed1", "#f53f3f", "#00b42a", "#ff7d00", "#86909c")


def grouped_bars(categories: list[str], series: list[tuple[str, list[float]]], unit: str = "",
                 width: int = 900, height: int = 240) -> Markup:
    """One group of bars per category (a day), one bar per series (a store), with a legend."""
    pad_left, pad_bottom, pad_top = 48, 28, 24
    plot_w, plot_h = width - pad_left - 10, height - pad_bottom - pad_top
    top = max([max(values, default=0) for _, values in series] + [1])
    group_w = plot_w / max(len(categories), 1)
    bar_w = max(2.0, (group_w - 6) / max(len(series), 1))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img">']
    for tick in range(5):
        value = top * tick / 4
        y = pad_top + plot_h - plot_h * tick / 4
        parts.append(f'<line x1="{pad_left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#e5e6eb"/>')
        parts.append(f'<text x="{pad_left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#86909c">'
                     f'{round(value, 1):g}</text>')
    for i, category in enumerate(categories):
        x0 = pad_left + i * group_w + 3
        for j, (name, values) in enumerate(series):
            value = values[i] if i < len(values) else 0
            h = plot_h * value / top
            parts.append(f'<rect x="{x0 + j * bar_w:.1f}" y="{pad_top + plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
                         f'height="{h:.1f}" fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(name)} '
                         f'{escape(category)}: {value:g}{escape(unit)}</title></rect>')
        parts.append(f'<text x="{x0 + group_w / 2 - 3:.1f}" y="{height - 10}" text-anchor="middle" font-size="11" '
                     f'fill="#4e5969">{escape(category)}</text>')
    x = pad_left
    for j, (name, _) in enumerate(series):
        parts.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{PALETTE[j % len(PALETTE)]}"/>'
                     f'<text x="{x + 14}" y="13" font-size="12" fill="#1d2129">{escape(name)}</text>')
        x += 24 + 13 * len(name)
    parts.append("</svg>")
    return Markup("".join(parts))


def hbars(rows: list[tuple[str, float]], unit: str = "", width: int = 900) -> Markup:
    """Horizontal bars, one per row: the funnel and the top products."""
    row_h, label_w = 26, 160
    height = row_h * max(len(rows), 1) + 8
    top = max([value for _, value in rows] + [1])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img">']
    for i, (label, value) in enumerate(rows):
        y = 4 + i * row_h
        w = (width - label_w - 80) * value / top
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" font-size="12" fill="#1d2129">'
                     f'{escape(label)}</text><rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
                     f'fill="{PALETTE[0]}"/><text x="{label_w + w + 6:.1f}" y="{y + 16}" font-size="12" '
                     f'fill="#4e5969">{value:g}{escape(unit)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
