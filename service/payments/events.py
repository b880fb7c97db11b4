"""Reading Stripe objects (plain dicts from webhook payloads or the API), in current API shapes.

Pure functions, no Flask and no database. Where the API moved a field, the current place is read first
and the older one is the fallback (e.g. an invoice's subscription lives under
`parent.subscription_details` since 2025-03-31.basil; a subscription's period end on its items).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

HANDLED_TYPES = (
    "checkout.session.completed",
    "customer.created",
    "customer.updated",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice_payment.paid",
    "charge.refunded",
    "charge.dispute.closed",
    "payment_intent.succeeded",
)

# Locales Stripe Checkout can show; others are sent as "auto" (Stripe picks the browser's language).
CHECKOUT_LOCALES = frozenset((
    "bg cs da de el en en-GB es es-419 et fi fil fr fr-CA hr hu id it ja ko lt lv ms mt nb nl pl pt pt-BR "
    "ro ru sk sl sv th tr vi zh zh-HK zh-TW").split())

ATTRIBUTION_KEYS = ("campaign", "plan", "locale", "source", "reader_id", "article_id", "variant")


class NotAnEvent(ValueError):
    """The verified body is not a Stripe event."""


def ts(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    return datetime.fromtimestamp(int(value), UTC)


def safe_ts(value: Any) -> datetime | None:
    """`ts()`, or None when the value is not a representable Unix time (10**13, "soon", a list...)."""
    try:
        return ts(value)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def ref(value: Any) -> str:
    """An id from a field that holds either the id or the expanded object."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


def event_id(body: Any) -> str | None:
    """The id a verified body can be stored under in the ledger: a non-empty string of at most 255
    printable characters at `id` of a JSON object; None when there is none (every Stripe event has one)."""
    if not isinstance(body, dict):
        return None
    value = body.get("id")
    if not isinstance(value, str) or not value or len(value) > 255 or not value.isprintable():
        return None
    return value


def check_event(event: Any) -> dict[str, Any]:
    """The minimal shape of a snapshot event: id, type, created (a representable time), data.object."""
    if not isinstance(event, dict) or event.get("object") != "event":
        kind = event.get("object") if isinstance(event, dict) else type(event).__name__
        raise NotAnEvent(f"the body is not a snapshot event (object {str(kind)[:40]!r})")
    if event_id(event) is None:
        raise NotAnEvent("the event has no id")
    if not isinstance(event.get("type"), str) or not event["type"] or len(event["type"]) > 100:
        raise NotAnEvent("the event has no type")
    created = event.get("created")
    if not isinstance(created, int) or isinstance(created, bool):
        raise NotAnEvent("the event has no created time")
    if safe_ts(created) is None:
        raise NotAnEvent(f"the event's created time {created} is out of range")
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise NotAnEvent("the event has no data.object")
    return event


def event_object(event: dict[str, Any]) -> dict[str, Any]:
    return event["data"]["object"]


def _text(value: Any, limit: int) -> str:
    return value.replace("\x00", "")[:limit] if isinstance(value, str) else ""


def ledger_fields(event: dict[str, Any], received_at: datetime) -> dict[str, Any]:
    """The ledger columns of a verified body that has an id (`event_id`), whatever else it holds: total,
    so that an event that cannot be applied is still stored. What is missing or malformed falls back
    (type '', no object id, `created` = when it was received); the raw payload keeps everything."""
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    return {"stripe_event_id": event["id"], "type": _text(event.get("type"), 100),
            "livemode": bool(event.get("livemode")), "api_version": _text(event.get("api_version"), 64),
            "object_id": _text(ref(obj.get("id")) if isinstance(obj, dict) else "", 255),
            "created": safe_ts(event.get("created")) or received_at}


# --- subscriptions -----------------------------------------------------------------------------------

def subscription_items(obj: dict[str, Any]) -> list[dict[str, Any]]:
    items = obj.get("items") or {}
    data = items.get("data") if isinstance(items, dict) else items
    return [i for i in (data or []) if isinstance(i, dict)]


def subscription_price_ids(obj: dict[str, Any]) -> list[str]:
    out = []
    for item in subscription_items(obj):
        price = ref(item.get("price")) or ref(item.get("plan"))
        if price:
            out.append(price)
    return out


