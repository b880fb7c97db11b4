"""Build and sign Stripe webhook events from Stripe's real object shapes (tests/fixtures/stripe/).

Reusable by any test (webhook storms included):

    ev = build_event("invoice.paid", invoice(...), created=t)
    body, headers = signed(ev, "whsec_test_secret")
    client.post("/v1/webhooks/stripe", data=body, headers=headers)

`lifecycle(...)` returns the events of one membership (join, renew, payment failure, cancel, refund,
lost dispute) with consistent ids and times.
"""

from __future__ import annotations

import copy
import itertools
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import stripe

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "stripe"
API_VERSION = stripe.api_version  # the version stripe-python pins; the webhook endpoint must use it
SECRET = "whsec_test_secret"  # tests.conftest TEST_CONFIG's STRIPE_WEBHOOK_SECRET
MONTHLY_PRICE = "price_monthly_test"
YEARLY_PRICE = "price_yearly_test"
PRICES_SETTING = f"monthly={MONTHLY_PRICE},yearly={YEARLY_PRICE}"

_ids = itertools.count(1)


@cache
def _fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def fixture(name: str) -> dict[str, Any]:
    """A fresh deep copy of tests/fixtures/stripe/<name>.json."""
    return copy.deepcopy(_fixture(name))


def unix(when: datetime | int | float) -> int:
    return int(when.timestamp()) if isinstance(when, datetime) else int(when)


def new_id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):06d}{int(time.time() * 1000) % 10**8:08d}"


def build_event(type_: str, obj: dict[str, Any], *, created: datetime | int, id: str | None = None,  # noqa: A002
                livemode: bool = False, api_version: str = API_VERSION,
                previous_attributes: dict[str, Any] | None = None) -> dict[str, Any]:
    """A snapshot event around `obj`, shaped like Stripe's (fixture event.json)."""
    event = fixture("event")
    event.update(id=id or new_id("evt"), type=type_, created=unix(created), livemode=livemode,
                 api_version=api_version, pending_webhooks=1)
    event["data"] = {"object": obj}
    if previous_attributes is not None:
        event["data"]["previous_attributes"] = previous_attributes
    event["request"] = {"id": None, "idempotency_key": None}
    return event


def dumps(event: dict[str, Any]) -> str:
    return json.dumps(event, indent=2)


def sign(payload: str, secret: str = SECRET, t: int | None = None) -> str:
    """The Stripe-Signature header Stripe would send: t=<ts>,v1=<HMAC-SHA256 of "t.payload">."""
    return stripe.WebhookSignature.generate_signature_header(payload, secret, int(time.time()) if t is None else t)


def signed(event: dict[str, Any], secret: str = SECRET, t: int | None = None) -> tuple[bytes, dict[str, str]]:
    """(body, headers) for a POST to /v1/webhooks/stripe."""
    payload = dumps(event)
    return payload.encode(), {"Stripe-Signature": sign(payload, secret, t), "Content-Type": "application/json"}


def post(client: Any, event: dict[str, Any], secret: str = SECRET) -> Any:
    """Deliver an event with a Flask test client."""
    body, headers = signed(event, secret)
    return client.post("/v1/webhooks/stripe", data=body, headers=headers)


# --- objects ------------------------------------------------------------------------------------------

def customer(id: str, email: str | None, *, created: datetime | int = 0, livemode: bool = False  # noqa: A002
             ) -> dict[str, Any]:
    obj = fixture("customer")
    obj.update(id=id, email=email, created=unix(created), livemode=livemode, discount=None)
    return obj


