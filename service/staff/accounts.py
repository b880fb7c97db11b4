"""Staff accounts you can trust: sign-in with a lock-out that holds under parallel attempts, sessions
that end on the server, account changes, and staff API-token use; each event goes to the audit log.

Everything lives in the database, never in one process, so two app servers sharing it agree:
- Failed sign-ins are counted with one `UPDATE ... SET failed_logins = failed_logins + 1 ... RETURNING`
  that also sets the lock when the count reaches the limit (never read, add and write back in Python,
  which loses attempts made in parallel). A locked or disabled account is refused inside the same
  statement that records a success, so a lock set a moment ago is never missed.
- `staff_users.session_version` is copied into the signed session cookie at sign-in and compared on
  every request. Sign-out, a password change, a role change and disabling the account add one to it,
  so every cookie issued before (copies included) stops working.
- A staff API token's use is noted (`last_used_at` and a `token.use` audit entry) at most once a minute
  per token: a conditional UPDATE decides which request writes, so busy tools cost no write per request.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import case, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.db import UTCDateTime, is_unique_violation
from service.errors import Conflict, Invalid, NotFound
from service.members.identity import normalize_email
from service.staff import audit
from service.staff.models import ROLES, StaffApiToken, StaffUser

TOKEN_USE_EVERY = timedelta(minutes=1)
MIN_PASSWORD_LENGTH = 12
SIGN_IN_FAILED = "Wrong email or password (after repeated failures, sign-in pauses for a while)."

_hasher = PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against for unknown emails, so that a wrong email costs as much as a wrong password."""
    return _hasher.hash(secrets.token_hex(16))


# ---- passwords and new accounts -----------------------------------------------------------------------

def validate_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise Invalid(f"the password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > 1024:
        raise Invalid("the password is longer than 1,024 characters.")


def create_staff(session: Session, *, email: str, role: str, password: str, now: datetime) -> StaffUser:
    email = normalize_email(email or "")
    if "@" not in email or len(email) > 320:
        raise Invalid("give a valid email address.")
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}.")
    validate_password(password)
    user = StaffUser(email=email, role=role, password_hash=_hasher.hash(password), failed_logins=0,
                     created_at=now)
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError as exc:
        if is_unique_violation(exc):
            raise Conflict(f"a staff account for {email} exists already.") from exc
        raise
    return user


# ---- sign-in and lock-out ---------------------------------------------------------------------------

def _password_matches(user: StaffUser | None, password: str) -> bool:
    """An argon2 verification even for unknown emails, so that a wrong email costs as much as a wrong password."""
    candidate = user.password_hash if user is not None else _dummy_hash()
    try:
        return _hasher.verify(candidate, password or "")
    except (VerificationError, InvalidHashError):
        return False


def _not_locked(now: datetime):  # noqa: ANN202 - a SQL condition
    return or_(StaffUser.locked_until.is_(None), StaffUser.locked_until <= now)


def _record_failure(session: Session, user: StaffUser, now: datetime, max_failures: int,
                    lock_minutes: int) -> str:
    """Count one failed sign-in in the database: "lockout" when this attempt set the lock, "locked" when
    the account was locked already (not counted), else "counted"."""
    reached = StaffUser.failed_logins + 1 >= max_failures
    until = now + timedelta(minutes=lock_minutes)
    stmt = (update(StaffUser).where(StaffUser.id == user.id, _not_locked(now))
            .values(failed_logins=case((reached, 0), else_=StaffUser.failed_logins + 1),
                    locked_until=case((reached, literal(until, UTCDateTime())), else_=StaffUser.locked_until))
            .returning(StaffUser.locked_until)
            .execution_options(synchronize_session=False))
    row = session.execute(stmt).first()
    session.expire(user, ["failed_logins", "locked_until"])
    if row is None:
        return "locked"
    return "lockout" if row[0] == until else "counted"


def _record_success(session: Session, user: StaffUser, now: datetime) -> bool:
    """Reset the failure count unless the account is locked or disabled (checked in the same statement)."""
    stmt = (update(StaffUser)
            .where(StaffUser.id == user.id, _not_locked(now), StaffUser.disabled_at.is_(None))
            .values(failed_logins=0, locked_until=None, last_login_at=now)
            .returning(StaffUser.id)
            .execution_options(synchronize_session=False))
    won = session.execute(stmt).first() is not None
    session.refresh(user)
    return won


