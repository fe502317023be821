"""The inline SVG bar chart's geometry."""

from __future__ import annotations

from decimal import Decimal

from api.web.charts import grouped_bars, nice_step


def test_nice_steps_are_round_numbers():
    assert nice_step(Decimal("11783.6")) == Decimal(2500)  # 0..12500 in five steps
    assert nice_step(Decimal("9.5")) == Decimal(2)
    assert nice_step(Decimal("10")) == Decimal(2)
    assert nice_step(Decimal("0.9")) == Decimal("0.2")
    assert nice_step(Decimal(0)) == Decimal(1)


def test_bars_stand_on_the_axis_in_proportion_to_their_values():
    chart = grouped_bars([("A", [Decimal(6000), Decimal(12000)]), ("B", [Decimal(3000), None])])
    assert chart.ticks[0].value == 0 and chart.ticks[-1].value == Decimal(12500)
    assert chart.ticks[-1].y == chart.top and chart.ticks[0].y == chart.bottom
    a_market, a_location, b_market = chart.bars
    for bar in chart.bars:
        assert bar.y + bar.height == chart.bottom
        assert chart.left <= bar.x and bar.x + bar.width <= chart.right
    assert abs(a_location.height - 2 * a_market.height) <= Decimal("0.2")
    assert abs(a_market.height - 2 * b_market.height) <= Decimal("0.2")
    assert a_market.x + a_market.width <= a_location.x < b_market.x
    assert [label.text for label in chart.labels] == ["A", "B"]


def test_an_empty_chart_has_an_axis_and_no_bars():
    chart = grouped_bars([])
    assert chart.bars == () and len(chart.ticks) >= 1
