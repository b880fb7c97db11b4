"""The gift part of the webhook storm (tests/reliability/test_webhook_storm.py): each gift person's Stripe
events (a paid gift checkout bought by someone else, its refund), and the redemptions sent over HTTP while
other events are redelivered, with the final state each kind must reach.

Kinds (the person is the recipient, storm<n>@example.org; the buyer gbuyer<n>@example.org never becomes a
member):
- gift_redeemed: bought, redeemed -> a member by the gift, counted once;
- gift_unredeemed: bought, never redeemed -> nobody;
- gift_refunded: bought and refunded (in the shuffled storm), then redeeming is refused (410) -> nobody;
- gift_redeemed_refunded: bought, redeemed, then refunded (shuffled with redeliveries) -> a member row
  without membership, not counted;
- member_gifted: a paying member (the join lifecycle) who also receives a gift -> counted once.
"""

from __future__ import annotations

import random
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import requests
import sqlalchemy as sa

from tests.stripe_events import build_event, charge, fixture, unix

GIFT_KINDS = ("gift_redeemed", "gift_unredeemed", "gift_refunded", "gift_redeemed_refunded", "member_gifted")
REDEEMED = {"gift_redeemed", "gift_redeemed_refunded", "member_gifted"}
# kind -> (expected membership status or None for no member, counted in the campaign)
EXPECTED = {
    "gift_redeemed": ("pending", True),  # no Stripe facts: member by the gift only
    "gift_unredeemed": (None, False),
    "gift_refunded": (None, False),
    "gift_redeemed_refunded": ("pending", False),
    "member_gifted": ("active", True),
}
CODE_RE = re.compile(r"/gifts/([A-Za-z0-9_-]{16,64})")


def gift_events(n: int, email: str, t0: datetime) -> dict[str, dict]:
    """The paid gift checkout (for `email`, bought by gbuyer<n>) and the full refund of its payment."""
    cs = fixture("checkout_session")
    cs.update(id=f"cs_G{n}", mode="payment", status="complete", payment_status="paid", subscription=None,
              customer=f"cus_G{n}", payment_intent=f"pi_G{n}", amount_total=3000, currency="eur",
              created=unix(t0), expires_at=unix(t0) + 86400, livemode=False, customer_email=None, url=None,
              client_reference_id=None,
              metadata={"kind": "gift", "campaign": "members-25k", "gift_months": "6", "gift_recipient_email": email,
                        "gift_deliver_on": t0.date().isoformat(), "locale": "uk"})
    cs["customer_details"] = {**cs["customer_details"], "email": f"gbuyer{n}@example.org"}
    refund = charge(f"ch_G{n}", f"pi_G{n}", amount=3000, amount_refunded=3000, customer=f"cus_G{n}", created=t0)
    return {"bought": build_event("checkout.session.completed", cs, created=t0 + timedelta(minutes=40),
                                  id=f"evt_G{n}_bought"),
            "refunded": build_event("charge.refunded", refund, created=t0 + timedelta(hours=2),
                                    id=f"evt_G{n}_refunded")}


def first_wave(kind: str, events: dict[str, dict]) -> list[dict]:
    """The gift events delivered in the shuffled storm (the refund of a gift to redeem first comes later)."""
    if kind == "gift_refunded":
        return [events["bought"], events["refunded"]]
    return [events["bought"]]


def codes_by_recipient(session) -> dict[str, str]:
    """The code each recipient was mailed (from the outbox: the service keeps only hashes)."""
    session.rollback()
    rows = session.execute(sa.text("SELECT to_addr, context FROM mail_outbox WHERE kind = 'gift_received'")).all()
    session.rollback()
    return {to: CODE_RE.search(context).group(1) for to, context in rows}


def redeem_while_redelivering(url: str, sender, people, codes: dict[str, str], bodies: dict[str, bytes],
                              rng: random.Random) -> dict[str, list[int]]:
    """Phase two: every redeemable gift redeemed (30% twice), refused ones tried, shuffled with a redelivery of
    30% of the events and then the refunds of gifts redeemed first. Returns the statuses per recipient."""
    # (a gift refunded before its purchase was applied was never mailed: there is no code to try)
    tries = [p for p in people if p.kind in REDEEMED or (p.kind == "gift_refunded" and p.email in codes)]
    tries += rng.sample(tries, len(tries) * 3 // 10)
    redelivered = rng.sample(sorted(bodies), len(bodies) * 3 // 10)
    work = [("redeem", p) for p in tries] + [("event", eid) for eid in redelivered]
    rng.shuffle(work)
    statuses: dict[str, list[int]] = {}

    def one(item) -> None:  # noqa: ANN001
        what, x = item
        if what == "event":
            sender.send(x)
            return
        r = requests.post(f"{url}/v1/gifts/{codes[x.email]}/redeem", json={}, timeout=60)
        statuses.setdefault(x.email, []).append(r.status_code)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, work))
    return statuses


def check_redemptions(people, statuses: dict[str, list[int]]) -> list[str]:
    """Each redeemable gift redeemed exactly once (200 once, 409 for the repeats); a refunded one refused."""
    wrong = []
    for p in people:
        got = sorted(statuses.get(p.email, []))
        if p.kind in REDEEMED and (got.count(200) != 1 or set(got) - {200, 409}):
            wrong.append(f"{p.kind} {p.email}: redeem statuses {got}")
        if p.kind == "gift_refunded" and set(got) - {410}:
            wrong.append(f"{p.kind} {p.email}: redeem statuses {got}, expected 410")
    return wrong


def check_gifts(session, people) -> list[str]:
    """One gift row per paid checkout whatever the deliveries; refunded exactly the ones refunded."""
    session.rollback()
    rows = dict(session.execute(sa.text("SELECT checkout_session_id, refunded_at IS NOT NULL FROM gifts")).all())
    session.rollback()
    gifted = {f"cs_G{p.n}": p.kind for p in people if p.kind in GIFT_KINDS}
    wrong = [] if set(rows) == set(gifted) else [f"gift rows {len(rows)}, expected {len(gifted)}"]
    refunded = {cs for cs, kind in gifted.items() if kind in ("gift_refunded", "gift_redeemed_refunded")}
    wrong += [f"{cs}: refunded {bool(r)}" for cs, r in rows.items() if bool(r) != (cs in refunded)]
    return wrong
