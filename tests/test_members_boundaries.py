"""Members is the one home of membership: it imports no feature that stands on it (payments, paywall,
campaigns, staff) nor Flask or Stripe; it derives status from facts in membership vocabulary (Stripe's
statuses are payments' to translate); and members are created only through service/members/records.py."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from service.members import status
from service.payments import facts

ROOT = Path(__file__).resolve().parents[1]
MEMBERS = sorted((ROOT / "service" / "members").glob("*.py"))
FORBIDDEN = ("service.payments", "service.paywall", "service.campaigns", "service.staff", "service.widget",
             "service.ops", "flask", "stripe")


def imported_modules(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out |= {f"{node.module}.{alias.name}" for alias in node.names}
    return out


@pytest.mark.parametrize("path", MEMBERS, ids=lambda p: p.name)
def test_members_imports_no_feature_that_stands_on_it(path):
    bad = {m for m in imported_modules(path) for f in FORBIDDEN if m == f or m.startswith(f + ".")}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_members_modules_are_found():
    assert {p.name for p in MEMBERS} >= {"identity.py", "models.py", "records.py", "standing.py", "status.py"}


def test_every_stripe_status_becomes_a_membership_status():
    for stripe_status in (*facts.STATUS_MAP, "something_new"):
        assert facts.membership_status(stripe_status) in status.MEMBERSHIP_STATUSES


def test_derive_reads_membership_vocabulary_from_the_facts_payments_gives():
    """A canceled Stripe subscription reaches members as `ended`; members never sees `canceled`."""
    from datetime import UTC, datetime

    at = datetime(2025, 3, 1, tzinfo=UTC)
    sub = facts.subscription_facts("sub_1", "canceled", "monthly", at, at, at, at)
    assert sub.status == "ended"
    state = status.derive([sub], [facts.invoice_facts("in_1", at, None, "sub_1")])
    assert (state.status, state.ended_at, state.has_membership) == ("ended", at, False)


def test_members_are_created_only_through_records():
    """No module outside service/members constructs a Member or inserts into its table directly."""
    offenders = []
    for path in sorted((ROOT / "service").rglob("*.py")):
        if path.parent.name == "members":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Member":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "insert"
                    and node.args and "Member" in ast.unparse(node.args[0])):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders
