"""The access decision (the answer of POST /v1/access): who reads, what the article's visibility is, the meter,
the entitlement; and the per-process context it runs with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from service.members.standing import Standing
from service.paywall import rules, tokens
from service.paywall.member_access import member_summary, standing_of
from service.paywall.member_cache import MemberCache, MemberFacts, load_member_facts
from service.paywall.meter import charge_meter
from service.paywall.prompts import paywall_prompt, prompt_flavour
from service.paywall.sections import section_defaults
from service.paywall.settings import Settings, TTLValue


@dataclass
class Context:
    """Per-process things the decision needs: settings, keys and small caches."""

    settings: Settings
    keys: tokens.KeyRing
    sections: TTLValue
    campaign: TTLValue
    progress_cache: Any = None
    members: MemberCache | None = None

    def __post_init__(self) -> None:
        if self.members is None:
            self.members = MemberCache(self.settings.member_cache_seconds, self.settings.member_cache_size)


def member_facts_from_token(session: Session, ctx: Context, token: str | None, now: datetime
                            ) -> MemberFacts | None:
    """The member a token names (valid, unexpired, current version), through the member cache."""
    settings = ctx.settings
    claim = tokens.read_member_token(settings.secret, token, now, settings.member_token_max_age)
    if claim is None:
        return None
    return ctx.members.facts(claim.member_id, claim.version, now, lambda: load_member_facts(session, claim.member_id))


def decide_access(session: Session, ctx: Context, *, article: dict[str, Any], member_token: str | None,
                  reader_id: str | None, locale: str | None, now: datetime, with_prompt: bool = True
                  ) -> dict[str, Any]:
    """The answer of POST /v1/access. With `with_prompt=False` the prompt is left for `add_prompt`, so the
    caller can commit the meter first (on SQLite its write lock is then held for the meter only)."""
    settings = ctx.settings
    bare = tokens.read_reader_id(settings.secret, reader_id)
    new_reader = bare is None
    if bare is None:
        reader_id, bare = tokens.new_reader_id(settings.secret)
    visibility = article.get("visibility")
    if visibility is None and article.get("section"):
        visibility = rules.visibility_of(None, article["section"], ctx.sections.get(lambda: section_defaults(session)))
    visibility = visibility or "members"

    member = member_facts_from_token(session, ctx, member_token, now) if member_token else None
    standing = standing_of(member, settings, now) if member is not None else Standing("none")
    meter_result = None
    if visibility == "members" and standing.kind == "none":
        meter_result = charge_meter(session, settings, bare, article["id"], now, new_reader=new_reader)
    decision = rules.decide(visibility, standing, meter_result)

    entitlement = None
    if member is not None and standing.kind in ("member", "grace", "provisional"):
        member_id = member.id
        ttl = settings.entitlement_ttl
        if standing.kind == "provisional" and standing.until is not None:  # never outlives the provisional access
            ttl = min(ttl, standing.until - now)

        def issue() -> dict[str, Any]:
            token, expires = ctx.keys.issue(member_id, now, ttl, settings.public_base_url)
            return {"token": token, "expires_at": expires, "kid": ctx.keys.signing.kid}

        entitlement = ctx.members.entitlement(member_id, now, ttl, issue)
    payload = {
        "access": decision.access,
        "reason": decision.reason,
        "member": member_summary(member) if member is not None else None,
        "meter": None if meter_result is None else {
            "limit": meter_result.limit, "used": meter_result.used, "remaining": meter_result.remaining,
            "resets_at": meter_result.resets_at,
        },
        "prompt": None,
        "reader_id": reader_id,
        "entitlement": entitlement,
    }
    if with_prompt:
        add_prompt(session, ctx, payload, article_id=article["id"], locale=locale, now=now,
                   section=article.get("section"))
    return payload


def add_prompt(session: Session, ctx: Context, payload: dict[str, Any], *, article_id: str, locale: str | None,
               now: datetime, section: str | None = None) -> dict[str, Any]:
    """Fill `prompt` when the wall shows or the meter runs low (see rules.show_prompt)."""
    remaining = payload["meter"]["remaining"] if payload["meter"] else None
    if rules.show_prompt(payload["access"], payload["reason"], remaining):
        payload["prompt"] = paywall_prompt(session, ctx, locale, article_id, payload["reason"], now,
                                           flavour=prompt_flavour(payload, now), reader_id=payload["reader_id"],
                                           section=section)
    return payload
