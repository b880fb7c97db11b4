"""A member's data export (GET /v1/members/me/export, `flask member export`): every row of every table that
names the member, and nobody else's."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from service.db import Base
from tests import factories
from tests.privacy_support import NORMALISED, OTHER, PERSONAL, READER, join
from tests.stripe_events import PRICES_SETTING


@pytest.fixture
def app_config(app_config):
    return {**app_config, "STRIPE_PRICES": PRICES_SETTING}


@pytest.fixture
def people(app, client, session, clock):
    factories.campaign(session, clock.now())
    session.commit()
    me = join(app, client, session, n=1)
    join(app, client, session, n=2, email=OTHER, reader="rdr_someone_else")
    return me


def _identifiers(session, member) -> dict[str, set]:
    """What names the member, found by the test on its own: address, id, Stripe customers, reader ids."""
    customers = set(session.scalars(sa.text("SELECT customer_id FROM stripe_customers WHERE member_id = :m")
                                    .bindparams(m=member.id)))
    return {"email": {NORMALISED}, "member_id": {member.id}, "customer": customers,
            "reader_id": {READER}}


def _rows_naming(session, table, ids) -> set:
    terms = []
    for c in table.columns:
        for kind, pattern in PERSONAL.items():
            if pattern.search(c.name) and ids[kind]:
                terms.append(c.in_(sorted(ids[kind], key=str)))
    if not terms:
        return set()
    pk = list(table.primary_key.columns)[0]
    return set(session.scalars(sa.select(pk).where(sa.or_(*terms))))


def test_export_holds_every_table_that_names_the_member(client, session, people):
    r = client.get("/v1/members/me/export", headers={"Authorization": f"Bearer {people.token}"})
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-store"
    doc = r.get_json()
    assert doc["email"] == NORMALISED and doc["format"] == "membership-export/1"
    ids = _identifiers(session, people.member)
    named = {}
    for table in Base.metadata.sorted_tables:  # every table with an email/member/customer/reader column
        found = _rows_naming(session, table, ids)
        if found:
            named[table.name] = found
    # The set-up made rows in these tables at least; a table added later with such a column is checked too.
    assert {"members", "subscriptions", "member_status_changes", "stripe_customers", "membership_invoices",
            "magic_links", "mail_outbox", "meter_reads"} <= set(named)
    for name, pks in named.items():
        pk = list(Base.metadata.tables[name].primary_key.columns)[0].name
        exported = {row[pk] for row in doc["data"].get(name, [])}
        assert pks <= exported, f"the export misses rows of {name}"
    # Invoices with amounts and dates, the used sign-in link, Stripe's events about them (parsed bodies).
    invoice = doc["data"]["membership_invoices"][0]
    assert invoice["amount_paid"] == 500 and invoice["paid_at"].startswith("2025-03-01")
    assert doc["data"]["magic_links"][0]["used_at"] is not None and "token_hash" not in doc["data"]["magic_links"][0]
    types = {e["type"] for e in doc["data"]["webhook_events"]}
    assert {"checkout.session.completed", "invoice.paid", "customer.created"} <= types
    assert all(isinstance(e["payload"], dict) for e in doc["data"]["webhook_events"])
    assert doc["data"]["subscriptions"][0]["reader_id"] == READER
    assert "checkout_starts" in doc["not_personal"]
    # Nobody else's data.
    text = json.dumps(doc)
    assert OTHER not in text and "rdr_someone_else" not in text and "cus_L2" not in text


def test_export_needs_a_member_token(client, people):
    assert client.get("/v1/members/me/export").status_code == 401
    r = client.get("/v1/members/me/export", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and r.mimetype == "application/problem+json"


def test_support_export_writes_the_same_document(client, runner, people, tmp_path):
    api = client.get("/v1/members/me/export", headers={"Authorization": f"Bearer {people.token}"}).get_json()
    out = runner.invoke(args=["member", "export", "  READER.one+news@example.ORG "])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout) == api
    path = tmp_path / "export.json"
    out = runner.invoke(args=["member", "export", NORMALISED, "--output", str(path)])
    assert out.exit_code == 0 and json.loads(path.read_text()) == api
    assert (path.stat().st_mode & 0o777) == 0o600
    missing = runner.invoke(args=["member", "export", "nobody@example.org"])
    assert missing.exit_code == 1 and "No member" in missing.output