def subscription(id: str, customer: str, price: str = MONTHLY_PRICE, *, status: str = "active",  # noqa: A002
                 created: datetime | int, period_start: datetime | int | None = None,
                 period_end: datetime | int | None = None, cancel_at_period_end: bool = False,
                 canceled_at: datetime | int | None = None, ended_at: datetime | int | None = None,
                 metadata: dict[str, str] | None = None, livemode: bool = False) -> dict[str, Any]:
    obj = fixture("subscription")
    start = unix(period_start if period_start is not None else created)
    end = unix(period_end) if period_end is not None else start + 30 * 86400
    item = obj["items"]["data"][0]
    item.update(id=f"si_{id}", subscription=id, current_period_start=start, current_period_end=end,
                created=unix(created))
    item["price"].update(id=price, livemode=livemode)
    item["plan"].update(id=price, livemode=livemode)
    obj["items"]["url"] = f"/v1/subscription_items?subscription={id}"
    obj.update(id=id, customer=customer, status=status, created=unix(created), start_date=unix(created),
               billing_cycle_anchor=start, cancel_at_period_end=cancel_at_period_end,
               cancel_at=end if cancel_at_period_end else None,
               canceled_at=unix(canceled_at) if canceled_at is not None else None,
               ended_at=unix(ended_at) if ended_at is not None else None, metadata=metadata or {},
               livemode=livemode, trial_start=None, trial_end=None, pending_update=None,
               next_pending_invoice_item_invoice=None, pause_collection=None, transfer_data=None)
    return obj


def invoice(id: str, customer: str, subscription: str | None, price: str = MONTHLY_PRICE, *,  # noqa: A002
            amount: int = 500, paid: bool = True, created: datetime | int,
            billing_reason: str = "subscription_cycle", email: str | None = None, livemode: bool = False,
            currency: str = "eur") -> dict[str, Any]:
    obj = fixture("invoice")
    line = obj["lines"]["data"][0]
    line.update(id=f"il_{id}", invoice=id, amount=amount, currency=currency, livemode=livemode,
                description="Membership", period={"start": unix(created), "end": unix(created) + 30 * 86400})
    line["parent"] = {
        "invoice_item_details": None,
        "subscription_item_details": {"invoice_item": None, "proration": False, "proration_details": None,
                                      "subscription": subscription, "subscription_item": f"si_{subscription}"},
        "type": "subscription_item_details",
    }
    line["pricing"] = {"price_details": {"price": price, "product": "prod_membership"}, "type": "price_details",
                       "unit_amount_decimal": str(amount)}
    obj["lines"]["url"] = f"/v1/invoices/{id}/lines"
    obj["parent"] = ({"quote_details": None, "subscription_details": {"metadata": {}, "subscription": subscription},
                      "type": "subscription_details"} if subscription else None)
    obj.update(id=id, customer=customer, customer_email=email, created=unix(created), currency=currency,
               amount_due=amount, amount_paid=amount if paid else 0, amount_remaining=0 if paid else amount,
               amount_overpaid=0, billing_reason=billing_reason, livemode=livemode,
               status="paid" if paid else "open", attempted=True, attempt_count=1,
               subtotal=amount, total=amount, subtotal_excluding_tax=amount, total_excluding_tax=amount,
               from_invoice=None, last_finalization_error=None, shipping_cost=None)
    obj["status_transitions"] = {"finalized_at": unix(created), "marked_uncollectible_at": None,
                                 "paid_at": unix(created) if paid else None, "voided_at": None}
    return obj


def invoice_payment(id: str, invoice_id: str, payment_intent: str, *, amount: int = 500,  # noqa: A002
                    created: datetime | int, livemode: bool = False) -> dict[str, Any]:
    obj = fixture("invoice_payment")
    obj.update(id=id, invoice=invoice_id, amount_paid=amount, amount_requested=amount, currency="eur",
               created=unix(created), livemode=livemode, status="paid",
               payment={"type": "payment_intent", "payment_intent": payment_intent},
               status_transitions={"canceled_at": None, "paid_at": unix(created)})
    return obj


def charge(id: str, payment_intent: str | None, *, amount: int = 500, amount_refunded: int = 0,  # noqa: A002
           customer: str | None = None, created: datetime | int, livemode: bool = False) -> dict[str, Any]:
    obj = fixture("charge")
    obj.update(id=id, payment_intent=payment_intent, amount=amount, amount_captured=amount,
               amount_refunded=amount_refunded, refunded=amount_refunded >= amount, captured=True,
               customer=customer, created=unix(created), livemode=livemode, currency="eur", source=None)
    return obj


def dispute(id: str, charge_id: str, payment_intent: str | None, *, status: str = "lost",  # noqa: A002
            amount: int = 500, created: datetime | int, livemode: bool = False) -> dict[str, Any]:
    obj = fixture("dispute")
    obj.update(id=id, charge=charge_id, payment_intent=payment_intent, status=status, amount=amount,
               created=unix(created), livemode=livemode, currency="eur")
    return obj


