"""Copy cannot break a page, and stored URLs are http(s) only.

- Saving copy renders every field for every stage's sample numbers and the deadline; what cannot render is
  refused with one sentence per field (set_copy, the staff copy editor).
- Copy that fails at serve time anyway (an older row, a Babel upgrade: simulated by writing the row directly)
  shows the built-in copy of its stage and logs an error, on every surface that shows copy.
- Join URLs, CTA URLs and the paywall prompt's checkout_url are http(s) only (https in production).
"""

from __future__ import annotations

import logging
import re
from datetime import date

import pytest
from sqlalchemy import update

from service import urls
from service.campaigns import builtin, services, wording
from service.campaigns.models import STAGES, BannerCopy, Campaign
from service.errors import Invalid
from tests import factories
from tests.staff_support import csrf, fast_hashing, signed_in, staff_changes  # noqa: F401 - autouse fixture

BABEL_REFUSES = "{deadline:d MMM, HH}"  # parses, but a date has no hour
COPY = {"locale": "en", "stage": "launch", "headline": "{count} of {goal}", "body": "Join us",
        "cta_label": "Join", "cta_url": ""}


def break_stored_copy(session, **values):
    """A row saved before set_copy checked rendering (or that a newer Babel refuses): written directly."""
    session.execute(update(BannerCopy).values(**(values or {"headline": BABEL_REFUSES})))
    session.commit()


# --- urls.http_url: the one rule -------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["https://news.example/join", "http://127.0.0.1:5000/join?x=1",
                                 "HTTPS://News.Example:8443/a#b", "https://[::1]/join"])
def test_http_and_https_urls_are_accepted(url):
    assert urls.http_url(url, require_https=False) == url


@pytest.mark.parametrize("url, reason", [
    ("javascript:alert(1)", "must start with http:// or https://"),
    ("JavaScript:alert(1)", "must start with http:// or https://"),
    ("data:text/html,<script>x</script>", "must start with http:// or https://"),
    ("//evil.example/join", "must start with http:// or https://"),
    ("/join", "must start with http:// or https://"),
    ("news.example/join", "must start with http:// or https://"),
    ("https:/news.example", "must start with http:// or https://"),
    ("https://user:pw@news.example/", "credentials"),
    ("https://news.example@evil.example/", "credentials"),
    ("https:///path", "no host"),
    ("https://news.example:99999/", "invalid port"),
    ("https://news.example/ join", "spaces, control characters"),
    ("https://news.example/\njoin", "spaces, control characters"),
    ("https://news.example\\@evil.example", "spaces, control characters or backslashes"),
    ("", "empty"),
    ("https://news.example/" + "a" * 2000, "longer than 2000"),
])
def test_other_urls_are_refused_with_a_sentence(url, reason):
    with pytest.raises(ValueError, match=re.escape(reason)) as exc:
        urls.http_url(url, require_https=False)
    assert str(exc.value).startswith("The URL") and str(exc.value).endswith(".")
    assert not urls.is_http_url(url)


def test_https_is_required_in_production():
    with pytest.raises(ValueError, match=re.escape("must start with https://")):
        urls.http_url("http://news.example/join", require_https=True)
    assert urls.http_url("https://news.example/join", require_https=True)
    assert urls.https_required({"SERVICE_ENV": "production"})
    assert not urls.https_required({"SERVICE_ENV": "development"}) and not urls.https_required({})


# --- refused at save --------------------------------------------------------------------------------------

def test_a_template_babel_refuses_is_refused_at_save_with_a_sentence(app, session, clock):
    c = factories.campaign(session, clock.now())
    with pytest.raises(Invalid) as exc:
        services.set_copy(session, c, locale="en", stage="launch", headline=BABEL_REFUSES, body="ok",
                          cta_label="Join", now=clock.now())
    errors = exc.value.extra["errors"]
    assert list(errors) == ["headline"]
    (sentence,) = errors["headline"]
    assert "'d MMM, HH'" in sentence and "{deadline} is a day" in sentence and sentence.endswith(".")
    assert exc.value.detail == f"Headline: {sentence}"  # a sentence, not a list
    assert session.query(BannerCopy).count() == 0


