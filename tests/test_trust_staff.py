"""Staff accounts you can trust: the lock-out holds under parallel attempts, sign-out (and a password or
role change, and disabling) ends sessions on the server, and what staff do is in the audit log, with error
texts and token names shown to admins only. SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest

from service.campaigns.models import CountAdjustment
from service.staff import accounts, audit, redaction
from service.staff.models import AuditEntry, StaffApiToken, StaffUser
from tests import factories
from tests.staff_support import (
    PASSWORD,
    csrf,
    fast_hashing,  # noqa: F401 - autouse fixture
    make_staff,
    sign_in,
    signed_in,
)

WRONG = "not the password at all"
EMAIL = "editor@newsroom.example"


@pytest.fixture
def app_config(app_config):
    """No per-address limit on the sign-in form here: it must not be what stops the attempts."""
    return {**app_config, "RATELIMIT_ENABLED": False}


@pytest.fixture
def campaign(app, session, clock):
    c = factories.campaign(session, clock.now(), slug="spring", goal=100)
    session.commit()
    return c


def actions(session, prefix: str = "") -> list[str]:
    session.expire_all()
    return [e.action for e in session.query(AuditEntry).order_by(AuditEntry.id) if e.action.startswith(prefix)]


def parallel_sign_ins(app, n: int, password: str) -> list[int]:
    """n sign-ins at once, each from its own client, so each request has its own app context, session
    and database connection."""
    clients = [app.test_client() for _ in range(n)]
    tokens = [csrf(c) for c in clients]
    from service.extensions import db

    db.session.remove()  # the main thread holds no connection while they run
    barrier = threading.Barrier(n)
    statuses: list[int] = [0] * n
    errors: list[BaseException] = []

    def attempt(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            r = clients[i].post("/staff/login", data={"email": EMAIL, "password": password,
                                                      "csrf_token": tokens[i]})
            statuses[i] = r.status_code
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a sign-in hung"
    assert not errors, errors
    return statuses


# ---- 1. the lock-out holds under parallel attempts ----------------------------------------------------

def test_parallel_failures_are_each_counted(app, session, clock):
    make_staff(session, clock, "editor")
    assert parallel_sign_ins(app, 4, WRONG) == [401] * 4
    session.expire_all()
    user = session.query(StaffUser).one()
    assert user.failed_logins == 4 and user.locked_until is None  # one short of the limit (5)


def test_ten_parallel_wrong_passwords_lock_the_account_until_the_lock_ends(app, client, session, clock):
    assert app.config["STAFF_LOGIN_MAX_FAILURES"] == 5 and app.config["STAFF_LOCKOUT_MINUTES"] == 15
    make_staff(session, clock, "editor")
    assert parallel_sign_ins(app, 10, WRONG) == [401] * 10
    session.expire_all()
    user = session.query(StaffUser).one()
    assert user.locked_until == clock.now() + timedelta(minutes=15)
    failures = actions(session, "signin.")
    assert len(failures) == 10 and failures.count("signin.lockout") == 1  # every attempt audited

    r = sign_in(client, EMAIL)  # the right password, while locked
    assert r.status_code == 401 and accounts.SIGN_IN_FAILED in r.get_data(as_text=True)
    clock.advance(minutes=14, seconds=59)
    assert sign_in(client, EMAIL).status_code == 401
    clock.advance(seconds=2)
    assert sign_in(client, EMAIL).status_code == 302
    session.expire_all()
    assert session.query(StaffUser).one().failed_logins == 0


# ---- 2. signed out means signed out -----------------------------------------------------------------------

def copy_of_session(app, client):
    """A second client holding a copy of the first one's session cookie (as a thief would)."""
    name = app.config.get("SESSION_COOKIE_NAME", "session")
    other = app.test_client()
    other.set_cookie(name, client.get_cookie(name).value)
    return other


def _sign_out(client, runner):
    assert client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")}).status_code == 302


EVENTS = {
    "sign-out": _sign_out,
    "password change": lambda client, runner: runner.invoke(args=[
        "staff", "set-password", "--email", EMAIL, "--password", "a brand new long password", "--by", "it"]),
    "role change": lambda client, runner: runner.invoke(args=[
        "staff", "set-role", "--email", EMAIL, "--role", "viewer", "--by", "it"]),
    "disable": lambda client, runner: runner.invoke(args=["staff", "disable", "--email", EMAIL, "--by", "it"]),
}


