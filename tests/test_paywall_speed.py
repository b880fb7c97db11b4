"""The access decision's per-worker caches: member facts (revocation, bounds), reused entitlements,
memoised member-token signatures, and the meter's one-statement window."""

from datetime import timedelta

import jwt
import pytest
import sqlalchemy as sa

from service.extensions import db
from service.members.models import Member, Subscription
from service.paywall import tokens
from tests import factories
from tests.support import Statements

DAY = timedelta(days=1)
TTL = 5


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PAYWALL_CACHE_SECONDS": 0.0, "ACCESS_MEMBER_CACHE_SECONDS": float(TTL),
            "ACCESS_MEMBER_CACHE_SIZE": 3}


def new_member(session, clock, email=None):
    m = factories.member(session, clock.now(), email=email, first_paid_at=clock.now() - 40 * DAY)
    factories.subscription(session, clock.now(), m, status="active", current_period_end=clock.now() + 20 * DAY)
    session.commit()
    return m


def token_for(app, member_id, version):
    return tokens.issue_member_token(app.extensions["paywall"].settings.secret, member_id, version,
                                     app.extensions["clock"].now())


def ask(client, token, article="a1"):
    r = client.post("/v1/access", json={"article": {"id": article}, "member_token": token})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def bump_elsewhere(member_id):
    """A token_version bump made by another worker: a plain UPDATE on its own connection, which this
    process's ORM hooks never see."""
    with db.engine.begin() as conn:
        conn.execute(sa.update(Member.__table__).where(Member.__table__.c.id == member_id)
                     .values(token_version=Member.__table__.c.token_version + 1))


def test_a_cached_member_needs_no_statement(app, client, session, clock):
    m = new_member(session, clock)
    token = token_for(app, m.id, m.token_version)
    assert ask(client, token)["reason"] == "member"
    with Statements(db.engine) as s:
        assert ask(client, token)["reason"] == "member"
    assert s.sql == []


def test_revocation_by_another_worker_stops_granting_after_the_ttl(app, client, session, clock):
    m = new_member(session, clock)
    token = token_for(app, m.id, m.token_version)
    assert ask(client, token)["reason"] == "member"
    bump_elsewhere(m.id)
    clock.advance(seconds=TTL - 1)
    assert ask(client, token)["reason"] == "member"  # cached: at most TTL seconds, like the edge's JWT
    clock.advance(seconds=1)
    body = ask(client, token)  # the next uncached decision reads the new version
    assert body["reason"] == "metered" and body["member"] is None and body["entitlement"] is None
    assert ask(client, token)["reason"] == "metered"


def test_a_token_older_than_the_cached_version_is_refused_at_once(app, client, session, clock):
    m = new_member(session, clock)
    old = token_for(app, m.id, 1)
    assert ask(client, old)["reason"] == "member"
    bump_elsewhere(m.id)  # sign-out everywhere in another worker, then a fresh sign-in there
    new = token_for(app, m.id, 2)
    assert ask(client, new)["reason"] == "member"  # newer than the cache knows: read again
    with Statements(db.engine) as s:
        assert ask(client, old)["reason"] == "metered"
    assert not [q for q in s.sql if "members" in q]


def test_changes_made_in_this_worker_apply_at_once(app, client, session, clock):
    m = new_member(session, clock)
    token = token_for(app, m.id, m.token_version)
    assert ask(client, token)["reason"] == "member"
    sub = session.scalars(sa.select(Subscription).where(Subscription.member_id == m.id)).one()
    sub.status, sub.current_period_end = "canceled", clock.now() - DAY  # a webhook applied here
    session.commit()
    assert ask(client, token)["reason"] == "membership_lapsed"
    r = client.post("/v1/members/me/sign-out-everywhere", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 204
    assert ask(client, token)["reason"] == "metered"


def test_the_member_cache_is_bounded(app, client, session, clock):
    members = [new_member(session, clock) for _ in range(5)]
    toks = [token_for(app, m.id, m.token_version) for m in members]
    for t in toks:
        assert ask(client, t)["reason"] == "member"
    cache = app.extensions["paywall"].members
    assert len(cache) == 3 and len(cache._entitlements) == 3
    with Statements(db.engine) as s:
        ask(client, toks[-1])  # among the newest: cached
    assert s.sql == []
    with Statements(db.engine) as s:
        ask(client, toks[0])  # the oldest went first: read again
    assert len(s.sql) == 1


def test_cache_can_be_turned_off(app_config, clock):
    from service import create_app

    app = create_app({**app_config, "ACCESS_MEMBER_CACHE_SECONDS": 0.0})
    with app.app_context():
        m = new_member(db.session, clock)
        token = token_for(app, m.id, m.token_version)
        c = app.test_client()
        ask(c, token)
        with Statements(db.engine) as s:
            assert ask(c, token)["reason"] == "member"
        assert len(s.sql) == 1
        bump_elsewhere(m.id)
        assert ask(c, token)["reason"] == "metered"
        db.session.remove()


def test_entitlement_is_reused_while_most_of_its_life_is_left(app, client, session, clock):
    m = new_member(session, clock)
    token = token_for(app, m.id, m.token_version)
    ttl = app.extensions["paywall"].settings.entitlement_ttl.total_seconds()
    first = ask(client, token)["entitlement"]
    clock.advance(seconds=ttl * 0.2 - 1)
    again = ask(client, token)["entitlement"]
    assert again == first  # same JWT, same expiry: at least 80% of its lifetime was left
    clock.advance(seconds=1)
    fresh = ask(client, token)["entitlement"]
    assert fresh["token"] != first["token"] and fresh["expires_at"] > first["expires_at"]
    claims = jwt.decode(fresh["token"], options={"verify_signature": False})
    assert claims["exp"] == int(clock.now().timestamp() + ttl)
    assert claims["iat"] == int(clock.now().timestamp())


def test_member_token_memo_still_checks_age_against_the_clock(app, client, session, clock):
    m = new_member(session, clock)
    token = token_for(app, m.id, m.token_version)
    assert ask(client, token)["reason"] == "member"
    clock.advance(days=31)  # MEMBER_TOKEN_MAX_AGE_DAYS is 30
    assert ask(client, token)["reason"] == "metered"
    clock.advance(days=-40)  # signed "in the future": refused as itsdangerous does
    assert ask(client, token)["reason"] == "metered"
    assert ask(client, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))["reason"] == "metered"


def test_meter_window_is_one_statement_whatever_the_history(client, clock):
    rid = client.post("/v1/access", json={"article": {"id": "p", "visibility": "public"}}).get_json()["reader_id"]

    def read(article):
        r = client.post("/v1/access", json={"article": {"id": article}, "reader_id": rid})
        assert r.status_code == 200
        return r.get_json()

    read("old")
    clock.advance(days=29)
    body = read("new")
    assert body["meter"]["used"] == 2
    assert body["meter"]["resets_at"] == (clock.now() - 29 * DAY + 30 * DAY).isoformat()
    clock.advance(days=2)  # "old" left the window: a new read again, counted once
    body = read("old")
    assert body["reason"] == "metered" and body["meter"]["used"] == 2
    with Statements(db.engine) as s:
        assert read("old")["meter"]["used"] == 2  # re-read: free, one statement
    assert len([q for q in s.sql if "meter_reads" in q]) == 1
