"""POST /v1/checkout/sessions against the fake Stripe API: parameters sent, redirect allowlist, errors."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from service.payments.models import CheckoutStart
from tests import factories
from tests.stripe_events import MONTHLY_PRICE, PRICES_SETTING, YEARLY_PRICE, fixture


@pytest.fixture
def app_config(app_config, fake_stripe):
    return {**app_config, "STRIPE_PRICES": PRICES_SETTING, "STRIPE_API_BASE": fake_stripe.url}


@pytest.fixture
def campaign(session, clock):
    c = factories.campaign(session, clock.now())
    session.commit()
    return c


@pytest.fixture
def stripe_session(fake_stripe):
    def created(req):
        obj = fixture("checkout_session")
        obj.update(id="cs_test_123", mode="subscription", url="https://checkout.stripe.com/c/pay/cs_test_123",
                   metadata=req.params.get("metadata", {}))
        return 200, obj

    fake_stripe.route("POST", r"/v1/checkout/sessions", created)
    return fake_stripe


BODY = {"campaign": "members-25k", "plan": "yearly", "email": "reader@example.org", "locale": "fr-CA",
        "reader_id": "rdr_42", "article_id": "a-123", "success_url": "https://news.example/thanks?x=1",
        "cancel_url": "https://news.example/join"}


def test_creates_subscription_checkout_with_attribution(client, session, campaign, stripe_session):
    r = client.post("/v1/checkout/sessions", json=BODY)
    assert r.status_code == 201, r.get_json()
    assert r.get_json() == {"id": "cs_test_123", "url": "https://checkout.stripe.com/c/pay/cs_test_123"}
    (req,) = stripe_session.requests_to("POST", "/v1/checkout/sessions")
    metadata = {"campaign": "members-25k", "plan": "yearly", "locale": "fr-CA", "source": "article:a-123",
                "reader_id": "rdr_42", "article_id": "a-123"}
    assert req.params == {
        "mode": "subscription",
        "line_items": [{"price": YEARLY_PRICE, "quantity": "1"}],
        "success_url": "https://news.example/thanks?x=1",
        "cancel_url": "https://news.example/join",
        "metadata": metadata,
        "subscription_data": {"metadata": metadata},
        "locale": "fr-CA",
        "client_reference_id": "rdr_42",
        "customer_email": "reader@example.org",
    }
    assert req.headers["Authorization"] == "Bearer sk_test_123"
    starts = session.scalars(select(CheckoutStart)).all()
    assert [(s.campaign_id, s.day, s.plan, s.locale, s.source, s.count) for s in starts] == [
        (campaign.id, date(2025, 6, 1), "yearly", "fr-CA", "article:a-123", 1)]
    client.post("/v1/checkout/sessions", json=BODY)
    session.expire_all()
    assert session.scalar(select(CheckoutStart.count)) == 2


def test_minimal_body_unsupported_locale_and_referrer_source(client, session, campaign, stripe_session):
    body = {"campaign": "members-25k", "plan": "monthly", "locale": "uk",
            "success_url": "http://127.0.0.1:5000/ok", "cancel_url": "http://127.0.0.1:5000/no"}
    r = client.post("/v1/checkout/sessions", json=body, headers={"Referer": "https://blog.example.net/post/1"})
    assert r.status_code == 201
    (req,) = stripe_session.requests_to("POST", "/v1/checkout/sessions")
    assert req.params["locale"] == "auto"  # Checkout has no Ukrainian
    assert req.params["line_items"] == [{"price": MONTHLY_PRICE, "quantity": "1"}]
    assert req.params["metadata"] == {"campaign": "members-25k", "plan": "monthly", "locale": "uk",
                                      "source": "blog.example.net"}
    assert "client_reference_id" not in req.params and "customer_email" not in req.params


@pytest.mark.parametrize("field,url", [
    ("success_url", "https://evil.example/thanks"),
    ("success_url", "https://news.example.evil.example/thanks"),
    ("cancel_url", "http://news.example/join"),  # scheme differs
    ("cancel_url", "https://news.example:8443/join"),  # port differs
    ("success_url", "javascript:alert(1)"),
    ("success_url", "//news.example/x"),
])
def test_redirects_outside_allowed_origins_are_422(client, campaign, stripe_session, field, url):
    r = client.post("/v1/checkout/sessions", json={**BODY, field: url})
    assert r.status_code == 422
    assert r.mimetype == "application/problem+json"
    assert stripe_session.requests_to("POST", "/v1/checkout/sessions") == []


def test_unknown_plan_is_422_and_unknown_campaign_is_404(client, campaign, stripe_session):
    r = client.post("/v1/checkout/sessions", json={**BODY, "plan": "lifetime"})
    assert r.status_code == 422 and "lifetime" in r.get_json()["detail"]
    r = client.post("/v1/checkout/sessions", json={**BODY, "campaign": "nope"})
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    r = client.post("/v1/checkout/sessions", json={"plan": "monthly"})
    assert r.status_code == 422 and "campaign" in r.get_json()["errors"]["json"]
    assert stripe_session.requests_to("POST", "/v1/checkout/sessions") == []


@pytest.mark.parametrize("status,type_", [(402, "card_error"), (400, "invalid_request_error"),
                                          (500, "api_error"), (401, "authentication_error")])
def test_stripe_errors_are_502_with_request_id(client, session, campaign, fake_stripe, status, type_):
    fake_stripe.error("POST", r"/v1/checkout/sessions", status=status, type_=type_, request_id="req_abc123",
                      message="No such price")
    r = client.post("/v1/checkout/sessions", json=BODY)
    assert r.status_code == 502
    assert r.mimetype == "application/problem+json"
    body = r.get_json()
    assert "req_abc123" in body["detail"] and body["stripe_request_id"] == "req_abc123"
    assert "Traceback" not in r.get_data(as_text=True)
    assert session.scalars(select(CheckoutStart)).all() == []


def test_stripe_unreachable_is_502(app_config, campaign):
    from service import create_app

    app = create_app({**app_config, "STRIPE_API_BASE": "http://127.0.0.1:9"})
    r = app.test_client().post("/v1/checkout/sessions", json=BODY)
    assert r.status_code == 502 and r.mimetype == "application/problem+json"
