"""POST /v1/access: every reason, the meter's edges, reader ids, prompts, entitlements and JWKS, bad input."""

import threading
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import sqlalchemy as sa

from service.extensions import db
from service.paywall import tokens
from service.paywall.models import MeterRead
from tests import factories
from tests.conftest import ON_POSTGRES
from tests.support import Statements

DAY = timedelta(days=1)


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PAYWALL_CACHE_SECONDS": 0.0}


def token_for(app, member):
    ctx = app.extensions["paywall"]
    return tokens.issue_member_token(ctx.settings.secret, member.id, member.token_version,
                                     app.extensions["clock"].now())


def ask(client, article="a1", **body):
    art = article if isinstance(article, dict) else {"id": article}
    r = client.post("/v1/access", json={"article": art, **body})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


@pytest.fixture
def member(app, session, clock):
    m = factories.member(session, clock.now(), email="member@example.org", first_paid_at=clock.now() - 40 * DAY)
    factories.subscription(session, clock.now(), m, status="active", current_period_end=clock.now() + 20 * DAY)
    session.commit()
    return m


# --- reasons -----------------------------------------------------------------------------------

def test_public_article_is_granted_to_anyone(client):
    body = ask(client, {"id": "p1", "visibility": "public"})
    assert body["access"] == "granted" and body["reason"] == "public"
    assert body["meter"] is None and body["prompt"] is None and body["entitlement"] is None
    assert body["reader_id"]


def test_member_is_granted_with_an_entitlement(app, client, member):
    body = ask(client, "a1", member_token=token_for(app, member))
    assert body["access"] == "granted" and body["reason"] == "member"
    assert body["member"]["id"] == member.id and body["member"]["status"] == "active"
    assert body["meter"] is None and body["prompt"] is None
    assert body["entitlement"]["token"]


def test_grace_for_past_due_inside_grace_days(app, client, session, clock):
    m = factories.member(session, clock.now(), status="past_due", first_paid_at=clock.now() - 60 * DAY)
    factories.subscription(session, clock.now(), m, status="past_due", current_period_end=clock.now() - 3 * DAY)
    session.commit()
    body = ask(client, "a1", member_token=token_for(app, m))
    assert (body["access"], body["reason"]) == ("granted", "grace")
    assert body["entitlement"] is not None
    clock.advance(days=4)
    body = ask(client, "a1", member_token=token_for(app, m))
    assert (body["access"], body["reason"]) == ("denied", "membership_lapsed")


def test_member_set_to_cancel_reads_until_stripe_ends_the_subscription_then_lapses(app, client, session, clock):
    m = factories.member(session, clock.now(), first_paid_at=clock.now() - 60 * DAY)
    sub = factories.subscription(session, clock.now(), m, status="active", cancel_at_period_end=True,
                                 current_period_end=clock.now() + DAY)
    session.commit()
    token = token_for(app, m)
    assert ask(client, "a1", member_token=token)["reason"] == "member"
    clock.advance(days=1)
    sub.status, m.status = "canceled", "ended"  # customer.subscription.deleted at the period end
    session.commit()
    body = ask(client, "a1", member_token=token)
    assert (body["access"], body["reason"]) == ("denied", "membership_lapsed")
    assert body["prompt"] is not None and body["meter"] is None and body["entitlement"] is None
    assert body["member"]["status"] == "canceled"


def test_metered_then_exhausted(client):
    first = ask(client, "a1")
    rid = first["reader_id"]
    assert (first["access"], first["reason"]) == ("granted", "metered")
    assert first["meter"]["limit"] == 3 and first["meter"]["used"] == 1 and first["meter"]["remaining"] == 2
    assert first["prompt"] is None
    second = ask(client, "a2", reader_id=rid)
    assert second["meter"]["remaining"] == 1 and second["prompt"] is not None  # running low
    third = ask(client, "a3", reader_id=rid)
    assert third["reason"] == "metered" and third["meter"]["remaining"] == 0
    fourth = ask(client, "a4", reader_id=rid)
    assert (fourth["access"], fourth["reason"]) == ("denied", "meter_exhausted")
    assert fourth["meter"] == {**third["meter"]}
    assert fourth["prompt"]["checkout_url"]
    assert fourth["reader_id"] == rid


