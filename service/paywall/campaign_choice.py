"""Which campaign's appeal the paywall shows: chosen, not guessed (no Flask).

An admin chooses a campaign for the whole site and, where a section needs another, per section (the
`paywall_campaigns` table, set on the dashboard). A section without a choice of its own uses the site's
choice, else PAYWALL_CAMPAIGN, else the one running campaign when exactly one runs; with none of these the
prompt is the generic appeal. An archived campaign is never used: its choice is passed over as if unset.
`overview` says, for the dashboard, which campaign each scope uses and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from service.campaigns.models import Campaign
from service.errors import Invalid, NotFound
from service.paywall.models import PaywallCampaign

SITE = ""  # the section value of the site-wide choice

CHOSEN = "chosen on the dashboard"
CONFIGURED = "PAYWALL_CAMPAIGN"
ONLY_RUNNING = "the only running campaign"
NONE = "none: the generic appeal"


@dataclass(frozen=True)
class Choice:
    """The paywall's campaign per section (live choices only) and for every other section, with the reason."""

    sections: dict[str, str] = field(default_factory=dict)
    default: str | None = None
    why: str = NONE

    def slug_for(self, section: str | None) -> str | None:
        return self.sections.get(section or SITE) or self.default


def load(session: Session, configured: str, now: datetime) -> Choice:
    """The choices in force now, in one query (archived campaigns left out): the chosen campaigns, the
    configured one and the running ones."""
    running = and_(Campaign.starts_at <= now, Campaign.ends_at > now)
    rows = session.execute(
        select(Campaign.slug, PaywallCampaign.section, running)
        .outerjoin(PaywallCampaign, PaywallCampaign.campaign_id == Campaign.id)
        .where(Campaign.archived_at.is_(None),
               or_(PaywallCampaign.section.is_not(None), Campaign.slug == (configured or None), running))).all()
    chosen = {section: slug for slug, section, _ in rows if section is not None}
    sections = {s: slug for s, slug in chosen.items() if s != SITE}
    if SITE in chosen:
        return Choice(sections, chosen[SITE], CHOSEN)
    if configured and any(slug == configured for slug, _, _ in rows):
        return Choice(sections, configured, CONFIGURED)
    live = {slug for slug, _, is_running in rows if is_running}
    if len(live) == 1:
        return Choice(sections, live.pop(), ONLY_RUNNING)
    return Choice(sections, None, NONE)


def set_choice(session: Session, section: str, slug: str | None, *, actor: str, now: datetime) -> str | None:
    """Choose the campaign of a section ('' : the whole site); slug None or '' removes the choice. Returns the
    slug chosen before (for the audit log)."""
    section = (section or "").strip()
    if len(section) > 100:
        raise Invalid("A section name has at most 100 characters.", errors={"section": ["At most 100 characters."]})
    row = session.get(PaywallCampaign, section)
    before = session.scalar(select(Campaign.slug).where(Campaign.id == row.campaign_id)) if row else None
    if not slug:
        if row is not None:
            session.delete(row)
            session.flush()
        return before
    campaign = session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise NotFound(f"No campaign with slug '{slug[:64]}'.")
    if campaign.archived_at is not None:
        raise Invalid(f"The campaign '{slug}' is archived; the paywall cannot use it.",
                      errors={"campaign": ["This campaign is archived."]})
    if row is None:
        session.add(PaywallCampaign(section=section, campaign_id=campaign.id, updated_by=actor, updated_at=now))
    else:
        row.campaign_id, row.updated_by, row.updated_at = campaign.id, actor, now
    session.flush()
    return before


@dataclass(frozen=True)
class ScopeRow:
    section: str  # '' : the site
    slug: str | None
    why: str
    stored: str | None  # the stored choice, even when passed over (archived)


def overview(session: Session, configured: str, now: datetime) -> list[ScopeRow]:
    """The site first, then each section with a choice: the campaign it uses now and why."""
    choice = load(session, configured, now)
    stored = dict(session.execute(
        select(PaywallCampaign.section, Campaign.slug).join(Campaign, Campaign.id == PaywallCampaign.campaign_id)
        .order_by(PaywallCampaign.section)).all())
    rows = [ScopeRow(SITE, choice.default, choice.why, stored.get(SITE))]
    for section in sorted(s for s in stored if s != SITE):
        slug = choice.sections.get(section)
        rows.append(ScopeRow(section, slug or choice.default, CHOSEN if slug else f"the site's ({choice.why})",
                             stored[section]))
    return rows
