"""Charts for the figures pages, drawn on the server as SVG by pygal (no script, no CDN).

Every chart on a page has its table and a download under it; the charts only draw what
the table says.
"""

from __future__ import annotations

from collections.abc import Sequence

import pygal
from markupsafe import Markup
from pygal.style import Style

STYLE = Style(
    font_family='"WenQuanYi Micro Hei", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif',
    background="transparent",
    plot_background="transparent",
    colors=("#b3261e", "#1e7b34", "#0b5cad", "#b26a00"),
    label_font_size=14,
    major_label_font_size=14,
    legend_font_size=14,
    title_font_size=16,
    value_font_size=13,
)


def _config(height: int) -> dict[str, object]:
    return {
        "style": STYLE,
        "js": [],  # no tooltips script from a CDN: village networks may be offline
        "disable_xml_declaration": True,
        "explicit_size": False,
        "width": 480,  # drawn at about this size on a phone, so its text stays readable
        "height": height,
        "show_legend": True,
        "legend_at_bottom": True,
        "print_values": False,
    }


def _svg(chart: pygal.graph.graph.Graph) -> Markup:
    return Markup(chart.render(is_unicode=True))


def against_target(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    target: float,
    below: str,
    met: str,
) -> Markup:
    """Horizontal bars, furthest below the target on top, red below it and green at or above.

    Points with no figure (no residents) are left out; the table lists them.
    """
    # pygal draws the first label at the bottom: highest first puts the lowest on top
    order = sorted((i for i in range(len(labels)) if values[i] is not None),
                   key=lambda i: -(values[i] or 0.0))  # fmt: skip
    height = max(220, 26 * len(order) + 120)
    names = [_short(labels[i]) for i in order]
    chart = pygal.HorizontalBar(title=title, margin_left=_cjk_room(names), **_config(height))
    chart.x_labels = names
    below_values = [values[i] if (values[i] or 0) < target else None for i in order]
    met_values = [values[i] if (values[i] or 0) >= target else None for i in order]
    chart.add(below, below_values)
    chart.add(met, met_values)
    return _svg(chart)


def _short(label: str, limit: int = 10) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _cjk_room(labels: Sequence[str]) -> int:
    """pygal measures labels as Latin letters, about half as wide as a Chinese character:
    the margin it leaves is short by half a character for each Chinese character."""
    wide = max((sum(1 for ch in label if ord(ch) > 0x2E80) for label in labels), default=0)
    return int(wide * STYLE.label_font_size * 0.5) + 4


def bars(title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]]) -> Markup:
    chart = pygal.Bar(title=title, x_label_rotation=40, **_config(360))
    chart.x_labels = [_short(label) for label in labels]
    for name, values in series.items():
        chart.add(name, list(values))
    return _svg(chart)


def line(title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]]) -> Markup:
    chart = pygal.Line(title=title, x_label_rotation=40, dots_size=3, **_config(320))
    chart.x_labels = [_short(label) for label in labels]
    for name, values in series.items():
        chart.add(name, list(values))
    return _svg(chart)