def test_re_reading_a_counted_article_is_free(client):
    rid = ask(client, "a1")["reader_id"]
    for article in ("a2", "a3"):
        ask(client, article, reader_id=rid)
    for _ in range(3):
        body = ask(client, "a2", reader_id=rid)
        assert (body["reason"], body["meter"]["used"]) == ("metered", 3)
    assert ask(client, "a9", reader_id=rid)["reason"] == "meter_exhausted"


def test_rolling_period_and_reset(client, clock):
    start = clock.now()
    rid = ask(client, "a1")["reader_id"]
    clock.advance(days=10)
    ask(client, "a2", reader_id=rid)
    clock.advance(days=10)
    ask(client, "a3", reader_id=rid)
    denied = ask(client, "a4", reader_id=rid)
    assert denied["reason"] == "meter_exhausted"
    assert denied["meter"]["resets_at"].startswith((start + 30 * DAY).strftime("%Y-%m-%dT%H:%M:%S"))
    clock.set(start + 30 * DAY - timedelta(seconds=1))
    assert ask(client, "a4", reader_id=rid)["reason"] == "meter_exhausted"
    clock.set(start + 30 * DAY)  # a1 expires: one slot frees
    body = ask(client, "a4", reader_id=rid)
    assert body["reason"] == "metered" and body["meter"]["used"] == 3
    assert ask(client, "a5", reader_id=rid)["reason"] == "meter_exhausted"
    # re-reading a1 after it expired counts anew (and is refused while full)
    assert ask(client, "a1", reader_id=rid)["reason"] == "meter_exhausted"
    clock.set(start + 40 * DAY)  # a2 expired
    body = ask(client, "a1", reader_id=rid)
    assert body["reason"] == "metered"
    rows = db.session.execute(sa.select(MeterRead.article_id, MeterRead.read_at)
                              .where(MeterRead.article_id == "a1")).all()
    assert len(rows) == 1 and rows[0][1] == start + 40 * DAY


def test_limits_and_periods_come_from_config(app_config, clock):
    from service import create_app

    app = create_app({**app_config, "METER_LIMIT": 1, "METER_PERIOD_DAYS": 7, "GRACE_DAYS": 2})
    with app.app_context():
        c = app.test_client()
        m = factories.member(db.session, clock.now(), status="past_due", first_paid_at=clock.now() - 60 * DAY)
        factories.subscription(db.session, clock.now(), m, status="past_due",
                               current_period_end=clock.now() - 3 * DAY)
        db.session.commit()
        assert ask(c, "a", member_token=token_for(app, m))["reason"] == "membership_lapsed"  # 3 days > 2
        first = ask(c, "a")
        assert first["meter"] == {"limit": 1, "used": 1, "remaining": 0,
                                  "resets_at": (clock.now() + 7 * DAY).isoformat()}
        assert ask(c, "b", reader_id=first["reader_id"])["reason"] == "meter_exhausted"
        clock.advance(days=7)
        assert ask(c, "b", reader_id=first["reader_id"])["reason"] == "metered"
        db.session.remove()


def test_lapsed_member_token_revoked_is_metered_reader(app, client, session, member):
    token = token_for(app, member)
    assert ask(client, "a1", member_token=token)["reason"] == "member"
    member.token_version += 1  # payments bumps it when membership is lost
    session.commit()
    body = ask(client, "a1", member_token=token)
    assert body["reason"] == "metered" and body["member"] is None and body["entitlement"] is None


def test_expired_member_token_is_a_plain_reader(app, client, clock, member):
    token = token_for(app, member)
    clock.advance(days=31)
    body = ask(client, "a1", member_token=token)
    assert body["reason"] == "metered" and body["member"] is None


# --- reader ids --------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["", "garbage", "a.b", "x" * 5000, "\u2603.sig"])
def test_missing_malformed_or_tampered_reader_id_is_a_new_reader(client, bad):
    body = ask(client, "a1", reader_id=bad)
    assert body["reason"] == "metered" and body["meter"]["used"] == 1
    assert body["reader_id"] != bad