@pytest.mark.parametrize("event", EVENTS)
def test_a_copied_cookie_stops_working_after(event, app, client, runner, session, clock, campaign):
    signed_in(client, session, clock, "editor")
    stolen = copy_of_session(app, client)
    assert stolen.get("/staff/").status_code == 200  # the copy works while the session lives
    result = EVENTS[event](client, runner)
    assert getattr(result, "exit_code", 0) == 0, getattr(result, "output", "")
    for c in (stolen, client):
        r = c.get("/staff/campaigns/spring")
        assert r.status_code == 302 and r.headers["Location"].startswith("/staff/login")
        assert c.get("/v1/staff/campaigns/spring/stats").status_code == 401
        assert c.post("/staff/campaigns/spring/adjustments",
                      data={"delta": "5", "reason": "x", "csrf_token": "whatever"}).status_code in (302, 400)
    session.expire_all()
    assert session.query(CountAdjustment).count() == 0


def test_after_a_password_change_only_the_new_password_signs_in(client, runner, session, clock):
    make_staff(session, clock, "editor")
    r = runner.invoke(args=["staff", "set-password", "--email", EMAIL, "--password", "a brand new long password"])
    assert r.exit_code == 0, r.output
    assert sign_in(client, EMAIL).status_code == 401
    assert sign_in(client, EMAIL, "a brand new long password").status_code == 302


def test_a_disabled_account_cannot_sign_in_until_enabled(client, runner, session, clock):
    make_staff(session, clock, "editor")
    assert runner.invoke(args=["staff", "disable", "--email", EMAIL]).exit_code == 0
    assert "disabled since" in runner.invoke(args=["staff", "list"]).output
    r = sign_in(client, EMAIL)
    assert r.status_code == 401 and accounts.SIGN_IN_FAILED in r.get_data(as_text=True)
    assert runner.invoke(args=["staff", "enable", "--email", EMAIL]).exit_code == 0
    assert sign_in(client, EMAIL).status_code == 302


def test_a_role_change_applies_to_the_next_sign_in(client, runner, session, clock, campaign):
    signed_in(client, session, clock, "editor")
    assert runner.invoke(args=["staff", "set-role", "--email", EMAIL, "--role", "viewer"]).exit_code == 0
    assert sign_in(client, EMAIL).status_code == 302
    token = csrf(client, "/staff/")
    r = client.post("/staff/campaigns/spring/adjustments", data={"delta": "5", "reason": "x", "csrf_token": token})
    assert r.status_code == 403


def test_cli_account_commands_refuse_unknown_accounts_and_bad_input(runner, session, clock):
    r = runner.invoke(args=["staff", "disable", "--email", "nobody@newsroom.example"])
    assert r.exit_code == 1 and "no staff account" in r.output
    make_staff(session, clock, "editor")
    r = runner.invoke(args=["staff", "set-password", "--email", EMAIL, "--password", "short"])
    assert r.exit_code == 1 and "at least 12 characters" in r.output
    assert runner.invoke(args=["staff", "set-role", "--email", EMAIL, "--role", "boss"]).exit_code == 2


# ---- 3. audit what staff do -----------------------------------------------------------------------------

def test_sign_ins_failures_lock_out_and_sign_out_are_audited(app, client, session, clock):
    make_staff(session, clock, "editor")
    sign_in(client, "nobody@newsroom.example", WRONG)
    for _ in range(5):
        sign_in(client, EMAIL, WRONG)
    sign_in(client, EMAIL)  # locked
    clock.advance(minutes=16)
    assert sign_in(client, EMAIL).status_code == 302
    _sign_out(client, None)
    session.expire_all()
    entries = session.query(AuditEntry).order_by(AuditEntry.id).all()
    assert [(e.actor, e.action, e.details.get("reason")) for e in entries] == [
        ("nobody@newsroom.example", "signin.failed", "unknown email"),
        *[(EMAIL, "signin.failed", "wrong password")] * 4,
        (EMAIL, "signin.lockout", "wrong password"),
        (EMAIL, "signin.failed", "locked"),
        (EMAIL, "signin.ok", None),
        (EMAIL, "signout", None),
    ]
    assert all(PASSWORD not in str(e.details) and WRONG not in str(e.details) for e in entries)


def test_csv_exports_are_audited(client, session, clock, campaign):
    signed_in(client, session, clock, "viewer")
    assert client.get("/staff/campaigns/spring/signups.csv").status_code == 200
    session.expire_all()
    entry = session.query(AuditEntry).filter_by(action="export.csv").one()
    assert (entry.actor, entry.campaign_id, entry.target) == ("viewer@newsroom.example", campaign.id,
                                                              "spring/signups.csv")


def _token(client, session, clock, name: str = "weekly report") -> str:
    signed_in(client, session, clock, "admin")
    r = client.post("/staff/tokens", data={"name": name, "csrf_token": csrf(client, "/staff/tokens")})
    return re.search(r'data-testid="new-token">(mst_[^<]+)<', r.get_data(as_text=True)).group(1)


