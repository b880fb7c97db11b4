"""Server-side SVG charts (pure: no Flask, no database, no JavaScript).

Each chart is a complete inline <svg> with a <title> and <desc>, labelled axes, tick labels and a
legend, drawn with presentation attributes so that it reads the same without the stylesheet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from markupsafe import Markup, escape

WIDTH, HEIGHT = 760, 310
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 54, 52

COLOURS = {
    "count": "#1f5fbf",
    "track": "#6b7280",
    "projection": "#d97706",
    "joined": "#15803d",
    "ended": "#b91c1c",
    "goal": "#9ca3af",
    "grid": "#e5e7eb",
    "axis": "#374151",
    "today": "#7c3aed",
    "milestone": "#0f766e",
}


@dataclass
class Series:
    name: str
    points: list[tuple[date, float]]
    colour: str
    kind: str = "line"  # line | bars | bars-down
    dashed: bool = False
    unit: str = ""


@dataclass
class Chart:
    title: str
    desc: str
    first: date
    last: date
    y_label: str
    x_label: str = "Date"
    series: list[Series] = field(default_factory=list)
    y_min: float = 0.0
    y_max: float = 1.0
    hlines: list[tuple[float, str, str]] = field(default_factory=list)  # (value, label, colour)
    marker: date | None = None  # "today"
    events: list[tuple[date, float, str]] = field(default_factory=list)  # (day, value, label): milestones reached
    chart_id: str = "chart"


def nice_step(span: float, ticks: int = 5) -> float:
    """The smallest whole round step (1, 2, 2.5 or 5 times a power of ten) giving at most ticks + 2 intervals."""
    if span <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(span / ticks))
    for m in (0.5, 1, 2, 2.5, 5, 10, 20):
        step = m * power
        if span / step <= ticks + 2 and step >= 1:  # counts of people: whole-number ticks
            return step
    return 20 * power


def y_ticks(y_min: float, y_max: float) -> list[float]:
    step = nice_step(y_max - y_min)
    start = math.floor(y_min / step) * step
    out = []
    v = start
    while v <= y_max + step * 1e-9:
        if v >= y_min - step * 1e-9:
            out.append(round(v, 6))
        v += step
    return out


def x_ticks(first: date, last: date) -> list[tuple[date, str]]:
    span = (last - first).days
    out: list[tuple[date, str]] = []
    if span > 120:
        d = date(first.year, first.month, 1)
        while d <= last:
            if d >= first:
                out.append((d, d.strftime("%b") if d.month != 1 or d == first else d.strftime("%b %Y")))
            d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    elif span > 20:
        d = first + timedelta(days=(7 - first.weekday()) % 7)  # Mondays
        while d <= last:
            out.append((d, f"{d.day} {d:%b}"))
            d += timedelta(days=7)
    else:
        step = 1 if span <= 10 else 2
        d = first
        while d <= last:
            out.append((d, f"{d.day} {d:%b}"))
            d += timedelta(days=step)
    return out


def fmt(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


class _Scale:
    def __init__(self, chart: Chart) -> None:
        self.first = chart.first
        self.days = max(1, (chart.last - chart.first).days + 1)
        self.y_min, self.y_max = chart.y_min, chart.y_max if chart.y_max > chart.y_min else chart.y_min + 1
        self.plot_w = WIDTH - LEFT - RIGHT
        self.plot_h = HEIGHT - TOP - BOTTOM

    def x(self, d: date, centre: bool = True) -> float:
        """Days are slots: a point sits in the middle of its day's slot."""
        return LEFT + ((d - self.first).days + (0.5 if centre else 0.0)) * self.plot_w / self.days

    def x_end(self, d: date) -> float:
        """The end of day d (for lines that reach a value 'by the end of' a day)."""
        return LEFT + ((d - self.first).days + 1) * self.plot_w / self.days

    def y(self, v: float) -> float:
        return TOP + (self.y_max - v) * self.plot_h / (self.y_max - self.y_min)

    @property
    def slot(self) -> float:
        return self.plot_w / self.days