def test_tampered_and_foreign_reader_ids(client, app):
    rid = ask(client, "a1")["reader_id"]
    bare, _, sig = rid.rpartition(".")
    tampered = bare[:-1] + ("A" if bare[-1] != "A" else "B") + "." + sig
    assert ask(client, "a2", reader_id=tampered)["meter"]["used"] == 1
    foreign, _ = tokens.new_reader_id("another-service-secret-0123456789abcdef")
    assert ask(client, "a2", reader_id=foreign)["meter"]["used"] == 1
    assert ask(client, "a2", reader_id=rid)["meter"]["used"] == 2


def test_garbage_member_tokens_are_non_members(client):
    for bad in ["", "x", "a.b.c", "x" * 10_000, "eyJtIjoxLCJ2IjoxfQ.AAAA.BBBB"]:
        body = ask(client, {"id": "a1", "visibility": "public"}, member_token=bad)
        assert body["reason"] == "public" and body["member"] is None


# --- visibility --------------------------------------------------------------------------------

def test_section_default_from_cli(client, runner):
    r = runner.invoke(args=["paywall", "section", "set", "opinion", "public"])
    assert r.exit_code == 0, r.output
    assert ask(client, {"id": "o1", "section": "opinion"})["reason"] == "public"
    assert ask(client, {"id": "o2", "section": "opinion", "visibility": "members"})["reason"] == "metered"
    assert ask(client, {"id": "n1", "section": "news"})["reason"] == "metered"
    assert "opinion" in runner.invoke(args=["paywall", "section", "list"]).output
    assert runner.invoke(args=["paywall", "section", "unset", "opinion"]).exit_code == 0
    assert ask(client, {"id": "o1", "section": "opinion"})["reason"] == "metered"
    assert runner.invoke(args=["paywall", "section", "set", "x", "secret"]).exit_code != 0


# --- prompt ------------------------------------------------------------------------------------

def test_prompt_uses_the_campaign_copy_in_the_readers_locale(client, session, clock):
    from service.campaigns import demo

    demo.create_demo(session, clock.now(), join_url="https://news.example/join")
    session.commit()
    rid = ask(client, "a1")["reader_id"]
    ask(client, "a2", reader_id=rid)
    ask(client, "a3", reader_id=rid)
    body = ask(client, "a4", reader_id=rid, locale="uk")
    p = body["prompt"]
    assert p["locale"] == "uk" and p["campaign"] == "members-25k"
    assert "25\u00a0000" in p["headline"]
    assert p["checkout_url"].startswith("https://news.example/join?")
    assert "campaign=members-25k" in p["checkout_url"] and "article=a4" in p["checkout_url"]
    en = ask(client, "a4", reader_id=rid, locale="de")["prompt"]
    assert en["locale"] == "en" and en["headline"] == "0 out of 25,000"


def test_prompt_without_campaign_is_generic(client):
    rid = ask(client, "a1")["reader_id"]
    p = ask(client, "a2", reader_id=rid)["prompt"]
    assert p["headline"] and p["campaign"] is None
    assert p["checkout_url"].startswith("http://127.0.0.1:5000/join?")


# --- entitlement and JWKS ------------------------------------------------------------------------

def _verify(jwks_json, token, **kw):
    header = jwt.get_unverified_header(token)
    keys = {k["kid"]: jwt.PyJWK(k) for k in jwks_json["keys"]}
    return jwt.decode(token, keys[header["kid"]], algorithms=["EdDSA"], **kw)


def test_entitlement_verifies_against_jwks(app, client, clock, member):
    clock.set(datetime.now(UTC).replace(microsecond=0))
    body = ask(client, "a1", member_token=token_for(app, member))
    r = client.get("/.well-known/jwks.json")
    assert r.status_code == 200 and "max-age" in r.headers["Cache-Control"]
    jwks = r.get_json()
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and k["alg"] == "EdDSA" and k["use"] == "sig"
               for k in jwks["keys"])
    claims = _verify(jwks, body["entitlement"]["token"])
    assert claims["sub"] == str(member.id) and claims["entitlement"] == "member"
    assert claims["exp"] - claims["iat"] == 600
    assert jwt.get_unverified_header(body["entitlement"]["token"])["kid"] == body["entitlement"]["kid"]


def _pem():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return tokens.pem_of(Ed25519PrivateKey.generate())


