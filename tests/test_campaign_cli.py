"""Flask CLI: campaign create/list/adjust/recount and demo; bad arguments exit non-zero without a traceback."""

from datetime import UTC, datetime

import pytest

from service.campaigns.models import BannerCopy, Campaign


def test_demo_creates_members_25k_once(runner, session, clock):
    clock.set(datetime(2026, 2, 3, 10, 0, tzinfo=UTC))
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    c = session.query(Campaign).filter_by(slug="members-25k").one()
    assert c.goal == 25_000 and c.count == 0
    assert c.starts_at == datetime(2026, 1, 1, tzinfo=UTC) and c.ends_at == datetime(2027, 1, 1, tzinfo=UTC)
    locales = {loc for (loc,) in session.query(BannerCopy.locale).filter_by(campaign_id=c.id)}
    assert locales == {"en", "uk"}
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0 and "exists already" in again.output
    assert session.query(Campaign).count() == 1


def test_create_list_adjust(runner, session):
    r = runner.invoke(args=["campaign", "create", "--slug", "spring", "--title", "Spring drive", "--goal", "5000",
                            "--starts", "2025-03-01", "--ends", "2025-05-31", "--timezone", "Europe/Kyiv",
                            "--locale", "uk", "--count-mode", "gross"])
    assert r.exit_code == 0, r.output
    c = session.query(Campaign).filter_by(slug="spring").one()
    assert (c.goal, c.timezone, c.default_locale, c.count_mode) == (5000, "Europe/Kyiv", "uk", "gross")
    r = runner.invoke(args=["campaign", "adjust", "--slug", "spring", "--delta", "120", "--reason", "festival"])
    assert r.exit_code == 0 and "count is now 120" in r.output
    r = runner.invoke(args=["campaign", "list"])
    assert r.exit_code == 0 and "spring" in r.output and "120" in r.output
    r = runner.invoke(args=["campaign", "recount", "--slug", "spring"])
    assert r.exit_code == 0 and "120 -> 120" in r.output


@pytest.mark.parametrize("args, message", [
    (["--goal", "0"], "--goal"),
    (["--goal", "many"], "--goal"),
    (["--starts", "2025-13-01"], "YYYY-MM-DD"),
    (["--ends", "2024-01-01"], "end on or after"),
    (["--timezone", "Mars/Olympus"], "unknown time zone"),
    (["--locale", "klingon!"], "unknown locale"),
    (["--count-mode", "both"], "--count-mode"),
    (["--slug", "Not A Slug"], "slug must be"),
])
def test_create_with_bad_arguments_fails_clearly(runner, args, message):
    base = {"--slug": "s", "--title": "T", "--goal": "10", "--starts": "2025-01-01", "--ends": "2025-12-31"}
    argv = ["campaign", "create"]
    overrides = dict(zip(args[::2], args[1::2], strict=True))
    for k, v in {**base, **overrides}.items():
        argv += [k, v]
    r = runner.invoke(args=argv)
    assert r.exit_code != 0
    assert message in r.output
    assert "Traceback" not in r.output and r.exception is None or isinstance(r.exception, SystemExit)


def test_duplicate_slug_and_unknown_campaign(runner):
    argv = ["campaign", "create", "--slug", "dup", "--title", "T", "--goal", "10", "--starts", "2025-01-01",
            "--ends", "2025-12-31"]
    assert runner.invoke(args=argv).exit_code == 0
    r = runner.invoke(args=argv)
    assert r.exit_code == 1 and "exists already" in r.output
    r = runner.invoke(args=["campaign", "adjust", "--slug", "nope", "--delta", "1", "--reason", "x"])
    assert r.exit_code == 1 and "No campaign" in r.output
    r = runner.invoke(args=["campaign", "adjust", "--slug", "dup", "--delta", "0", "--reason", "x"])
    assert r.exit_code == 1 and "non-zero" in r.output
