"""Campaign administration (no Flask): create, edit, archive, unarchive and delete, each change validated
field by field, and a change of what is counted (window, counting mode) recounted in the same transaction.

Used by the staff dashboard, the staff API and the `campaign` CLI through staff/campaign_admin.py, which
writes each change to the audit log. The window is edited as local dates (first and last day, in the
campaign's time zone), the way it was created; the stored instants are local midnights (services.window_bounds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.campaigns import count_storage, locales, services
from service.campaigns.models import Campaign
from service.db import aware
from service.errors import Conflict, Invalid

# Field -> its name in a sentence ("Goal must be ...").
FIELDS = {
    "slug": "Slug", "title": "Title", "goal": "Goal", "starts": "First day", "ends": "Last day",
    "timezone": "Time zone", "default_locale": "Default locale", "count_mode": "Counting mode",
    "join_url": "Join URL",
}
EDITABLE = ("title", "goal", "starts", "ends", "timezone", "default_locale", "count_mode", "join_url")
COUNTED = ("starts", "ends", "timezone", "count_mode")  # what moves the count: recounted when changed


@dataclass(frozen=True)
class Outcome:
    """What a change did: each field's (before, after) as shown to people, and the count before and after."""

    slug: str
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    recounted: bool = False
    count_before: int = 0
    count_after: int = 0

    @property
    def moved(self) -> int:
        return self.count_after - self.count_before

    def summary(self) -> str:
        """One or two sentences: what changed and, after a recount, by how much the count moved."""
        if not self.changes:
            return f"Nothing changed in {self.slug}."
        parts = [f"{FIELDS[k].lower()} {_shown(a)} → {_shown(b)}" for k, (a, b) in self.changes.items()]
        text = f"Changed {self.slug}: " + "; ".join(parts) + "."
        if self.recounted:
            text += (f" Recounted: the count moved by {self.moved:+,} ({self.count_before:,} → "
                     f"{self.count_after:,}).")
        return text


