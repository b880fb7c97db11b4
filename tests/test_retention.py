"""Retention (`flask --app service purge`): exactly what is older than each RETENTION_* limit is purged
(deleted, or blanked where the row is a record: mail, the Stripe ledger); nothing newer; limits refused when
they would break the meter or the sign-in quota."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from service import create_app
from service.config import ConfigError
from tests import factories
from tests.privacy_support import insert_row

DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RETENTION_MAIL_BODY_DAYS": 30, "RETENTION_SIGNIN_LINKS_DAYS": 30,
            "RETENTION_WEBHOOK_PAYLOAD_DAYS": 90, "RETENTION_METER_READS_DAYS": 0, "METER_PERIOD_DAYS": 30}


def _table(session, name):
    return sa.Table(name, sa.MetaData(), autoload_with=session.connection())


def _seed(session, now):
    """Rows just older and just not older than each limit (the limit itself is kept)."""
    campaign = factories.campaign(session, now)
    for i, age in enumerate((30 * DAY + SECOND, 30 * DAY)):
        insert_row(session, "meter_reads", reader_id=f"r{i}", article_id="a", read_at=now - age)
        insert_row(session, "magic_links", token_hash=f"{i:064d}", email=f"m{i}@example.org", return_url="https://x/",
                   created_at=now - age, expires_at=now - age + 15 * 60 * SECOND, used_at=None)
        mail = {"to_addr": f"m{i}@example.org", "subject": "Hello", "body": "Secret body", "created_at": now - age}
        if "status" in _table(session, "mail_outbox").c:
            mail["status"] = "sent"
        insert_row(session, "mail_outbox", **mail)
    for i, (age, status) in enumerate(((90 * DAY + SECOND, "applied"), (90 * DAY, "applied"),
                                       (200 * DAY, "failed"), (91 * DAY, "ignored"))):
        insert_row(session, "webhook_events", stripe_event_id=f"evt_{i}", type="invoice.paid", livemode=False,
                   api_version="", object_id=f"in_{i}", created=now - age, payload='{"id": "evt"}', status=status,
                   attempts=1, last_error="", received_at=now - age)
    insert_row(session, "widget_daily", campaign_id=campaign.id, day=(now - 400 * DAY).date(), type="click",
               locale="en", count=3)
    session.commit()


def test_purge_removes_exactly_what_is_older_than_each_limit(runner, session, clock):
    now = clock.now()
    _seed(session, now)
    dry = runner.invoke(args=["purge", "--dry-run"])
    assert dry.exit_code == 0 and "meter reads: delete older than 30 days: 1 to purge" in dry.output
    assert session.scalar(sa.select(sa.func.count()).select_from(_table(session, "meter_reads"))) == 2
    out = runner.invoke(args=["purge", "--batch-size", "1"])
    assert out.exit_code == 0, out.output
    for line in ("meter reads: delete older than 30 days: 1 purged", "sign-in links: delete older than 30 days: 1",
                 "mail bodies: blank older than 30 days: 1", "Stripe event bodies: blank older than 90 days: 2",
                 "widget counters: kept: 0"):
        assert line in out.output
    session.expire_all()
    reads = _table(session, "meter_reads")
    assert list(session.scalars(sa.select(reads.c.reader_id))) == ["r1"]
    links = _table(session, "magic_links")
    assert list(session.scalars(sa.select(links.c.email))) == ["m1@example.org"]
    mail = _table(session, "mail_outbox")
    rows = session.execute(sa.select(mail.c.to_addr, mail.c.subject, mail.c.body).order_by(mail.c.id)).all()
    assert [tuple(r) for r in rows] == [("m0@example.org", "", ""), ("m1@example.org", "Hello", "Secret body")]
    events = _table(session, "webhook_events")
    ledger = dict(session.execute(sa.select(events.c.stripe_event_id, events.c.payload)).all())
    # Ids and outcomes stay; the bodies of old applied/ignored events go; a failed one keeps its body for replay.
    assert ledger == {"evt_0": "", "evt_1": '{"id": "evt"}', "evt_2": '{"id": "evt"}', "evt_3": ""}
    assert session.scalar(sa.select(sa.func.count()).select_from(_table(session, "widget_daily"))) == 1
    again = runner.invoke(args=["purge"])
    assert "1 purged" not in again.output and again.exit_code == 0


def test_widget_counters_are_purged_only_when_configured(app_config, runner, session, clock):
    _seed(session, clock.now())
    app = create_app({**app_config, "RETENTION_WIDGET_DAYS": 365})
    with app.app_context():
        out = app.test_cli_runner().invoke(args=["purge"])
        assert "widget counters: delete older than 365 days: 1 purged" in out.output
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count()).select_from(_table(session, "widget_daily"))) == 0


@pytest.mark.parametrize(("name", "value", "message"), [
    ("RETENTION_METER_READS_DAYS", 7, "shorter than METER_PERIOD_DAYS"),
    ("RETENTION_SIGNIN_LINKS_DAYS", 0, "at least 1"),
    ("RETENTION_MAIL_BODY_DAYS", -1, "at least 0"),
])
def test_limits_that_would_break_the_service_are_refused(app_config, name, value, message):
    with pytest.raises(ConfigError, match=message):
        create_app({**app_config, name: value})
