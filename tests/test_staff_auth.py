"""Staff accounts, sign-in, sessions, CSRF, lock-out and who may do what."""

from __future__ import annotations

import pytest

from service.staff import accounts
from service.staff.models import StaffUser
from tests import factories
from tests.staff_support import (
    PASSWORD,
    csrf,
    fast_hashing,  # noqa: F401 - autouse fixture
    make_staff,
    sign_in,
    signed_in,
)


@pytest.fixture
def campaign(app, session, clock):
    c = factories.campaign(session, clock.now(), slug="spring", goal=100)
    session.commit()
    return c


# ---- the CLI ----------------------------------------------------------------------------------------

def test_cli_creates_a_staff_account_with_a_hashed_password(runner, session):
    r = runner.invoke(args=["staff", "create", "--email", " Editor@Newsroom.Example ", "--role", "editor",
                            "--password", PASSWORD])
    assert r.exit_code == 0, r.output
    user = session.query(StaffUser).one()
    assert user.email == "editor@newsroom.example" and user.role == "editor"
    assert user.password_hash.startswith("$argon2") and PASSWORD not in user.password_hash


def test_cli_prompts_for_the_password_with_confirmation(runner, session):
    r = runner.invoke(args=["staff", "create", "--email", "a@newsroom.example", "--role", "admin"],
                      input=f"{PASSWORD}\n{PASSWORD}\n")
    assert r.exit_code == 0, r.output
    assert session.query(StaffUser).one().role == "admin"


def test_cli_rejects_short_passwords_and_duplicates(runner, session):
    r = runner.invoke(args=["staff", "create", "--email", "a@newsroom.example", "--password", "short"])
    assert r.exit_code == 1 and "at least 12 characters" in r.output
    ok = runner.invoke(args=["staff", "create", "--email", "a@newsroom.example", "--password", PASSWORD])
    assert ok.exit_code == 0
    r = runner.invoke(args=["staff", "create", "--email", "A@newsroom.example", "--password", PASSWORD])
    assert r.exit_code == 1 and "exists already" in r.output
    r = runner.invoke(args=["staff", "create", "--email", "b@newsroom.example", "--role", "boss",
                            "--password", PASSWORD])
    assert r.exit_code == 2


def test_cli_list_and_unlock(runner, session, clock):
    make_staff(session, clock, "viewer")
    user = session.query(StaffUser).one()
    user.locked_until = clock.now().replace(year=2030)
    session.commit()
    assert "locked until" in runner.invoke(args=["staff", "list"]).output
    assert runner.invoke(args=["staff", "unlock", "--email", "viewer@newsroom.example"]).exit_code == 0
    assert "locked until" not in runner.invoke(args=["staff", "list"]).output


def test_production_hasher_is_argon2id_with_owasp_parameters():
    import argon2

    from tests.staff_support import PRODUCTION_HASHER

    assert PRODUCTION_HASHER.type == argon2.Type.ID
    assert PRODUCTION_HASHER.time_cost >= 2 and PRODUCTION_HASHER.memory_cost >= 19_456


# ---- sign-in ------------------------------------------------------------------------------------------

def test_sign_in_sets_a_safe_session_cookie_and_sign_out_ends_it(client, session, clock, campaign):
    make_staff(session, clock, "viewer")
    r = sign_in(client, "viewer@newsroom.example")
    assert r.status_code == 302 and r.headers["Location"].endswith("/staff/")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/staff/").status_code == 200
    token = csrf(client, "/staff/")
    assert client.post("/staff/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/staff/").status_code == 302


def test_sign_in_goes_back_to_the_page_asked_for_but_never_off_site(client, session, clock, campaign):
    make_staff(session, clock, "viewer")
    r = client.get("/staff/campaigns/spring")
    assert r.status_code == 302 and "/staff/login?next=" in r.headers["Location"]
    token = csrf(client)
    r = client.post("/staff/login", data={"email": "viewer@newsroom.example", "password": PASSWORD,
                                          "csrf_token": token, "next": "/staff/campaigns/spring"})
    assert r.headers["Location"].endswith("/staff/campaigns/spring")
    client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")})
    token = csrf(client)
    r = client.post("/staff/login", data={"email": "viewer@newsroom.example", "password": PASSWORD,
                                          "csrf_token": token, "next": "//evil.example/staff"})
    assert r.headers["Location"].endswith("/staff/")


