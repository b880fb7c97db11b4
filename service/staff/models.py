"""Staff accounts, staff API tokens and the audit log of staff changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base

ROLES = ("viewer", "editor", "admin")


class StaffUser(Base):
    """A newsroom staff member who signs in to the dashboard.

    `failed_logins` counts consecutive failed sign-ins; after too many, `locked_until` pauses sign-in.
    `session_version` is copied into the session cookie at sign-in and checked on every request:
    sign-out, a password or role change and disabling add one, which ends every session issued before.
    `disabled_at` set: the account may not sign in (its sessions ended when it was set).
    """

    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint("role IN ('viewer', 'editor', 'admin')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="viewer")
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    disabled_at: Mapped[datetime | None]

    def can(self, role: str) -> bool:
        """Roles are ordered: viewer < editor < admin."""
        return ROLES.index(self.role) >= ROLES.index(role)


class StaffApiToken(Base):
    """A bearer token for staff tools; only its SHA-256 is stored (the token is shown once)."""

    __tablename__ = "staff_api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class AuditEntry(Base):
    """One change made by staff: who, what, on what, with which details, when."""

    __tablename__ = "staff_audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")
    # Kept (campaign_id NULL) when the campaign is deleted: the log says what was done to it.
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(index=True)