def render(chart: Chart) -> Markup:
    s = _Scale(chart)
    parts = [*_heading(chart), *_y_axis(s), *_x_axis(chart, s), *_axis_labels(chart, s), *_references(chart, s)]
    parts += [_series(series, s) for series in chart.series]
    parts += _events(chart, s)
    parts += _legend(chart)
    parts.append('</svg>')
    return Markup("".join(parts))  # noqa: S704 - every text and attribute above is escaped or a number


def _heading(chart: Chart) -> list[str]:
    """The <svg> element, its <title> and <desc> (what screen readers announce) and the visible title."""
    cid = escape(chart.chart_id)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="chart" role="img" '
        f'aria-labelledby="{cid}-title {cid}-desc" id="{cid}" font-family="system-ui, sans-serif" font-size="12">',
        f'<title id="{cid}-title">{escape(chart.title)}</title>',
        f'<desc id="{cid}-desc">{escape(chart.desc)}</desc>',
        f'<text x="{LEFT}" y="18" font-size="14" font-weight="600" fill="{COLOURS["axis"]}">'
        f'{escape(chart.title)}</text>',
    ]


def _y_axis(s: _Scale) -> list[str]:
    """Grid lines and y tick labels (below zero, magnitudes: bars drawn down are counts too)."""
    parts = ['<g class="y-axis">']
    for v in y_ticks(s.y_min, s.y_max):
        y = s.y(v)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="{COLOURS["grid"] if v else COLOURS["axis"]}" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{COLOURS["axis"]}">'
                     f'{escape(fmt(abs(v) if s.y_min < 0 else v))}</text>')
    parts.append('</g>')
    return parts


def _x_axis(chart: Chart, s: _Scale) -> list[str]:
    base = HEIGHT - BOTTOM
    parts = ['<g class="x-axis">',
             f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}" stroke="{COLOURS["axis"]}"/>']
    for d, label in x_ticks(chart.first, chart.last):
        x = s.x(d, centre=False)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{base}" y2="{base + 5}" stroke="{COLOURS["axis"]}"/>')
        parts.append(f'<text x="{x:.1f}" y="{base + 18}" text-anchor="middle" fill="{COLOURS["axis"]}">'
                     f'{escape(label)}</text>')
    parts.append('</g>')
    return parts


def _axis_labels(chart: Chart, s: _Scale) -> list[str]:
    return [f'<text class="axis-label" x="{LEFT + s.plot_w / 2:.0f}" y="{HEIGHT - 8}" text-anchor="middle" '
            f'fill="{COLOURS["axis"]}">{escape(chart.x_label)}</text>',
            f'<text class="axis-label" transform="translate(16 {TOP + s.plot_h / 2:.0f}) rotate(-90)" '
            f'text-anchor="middle" fill="{COLOURS["axis"]}">{escape(chart.y_label)}</text>']


Box = tuple[float, float, float, float]  # x0, y0, x1, y1 of a text label
CHAR_W, TEXT_H = 7.0, 12.0  # a 12 px label's width per character and height, generously


def text_box(x: float, y: float, text: str, anchor: str = "start") -> Box:
    """The box a label of `text` at (x, baseline y) covers."""
    width = CHAR_W * len(text)
    x0 = x - width if anchor == "end" else x - width / 2 if anchor == "middle" else x
    return (x0, y - TEXT_H, x0 + width, y + 3)


def overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def today_label(x: float, taken: list[Box]) -> tuple[float, float, str]:
    """Where "today" goes (x, y, anchor): right of the marker at the top of the plot, else left of it, else
    lower down, never over another label (the goal's) nor outside the plot."""
    for y in (TOP + 10, TOP + 26, TOP + 42, HEIGHT - BOTTOM - 6):
        for lx, anchor in ((x + 4, "start"), (x - 4, "end")):
            box = text_box(lx, y, "today", anchor)
            if box[0] >= LEFT and box[2] <= WIDTH - RIGHT and not any(overlaps(box, t) for t in taken):
                return lx, y, anchor
    return x + 4, HEIGHT - BOTTOM - 6, "start"


