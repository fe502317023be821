"""Bar charts as inline SVG, laid out here and drawn by a template macro.

Pure geometry: groups of values in, rectangles, ticks and labels out, every coordinate a
``Decimal`` rounded to a tenth of a pixel (quantities stay decimal up to the drawing). The
y axis starts at zero and ends on a "nice" value (1, 2, 2.5 or 5 times a power of ten) so the
grid lines read as round numbers. A missing value (``None``) draws no bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

PX = Decimal("0.1")
NICE = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))


def px(value: Decimal) -> Decimal:
    return value.quantize(PX)


@dataclass(frozen=True)
class Bar:
    x: Decimal
    y: Decimal
    width: Decimal
    height: Decimal
    group: str
    series: int  # index into the chart's series
    value: Decimal


@dataclass(frozen=True)
class Tick:
    y: Decimal
    value: Decimal


@dataclass(frozen=True)
class Label:
    x: Decimal
    y: Decimal
    text: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: int  # the plot area
    top: int
    right: int
    bottom: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    labels: tuple[Label, ...]
    rotate_labels: bool


def nice_step(top: Decimal, ticks: int = 5) -> Decimal:
    """The smallest 1/2/2.5/5 × 10^k step that covers ``top`` in at most ``ticks`` steps."""
    if top <= 0:
        return Decimal(1)
    raw = top / ticks
    base = Decimal(1).scaleb(raw.adjusted())
    return next(base * m for m in NICE if base * m >= raw)


def grouped_bars(groups: Sequence[tuple[str, Sequence[Decimal | None]]], *, width: int = 760,
                 height: int = 300, left: int = 64, top: int = 16, right: int = 12,
                 label_space: int = 56) -> BarChart:
    """One group of bars per ``(label, values)``, one bar per series in each group."""
    bottom = height - label_space
    values = [v for _, vs in groups for v in vs if v is not None]
    highest = max(values, default=Decimal(0))
    step = nice_step(highest)
    axis_top = (highest / step).to_integral_value(rounding=ROUND_CEILING) * step if highest > 0 else step
    plot_w, plot_h = Decimal(width - left - right), Decimal(bottom - top)
    per_group = plot_w / max(len(groups), 1)
    series = max((len(vs) for _, vs in groups), default=1)
    bar_w = per_group * Decimal("0.72") / series
    bars, labels = [], []
    for i, (label, vs) in enumerate(groups):
        x0 = left + per_group * i + per_group * Decimal("0.14")
        for j, value in enumerate(vs):
            if value is None:
                continue
            h = plot_h * max(value, Decimal(0)) / axis_top
            bars.append(Bar(px(x0 + bar_w * j), px(bottom - h), px(bar_w), px(h), label, j, value))
        labels.append(Label(px(left + per_group * i + per_group / 2), Decimal(bottom + 14), label))
    ticks = []
    n = int(axis_top / step)
    for k in range(n + 1):
        value = step * k
        ticks.append(Tick(px(bottom - plot_h * value / axis_top), value))
    rotate = per_group < 7 * max((len(lb) for lb, _ in groups), default=0)
    return BarChart(width, height, left, top, width - right, bottom, tuple(bars), tuple(ticks),
                    tuple(labels), rotate)