def checkout_session(id: str, customer: str, subscription: str, *, email: str | None,  # noqa: A002
                     metadata: dict[str, str] | None = None, client_reference_id: str | None = None,
                     created: datetime | int, livemode: bool = False) -> dict[str, Any]:
    obj = fixture("checkout_session")
    obj.update(id=id, customer=customer, subscription=subscription, mode="subscription", status="complete",
               payment_status="paid", client_reference_id=client_reference_id, metadata=metadata or {},
               created=unix(created), expires_at=unix(created) + 86400, livemode=livemode, payment_intent=None,
               customer_email=None, url=None)
    obj["customer_details"] = {**obj["customer_details"], "email": email}
    return obj


def payment_session(id: str, payment_intent: str, *, email: str | None, metadata: dict[str, str],  # noqa: A002
                    amount: int, currency: str = "usd", customer: str | None = None, created: datetime | int,
                    payment_status: str = "paid", livemode: bool = False) -> dict[str, Any]:
    """A completed payment-mode Checkout Session (a one-time contribution or gift)."""
    obj = fixture("checkout_session")
    obj.update(id=id, customer=customer, subscription=None, mode="payment", status="complete",
               payment_status=payment_status, metadata=metadata, created=unix(created),
               expires_at=unix(created) + 86400, livemode=livemode, payment_intent=payment_intent,
               amount_total=amount, amount_subtotal=amount, currency=currency, customer_email=None, url=None)
    obj["customer_details"] = {**obj["customer_details"], "email": email}
    return obj


def payment_intent(id: str, *, amount: int, currency: str = "usd", metadata: dict[str, str],  # noqa: A002
                   customer: str | None = None, email: str | None = None, created: datetime | int,
                   livemode: bool = False) -> dict[str, Any]:
    """A succeeded payment intent (fixture payment_intent.json)."""
    obj = fixture("payment_intent")
    obj.update(id=id, amount=amount, amount_received=amount, currency=currency, metadata=metadata,
               customer=customer, receipt_email=email, created=unix(created), livemode=livemode,
               status="succeeded", latest_charge=f"ch_{id}")
    return obj


@dataclass
class Contribution:
    """Events of one one-time contribution: `completed` (Checkout), `succeeded` (its payment intent),
    `refunded` (a full refund of its charge)."""

    n: int = 1
    email: str | None = "giver1@example.org"
    amount: int = 1000
    currency: str = "usd"
    campaign: str = "members-25k"
    start: datetime = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    customer: str | None = None

    @property
    def payment_intent(self) -> str:
        return f"pi_C{self.n}"

    def events(self) -> dict[str, dict[str, Any]]:
        md = {"kind": "contribution", "campaign": self.campaign}
        t, pi = self.start, self.payment_intent
        return {
            "completed": build_event("checkout.session.completed", payment_session(
                f"cs_C{self.n}", pi, email=self.email, metadata=md, amount=self.amount, currency=self.currency,
                customer=self.customer, created=t), created=t + timedelta(seconds=5), id=f"evt_C{self.n}_completed"),
            "succeeded": build_event("payment_intent.succeeded", payment_intent(
                pi, amount=self.amount, currency=self.currency, metadata=md, customer=self.customer, created=t),
                created=t + timedelta(seconds=4), id=f"evt_C{self.n}_succeeded"),
            "refunded": build_event("charge.refunded", charge(
                f"ch_{pi}", pi, amount=self.amount, amount_refunded=self.amount, created=t),
                created=t + timedelta(days=2), id=f"evt_C{self.n}_refunded"),
        }


# --- a membership's lifecycle -------------------------------------------------------------------------

