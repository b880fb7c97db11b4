"""Banner copy templates: placeholders, Babel formatting per locale, plural forms, validation."""

from datetime import date

import pytest

from service.campaigns.locales import candidates, text_direction
from service.campaigns.wording import TemplateError, Values, render, validate

V = Values(count=1234, goal=25_000, remaining=23_766, percent=4.936, days_left=21, deadline=date(2025, 12, 31))


def values(**kw):
    return Values(**{**V.__dict__, **kw})


def test_numbers_follow_the_locale():
    assert render("{count} out of {goal}", V, "en") == "1,234 out of 25,000"
    assert render("{count} з {goal}", V, "uk") == "1\u00a0234 з 25\u00a0000"
    assert render("{goal}", V, "de") == "25.000"


def test_percent_is_whole_and_rounded_down():
    assert render("{percent}%", values(percent=99.96), "en") == "99%"


def test_deadline_formats():
    assert render("{deadline}", V, "en") == "December 31, 2025"
    assert render("{deadline:yyyy}", V, "en") == "2025"
    assert render("{deadline:short}", V, "en") == "12/31/25"
    assert render("{deadline:d MMMM}", V, "uk") == "31 грудня"


UK_DAYS = "{days_left, plural, one {# день} few {# дні} many {# днів} other {# дня}}"


@pytest.mark.parametrize("n, expected", [
    (1, "1 день"), (2, "2 дні"), (4, "4 дні"), (5, "5 днів"), (11, "11 днів"), (21, "21 день"),
    (22, "22 дні"), (25, "25 днів"), (111, "111 днів"),
])
def test_ukrainian_plural_forms(n, expected):
    assert render(UK_DAYS, values(days_left=n), "uk") == expected


@pytest.mark.parametrize("n, expected", [(0, "no days"), (1, "1 day"), (2, "2 days"), (1000, "1,000 days")])
def test_english_plurals_and_exact_matches(n, expected):
    t = "{days_left, plural, =0 {no days} one {# day} other {# days}}"
    assert render(t, values(days_left=n), "en") == expected


def test_literal_braces_and_nested_placeholders():
    assert render("{{not a placeholder}}", V, "en") == "{not a placeholder}"
    t = "{remaining, plural, one {# to go by {deadline:yyyy}} other {# to go by {deadline:yyyy}}}"
    assert render(t, V, "en") == "23,766 to go by 2025"


@pytest.mark.parametrize("template, message", [
    ("{members}", "unknown placeholder {members}"),
    ("{count", "unclosed"),
    ("count}", "unmatched '}'"),
    ("{count, plural, one {x}}", "'other' branch"),
    ("{count, plural, several {x} other {y}}", "unknown plural category 'several'"),
    ("{count, select, a {x} other {y}}", "expected '{name, plural"),
    ("{goal:yyyy}", "only {deadline} takes a format"),
    ("{deadline, plural, one {x} other {y}}", "unknown placeholder {deadline}"),
])
def test_invalid_templates_are_rejected_with_a_clear_message(template, message):
    with pytest.raises(TemplateError, match=message.replace("{", r"\{").replace("}", r"\}").replace("(", r"\(")):
        validate(template)


def test_locale_candidates_and_direction():
    assert candidates("uk-UA", "en") == ["uk_UA", "uk", "en"]
    assert candidates("'; DROP TABLE", "en") == ["en"]
    assert candidates(None, "uk") == ["uk"]
    assert text_direction("ar") == "rtl" and text_direction("he") == "rtl" and text_direction("uk") == "ltr"