def test_every_failing_field_gets_its_own_sentence(app, session, clock):
    c = factories.campaign(session, clock.now())
    with pytest.raises(Invalid) as exc:
        services.set_copy(session, c, locale="en", stage="momentum", headline="{count}",
                          body="{deadline:QQQQQQ}", cta_label="{gaol}", cta_url="javascript:alert(1)",
                          now=clock.now())
    errors = exc.value.extra["errors"]
    assert set(errors) == {"body", "cta_label", "cta_url"}
    assert "'QQQQQQ' cannot be used" in errors["body"][0]
    assert "unknown placeholder {gaol}" in errors["cta_label"][0]
    assert "must start with http:// or https://" in errors["cta_url"][0]
    assert "[" not in exc.value.detail and "Body: " in exc.value.detail and "Link: " in exc.value.detail


@pytest.mark.parametrize("locale, body", [
    # a plural branch renders only for the numbers that choose it: 1 member (en), 2-4 (uk "few")
    ("en", "{remaining, plural, one {the last one, by {deadline:EEEEEEE}} other {# to go}}"),
    ("uk", "{remaining, plural, few {# до {deadline:d MMM HH}} other {# залишилось}}"),
    # past the goal: the count is above the goal only in the goal_reached/ended stages
    ("en", "{count, plural, =101 {{deadline:d MMM, HH}} other {#}}"),
])
def test_branches_chosen_only_by_some_stage_numbers_are_rendered_too(app, session, clock, locale, body):
    c = factories.campaign(session, clock.now(), goal=100)
    wording.validate(body)  # it parses: parsing alone let it through
    with pytest.raises(Invalid) as exc:
        services.set_copy(session, c, locale=locale, stage="final_push", headline="{count}", body=body,
                          cta_label="Join", now=clock.now())
    assert "date format" in exc.value.extra["errors"]["body"][0]


def test_the_copy_editor_refuses_unrenderable_copy_next_to_the_field(client, session, clock):
    factories.campaign(session, clock.now(), slug="spring")
    session.commit()
    signed_in(client, session, clock, "editor")
    token = csrf(client, "/staff/campaigns/spring/copy")
    r = client.post("/staff/campaigns/spring/copy", data={**COPY, "body": BABEL_REFUSES, "csrf_token": token})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    error = re.search(r'id="body-error">(.*?)</p>', html, re.S).group(1)
    assert "the date format &#39;d MMM, HH&#39; asks for a time" in error and "[" not in error
    assert BABEL_REFUSES in html  # what was typed is kept
    assert session.query(BannerCopy).count() == 0 and staff_changes(session).count() == 0


def test_the_live_preview_reports_what_saving_would_refuse(client, session, clock):
    factories.campaign(session, clock.now(), slug="spring")
    session.commit()
    signed_in(client, session, clock, "viewer")
    token = csrf(client, "/staff/campaigns/spring/copy")
    body = "{remaining, plural, one {the last one, by {deadline:EEEEEEE}} other {# to go}}"
    r = client.post("/staff/campaigns/spring/copy/preview", data={**COPY, "body": body, "csrf_token": token})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "25,000 to go" in html  # today's numbers render...
    assert "the date format &#39;EEEEEEE&#39; cannot be used" in html  # ...but one member to go would not


def test_builtin_copy_renders_for_every_stage_and_number():
    for language, stages in builtin.BUILTIN.items():
        assert set(stages) == set(STAGES)
        for templates in stages.values():
            for template in templates:
                wording.check(template, language, wording.sample_values(100, date(2025, 12, 31)))
                wording.check(template, language, wording.sample_values(1, date(2025, 12, 31)))
    assert builtin.builtin_copy("de_DE", "ended")[0] == "en"
    assert builtin.builtin_copy("uk_UA", "ended") == ("uk_UA", {
        "headline": "До нас приєдналися {count}", "body": builtin.BUILTIN["uk"]["ended"][1],
        "cta_label": "Стати учасником"})


# --- at serve time: the built-in copy, an error in the log, never a 500 ----------------------------------------

def fell_back(caplog) -> bool:
    return any(r.levelno == logging.ERROR and "members-25k" in r.getMessage() and "built-in" in r.getMessage()
               for r in caplog.records)


def test_progress_json_falls_back_to_the_builtin_copy_of_the_stage(client, session, demo_campaign, caplog):
    break_stored_copy(session)
    r = client.get("/v1/campaigns/members-25k/progress?locale=en")
    assert r.status_code == 200
    body = r.get_json()
    assert body["stage"] == "launch"
    assert body["banner"]["headline"] == "0 out of 25,000"
    assert body["banner"]["body"] == "Join us: 25,000 members to go."
    assert body["banner"]["cta_url"] == "https://news.example/join"
    assert fell_back(caplog)
    uk = client.get("/v1/campaigns/members-25k/progress?locale=uk").get_json()["banner"]
    assert (uk["locale"], uk["headline"]) == ("uk", "0 з 25\u00a0000")


