"""Forged webhooks: wrong secret, tampered body, expired, missing or malformed signature: all 400
problem+json, and nothing is recorded or applied."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from service.members.models import Member
from tests import factories
from tests.reliability.conftest import dump_tables
from tests.stripe_events import PRICES_SETTING, Lifecycle, dumps, sign

pytestmark = pytest.mark.reliability

URL = "/v1/webhooks/stripe"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "STRIPE_PRICES": PRICES_SETTING}


@pytest.fixture
def campaign(app, session, clock):
    c = factories.campaign(session, clock.now())
    session.commit()
    return c


def forgeries() -> list[tuple[str, bytes, dict[str, str]]]:
    ev = Lifecycle(email="forged@example.org").events()["first_paid"]
    body = dumps(ev)
    now = int(time.time())
    tampered = body.replace('"amount_paid": 500', '"amount_paid": 1')
    assert tampered != body
    valid = sign(body)
    v1 = valid.split("v1=")[1]
    cases = [
        ("wrong secret", body, sign(body, "whsec_someone_else")),
        ("tampered body", tampered, valid),
        ("expired timestamp", body, sign(body, t=now - 3600)),
        ("missing timestamp", body, f"v1={v1}"),
        ("timestamp not a number", body, f"t=soon,v1={v1}"),
        ("missing header", body, None),
        ("empty header", body, ""),
        ("only a timestamp", body, f"t={now}"),
        ("v0 scheme only", body, valid.replace("v1=", "v0=")),
        ("garbage header", body, "\u00ff" * 20),
        ("signature of another body", body, sign(body + " ")),
        ("empty body", "", valid),
    ]
    out = []
    for name, payload, header in cases:
        headers = {"Content-Type": "application/json"}
        if header is not None:
            headers["Stripe-Signature"] = header
        out.append((name, payload.encode(), headers))
    return out


def test_forged_webhooks_are_400_and_change_nothing(client, session, campaign, app):
    from service.extensions import db

    before = dump_tables(db.engine)
    for name, body, headers in forgeries():
        r = client.post(URL, data=body, headers=headers)
        assert r.status_code == 400, (name, r.status_code, r.get_data(as_text=True)[:200])
        assert r.mimetype == "application/problem+json", name
        problem = r.get_json()
        assert problem["status"] == 400 and problem["title"], name
    assert dump_tables(db.engine) == before
    assert session.scalar(select(Member)) is None


def test_the_same_event_correctly_signed_is_applied(client, session, campaign):
    """The control: the forgeries above fail for their forgery, not for their content."""
    ev = Lifecycle(email="forged@example.org").events()
    for name in ("created", "first_paid"):
        body = dumps(ev[name])
        r = client.post(URL, data=body.encode(), headers={"Stripe-Signature": sign(body),
                                                          "Content-Type": "application/json"})
        assert r.status_code == 200, r.get_data(as_text=True)
    assert session.scalar(select(Member.status)) == "active"
