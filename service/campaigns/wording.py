"""Banner copy templates, rendered for a locale with Babel (pure; no Flask).

Syntax, a small subset of ICU MessageFormat:
- `{count}`, `{goal}`, `{remaining}`, `{percent}`, `{days_left}`: numbers in the locale's format
  (en "25,000", uk "25 000"); `{percent}` is the whole percent, rounded down.
- `{original_goal}`: the goal a stretch goal replaced (the goal itself without one); `{hours_left}`: whole
  hours to the end of the window; `{milestone}`: the milestone a milestone headline celebrates.
- `{contributors}`: people who gave once (one-time contributions) in the campaign's window; never part of
  `{count}`, e.g. `{count} members and {contributors, plural, one {# reader who gave once} other {# readers
  who gave once}}`.
- `{time_left}`: the time left in words with the locale's plural form: hours in the last 48 hours
  ("5 hours", uk "5 годин"), days before that ("3 days"), e.g. `{time_left} left`.
- `{deadline}`: the campaign's last day as a long date; `{deadline:yyyy}` (any CLDR date pattern, or
  short/medium/long/full) picks another format, e.g. the year alone.
- `{remaining, plural, one {# member} few {# members} other {# members}}`: the words after a number
  take the locale's plural form (CLDR categories zero, one, two, few, many, other, or `=N` for an
  exact number; `other` is required); `#` stands for the formatted number.
- `{{` and `}}` are literal braces.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal
from babel.units import format_unit

from service.campaigns.locales import babel_locale

NUMBER_NAMES = ("count", "goal", "remaining", "percent", "days_left", "hours_left", "original_goal", "milestone",
                "contributors")
DATE_NAMES = ("deadline",)
WORD_NAMES = ("time_left",)
PLACEHOLDERS = NUMBER_NAMES + DATE_NAMES + WORD_NAMES
COUNTDOWN_HOURS = 48  # {time_left} counts hours from here down, days before
PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")


class TemplateError(ValueError):
    """A template that cannot be rendered; the message says where and why."""


@dataclass(frozen=True)
class Field:
    name: str
    fmt: str | None = None


@dataclass(frozen=True)
class Plural:
    name: str
    branches: tuple[tuple[str, tuple], ...]  # (category or "=N", nodes)


Node = str | Field | Plural


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, message: str) -> TemplateError:
        return TemplateError(f"{message} (at character {self.pos + 1})")

    def parse(self, nested: bool = False) -> tuple[Node, ...]:
        nodes: list[Node] = []
        buf: list[str] = []
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch == "{" and text.startswith("{{", self.pos):
                buf.append("{")
                self.pos += 2
            elif ch == "}" and text.startswith("}}", self.pos) and not nested:
                buf.append("}")
                self.pos += 2
            elif ch == "{":
                if buf:
                    nodes.append("".join(buf))
                    buf = []
                nodes.append(self.placeholder())
            elif ch == "}":
                if nested:
                    break
                raise self.error("unmatched '}' (write '}}' for a literal brace)")
            elif ch == "#" and nested:
                if buf:
                    nodes.append("".join(buf))
                    buf = []
                nodes.append(Field("#"))
                self.pos += 1
            else:
                buf.append(ch)
                self.pos += 1
        if buf:
            nodes.append("".join(buf))
        return tuple(nodes)

    def placeholder(self) -> Node:
        start = self.pos
        end = self.text.find("}", start)
        inner_end = self.text.find("{", start + 1)
        if end == -1:
            raise self.error("unclosed '{'")
        if inner_end != -1 and inner_end < end:  # a plural block
            head = self.text[start + 1:inner_end]
            parts = [p.strip() for p in head.split(",")]
            if len(parts) != 3 or parts[1] != "plural":
                raise self.error(f"expected '{{name, plural, category {{...}} ...}}', got '{{{head}'")
            name, _, first_key = parts
            self.check_name(name, NUMBER_NAMES)
            self.pos = inner_end
            return Plural(name, self.branches(first_key))
        body = self.text[start + 1:end]
        name, _, fmt = body.partition(":")
        name = name.strip()
        self.check_name(name, PLACEHOLDERS)
        if fmt and name not in DATE_NAMES:
            raise self.error(f"only {{deadline}} takes a format, not {{{name}}}")
        self.pos = end + 1
        return Field(name, fmt.strip() or None)

    def branches(self, first_key: str) -> tuple[tuple[str, tuple], ...]:
        out: list[tuple[str, tuple]] = []
        key = first_key
        while True:
            if not (key in PLURAL_CATEGORIES or re.fullmatch(r"=\d+", key)):
                raise self.error(f"unknown plural category '{key}' (use {', '.join(PLURAL_CATEGORIES)} or =N)")
            self.skip_space()
            if not self.text.startswith("{", self.pos):
                raise self.error(f"expected '{{' after '{key}'")
            self.pos += 1
            nodes = self.parse(nested=True)
            if not self.text.startswith("}", self.pos):
                raise self.error("unclosed plural branch")
            self.pos += 1
            out.append((key, nodes))
            self.skip_space()
            if self.text.startswith("}", self.pos):
                self.pos += 1
                break
            match = re.compile(r"[=\w]+").match(self.text, self.pos)
            if not match:
                raise self.error("unclosed plural block")
            key = match.group()
            self.pos = match.end()
        if "other" not in dict(out):
            raise TemplateError("a plural block needs an 'other' branch")
        return tuple(out)

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def check_name(self, name: str, allowed: tuple[str, ...]) -> None:
        if name not in allowed:
            raise self.error(
                f"unknown placeholder {{{name}}}; use one of " + ", ".join("{" + n + "}" for n in allowed)
            )


@lru_cache(maxsize=1024)
def parse(template: str) -> tuple[Node, ...]:
    return _Parser(template).parse()


def validate(template: str) -> None:
    """Raise TemplateError with a clear message if the template does not parse (see `check` for rendering)."""
    parse(template)


def check(template: str, locale: str, samples: list[Values]) -> None:
    """Raise TemplateError unless the template parses and renders for every sample (see `sample_values`).

    Parsing alone is not enough: `{deadline:d MMM, HH}` parses, but Babel refuses an hour on a date, and
    a branch of a plural block only renders for the numbers that choose it.
    """
    parse(template)
    for values in samples:
        render(template, values, locale)


@dataclass(frozen=True)
class Values:
    count: int
    goal: int
    remaining: int
    percent: float
    days_left: int
    deadline: date
    hours_left: int = -1  # -1: not given (days_left * 24)
    original_goal: int = 0  # 0: the goal
    milestone: int = 0
    contributors: int = 0

    @classmethod
    def from_pace(cls, p: Any, milestone: int = 0) -> Values:
        """The values of a campaigns.pace.Pace (read by attribute: this module knows no pace)."""
        return cls(count=p.count, goal=p.goal, remaining=p.remaining, percent=p.percent, days_left=p.days_left,
                   deadline=p.deadline, hours_left=p.hours_left, original_goal=p.original_goal or p.goal,
                   milestone=milestone, contributors=getattr(p, "contributors", 0))


SAMPLE_NUMBERS = (0, 1, 2, 5, 21)


def sample_values(goal: int, deadline: date) -> list[Values]:
    """The numbers a banner meets over a campaign (every stage: none yet, a few, the goal, past the goal),
    each also as remaining and days left, so every plural branch a locale can choose is rendered once."""
    counts = sorted({*SAMPLE_NUMBERS, goal, goal + 1, goal * 2})
    out = []
    for n in counts:
        remaining = max(goal - n, 0)
        out.append(Values(count=n, goal=goal, remaining=remaining, percent=100 * n / goal, days_left=n,
                          deadline=deadline, hours_left=n, milestone=n, contributors=n))
    for n in SAMPLE_NUMBERS:  # a few members or days to go, whatever the goal
        out.append(Values(count=max(goal - n, 0), goal=goal, remaining=n, percent=100 * max(goal - n, 0) / goal,
                          days_left=n, deadline=deadline, hours_left=n * 24, milestone=n, contributors=n))
    return out


def render(template: str, values: Values, locale: str) -> str:
    """The template filled in; TemplateError (never another exception) when it cannot be rendered."""
    nodes = parse(template)
    try:
        return "".join(_render(nodes, values, babel_locale(locale), None))
    except TemplateError:
        raise
    except Exception as exc:  # noqa: BLE001 - Babel raises many kinds; callers need one
        raise TemplateError(f"it cannot be rendered: {type(exc).__name__}: {exc}") from exc


def _date(values: Values, fmt: str | None, loc: Locale) -> str:
    try:
        return format_date(values.deadline, format=fmt or "long", locale=loc)
    except AttributeError as exc:  # Babel asks the date for an hour, minute, second or time zone
        raise TemplateError(
            f"the date format '{fmt}' asks for a time or time zone, but {{deadline}} is a day; "
            "use date letters only (d, M, y, E, e.g. {deadline:d MMM yyyy})") from exc
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise TemplateError(f"the date format '{fmt}' cannot be used ({exc})") from exc


def _number(name: str, values: Values) -> int:
    if name == "percent":
        return math.floor(values.percent)
    if name == "hours_left" and values.hours_left < 0:
        return values.days_left * 24
    if name == "original_goal":
        return values.original_goal or values.goal
    return int(getattr(values, name))


def time_left(values: Values, loc: Locale) -> str:
    """Hours in the last COUNTDOWN_HOURS (never "0 hours" while time is left: an hour at least), days before."""
    hours = _number("hours_left", values)
    if 0 < hours <= COUNTDOWN_HOURS:
        return format_unit(hours, "duration-hour", length="long", locale=loc)
    return format_unit(values.days_left, "duration-day", length="long", locale=loc)


def _render(nodes: tuple, values: Values, loc: Locale, hash_value: int | None):  # noqa: ANN202
    for node in nodes:
        if isinstance(node, str):
            yield node
        elif isinstance(node, Field):
            if node.name == "#":
                yield format_decimal(hash_value or 0, locale=loc)
            elif node.name == "deadline":
                yield _date(values, node.fmt, loc)
            elif node.name == "time_left":
                yield time_left(values, loc)
            else:
                yield format_decimal(_number(node.name, values), locale=loc)
        else:
            n = _number(node.name, values)
            branches = dict(node.branches)
            chosen = branches.get(f"={n}") or branches.get(loc.plural_form(n)) or branches["other"]
            yield from _render(chosen, values, loc, n)
