"""Removing a member's personal data from every table that names them (no Flask); the member row itself
is erased by service/members/records.py (`erase`), the tombstones by service/members/tombstones.py.

Per table: sign-in links, meter reads and erasure requests are deleted; mail keeps its row (its key stops a
fact's mail being sent twice) with address, subject, bodies and context blanked; Stripe event bodies become
the ledger's ERASED_BODY (id, type and outcome stay; replay says the body was erased); Stripe customers lose
their address; gifts lose the side the member was on (as buyer: their address; as recipient: address, name and
message); contributions lose the address and their contributor key becomes `erased:<HMAC>` (distinct people
stay distinct, so counts of contributors do not move). Any other table found by its column names
(service/privacy/footprint.py) has those columns blanked where they name the member. Staff accounts
(`staff_*`) are not member data: staff disable them with `flask staff account`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, or_, update
from sqlalchemy.orm import Session

from service.members import tombstones
from service.payments.ledger import ERASED_BODY
from service.privacy import footprint
from service.privacy.footprint import Footprint

DELETED = frozenset({"magic_links", "meter_reads", "erasure_requests"})
BLANKED = {"mail_outbox": ("to_addr", "subject", "body", "html", "context"), "webhook_events": ("payload",),
           "stripe_customers": ("email",)}
# Kept as they are: the member row and subscriptions (records.erase), facts without personal data.
KEPT = frozenset({"members", "subscriptions", "member_status_changes", "membership_invoices", "stripe_payments",
                  "erasure_tombstones"})
GIFT_SIDES = ((("buyer_email", "buyer_customer"), ("buyer_email",)),
              (("recipient_email", "member_id"), ("recipient_email", "recipient_name", "message")))


def blank(t: Table, names: tuple[str, ...]) -> dict[str, Any]:
    return {n: ("{}" if n == "context" else "") for n in names if n in t.c}


def scrub(session: Session, fp: Footprint, key: bytes) -> dict[str, int]:
    """Rows changed or deleted per table."""
    counts: dict[str, int] = {}
    for t, cond in reversed(footprint.tables_naming(fp)):
        if t.name in KEPT or t.name.startswith("staff_"):
            continue
        handler = SPECIAL.get(t.name, _default)
        n = handler(session, t, cond, fp, key)
        if n:
            counts[t.name] = n
    return counts


def _run(session: Session, stmt: Any) -> int:
    return session.execute(stmt.execution_options(synchronize_session=False)).rowcount or 0


def _default(session: Session, t: Table, cond: ColumnElement[bool], fp: Footprint, key: bytes) -> int:
    if t.name in DELETED:
        return _run(session, delete(t).where(cond))
    if t.name in BLANKED:
        values = blank(t, BLANKED[t.name])
        if t.name == footprint.LEDGER:  # an erased body (replay says so), not a purged one
            values["payload"] = ERASED_BODY
        return _run(session, update(t).where(cond).values(**values))
    n = 0
    for c, kind in footprint.personal_columns(t):
        if kind in ("emails", "readers") and fp.values(kind):
            n += _run(session, update(t).where(c.in_(sorted(fp.values(kind)))).values({c.name: ""}))
    return n


def _gifts(session: Session, t: Table, cond: ColumnElement[bool], fp: Footprint, key: bytes) -> int:
    n = 0
    for matched_by, blanked in GIFT_SIDES:
        terms = [t.c[name].in_(sorted(fp.values(kind))) for name in matched_by if name in t.c
                 if (kind := footprint.column_kind(name)) and fp.values(kind)]
        if terms:
            n += _run(session, update(t).where(or_(*terms)).values(**blank(t, blanked)))
    return n


def _contributions(session: Session, t: Table, cond: ColumnElement[bool], fp: Footprint, key: bytes) -> int:
    n = 0
    for email in sorted(fp.emails):
        erased = f"erased:{tombstones.email_digest(key, email)}"[:330]
        n += _run(session, update(t).where(t.c.person == f"email:{email}").values(person=erased))
    n += _run(session, update(t).where(t.c.email.in_(sorted(fp.emails))).values(email=""))
    return n


SPECIAL: dict[str, Callable[[Session, Table, ColumnElement[bool], Footprint, bytes], int]] = {
    "gifts": _gifts, "contributions": _contributions}