def test_key_rotation_old_tokens_still_verify(app_config, session, clock):
    """Rotation: add the new key first (it signs), keep the old one published until its tokens expire."""
    from service import create_app

    old, new = _pem(), _pem()
    clock.set(datetime.now(UTC).replace(microsecond=0))
    app1 = create_app({**app_config, "ENTITLEMENT_KEYS": old})
    with app1.app_context():
        m = factories.member(db.session, clock.now())
        db.session.commit()
        m = type("M", (), {"id": m.id, "token_version": m.token_version})
        old_token = app1.test_client().post("/v1/access", json={
            "article": {"id": "a"}, "member_token": token_for(app1, m)}).get_json()["entitlement"]["token"]
        db.session.remove()
    app2 = create_app({**app_config, "ENTITLEMENT_KEYS": new + "\n" + old})
    with app2.app_context():
        c = app2.test_client()
        new_token = c.post("/v1/access", json={"article": {"id": "a"},
                                               "member_token": token_for(app2, m)}).get_json()["entitlement"]["token"]
        jwks = c.get("/.well-known/jwks.json").get_json()
        db.session.remove()
    assert len(jwks["keys"]) == 2
    assert jwt.get_unverified_header(new_token)["kid"] == jwks["keys"][0]["kid"]
    assert jwt.get_unverified_header(old_token)["kid"] == jwks["keys"][1]["kid"]
    assert _verify(jwks, old_token)["sub"] == str(m.id)
    assert _verify(jwks, new_token)["sub"] == str(m.id)
    # after the old key is retired its tokens no longer verify
    app3 = create_app({**app_config, "ENTITLEMENT_KEYS": new.replace("\n", "\\n")})
    with app3.app_context():
        jwks3 = app3.test_client().get("/.well-known/jwks.json").get_json()
    assert [k["kid"] for k in jwks3["keys"]] == [jwks["keys"][0]["kid"]]
    with pytest.raises(KeyError):
        _verify(jwks3, old_token)


def test_forged_entitlement_does_not_verify(app, client, clock, member):
    clock.set(datetime.now(UTC).replace(microsecond=0))
    jwks = client.get("/.well-known/jwks.json").get_json()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    forged = jwt.encode({"sub": "1", "entitlement": "member", "exp": 2**31}, Ed25519PrivateKey.generate(),
                        algorithm="EdDSA", headers={"kid": jwks["keys"][0]["kid"]})
    with pytest.raises(jwt.InvalidSignatureError):
        _verify(jwks, forged)


def test_bad_entitlement_keys_refuse_to_start(app_config):
    from service import create_app
    from service.config import ConfigError

    with pytest.raises(ConfigError, match="ENTITLEMENT_KEYS"):
        create_app({**app_config, "ENTITLEMENT_KEYS": "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----"})


def test_production_requires_entitlement_keys(app_config):
    from service.config import ConfigError, check_production

    settings = {**app_config, "SERVICE_ENV": "production", "STRIPE_API_KEY": "sk_live_x",
                "STRIPE_WEBHOOK_SECRET": "whsec_live", "ENTITLEMENT_KEYS": ""}
    with pytest.raises(ConfigError, match="ENTITLEMENT_KEYS"):
        check_production(settings)


# --- speed ---------------------------------------------------------------------------------------

def test_member_with_valid_token_needs_one_query(app, client, member):
    token = token_for(app, member)
    with Statements(db.engine) as s:
        body = ask(client, "a1", member_token=token)
    assert body["reason"] == "member"
    assert len(s.sql) == 1, s.sql
    assert "JOIN subscriptions" in s.sql[0]


def test_metered_read_takes_a_few_statements(client):
    rid = ask(client, "a1")["reader_id"]
    with Statements(db.engine) as s:
        assert ask(client, "a2", reader_id=rid)["reason"] == "metered"
    meter_sql = [q for q in s.sql if "meter_reads" in q or "advisory" in q]
    assert len(meter_sql) <= 4, s.sql  # read, lock, re-read under the lock, upsert
    assert len(s.sql) - len(meter_sql) <= 1, s.sql  # the prompt's campaign (cached for a while in production)
    with Statements(db.engine) as s:
        assert ask(client, "a2", reader_id=rid)["reason"] == "metered"  # re-read: one indexed read
    assert len([q for q in s.sql if "meter_reads" in q]) == 1, s.sql


