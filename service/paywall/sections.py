"""Default visibility per section (`paywall section set|unset|list`), read by the access decision."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.errors import Invalid, NotFound
from service.paywall import rules
from service.paywall.models import SectionDefault


def section_defaults(session: Session) -> dict[str, str]:
    return {s: v for s, v in session.execute(select(SectionDefault.section, SectionDefault.visibility))}


def set_section_default(session: Session, section: str, visibility: str | None, now: datetime) -> None:
    section = section.strip()
    if not 0 < len(section) <= 100:
        raise Invalid("a section name has 1-100 characters.")
    row = session.get(SectionDefault, section)
    if visibility is None:
        if row is None:
            raise NotFound(f"Section '{section}' has no default.")
        session.delete(row)
    elif visibility not in rules.VISIBILITIES:
        raise Invalid("visibility must be 'public' or 'members'.")
    elif row is None:
        session.add(SectionDefault(section=section, visibility=visibility, updated_at=now))
    else:
        row.visibility, row.updated_at = visibility, now
    session.flush()
