"""Experiments (issue 14, items 1-3): variants managed by the staff API, CLI and copy editor; the progress
document listing them; deterministic assignment; beacons, checkouts and signed webhooks counted per arm; the
experiment's figures and verdict."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from service.campaigns import experiments, services
from service.campaigns.models import CONTROL, BannerCopy, BannerVariant
from service.members.models import Subscription
from service.paywall import tokens
from service.widget.models import WidgetDaily
from tests import factories
from tests.staff_support import csrf, fast_hashing, make_staff, signed_in  # noqa: F401 - fast_hashing: autouse
from tests.stripe_events import PRICES_SETTING, Lifecycle, fixture, post

SLUG = "members-25k"
NOW = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
VARIANT = {"name": "last-few", "weight": 30, "locale": "en", "stage": "launch",
           "headline": "Be one of the last {remaining}", "body": "{count} readers have joined.",
           "cta_label": "Join them"}


# --- assignment (pure) -------------------------------------------------------------------------------------

def test_fnv1a_matches_the_published_test_vectors():
    assert experiments.fnv1a_32(b"") == 0x811C9DC5
    assert experiments.fnv1a_32(b"a") == 0xE40C292C
    assert experiments.fnv1a_32(b"foobar") == 0xBF9CF968


def test_assignment_is_stable_per_visitor_and_follows_the_weights_over_10000_ids():
    variants = [{"id": 7, "weight": 30}, {"id": 3, "weight": 20}]  # listed out of order: id order is used
    ids = [f"visitor-{i}" for i in range(10_000)]
    first = [experiments.assign(SLUG, v, variants) for v in ids]
    assert first == [experiments.assign(SLUG, v, list(reversed(variants))) for v in ids]  # stable
    seen = Counter(first)
    for arm, share in ((3, 0.20), (7, 0.30), (CONTROL, 0.50)):
        sd = math.sqrt(10_000 * share * (1 - share))
        assert abs(seen[arm] - 10_000 * share) < 4.5 * sd, (arm, seen)
    # the bucket walk: ids 3 then 7, so [0, 20) is variant 3 and [20, 50) variant 7
    for v in ids[:200]:
        b = experiments.bucket(SLUG, v)
        assert experiments.assign(SLUG, v, variants) == (3 if b < 20 else 7 if b < 50 else CONTROL)
    assert experiments.assign(SLUG, None, variants) == CONTROL
    assert experiments.assign(SLUG, "visitor-1", []) == CONTROL


# --- intervals and verdict (pure) ----------------------------------------------------------------------------

@pytest.mark.parametrize(("k", "n", "low", "high"), [  # Newcombe (1998), Statistics in Medicine 17:857, table II
    (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)])
def test_wilson_interval_matches_published_values(k, n, low, high):
    lo, hi = experiments.wilson(k, n)
    assert lo == pytest.approx(low, abs=1e-4) and hi == pytest.approx(high, abs=1e-4)


def test_verdict_never_names_a_winner_on_too_few_signups():
    arm = experiments.Arm
    assert experiments.verdict([arm(0, 1000, 0, 0, 29), arm(5, 1000, 0, 0, 200)]) == ("too_early", None)
    assert experiments.verdict([arm(0, 1000, 0, 0, 200)]) == ("too_early", None)
    assert experiments.verdict([arm(0, 1000, 0, 0, 40), arm(5, 1000, 0, 0, 45)]) == ("no_difference_yet", None)
    assert experiments.verdict([arm(0, 1000, 0, 0, 40), arm(5, 1000, 0, 0, 120)]) == ("leader", 5)


# --- end to end --------------------------------------------------------------------------------------------

@pytest.fixture
def app_config(app_config, fake_stripe):
    return {**app_config, "STRIPE_PRICES": PRICES_SETTING, "STRIPE_API_BASE": fake_stripe.url}


@pytest.fixture
def campaign(session, clock):
    clock.set(NOW)
    c = factories.campaign(session, clock.now())
    session.commit()
    return c


@pytest.fixture
def token(runner, session, clock):
    make_staff(session, clock, "admin", "admin@newsroom.example")
    result = runner.invoke(args=["staff", "token", "create", "--email", "admin@newsroom.example",
                                 "--name", "experiments"])
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture
def stripe_checkout(fake_stripe):
    def created(req):
        obj = fixture("checkout_session")
        obj.update(id="cs_test_1", mode="subscription", url="https://checkout.stripe.com/c/pay/cs_test_1",
                   metadata=req.params.get("metadata", {}))
        return 200, obj

    fake_stripe.route("POST", r"/v1/checkout/sessions", created)
    return fake_stripe


def api(client, method, path, token, **kw):
    return client.open(f"/v1/staff/campaigns/{SLUG}{path}", method=method,
                       headers={"Authorization": f"Bearer {token}"}, **kw)


def beacon(client, type_, variant):
    r = client.post(f"/v1/campaigns/{SLUG}/events", json={"type": type_, "locale": "en", "variant": variant})
    assert r.status_code == 204, r.get_json()


def checkout(client, variant):
    r = client.post("/v1/checkout/sessions", json={
        "campaign": SLUG, "plan": "monthly", "variant": variant, "success_url": "https://news.example/thanks",
        "cancel_url": "https://news.example/join"})
    assert r.status_code == 201, r.get_json()


def join(client, n, variant):
    md = {"campaign": SLUG, "plan": "monthly", "locale": "en", "variant": str(variant)}
    events = Lifecycle(n=n, email=f"reader{n}@example.org", metadata=md).events()
    for name in ("customer", "checkout", "created", "first_paid"):
        assert post(client, events[name]).status_code == 200


def test_staff_api_variants_show_in_the_progress_json_and_the_experiment_counts_what_was_sent(
        client, session, campaign, token, stripe_checkout):
    assert api(client, "POST", "/variants", "mst_wrong", json=VARIANT).status_code == 401
    r = api(client, "POST", "/variants", token, json=VARIANT)
    assert r.status_code == 201, r.get_json()
    vid = r.get_json()["id"]
    assert r.get_json()["status"] == "running" and r.get_json()["created_by"].startswith("token")

    doc = client.get(f"/v1/campaigns/{SLUG}/progress").get_json()
    assert doc["banner"]["headline"] == "0 out of 25,000"  # the control: the stage's own copy
    assert doc["banner"]["variants"] == [{"id": vid, "weight": 30, "headline": "Be one of the last 25,000",
                                          "body": "0 readers have joined.", "cta_label": "Join them",
                                          "cta_url": ""}]

    for type_, variant, times in (("impression", CONTROL, 3), ("impression", vid, 5), ("click", CONTROL, 1),
                                  ("click", vid, 2), ("impression", 9999, 4)):
        for _ in range(times):
            beacon(client, type_, variant)
    for variant, times in ((vid, 2), (CONTROL, 1), (9999, 1)):
        for _ in range(times):
            checkout(client, variant)
    sent = [r.params["metadata"].get("variant") for r in stripe_checkout.requests_to("POST", "/v1/checkout/sessions")]
    assert sent == [str(vid), str(vid), "0", None]  # a variant not running is not attributed
    join(client, 1, vid)
    join(client, 2, vid)
    join(client, 3, CONTROL)
    join(client, 4, 9999)  # not an arm of this campaign
    subs = dict(session.execute(select(Subscription.stripe_id, Subscription.variant_id)).all())
    assert subs == {"sub_L1": vid, "sub_L2": vid, "sub_L3": CONTROL, "sub_L4": 9999}

    x = api(client, "GET", "/experiment", token).get_json()
    figures = {a["id"]: (a["impressions"], a["clicks"], a["checkouts"], a["signups"]) for a in x["variants"]}
    assert figures == {CONTROL: (3, 1, 1, 1), vid: (5, 2, 2, 2)}
    arm = next(a for a in x["variants"] if a["id"] == vid)
    assert arm["name"] == "last-few" and arm["weight"] == 30 and arm["click_rate"] == 0.4
    assert arm["conversion_rate"] == 0.4 and arm["interval"] == [round(v, 6) for v in experiments.wilson(2, 5)]
    assert x["variants"][0]["weight"] == 70 and x["verdict"] == "too_early" and x["leader"] is None
    session.expire_all()
    assert sum(w.count for w in session.scalars(select(WidgetDaily))) == 15  # every beacon in the funnel

    # stop: readers no longer see it, its figures stay, its beacons no longer count
    r = api(client, "PATCH", f"/variants/{vid}", token, json={"status": "stopped"})
    assert r.status_code == 200 and r.get_json()["status"] == "stopped"
    assert "variants" not in client.get(f"/v1/campaigns/{SLUG}/progress").get_json()["banner"]
    beacon(client, "impression", vid)
    x = api(client, "GET", "/experiment", token).get_json()
    assert [(a["id"], a["impressions"], a["status"]) for a in x["variants"]] == [
        (CONTROL, 3, "stopped"), (vid, 5, "stopped")]


def test_variant_copy_is_checked_like_copy_and_weights_leave_the_control_some_readers(client, campaign, token):
    bad = api(client, "POST", "/variants", token, json={**VARIANT, "headline": "{remainng} to go",
                                                         "cta_url": "javascript:alert(1)"})
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) == {"headline", "cta_url"}
    assert api(client, "POST", "/variants", token, json={**VARIANT, "weight": 0}).status_code == 422
    assert api(client, "POST", "/variants", token, json=VARIANT).status_code == 201
    assert api(client, "POST", "/variants", token, json=VARIANT).status_code == 409  # same name
    second = {**VARIANT, "name": "only", "weight": 70}
    assert api(client, "POST", "/variants", token, json=second).status_code == 409  # 30 + 70 > 99
    r = api(client, "POST", "/variants", token, json={**second, "weight": 69})
    assert r.status_code == 201
    assert api(client, "PATCH", f"/variants/{r.get_json()['id']}", token, json={"weight": 70}).status_code == 409
    assert api(client, "GET", "/variants", token).get_json()[1]["weight"] == 69
    assert api(client, "PATCH", "/variants/424242", token, json={"weight": 5}).status_code == 404


def test_promote_makes_the_variant_the_copy_and_ends_the_stage_experiment(client, session, campaign, token):
    a = api(client, "POST", "/variants", token, json=VARIANT).get_json()["id"]
    b = api(client, "POST", "/variants", token, json={**VARIANT, "name": "b", "weight": 10}).get_json()["id"]
    r = api(client, "PATCH", f"/variants/{a}", token, json={"promote": True})
    assert r.status_code == 200 and r.get_json()["status"] == "promoted"
    copy = session.scalar(select(BannerCopy).where(BannerCopy.stage == "launch", BannerCopy.locale == "en"))
    assert (copy.headline, copy.body, copy.cta_label) == (VARIANT["headline"], VARIANT["body"], VARIANT["cta_label"])
    assert {v["id"]: v["status"] for v in api(client, "GET", "/variants", token).get_json()} == {
        a: "promoted", b: "stopped"}
    banner = client.get(f"/v1/campaigns/{SLUG}/progress").get_json()["banner"]
    assert banner["headline"] == "Be one of the last 25,000" and "variants" not in banner
    assert api(client, "DELETE", f"/variants/{b}", token).status_code == 204
    assert [v["id"] for v in api(client, "GET", "/variants", token).get_json()] == [a]


def test_variants_of_a_stage_show_while_a_later_stage_borrows_its_copy(client, session, campaign, token):
    vid = api(client, "POST", "/variants", token, json=VARIANT).get_json()["id"]
    services.adjust(session, campaign, delta=15_000, reason="festival", who="ed", now=NOW)  # 60%: momentum
    session.commit()
    doc = client.get(f"/v1/campaigns/{SLUG}/progress").get_json()
    assert doc["stage"] == "momentum" and [v["id"] for v in doc["banner"]["variants"]] == [vid]
    assert doc["banner"]["variants"][0]["headline"] == "Be one of the last 10,000"  # today's numbers
    uk = client.get(f"/v1/campaigns/{SLUG}/progress?locale=uk").get_json()["banner"]
    assert uk["locale"] == "en" and uk["variants"][0]["id"] == vid  # the copy shown is English: so is the test
    session.add(BannerCopy(campaign_id=campaign.id, locale="en", stage="momentum", headline="Own", body="",
                           cta_label="Go", cta_url="", updated_at=NOW))
    session.commit()
    banner = client.get(f"/v1/campaigns/{SLUG}/progress").get_json()["banner"]
    assert banner["headline"] == "Own" and "variants" not in banner  # momentum's own copy: no experiment there


def test_staff_session_writes_need_editor_and_the_csrf_header(client, session, clock, campaign):
    signed_in(client, session, clock, "viewer")
    r = client.post(f"/v1/staff/campaigns/{SLUG}/variants", json=VARIANT)
    assert r.status_code == 403
    assert client.get(f"/v1/staff/campaigns/{SLUG}/experiment").status_code == 200


def test_cli_manages_variants(runner, session, campaign):
    def run(*args):
        result = runner.invoke(args=["campaign", "variant", *args, "--slug", SLUG])
        assert result.exit_code == 0, result.output
        return result.output

    out = run("add", "--name", "n1", "--weight", "25", "--locale", "en", "--stage", "launch",
              "--headline", "Only {remaining} to go", "--body", "b", "--cta-label", "Join", "--by", "ed")
    vid = session.scalar(select(BannerVariant.id))
    assert f"Variant {vid} (n1) runs for 25%" in out
    assert "n1" in run("list")
    run("weight", "--id", str(vid), "--weight", "40")
    run("stop", "--id", str(vid))
    session.expire_all()
    assert (session.get(BannerVariant, vid).weight, session.get(BannerVariant, vid).status) == (40, "stopped")
    bad = runner.invoke(args=["campaign", "variant", "add", "--slug", SLUG, "--name", "n2", "--weight", "5",
                              "--locale", "en", "--stage", "launch", "--headline", "{nope}", "--body", "b",
                              "--cta-label", "c"])
    assert bad.exit_code == 1 and "Headline" in bad.output and "Traceback" not in bad.output
    run("promote", "--id", str(vid))
    run("delete", "--id", str(vid))
    session.expire_all()
    assert session.scalar(select(BannerVariant.id)) is None


def test_token_create_needs_an_admin(runner, session, clock):
    make_staff(session, clock, "editor", "ed@newsroom.example")
    result = runner.invoke(args=["staff", "token", "create", "--email", "ed@newsroom.example", "--name", "x"])
    assert result.exit_code == 1 and "admin" in result.output


def test_copy_editor_adds_and_stops_variants_and_the_dashboard_shows_the_experiment(client, session, clock,
                                                                                    campaign):
    signed_in(client, session, clock, "editor")
    page = client.get(f"/staff/campaigns/{SLUG}/copy?locale=en&stage=launch").get_data(as_text=True)
    assert 'id="variants"' in page and "No variants of this copy." in page
    token = csrf(client, f"/staff/campaigns/{SLUG}/copy")
    r = client.post(f"/staff/campaigns/{SLUG}/variants", data={**VARIANT, "csrf_token": token})
    assert r.status_code == 302
    vid = session.scalar(select(BannerVariant.id))
    assert "Be one of the last {remaining}" in client.get(r.headers["Location"]).get_data(as_text=True)
    dash = client.get(f"/staff/campaigns/{SLUG}").get_data(as_text=True)
    assert 'id="experiment"' in dash and "last-few" in dash and "Too early to tell" in dash
    r = client.post(f"/staff/campaigns/{SLUG}/variants/{vid}", data={"action": "stop", "csrf_token": token})
    assert r.status_code == 302
    session.expire_all()
    assert session.get(BannerVariant, vid).status == "stopped"
    r = client.post(f"/staff/campaigns/{SLUG}/variants", data={**VARIANT, "name": "x", "headline": "{x}",
                                                                 "csrf_token": token})
    assert r.status_code == 302 and "was not added" in client.get(r.headers["Location"]).get_data(as_text=True)


def test_paywall_prompt_shows_the_readers_variant_and_passes_it_to_checkout(app, client, session, campaign, token):
    vid = api(client, "POST", "/variants", token, json={**VARIANT, "weight": 50}).get_json()["id"]
    listed = [{"id": vid, "weight": 50}]
    seen = set()
    for n in range(12):
        rid = client.post("/v1/access", json={"article": {"id": f"a{n}"}}).get_json()["reader_id"]
        client.post("/v1/access", json={"article": {"id": f"b{n}"}, "reader_id": rid})
        prompt = client.post("/v1/access", json={"article": {"id": f"c{n}"}, "reader_id": rid}).get_json()["prompt"]
        arm = experiments.assign(SLUG, tokens.read_reader_id(app.config["SECRET_KEY"], rid), listed)
        assert prompt["variant"] == arm and f"variant={arm}" in prompt["checkout_url"]
        assert prompt["headline"] == ("Be one of the last 25,000" if arm == vid else "0 out of 25,000")
        seen.add(arm)
    assert seen == {vid, CONTROL}