def test_banner_fragment_and_iframe_fall_back(client, session, demo_campaign, caplog):
    break_stored_copy(session, body=BABEL_REFUSES)
    for path in ("/v1/campaigns/members-25k/banner.html?locale=en", "/embed/campaigns/members-25k?locale=en"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert "Join us: 25,000 members to go." in r.get_data(as_text=True)
    assert fell_back(caplog)


def test_paywall_prompt_falls_back(client, session, demo_campaign, caplog):
    break_stored_copy(session, cta_label=BABEL_REFUSES)
    rid = None
    for article in ("a1", "a2", "a3", "a4"):
        r = client.post("/v1/access", json={"article": {"id": article}, **({"reader_id": rid} if rid else {})})
        assert r.status_code == 200, r.get_json()
        rid = r.get_json()["reader_id"]
    prompt = r.get_json()["prompt"]
    assert prompt["cta_label"] == "Become a member" and prompt["headline"] == "0 out of 25,000"
    assert prompt["checkout_url"].startswith("https://news.example/join?")
    assert fell_back(caplog)


def test_staff_dashboard_and_copy_editor_answer_with_a_bad_stored_row(client, session, clock, demo_campaign,
                                                                      caplog):
    break_stored_copy(session)
    signed_in(client, session, clock, "editor")
    assert client.get("/staff/campaigns/members-25k").status_code == 200
    assert fell_back(caplog)
    r = client.get("/staff/campaigns/members-25k/copy?locale=en&stage=launch")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    error = re.search(r'id="headline-error">(.*?)</p>', html, re.S).group(1)
    assert "asks for a time" in error  # the editor says what to fix
    assert "{deadline:d MMM, HH}" in html


# --- stored URLs ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("join_url", ["javascript:alert(1)", "https://user:pw@news.example/", "//news.example/x"])
def test_cli_refuses_a_join_url_that_is_not_http(runner, session, join_url):
    r = runner.invoke(args=["campaign", "create", "--slug", "spring", "--title", "Spring", "--goal", "10",
                            "--starts", "2025-03-01", "--ends", "2025-05-31", "--join-url", join_url])
    assert r.exit_code == 1 and "join URL: The URL" in r.output and "Traceback" not in r.output
    assert session.query(Campaign).count() == 0


def test_cli_accepts_an_http_join_url(runner, session):
    r = runner.invoke(args=["campaign", "create", "--slug", "spring", "--title", "Spring", "--goal", "10",
                            "--starts", "2025-03-01", "--ends", "2025-05-31", "--join-url",
                            " https://news.example/join "])
    assert r.exit_code == 0, r.output
    assert session.query(Campaign).one().join_url == "https://news.example/join"


def test_production_stores_https_urls_only(app, session, clock):
    with pytest.raises(Invalid, match="must start with https://"):
        services.create_campaign(session, slug="spring", title="Spring", goal=10, starts=date(2025, 3, 1),
                                 ends=date(2025, 5, 31), now=clock.now(), join_url="http://news.example/join",
                                 require_https=True)
    c = services.create_campaign(session, slug="spring", title="Spring", goal=10, starts=date(2025, 3, 1),
                                 ends=date(2025, 5, 31), now=clock.now(), join_url="https://news.example/join",
                                 require_https=True)
    with pytest.raises(Invalid) as exc:
        services.set_copy(session, c, locale="en", stage="launch", headline="x", body="y", cta_label="z",
                          cta_url="http://news.example/a", now=clock.now(), require_https=True)
    assert list(exc.value.extra["errors"]) == ["cta_url"]


def test_a_javascript_url_in_an_old_row_never_comes_out(client, session, demo_campaign):
    session.execute(update(Campaign).values(join_url="javascript:alert(1)"))
    break_stored_copy(session, cta_url="javascript:alert(2)")
    banner = client.get("/v1/campaigns/members-25k/progress?locale=en").get_json()["banner"]
    assert banner["cta_url"] == ""
    html = client.get("/v1/campaigns/members-25k/banner.html?locale=en").get_data(as_text=True)
    assert "javascript:" not in html
    rid = None
    for article in ("a1", "a2", "a3", "a4"):
        r = client.post("/v1/access", json={"article": {"id": article}, **({"reader_id": rid} if rid else {})})
        rid = r.get_json()["reader_id"]
    checkout = r.get_json()["prompt"]["checkout_url"]
    assert checkout.startswith("http://127.0.0.1:5000/join?")  # the configured join URL (TEST_CONFIG)
    assert "javascript" not in checkout