def _shown(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else repr(value) if value == "" else str(value)


def local_days(campaign: Campaign) -> tuple[date, date]:
    """The campaign's first and last day in its own time zone (its window, as staff entered it)."""
    tz = ZoneInfo(campaign.timezone)
    return (aware(campaign.starts_at).astimezone(tz).date(),
            (aware(campaign.ends_at).astimezone(tz) - timedelta(microseconds=1)).date())


def _sentence(message: str) -> str:
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


def field_errors(values: dict[str, Any], *, require_https: bool = False) -> dict[str, str]:
    """Field -> one sentence saying what is wrong with it (empty when every given field is right). The rules
    are services.validate_settings', asked one field at a time so that every field's problem is named."""
    errors: dict[str, str] = {}
    checks = {"slug": "slug", "title": "title", "goal": "goal", "timezone": "timezone",
              "default_locale": "locale", "count_mode": "count_mode", "join_url": "join_url"}
    for name, kwarg in checks.items():
        if values.get(name) is None:
            continue
        if name == "goal" and (isinstance(values[name], bool) or not isinstance(values[name], int)):
            errors[name] = "Goal must be a whole number."
            continue
        try:
            services.validate_settings(**{kwarg: values[name]}, require_https=require_https)
        except Invalid as exc:
            errors[name] = _sentence(exc.detail.removeprefix("join URL: "))
    for name in ("starts", "ends"):
        if name in values and values[name] is not None and not isinstance(values[name], date):
            errors[name] = f"{FIELDS[name]} must be a date (YYYY-MM-DD)."
    starts, ends = values.get("starts"), values.get("ends")
    if isinstance(starts, date) and isinstance(ends, date) and ends < starts and "ends" not in errors:
        errors["ends"] = "The last day must be on or after the first day."
    return errors


def _refuse(errors: dict[str, str]) -> None:
    if errors:
        raise Invalid(" ".join(errors.values()), errors={k: [v] for k, v in errors.items()})


def create(session: Session, values: dict[str, Any], *, now: datetime, require_https: bool = False) -> Campaign:
    """A new campaign (members who paid inside its window counted at once); every bad field named."""
    missing = {k: f"{FIELDS[k]} is required." for k in ("slug", "title", "goal", "starts", "ends")
               if values.get(k) in (None, "")}
    errors = {**field_errors(values, require_https=require_https), **missing}
    if "slug" not in errors and session.scalar(select(Campaign.id).where(Campaign.slug == values["slug"])):
        errors["slug"] = f"A campaign with slug '{values['slug']}' exists already; choose another slug."
    _refuse(errors)
    return services.create_campaign(
        session, slug=values["slug"], title=values["title"], goal=values["goal"], starts=values["starts"],
        ends=values["ends"], now=now, timezone=values.get("timezone") or "UTC",
        locale=values.get("default_locale") or "en", count_mode=values.get("count_mode") or "net",
        join_url=values.get("join_url") or "", require_https=require_https)


def edit(session: Session, campaign: Campaign, values: dict[str, Any], *, now: datetime,
         require_https: bool = False) -> Outcome:
    """Change the given fields (None or absent: unchanged). A new time zone keeps the local first and last
    days; a change of window or counting mode recounts in this transaction and says how far the count moved."""
    values = {k: v for k, v in values.items() if k in EDITABLE and v is not None}
    for name in ("title", "join_url"):
        if isinstance(values.get(name), str):
            values[name] = values[name].strip()
    first, last = local_days(campaign)
    days = {"starts": values.get("starts", first), "ends": values.get("ends", last)}
    _refuse(field_errors({**values, **days}, require_https=require_https))
    if "default_locale" in values:
        values["default_locale"] = locales.normalize_locale(values["default_locale"])
    before = {"title": campaign.title, "goal": campaign.goal, "starts": first, "ends": last,
              "timezone": campaign.timezone, "default_locale": campaign.default_locale,
              "count_mode": campaign.count_mode, "join_url": campaign.join_url}
    changes = {k: (before[k], v) for k, v in {**values, **days}.items() if v != before[k]}
    outcome = Outcome(campaign.slug, changes)
    if not changes:
        return outcome
    for name in ("title", "goal", "timezone", "default_locale", "count_mode", "join_url"):
        if name in changes:
            setattr(campaign, name, changes[name][1])
    campaign.starts_at, campaign.ends_at = services.window_bounds(days["starts"], days["ends"], campaign.timezone)
    campaign.updated_at = now
    session.flush()
    if not any(k in changes for k in COUNTED):
        return outcome
    count_before = campaign.count
    count_after = count_storage.recount(session, campaign, now)
    return Outcome(campaign.slug, changes, True, count_before, count_after)


def set_archived(session: Session, campaign: Campaign, archived: bool, *, now: datetime) -> bool:
    """Archive (its public endpoints answer 410, the paywall never shows it) or bring it back; False when
    it already was so."""
    if (campaign.archived_at is not None) == archived:
        return False
    campaign.archived_at = now if archived else None
    campaign.updated_at = now
    session.flush()
    return True


def delete_campaign(session: Session, campaign: Campaign, *, force: bool = False) -> dict[str, Any]:
    """Delete a campaign with its copy, adjustments and roll-ups (members are kept: they belong to no
    campaign). Refused while members are counted in it, unless `force`: archive it instead."""
    if campaign.members_counted > 0 and not force:
        raise Conflict(f"{campaign.members_counted:,} members are counted in campaign '{campaign.slug}': it was "
                       "not deleted. Archive it instead (it stops showing), or delete it with --force.",
                       errors={"slug": ["Members are counted in this campaign."]})
    facts = {"slug": campaign.slug, "title": campaign.title, "members_counted": campaign.members_counted,
             "count": campaign.count, "forced": bool(force and campaign.members_counted > 0)}
    session.execute(delete(Campaign).where(Campaign.id == campaign.id))
    session.expunge(campaign)
    return facts


def describe(campaign: Campaign) -> dict[str, Any]:
    """A campaign's settings as staff edit them (local first and last days), its count and whether archived."""
    first, last = local_days(campaign)
    return {"slug": campaign.slug, "title": campaign.title, "goal": campaign.goal, "starts": first, "ends": last,
            "timezone": campaign.timezone, "default_locale": campaign.default_locale,
            "count_mode": campaign.count_mode, "join_url": campaign.join_url, "count": campaign.count,
            "archived": campaign.archived_at is not None, "updated_at": aware(campaign.updated_at)}
