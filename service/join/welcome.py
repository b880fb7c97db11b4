"""The welcome page's claim (no Flask): the paid Checkout Session exchanged for a member token under the
claim's trust rules (service/paywall/claims.py), or a sign-in link mailed to the member's own address."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stripe
from sqlalchemy.orm import Session

from service.errors import DomainError, NotFound
from service.paywall import claims, member_access
from service.paywall.settings import Settings


@dataclass(frozen=True)
class Welcome:
    state: str  # signed_in | verify_email | pending | unknown | failed
    member_token: str = ""
    email: str = ""
    detail: str = ""


def claim(session: Session, settings: Settings, client: stripe.StripeClient, prices: dict[str, str],
          session_id: str, now: datetime, return_url: str | None) -> Welcome:
    """The outcome of claiming, in the page's terms (the same rules and answers as the claim endpoint)."""
    try:
        result = claims.claim_checkout(session, settings, client, prices, session_id, now, return_url=return_url)
    except NotFound:
        return Welcome("unknown")
    except DomainError as exc:
        return Welcome("pending" if exc.status == 409 else "failed", detail=exc.detail or exc.title)
    if not result.signed_in:
        return Welcome("verify_email")
    return Welcome("signed_in", member_access.member_token(settings, result.member, now), result.member.email)


def handoff_url(return_url: str, member_token: str) -> str:
    """Back to the site with the token in the URL fragment, as a sign-in link does (`#member_token=…`: never
    sent to servers; the site's script stores it and removes the fragment)."""
    return f"{return_url.split('#', 1)[0]}#member_token={member_token}"


def as_json(w: Welcome) -> dict[str, Any]:
    return {"state": w.state, "email": w.email, "detail": w.detail}
