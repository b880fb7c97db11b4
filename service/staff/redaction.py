"""What staff below admin see on staff pages: that an error exists, not its text; that a token was used,
not its name.

Error texts (a webhook's `last_error`, a replay's error) can carry customer data and internals, and a
token's name says what uses it; both are for admins. The rule is applied here, once, to what the
pages render (audit entries, payments health)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

ADMIN_ONLY_DETAILS = ("error", "name")
HIDDEN = "(shown to admins only)"
ERROR_HIDDEN = "failed (the error text is shown to admins only)"


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any]


def error_text(text: str | None, admin: bool) -> str:
    """The error for an admin; for anyone else only that there is one."""
    if not text:
        return ""
    return text if admin else ERROR_HIDDEN


def audit_rows(entries: list[Any], admin: bool) -> list[AuditRow]:
    """Audit entries as the page shows them: admin-only details replaced for non-admins."""
    rows = []
    for e in entries:
        details = dict(e.details or {})
        if not admin:
            details = {k: (HIDDEN if k in ADMIN_ONLY_DETAILS else v) for k, v in details.items()}
        rows.append(AuditRow(at=e.at, actor=e.actor, action=e.action, target=e.target, details=details))
    return rows
