"""Helpers for the staff tests: accounts, signing in with the form's CSRF token, a known data set."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from argon2 import PasswordHasher

from service.staff import accounts
from tests import factories

PASSWORD = "correct horse battery staple"
PRODUCTION_HASHER = accounts._hasher  # before any test swaps it
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    """Cheap argon2 parameters in tests (CPU is shared); test_production_hasher checks the real ones."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    accounts._dummy_hash.cache_clear()
    yield
    accounts._dummy_hash.cache_clear()


def staff_changes(session):
    """Audit entries other than sign-ins and sign-outs (which every signed-in test writes)."""
    from service.staff.models import AuditEntry

    return session.query(AuditEntry).filter(~AuditEntry.action.like("signin.%"), AuditEntry.action != "signout")


def make_staff(session, clock, role: str, email: str | None = None):
    user = accounts.create_staff(session, email=email or f"{role}@newsroom.example", role=role,
                                 password=PASSWORD, now=clock.now())
    session.commit()
    return user


def csrf(client, path: str = "/staff/login") -> str:
    page = client.get(path)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client, email: str, password: str = PASSWORD):
    token = csrf(client)
    return client.post("/staff/login", data={"email": email, "password": password, "csrf_token": token})


def signed_in(client, session, clock, role: str):
    user = make_staff(session, clock, role)
    r = sign_in(client, user.email)
    assert r.status_code == 302, r.get_data(as_text=True)
    return user


def at(y, m, d, h=12):
    return datetime(y, m, d, h, 0, tzinfo=UTC)


def known_campaign(session, clock):
    """A campaign with known answers (clock: 2025-06-01 12:00 UTC).

    Window 2025-05-01..2025-06-30 (UTC), goal 100.
    - 10 monthly/en/newsletter on 1 May
    - 5 yearly/uk/article:/a on 20 May
    - 6 monthly/en/(no source) on 28 May, 2 of them ended on 30 May
    - 3 yearly/en/newsletter on 1 June, 08:00
    - not counted: one paid in April, one whose first payment was refunded
    Count 22; days left 30 (1-30 June); remaining 78, pace needed 2.6/day; 7 days 26 May-1 June net
    +7 -> 1.0/day; projected 1 June + 78 days = 18 August 2025.
    """
    c = factories.campaign(session, clock.now(), slug="spring", goal=100, starts=date(2025, 5, 1),
                           ends=date(2025, 6, 30), title="Spring drive")
    for _ in range(10):
        factories.member(session, clock.now(), first_paid_at=at(2025, 5, 1, 9), plan="monthly", locale="en",
                         source="newsletter")
    for _ in range(5):
        factories.member(session, clock.now(), first_paid_at=at(2025, 5, 20), plan="yearly", locale="uk",
                         source="article:/a")
    for i in range(6):
        factories.member(session, clock.now(), first_paid_at=at(2025, 5, 28), plan="monthly", locale="en",
                         source="", ended_at=at(2025, 5, 30) if i < 2 else None,
                         status="canceled" if i < 2 else "active")
    for _ in range(3):
        factories.member(session, clock.now(), first_paid_at=at(2025, 6, 1, 8), plan="yearly", locale="en",
                         source="newsletter")
    factories.member(session, clock.now(), first_paid_at=at(2025, 4, 20), plan="monthly")
    factories.member(session, clock.now(), first_paid_at=at(2025, 5, 2), reversed_at=at(2025, 5, 3))
    session.commit()
    return c