def authenticate(session: Session, *, email: str, password: str, now: datetime, max_failures: int = 5,
                 lock_minutes: int = 15) -> StaffUser | None:
    """The staff user when email and password match and the account is neither locked nor disabled; else None.

    Unknown emails, wrong passwords, locked and disabled accounts get the same answer and about the same
    time (an argon2 verification each). `max_failures` consecutive failures lock the account for
    `lock_minutes`. Every attempt is audited; the caller commits, so failures are kept."""
    email = normalize_email(email or "")[:320]
    user = session.scalar(select(StaffUser).where(StaffUser.email == email))
    ok = _password_matches(user, password)

    def failed(reason: str, action: str = "signin.failed", **details: str) -> None:
        audit.record(session, actor=email or "(empty)", action=action, target="staff sign-in",
                     details={"reason": reason, **details}, now=now)

    if user is None:
        failed("unknown email")
    elif user.disabled_at is not None:
        failed("account disabled")
    elif not ok:
        outcome = _record_failure(session, user, now, max_failures, lock_minutes)
        if outcome == "lockout":
            failed("wrong password", "signin.lockout", minutes=str(lock_minutes))
        else:
            failed("locked" if outcome == "locked" else "wrong password")
    elif not _record_success(session, user, now):
        failed("account disabled" if user.disabled_at is not None else "locked")
    else:
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        audit.record(session, actor=user.email, action="signin.ok", target="staff sign-in", now=now)
        return user
    return None


# ---- sessions ---------------------------------------------------------------------------------------

def session_user(session: Session, staff_id: object, version: object) -> StaffUser | None:
    """The staff user of a session cookie: None when the account is gone or disabled, or when the cookie
    was issued before its sessions were ended (its version is not the account's current one)."""
    if not isinstance(staff_id, int) or not isinstance(version, int):
        return None
    user = session.get(StaffUser, staff_id, populate_existing=True)
    if user is None or user.disabled_at is not None or user.session_version != version:
        return None
    return user


def end_sessions(session: Session, user: StaffUser) -> None:
    """End every session of this person, on every app server: the cookies they hold no longer match."""
    session.execute(update(StaffUser).where(StaffUser.id == user.id)
                    .values(session_version=StaffUser.session_version + 1)
                    .execution_options(synchronize_session=False))
    session.expire(user, ["session_version"])


def sign_out(session: Session, user: StaffUser, now: datetime) -> None:
    end_sessions(session, user)
    audit.record(session, actor=user.email, action="signout", target="staff sign-in", now=now)


# ---- account changes (the CLI) --------------------------------------------------------------------------

def find(session: Session, email: str) -> StaffUser:
    user = session.scalar(select(StaffUser).where(StaffUser.email == normalize_email(email or "")))
    if user is None:
        raise NotFound(f"no staff account {email}.")
    return user


def create(session: Session, *, email: str, role: str, password: str, by: str, now: datetime) -> StaffUser:
    user = create_staff(session, email=email, role=role, password=password, now=now)
    audit.record(session, actor=by, action="account.create", target=user.email, details={"role": role}, now=now)
    return user


def change_password(session: Session, user: StaffUser, *, password: str, by: str, now: datetime) -> None:
    validate_password(password)
    user.password_hash = _hasher.hash(password)
    end_sessions(session, user)
    audit.record(session, actor=by, action="account.password", target=user.email, now=now)


def change_role(session: Session, user: StaffUser, *, role: str, by: str, now: datetime) -> None:
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}.")
    before, user.role = user.role, role
    end_sessions(session, user)
    audit.record(session, actor=by, action="account.role", target=user.email,
                 details={"from": before, "to": role}, now=now)


def disable(session: Session, user: StaffUser, *, by: str, now: datetime) -> None:
    if user.disabled_at is None:
        user.disabled_at = now
    end_sessions(session, user)
    audit.record(session, actor=by, action="account.disable", target=user.email, now=now)


def enable(session: Session, user: StaffUser, *, by: str, now: datetime) -> None:
    user.disabled_at = None
    audit.record(session, actor=by, action="account.enable", target=user.email, now=now)


def unlock(session: Session, user: StaffUser, *, by: str, now: datetime) -> None:
    user.locked_until, user.failed_logins = None, 0
    audit.record(session, actor=by, action="account.unlock", target=user.email, now=now)


# ---- staff API tokens ---------------------------------------------------------------------------------

def token_label(row: StaffApiToken) -> str:
    return f"token {row.id} ({row.prefix}…)"


def note_token_use(session: Session, row: StaffApiToken, *, where: str, now: datetime) -> bool:
    """Record `last_used_at` and a `token.use` audit entry, at most once per token per `TOKEN_USE_EVERY`.

    A read decides first (no write at all inside the minute); then a conditional UPDATE lets exactly one
    of several parallel requests, on any app server, write the entry. True when this call wrote it."""
    if row.last_used_at is not None and now - row.last_used_at < TOKEN_USE_EVERY:
        return False
    stmt = (update(StaffApiToken)
            .where(StaffApiToken.id == row.id,
                   or_(StaffApiToken.last_used_at.is_(None), StaffApiToken.last_used_at <= now - TOKEN_USE_EVERY))
            .values(last_used_at=now).returning(StaffApiToken.id)
            .execution_options(synchronize_session=False))
    won = session.execute(stmt).first() is not None
    session.expire(row, ["last_used_at"])
    if won:
        audit.record(session, actor=token_label(row), action="token.use", target=where[:200],
                     details={"name": row.name}, now=now)
    return won