def _references(chart: Chart, s: _Scale) -> list[str]:
    """Horizontal reference lines (the goal) and the "today" marker, their labels clear of each other."""
    parts, taken = [], []
    for value, label, colour in chart.hlines:
        y = s.y(value)
        ly = y - 5 if y - 5 - TEXT_H >= TOP - 14 else y + 15  # above the line, unless that leaves the plot
        taken.append(text_box(WIDTH - RIGHT - 4, ly, label, "end"))
        parts.append(f'<line class="ref" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="{colour}" stroke-dasharray="2 3"/>')
        parts.append(f'<text class="ref-label" x="{WIDTH - RIGHT - 4}" y="{ly:.1f}" text-anchor="end" '
                     f'fill="{colour}">{escape(label)}</text>')
    if chart.marker is not None and chart.first <= chart.marker <= chart.last:
        x = s.x(chart.marker)
        lx, ly, anchor = today_label(x, taken)
        parts.append(f'<line class="today" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" '
                     f'stroke="{COLOURS["today"]}" stroke-dasharray="4 3"/>')
        parts.append(f'<text class="today-label" x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" '
                     f'fill="{COLOURS["today"]}">today</text>')
    return parts


def _events(chart: Chart, s: _Scale) -> list[str]:
    """A labelled diamond where the count first reached a milestone or a goal (on the day it did)."""
    parts = ['<g class="events">'] if chart.events else []
    for d, value, label in chart.events:
        if not chart.first <= d <= chart.last:
            continue
        x, y = s.x_end(d), s.y(value)
        parts.append(f'<g class="event"><path d="M{x:.1f},{y - 6:.1f} L{x + 6:.1f},{y:.1f} L{x:.1f},{y + 6:.1f} '
                     f'L{x - 6:.1f},{y:.1f} Z" fill="{COLOURS["milestone"]}" stroke="#ffffff" stroke-width="1.5">'
                     f'<title>{escape(label)} on {d.isoformat()}</title></path>'
                     f'<text x="{x - 8:.1f}" y="{y - 9:.1f}" text-anchor="end" font-size="11" '
                     f'fill="{COLOURS["milestone"]}">{escape(label)}</text></g>')
    return parts + (['</g>'] if chart.events else [])


def _legend(chart: Chart) -> list[str]:
    parts = []
    x = LEFT
    for series in chart.series:
        dash = ' stroke-dasharray="5 3"' if series.dashed else ""
        if series.kind == "line":
            mark = f'<line x1="{x}" x2="{x + 18}" y1="34" y2="34" stroke="{series.colour}" stroke-width="3"{dash}/>'
        else:
            mark = f'<rect x="{x + 3}" y="28" width="12" height="12" fill="{series.colour}"/>'
        parts.append(f'<g class="legend">{mark}<text x="{x + 24}" y="38" fill="{COLOURS["axis"]}">'
                     f'{escape(series.name)}</text></g>')
        x += 40 + 6.5 * len(series.name)
    return parts


def _series(series: Series, s: _Scale) -> str:
    name = escape(series.name)
    if series.kind in ("bars", "bars-down"):
        width = max(0.6, s.slot * 0.8)
        rects = [f'<g class="series bars" fill="{series.colour}"><title>{name}</title>']
        for d, v in series.points:
            if not v:
                continue
            value = -v if series.kind == "bars-down" else v
            y0, y1 = s.y(0), s.y(value)
            top, height = min(y0, y1), abs(y1 - y0)
            rects.append(f'<rect x="{s.x(d) - width / 2:.2f}" y="{top:.2f}" width="{width:.2f}" '
                         f'height="{max(height, 0.5):.2f}"><title>{d.isoformat()}: {fmt(v)} '
                         f'{escape(series.unit or series.name.lower())}</title></rect>')
        rects.append('</g>')
        return "".join(rects)
    if not series.points:
        return ""
    coords = []
    for i, (d, v) in enumerate(series.points):
        # lines describe a total "by the end of" each day, except the starting point of a line at 0
        x = s.x(d, centre=False) if (i == 0 and v == 0) else s.x_end(d)
        coords.append(f"{x:.1f},{s.y(v):.1f}")
    dash = ' stroke-dasharray="7 5"' if series.dashed else ""
    last_d, last_v = series.points[-1]
    return (f'<g class="series line"><path d="M{" L".join(coords)}" fill="none" stroke="{series.colour}" '
            f'stroke-width="2.5" stroke-linejoin="round"{dash}><title>{name}</title></path>'
            f'<circle cx="{s.x_end(last_d):.1f}" cy="{s.y(last_v):.1f}" r="3.5" fill="{series.colour}">'
            f'<title>{name}: {fmt(round(last_v))} on {last_d.isoformat()}</title></circle></g>')


