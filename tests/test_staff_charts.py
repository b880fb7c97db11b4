"""Pure helpers: the dashboard's aggregation (stats.py) and the SVG charts (charts.py)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from service.staff import charts, stats

SVG = "{http://www.w3.org/2000/svg}"


def test_dense_days_fills_gaps_and_merges_rows():
    rows = [(date(2025, 5, 1), 3, 0), (date(2025, 5, 3), 1, 1), (date(2025, 5, 3), 2, 0)]
    days = stats.dense_days(rows, date(2025, 5, 1), date(2025, 5, 4))
    assert [(d.day.day, d.joined, d.ended) for d in days] == [(1, 3, 0), (2, 0, 0), (3, 3, 1), (4, 0, 0)]


def test_cumulative_adds_adjustments_on_their_day_and_never_goes_below_zero():
    days = stats.dense_days([(date(2025, 5, 1), 3, 0), (date(2025, 5, 2), 0, 1)], date(2025, 5, 1), date(2025, 5, 3))
    adj = {date(2025, 4, 20): 2, date(2025, 5, 3): -10}
    assert stats.cumulative(days, adj) == [(date(2025, 5, 1), 5), (date(2025, 5, 2), 4), (date(2025, 5, 3), 0)]


def test_projection_stops_at_the_goal_or_the_deadline():
    today, deadline = date(2025, 6, 1), date(2025, 6, 30)
    assert stats.projection_line(today, 90, 5.0, 100, deadline) == [(today, 90.0), (date(2025, 6, 3), 100.0)]
    assert stats.projection_line(today, 10, 1.0, 100, deadline) == [(today, 10.0), (deadline, 39.0)]
    assert stats.projection_line(today, 10, 0.0, 100, deadline) == []
    assert stats.projection_line(today, 100, 3.0, 100, deadline) == []


def test_breakdown_orders_by_net_and_names_the_unattributed():
    shares = stats.breakdown([("monthly", 6, 2), ("", 1, 0), ("yearly", 5, 0)])
    assert [(s.key, s.net, s.percent) for s in shares] == [("yearly", 5, 41.7), ("monthly", 4, 50.0),
                                                           ("(unknown)", 1, 8.3)]
    assert stats.breakdown([]) == []


def test_funnel_rates_are_relative_to_the_previous_step():
    steps = stats.funnel([("Impressions", 1000), ("Clicks", 50), ("Checkouts started", 0), ("Sign-ups", 0)])
    assert [s.rate for s in steps] == [None, 5.0, 0.0, None]


def test_nice_ticks():
    assert charts.y_ticks(0, 100) == [0, 20, 40, 60, 80, 100]
    assert charts.y_ticks(0, 27_000)[-1] >= 25_000
    assert charts.y_ticks(-4, 10)[0] <= 0 <= charts.y_ticks(-4, 10)[-1]
    assert charts.nice_step(0) == 1.0


def test_month_ticks_for_a_year_and_weekly_ticks_for_two_months():
    year = charts.x_ticks(date(2025, 1, 1), date(2025, 12, 31))
    assert [label for _, label in year][:3] == ["Jan", "Feb", "Mar"] and len(year) == 12
    weeks = charts.x_ticks(date(2025, 5, 1), date(2025, 6, 30))
    assert all(d.weekday() == 0 for d, _ in weeks) and weeks[0][1] == "5 May"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_cumulative_chart_is_well_formed_svg_with_title_desc_axes_and_lines():
    first, last, today = date(2025, 1, 1), date(2025, 12, 31), date(2025, 6, 1)
    days = stats.dense_days([(first + timedelta(days=i), 10, 1) for i in range(152)], first, last)
    cum = stats.cumulative([d for d in days if d.day <= today])
    projection = stats.projection_line(today, cum[-1][1], 9.0, 5000, last)
    svg = str(charts.cumulative_chart(cum, stats.on_track_line(first, last, 5000), projection, 5000, first, last,
                                      today))
    root = _parse(svg)
    assert root.tag == SVG + "svg" and root.get("role") == "img"
    assert root.find(SVG + "title").text == "Members over the campaign"
    assert "goal 5,000" in root.find(SVG + "desc").text
    labels = [t.text for t in root.iter(SVG + "text")]
    assert "Date" in labels and "Members (cumulative)" in labels and "Jun" in labels and "Goal 5,000" in labels
    paths = list(root.iter(SVG + "path"))
    assert len(paths) == 3 and all(p.get("d").startswith("M") for p in paths)


def test_daily_chart_draws_sign_ups_up_and_cancellations_down():
    first, last = date(2025, 5, 1), date(2025, 5, 10)
    days = stats.dense_days([(date(2025, 5, 2), 8, 0), (date(2025, 5, 3), 0, 4)], first, last)
    root = _parse(str(charts.daily_chart(days, first, last)))
    bars = [r for r in root.iter(SVG + "rect") if r.find(SVG + "title") is not None]
    up, down = bars
    assert up.find(SVG + "title").text == "2025-05-02: 8 sign-ups"
    assert down.find(SVG + "title").text == "2025-05-03: 4 cancellations"
    zero_line = float(up.get("y")) + float(up.get("height"))
    assert abs(float(down.get("y")) - zero_line) < 0.01  # cancellations hang below the axis


def test_text_in_charts_is_escaped():
    svg = str(charts.render(charts.Chart(title="<script>alert(1)</script>", desc="a & b", first=date(2025, 1, 1),
                                         last=date(2025, 1, 5), y_label="x<y")))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    _parse(svg)


def test_empty_campaign_still_draws_axes():
    first, last = date(2025, 5, 1), date(2025, 6, 30)
    svg = str(charts.cumulative_chart([], stats.on_track_line(first, last, 100), [], 100, first, last, None))
    root = _parse(svg)
    assert len(list(root.iter(SVG + "path"))) == 1  # the on-track line
    svg = str(charts.daily_chart(stats.dense_days([], first, last), first, last))
    _parse(svg)


def test_progress_bar_width_is_capped():
    assert 'width="1000.0"' in str(charts.progress_bar(300, 100, "300 of 100"))
    assert 'width="0.0"' in str(charts.progress_bar(0, 100, "0 of 100"))


@given(st.lists(st.tuples(st.integers(0, 59), st.integers(0, 10_000), st.integers(0, 10_000)), max_size=40),
       st.integers(1, 10**7))
def test_any_data_gives_well_formed_svg_inside_the_view_box(rows, goal):
    first, last = date(2025, 5, 1), date(2025, 6, 29)
    days = stats.dense_days([(first + timedelta(days=i), j, e) for i, j, e in rows], first, last)
    cum = stats.cumulative(days)
    for svg in (charts.cumulative_chart(cum, stats.on_track_line(first, last, goal), [], goal, first, last, last),
                charts.daily_chart(days, first, last)):
        root = _parse(str(svg))
        for p in root.iter(SVG + "path"):
            for x, y in re.findall(r"([-\d.]+),([-\d.]+)", p.get("d")):
                assert -1 <= float(x) <= charts.WIDTH + 1 and -1 <= float(y) <= charts.HEIGHT + 1