def subscription_products(obj: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    """(price id, product id, interval, interval count) of each item whose price is expanded (webhooks and
    lists carry it): how an inline price of a flexible plan is known (pricing.flexible_plan)."""
    out = []
    for item in subscription_items(obj):
        price = item.get("price")
        if isinstance(price, dict) and price.get("product"):
            recurring = price.get("recurring") if isinstance(price.get("recurring"), dict) else {}
            out.append((ref(price.get("id")), ref(price.get("product")), str(recurring.get("interval") or ""),
                        int(recurring.get("interval_count") or 1)))
    return out


@dataclass(frozen=True)
class SubscriptionSnapshot:
    """The fields of a subscription that membership depends on, as Stripe reported them."""

    status: str
    price_id: str
    current_period_end: datetime | None
    cancel_at_period_end: bool
    canceled_at: datetime | None
    ended_at: datetime | None


def subscription_snapshot(obj: dict[str, Any], price_id: str) -> SubscriptionSnapshot:
    ends = [ts(i.get("current_period_end")) for i in subscription_items(obj)]
    ends = [e for e in ends if e is not None]
    period_end = max(ends) if ends else ts(obj.get("current_period_end"))
    return SubscriptionSnapshot(
        status=str(obj.get("status") or ""),
        price_id=price_id,
        current_period_end=period_end,
        cancel_at_period_end=bool(obj.get("cancel_at_period_end")),
        canceled_at=ts(obj.get("canceled_at")),
        ended_at=ts(obj.get("ended_at")),
    )


# --- invoices and payments -----------------------------------------------------------------------------

def invoice_subscription(obj: dict[str, Any]) -> str:
    parent = obj.get("parent") or {}
    details = parent.get("subscription_details") if isinstance(parent, dict) else None
    if isinstance(details, dict) and details.get("subscription"):
        return ref(details["subscription"])
    if obj.get("subscription"):
        return ref(obj["subscription"])
    for line in invoice_lines(obj):
        lp = line.get("parent") or {}
        item = lp.get("subscription_item_details") if isinstance(lp, dict) else None
        if isinstance(item, dict) and item.get("subscription"):
            return ref(item["subscription"])
    return ""


def invoice_lines(obj: dict[str, Any]) -> list[dict[str, Any]]:
    lines = obj.get("lines") or {}
    data = lines.get("data") if isinstance(lines, dict) else lines
    return [line for line in (data or []) if isinstance(line, dict)]


def invoice_price_ids(obj: dict[str, Any]) -> list[str]:
    out = []
    for line in invoice_lines(obj):
        pricing = line.get("pricing") or {}
        details = pricing.get("price_details") if isinstance(pricing, dict) else None
        price = ref(details.get("price")) if isinstance(details, dict) else ""
        price = price or ref(line.get("price")) or ref(line.get("plan"))
        if price:
            out.append(price)
    return out


def invoice_products(obj: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    """(price id, product id, '', 1) of each line (an invoice line names no interval)."""
    out = []
    for line in invoice_lines(obj):
        pricing = line.get("pricing") or {}
        details = pricing.get("price_details") if isinstance(pricing, dict) else None
        price = line.get("price") if isinstance(line.get("price"), dict) else {}
        product = (ref(details.get("product")) if isinstance(details, dict) else "") or ref(price.get("product"))
        price_id = (ref(details.get("price")) if isinstance(details, dict) else "") or ref(price.get("id"))
        if product:
            out.append((price_id, product, "", 1))
    return out


def invoice_paid_at(obj: dict[str, Any], fallback: datetime) -> datetime:
    transitions = obj.get("status_transitions") or {}
    return ts(transitions.get("paid_at") if isinstance(transitions, dict) else None) or fallback


def invoice_payment_key(obj: dict[str, Any]) -> str:
    """invoice_payment.payment names a payment intent (or, for older charges, a charge)."""
    payment = obj.get("payment") or {}
    if not isinstance(payment, dict):
        return ""
    return ref(payment.get("payment_intent")) or ref(payment.get("charge"))


def charge_payment_key(obj: dict[str, Any]) -> str:
    return ref(obj.get("payment_intent")) or ref(obj.get("id"))


def charge_fully_refunded(obj: dict[str, Any]) -> bool:
    amount = int(obj.get("amount") or 0)
    refunded = int(obj.get("amount_refunded") or 0)
    return amount > 0 and refunded >= amount


def dispute_payment_key(obj: dict[str, Any]) -> str:
    return ref(obj.get("payment_intent")) or ref(obj.get("charge"))


# --- checkout -------------------------------------------------------------------------------------------

def session_email(obj: dict[str, Any]) -> str:
    details = obj.get("customer_details") or {}
    email = details.get("email") if isinstance(details, dict) else None
    return str(email or obj.get("customer_email") or "")


def source_of(article_id: str | None, referrer: str | None) -> str:
    """`article:<id>` when the checkout started on an article, else the referring host, else ''."""
    if article_id:
        return f"article:{article_id}"[:200]
    if referrer:
        try:
            return (urlsplit(referrer).hostname or "")[:200]
        except ValueError:
            return ""
    return ""


def attribution(metadata: Any) -> dict[str, str]:
    md = metadata if isinstance(metadata, dict) else {}
    out = {k: str(md.get(k) or "") for k in ATTRIBUTION_KEYS}
    if not out["source"]:
        out["source"] = source_of(out["article_id"], str(md.get("referrer") or ""))
    return out


def checkout_locale(locale: str | None) -> str:
    """The locale to ask Checkout for: the reader's if Stripe supports it, else its language, else auto."""
    if not locale:
        return "auto"
    tag = locale.replace("_", "-")
    for candidate in (tag, tag.split("-")[0].lower()):
        if candidate in CHECKOUT_LOCALES:
            return candidate
    return "auto"