def cumulative_chart(cumulative: list[tuple[date, int]], on_track: list[tuple[date, float]],
                     projection: list[tuple[date, float]], goal: int, first: date, last: date,
                     today: date | None, events: list[tuple[date, float, str]] | None = None) -> Markup:
    top = max([goal, *(v for _, v in cumulative), *(v for _, v in projection)]) * 1.08
    series = [Series("On track", on_track, COLOURS["track"], dashed=True),
              Series("Members", cumulative, COLOURS["count"])]
    if projection:
        series.append(Series("Projection (7-day pace)", projection, COLOURS["projection"], dashed=True))
    now_value = cumulative[-1][1] if cumulative else 0
    desc = (f"Cumulative members from {first.isoformat()} to {last.isoformat()}: {now_value:,} so far, goal "
            f"{goal:,}. The dashed grey line is the steady pace that reaches the goal on the last day"
            + ("; the orange line projects the last 7 days' pace." if projection else "."))
    if events:
        desc += " Reached: " + "; ".join(f"{label} on {d.isoformat()}" for d, _, label in events) + "."
    return render(Chart(title="Members over the campaign", desc=desc, first=first, last=last,
                        y_label="Members (cumulative)", series=series, y_min=0, y_max=top,
                        hlines=[(goal, f"Goal {goal:,}", COLOURS["goal"])], marker=today,
                        chart_id="chart-cumulative", events=events or []))


def daily_chart(days: list, first: date, last: date) -> Markup:
    """Sign-ups above the axis, cancellations below it."""
    joined = [(d.day, d.joined) for d in days]
    ended = [(d.day, d.ended) for d in days]
    top = max([1, *(v for _, v in joined)])
    bottom = max([0, *(v for _, v in ended)])
    total_j, total_e = sum(v for _, v in joined), sum(v for _, v in ended)
    desc = (f"Daily sign-ups (bars above the axis, {total_j:,} in all) and cancellations (below, {total_e:,}) "
            f"from {first.isoformat()} to {last.isoformat()}.")
    return render(Chart(title="Daily sign-ups and cancellations", desc=desc, first=first, last=last,
                        y_label="Members per day", series=[
                            Series("Sign-ups", joined, COLOURS["joined"], kind="bars", unit="sign-ups"),
                            Series("Cancellations", ended, COLOURS["ended"], kind="bars-down",
                                   unit="cancellations")],
                        y_min=-max(bottom * 1.1, top * 0.2) if bottom else 0, y_max=top * 1.1,
                        chart_id="chart-daily"))


def progress_bar(count: int, goal: int, label: str) -> Markup:
    """The large progress bar, as SVG so that it needs no inline style (CSP-friendly)."""
    share = max(0.0, min(1.0, count / goal if goal else 0.0))
    width = 1000
    return Markup(  # noqa: S704 - the label is escaped; the rest are numbers
        f'<svg class="progress-bar" viewBox="0 0 {width} 48" role="img" aria-label="{escape(label)}" '
        f'preserveAspectRatio="none"><title>{escape(label)}</title>'
        f'<rect x="0" y="0" width="{width}" height="48" rx="8" fill="#e5e7eb"/>'
        f'<rect class="progress-fill" x="0" y="0" width="{share * width:.1f}" height="48" rx="8" fill="#1f5fbf"/>'
        '</svg>')