def test_wrong_password_and_unknown_email_get_the_same_answer(client, session, clock):
    make_staff(session, clock, "viewer")
    wrong = sign_in(client, "viewer@newsroom.example", "not the password at all")
    unknown = sign_in(client, "nobody@newsroom.example", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert accounts.SIGN_IN_FAILED in wrong.get_data(as_text=True)
    assert accounts.SIGN_IN_FAILED in unknown.get_data(as_text=True)


def test_lock_out_after_five_failures_then_sign_in_after_fifteen_minutes(client, session, clock):
    make_staff(session, clock, "viewer")
    for _ in range(5):
        assert sign_in(client, "viewer@newsroom.example", "wrong password here").status_code == 401
    user = session.query(StaffUser).one()
    session.refresh(user)
    assert user.locked_until is not None
    r = sign_in(client, "viewer@newsroom.example")  # the right password, but locked
    assert r.status_code == 401 and accounts.SIGN_IN_FAILED in r.get_data(as_text=True)
    clock.advance(minutes=16)
    assert sign_in(client, "viewer@newsroom.example").status_code == 302
    session.refresh(user)
    assert user.failed_logins == 0 and user.locked_until is None and user.last_login_at == clock.now()


def test_sign_in_is_rate_limited_per_address(app, client, session, clock):
    app.config["STAFF_LOGIN_RATE_LIMIT"] = "3 per minute"
    answers = [sign_in(client, "x@newsroom.example", "whatever whatever") for _ in range(4)]
    assert [r.status_code for r in answers] == [401, 401, 401, 429]
    assert "Too many sign-in attempts" in answers[-1].get_data(as_text=True)
    assert answers[-1].headers.get("Retry-After")


# ---- CSRF ---------------------------------------------------------------------------------------------

def test_forms_without_a_csrf_token_are_refused(client, session, clock, campaign):
    make_staff(session, clock, "editor")
    r = client.post("/staff/login", data={"email": "editor@newsroom.example", "password": PASSWORD})
    assert r.status_code == 400
    signed_in_editor = sign_in(client, "editor@newsroom.example")
    assert signed_in_editor.status_code == 302
    r = client.post("/staff/campaigns/spring/adjustments", data={"delta": "5", "reason": "festival"})
    assert r.status_code == 400 and "CSRF" in r.get_data(as_text=True)
    r = client.post("/staff/campaigns/spring/adjustments",
                    data={"delta": "5", "reason": "festival", "csrf_token": "forged"})
    assert r.status_code == 400
    session.expire_all()
    assert campaign.adjustments_total == 0


def test_public_and_json_endpoints_do_not_need_csrf(client, campaign):
    assert client.get("/v1/campaigns/spring/progress").status_code == 200
    r = client.get("/v1/staff/campaigns/spring/stats")
    assert r.status_code == 401  # not 400: no CSRF on the JSON API


# ---- who may do what ------------------------------------------------------------------------------------

PAGES = ["/staff/", "/staff/campaigns/spring", "/staff/campaigns/spring/copy", "/staff/tokens",
         "/staff/campaigns/spring/signups.csv"]
CHANGES = [
    ("/staff/campaigns/spring/adjustments", {"delta": "5", "reason": "festival"}, "editor"),
    ("/staff/campaigns/spring/copy", {"locale": "en", "stage": "launch", "headline": "{count}", "body": "b",
                                      "cta_label": "Join", "cta_url": ""}, "editor"),
    ("/staff/tokens", {"name": "report"}, "admin"),
    ("/staff/tokens/1/revoke", {}, "admin"),
    ("/staff/webhooks/1/replay", {}, "admin"),
]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_pages_redirect_to_sign_in(client, campaign, path):
    r = client.get(path)
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/staff/login?next=")


@pytest.mark.parametrize("path,data,role", CHANGES)
def test_anonymous_changes_redirect_to_sign_in(client, campaign, path, data, role):
    r = client.post(path, data=data)
    assert r.status_code == 302 and "/staff/login" in r.headers["Location"]


def test_anonymous_json_api_is_401_problem(client, campaign):
    r = client.get("/v1/staff/campaigns/spring/stats")
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    r = client.get("/v1/staff/campaigns/spring/stats", headers={"Authorization": "Bearer mst_not-a-token"})
    assert r.status_code == 401


@pytest.mark.parametrize("path,data,role", CHANGES)
def test_viewers_cannot_change_anything(client, session, clock, campaign, path, data, role):
    signed_in(client, session, clock, "viewer")
    token = csrf(client, "/staff/")
    r = client.post(path, data={**data, "csrf_token": token})
    assert r.status_code == 403
    assert "viewer" in r.get_data(as_text=True)


@pytest.mark.parametrize("path,data,role", [c for c in CHANGES if c[2] == "admin"])
def test_editors_cannot_do_admin_things(client, session, clock, campaign, path, data, role):
    signed_in(client, session, clock, "editor")
    token = csrf(client, "/staff/")
    assert client.post(path, data={**data, "csrf_token": token}).status_code == 403
    assert client.get("/staff/tokens").status_code == 403


def test_viewers_read_every_page(client, session, clock, campaign):
    signed_in(client, session, clock, "viewer")
    for path in PAGES:
        expected = 403 if path == "/staff/tokens" else 200
        assert client.get(path).status_code == expected, path
    page = client.get("/staff/campaigns/spring").get_data(as_text=True)
    assert 'action="/staff/campaigns/spring/adjustments"' not in page  # no form for viewers
    assert "Payments health" not in page  # admins only
    assert client.get("/v1/staff/campaigns/spring/stats").status_code == 200  # the session works for JSON too


def test_admin_sees_payments_health(client, session, clock, campaign):
    signed_in(client, session, clock, "admin")
    page = client.get("/staff/campaigns/spring").get_data(as_text=True)
    assert "Payments health" in page


def test_unknown_campaign_is_a_404_page(client, session, clock, campaign):
    signed_in(client, session, clock, "viewer")
    r = client.get("/staff/campaigns/nope")
    assert r.status_code == 404 and "No campaign" in r.get_data(as_text=True)