@dataclass
class Lifecycle:
    """Ids and times of one membership; `events()` builds its events by name."""

    n: int = 1
    email: str = "reader1@example.org"
    price: str = MONTHLY_PRICE
    start: datetime = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    metadata: dict[str, str] | None = None
    livemode: bool = False

    @property
    def customer(self) -> str:
        return f"cus_L{self.n}"

    @property
    def subscription(self) -> str:
        return f"sub_L{self.n}"

    def at(self, days: float = 0, seconds: float = 0) -> datetime:
        return self.start + timedelta(days=days, seconds=seconds)

    def events(self) -> dict[str, dict[str, Any]]:
        n, c, s, p, lm = self.n, self.customer, self.subscription, self.price, self.livemode
        md = self.metadata if self.metadata is not None else {
            "campaign": "members-25k", "plan": "monthly", "locale": "uk", "source": "article:a1", "article_id": "a1"}
        t0, t1, t2, t3 = self.at(0), self.at(30), self.at(60), self.at(62)
        end1, end2 = self.at(30), self.at(60)
        sub = lambda status, t, **kw: subscription(s, c, p, status=status, created=t0, metadata=md,  # noqa: E731
                                                   livemode=lm, **kw)
        ev = lambda name, type_, obj, t: build_event(type_, obj, created=t, id=f"evt_L{n}_{name}",  # noqa: E731
                                                     livemode=lm)
        return {
            "checkout": ev("checkout", "checkout.session.completed",
                           checkout_session(f"cs_L{n}", c, s, email=self.email, metadata=md, created=t0,
                                            livemode=lm), t0 + timedelta(seconds=5)),
            "customer": ev("customer", "customer.created", customer(c, self.email, created=t0, livemode=lm), t0),
            "created": ev("created", "customer.subscription.created",
                          sub("active", t0, period_start=t0, period_end=end1), t0),
            "incomplete": ev("incomplete", "customer.subscription.created",
                             sub("incomplete", t0, period_start=t0, period_end=end1), t0),
            "activated": ev("activated", "customer.subscription.updated",
                            sub("active", t0, period_start=t0, period_end=end1), t0 + timedelta(seconds=3)),
            "first_paid": ev("first_paid", "invoice.paid",
                             invoice(f"in_L{n}_1", c, s, p, created=t0, billing_reason="subscription_create",
                                     email=self.email, livemode=lm), t0 + timedelta(seconds=2)),
            "first_payment": ev("first_payment", "invoice_payment.paid",
                                invoice_payment(f"inpay_L{n}_1", f"in_L{n}_1", f"pi_L{n}_1", created=t0,
                                                livemode=lm), t0 + timedelta(seconds=2)),
            "renewed": ev("renewed", "customer.subscription.updated",
                          sub("active", t1, period_start=end1, period_end=end2), t1),
            "renewal_paid": ev("renewal_paid", "invoice.paid",
                               invoice(f"in_L{n}_2", c, s, p, created=t1, email=self.email, livemode=lm),
                               t1 + timedelta(seconds=2)),
            "payment_failed": ev("payment_failed", "invoice.payment_failed",
                                 invoice(f"in_L{n}_3", c, s, p, created=t2, paid=False, email=self.email,
                                         livemode=lm), t2),
            "past_due": ev("past_due", "customer.subscription.updated",
                           sub("past_due", t2, period_start=end2, period_end=self.at(90)), t2),
            "canceled": ev("canceled", "customer.subscription.deleted",
                           sub("canceled", t3, period_start=end2, period_end=self.at(90), canceled_at=t3,
                               ended_at=t3), t3),
            "refunded": ev("refunded", "charge.refunded",
                           charge(f"ch_L{n}_1", f"pi_L{n}_1", amount=500, amount_refunded=500, customer=c,
                                  created=t0, livemode=lm), self.at(10)),
            "dispute_lost": ev("dispute_lost", "charge.dispute.closed",
                               dispute(f"dp_L{n}_1", f"ch_L{n}_1", f"pi_L{n}_1", status="lost", created=self.at(5),
                                       livemode=lm), self.at(20)),
        }


def lifecycles(count: int, names: tuple[str, ...] = ("checkout", "created", "first_paid", "first_payment"),
               *, start: datetime | None = None, email: str = "member{n}@example.org",
               livemode: bool = False) -> list[dict[str, Any]]:
    """The named events of `count` memberships (ids cus_L<n>, sub_L<n>, evt_L<n>_<name>), in
    chronological order; shuffle and duplicate them for a storm."""
    out = []
    for n in range(1, count + 1):
        life = Lifecycle(n=n, email=email.format(n=n), start=(start or Lifecycle.start) + timedelta(seconds=n),
                         livemode=livemode)
        events = life.events()
        out.extend(events[name] for name in names)
    return sorted(out, key=lambda e: (e["created"], e["id"]))