# --- concurrency ---------------------------------------------------------------------------------

def test_concurrent_reads_never_exceed_the_limit(app, client):
    rid = ask(client, {"id": "p", "visibility": "public"})["reader_id"]
    results: list[str] = []
    barrier = threading.Barrier(8)

    def read(n):
        c = app.test_client()
        barrier.wait()
        r = c.post("/v1/access", json={"article": {"id": f"c{n}"}, "reader_id": rid})
        results.append(r.get_json()["reason"] if r.status_code == 200 else f"error {r.status_code}")

    threads = [threading.Thread(target=read, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results).count("metered") == 3, results
    assert results.count("meter_exhausted") == 5, results
    n = db.session.scalar(sa.select(sa.func.count()).select_from(MeterRead))
    assert n == 3


# --- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("payload", [
    {},
    {"article": {}},
    {"article": None},
    {"article": "a1"},
    {"article": []},
    {"article": {"id": ""}},
    {"article": {"id": 123}},
    {"article": {"id": None}},
    {"article": {"id": "x" * 201}},
    {"article": {"id": "a", "visibility": "secret"}},
    {"article": {"id": "a", "visibility": 1}},
    {"article": {"id": "a", "section": "s" * 101}},
    {"article": {"id": "a", "section": ["x"]}},
    {"article": {"id": "a"}, "member_token": 5},
    {"article": {"id": "a"}, "member_token": {"a": 1}},
    {"article": {"id": "a"}, "reader_id": 7},
    {"article": {"id": "a"}, "reader_id": ["r"]},
    {"article": {"id": "a"}, "locale": 3},
    {"article": {"id": "a"}, "locale": "l" * 500},
    {"article": {"id": "a"}, "unexpected": True},
    ["article"],
    "just a string",
])
def test_bad_input_is_a_422_problem(client, payload):
    r = client.post("/v1/access", json=payload)
    assert r.status_code == 422, r.get_json()
    assert r.mimetype == "application/problem+json"


@pytest.mark.parametrize("data,ctype", [(b"{not json", "application/json"), (b"", "application/json"),
                                        (b"article=a", "application/x-www-form-urlencoded")])
def test_unparseable_body_is_4xx_never_500(client, data, ctype):
    r = client.post("/v1/access", data=data, content_type=ctype)
    assert 400 <= r.status_code < 500


def test_odd_but_valid_values(client):
    for locale in ["zz", "not a locale", "uk-UA", None]:
        assert ask(client, {"id": "é/ünïcode ☃ article"}, locale=locale)["reason"] == "metered"
    assert ask(client, {"id": "a", "visibility": None, "section": None}, member_token=None,
               reader_id=None)["reason"] == "metered"


@pytest.mark.skipif(not ON_POSTGRES, reason="checks the PostgreSQL advisory lock path")
def test_postgres_lock_path(client):
    rid = ask(client, "a1")["reader_id"]
    assert ask(client, "a2", reader_id=rid)["meter"]["used"] == 2


def test_access_has_its_own_generous_rate_limit(app_config):
    from service import create_app

    app = create_app({**app_config, "ACCESS_RATE_LIMIT": "3/minute", "RATELIMIT_PUBLIC_WRITE": "1/minute"})
    with app.app_context():
        c = app.test_client()
        codes = [c.post("/v1/access", json={"article": {"id": "p", "visibility": "public"}}).status_code
                 for _ in range(4)]
        db.session.remove()
    assert codes == [200, 200, 200, 429]
    app = create_app({**app_config, "ACCESS_RATE_LIMIT": "", "RATELIMIT_PUBLIC_WRITE": "1/minute"})
    with app.app_context():
        c = app.test_client()
        codes = [c.post("/v1/access", json={"article": {"id": "p", "visibility": "public"}}).status_code
                 for _ in range(3)]
        db.session.remove()
    assert codes == [200, 200, 200]


def test_first_read_of_a_new_reader_is_one_insert(client):
    with Statements(db.engine) as s:
        body = ask(client, "a1")
    assert body["meter"]["used"] == 1
    assert [q.split()[0] for q in s.sql] == ["INSERT"], s.sql