def test_token_use_is_noted_at_most_once_a_minute(app, client, session, clock, campaign):
    secret = _token(client, session, clock)
    api = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    for _ in range(3):
        assert api.get("/v1/staff/campaigns/spring/stats", headers=headers).status_code == 200
    first = clock.now()
    clock.advance(seconds=59)
    assert api.get("/staff/campaigns/spring/signups.csv", headers=headers).status_code == 200
    session.expire_all()
    row = session.query(StaffApiToken).one()
    assert row.last_used_at == first
    uses = session.query(AuditEntry).filter_by(action="token.use").all()
    assert len(uses) == 1
    assert uses[0].actor == f"token {row.id} ({row.prefix}…)" and uses[0].target.endswith("/spring/stats")
    clock.advance(seconds=2)
    assert api.get("/v1/staff/campaigns/spring/stats", headers=headers).status_code == 200
    session.expire_all()
    assert session.query(StaffApiToken).one().last_used_at == clock.now()
    assert actions(session, "token.use") == ["token.use", "token.use"]
    export = session.query(AuditEntry).filter_by(action="export.csv").one()
    assert export.actor == f"token {row.id} ({row.prefix}…)"  # the export by the token, audited as such


def test_cli_changes_are_audited_with_by_defaulting_to_the_os_user(runner, session, clock, campaign,
                                                                  monkeypatch):
    import getpass

    monkeypatch.setattr(getpass, "getuser", lambda: "alice")
    args = [["staff", "create", "--email", EMAIL, "--role", "editor", "--password", PASSWORD],
            ["staff", "set-role", "--email", EMAIL, "--role", "admin", "--by", "bob"],
            ["staff", "set-password", "--email", EMAIL, "--password", "another long password"],
            ["staff", "disable", "--email", EMAIL],
            ["staff", "enable", "--email", EMAIL],
            ["staff", "unlock", "--email", EMAIL],
            ["campaign", "adjust", "--slug", "spring", "--delta", "12", "--reason", "festival"]]
    for a in args:
        r = runner.invoke(args=a)
        assert r.exit_code == 0, (a, r.output)
    session.expire_all()
    entries = session.query(AuditEntry).order_by(AuditEntry.id).all()
    assert [(e.actor, e.action, e.target) for e in entries] == [
        ("alice", "account.create", EMAIL), ("bob", "account.role", EMAIL), ("alice", "account.password", EMAIL),
        ("alice", "account.disable", EMAIL), ("alice", "account.enable", EMAIL),
        ("alice", "account.unlock", EMAIL), ("alice", "adjustment.add", "spring")]
    assert entries[1].details == {"from": "editor", "to": "admin"}
    assert entries[-1].details == {"delta": 12, "reason": "festival", "via": "cli"}
    assert session.query(CountAdjustment).one().created_by == "alice"


def _sensitive_entries(session, clock, campaign):
    audit.record(session, actor="admin@newsroom.example", action="webhook.replay", target="evt_1 (invoice.paid)",
                 details={"event": "evt_1", "outcome": "failed",
                          "error": "KeyError: customer reader@example.org"}, now=clock.now())
    audit.record(session, actor="admin@newsroom.example", action="token.create", target="token 1 (mst_abcdef…)",
                 details={"name": "finance-export-bot"}, now=clock.now())
    session.commit()


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_error_texts_and_token_names_are_for_admins_only(client, session, clock, campaign, role):
    _sensitive_entries(session, clock, campaign)
    signed_in(client, session, clock, role)
    audit = client.get("/staff/campaigns/spring").get_data(as_text=True).split('id="audit"')[1]
    assert "webhook.replay" in audit and "token.create" in audit  # that it happened: yes
    assert "reader@example.org" not in audit and "finance-export-bot" not in audit  # the texts: no
    assert "error: " + redaction.HIDDEN in audit and "name: " + redaction.HIDDEN in audit


def test_admins_see_error_texts_token_names_and_the_whole_audit_log(client, session, clock, campaign):
    _sensitive_entries(session, clock, campaign)
    signed_in(client, session, clock, "admin")
    dashboard = client.get("/staff/campaigns/spring").get_data(as_text=True).split('id="audit"')[1]
    assert "reader@example.org" in dashboard and "finance-export-bot" in dashboard
    assert "signin.ok" not in dashboard  # sign-ins are on the audit page, not on every dashboard
    page = client.get("/staff/audit").get_data(as_text=True)
    assert "signin.ok" in page and "finance-export-bot" in page


def test_only_admins_read_the_audit_page(client, session, clock):
    signed_in(client, session, clock, "editor")
    assert client.get("/staff/audit").status_code == 403


def test_payments_error_text_is_for_admins_only():
    assert redaction.error_text("KeyError: reader@example.org", admin=True) == "KeyError: reader@example.org"
    hidden = redaction.error_text("KeyError: reader@example.org", admin=False)
    assert hidden and "reader@example.org" not in hidden  # that there is an error, not its text
    assert redaction.error_text("", admin=False) == ""
