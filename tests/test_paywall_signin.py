"""Reader sign-in: magic links (SMTP and outbox), member tokens, /members/me, sign-out everywhere,
checkout claim, billing portal, and the paywall's CLI commands."""

import json
import re
import socket
import time
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from service.extensions import db
from service.mail.models import OutboxMessage
from service.paywall import signin, tokens
from service.paywall.models import MagicLink, MeterRead
from tests import factories

DAY = timedelta(days=1)
FIXTURES = Path(__file__).parent / "fixtures" / "stripe"
RETURN = "https://news.example/2025/06/story"


def fixture(name, **over):
    return {**json.loads((FIXTURES / name).read_text()), **over}


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PAYWALL_CACHE_SECONDS": 0.0}


@pytest.fixture
def member(app, session, clock):
    m = factories.member(session, clock.now(), email="member@example.org", first_paid_at=clock.now() - 40 * DAY)
    factories.subscription(session, clock.now(), m, status="active", current_period_end=clock.now() + 20 * DAY)
    m.stripe_customer_id = "cus_member1"
    session.commit()
    return m


def token_for(app, member):
    return tokens.issue_member_token(app.config["SECRET_KEY"], member.id, member.token_version,
                                     app.extensions["clock"].now())


def outbox_link(session):
    msg = session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    found = re.search(r"http://127\.0\.0\.1:5000/v1/auth/magic-links/(\S+)", msg.body)
    return found.group(1) if found else None


def request_link(client, email="member@example.org", return_url=RETURN, **kw):
    return client.post("/v1/auth/magic-links", json={"email": email, "return_url": return_url}, **kw)


# --- magic links ---------------------------------------------------------------------------------

def test_magic_link_signs_a_member_in_once(client, session, member):
    r = request_link(client)
    assert r.status_code == 202
    token = outbox_link(session)
    assert token
    stored = session.scalars(sa.select(MagicLink)).one()
    assert token not in stored.token_hash and len(stored.token_hash) == 64  # only a hash is kept
    r = client.get(f"/v1/auth/magic-links/{token}")
    assert r.status_code == 302
    loc = urlsplit(r.headers["Location"])
    assert loc._replace(fragment="").geturl() == RETURN
    member_token = parse_qs(loc.fragment)["member_token"][0]
    assert r.headers["Cache-Control"] == "no-store" and r.headers["Referrer-Policy"] == "no-referrer"
    me = client.get("/v1/members/me", headers={"Authorization": f"Bearer {member_token}"})
    assert me.status_code == 200 and me.get_json()["email"] == "member@example.org"
    assert me.headers["Cache-Control"] == "no-store"
    # single use
    again = client.get(f"/v1/auth/magic-links/{token}")
    assert again.status_code == 302
    assert parse_qs(urlsplit(again.headers["Location"]).fragment) == {"sign_in_error": ["link_used"]}


def test_return_url_fragment_is_replaced_and_query_kept(client, session, member):
    request_link(client, return_url="https://news.example/a?b=1#comments")
    r = client.get("/v1/auth/magic-links/" + outbox_link(session))
    loc = urlsplit(r.headers["Location"])
    assert (loc.netloc, loc.path, loc.query) == ("news.example", "/a", "b=1")
    assert list(parse_qs(loc.fragment)) == ["member_token"]


def test_magic_link_expires_after_15_minutes(client, session, clock, member):
    request_link(client)
    token = outbox_link(session)
    clock.advance(minutes=15)
    r = client.get(f"/v1/auth/magic-links/{token}")
    assert parse_qs(urlsplit(r.headers["Location"]).fragment) == {"sign_in_error": ["link_expired"]}


def test_magic_link_just_before_expiry_works(client, session, clock, member):
    request_link(client)
    token = outbox_link(session)
    clock.advance(minutes=14, seconds=59)
    r = client.get(f"/v1/auth/magic-links/{token}")
    assert "member_token" in urlsplit(r.headers["Location"]).fragment


@pytest.mark.parametrize("token", ["nope", "x" * 43, "x" * 500, "%E2%98%83"])
def test_unknown_link_is_410_problem(client, token):
    r = client.get(f"/v1/auth/magic-links/{token}")
    assert r.status_code == 410 and r.mimetype == "application/problem+json"


def test_concurrent_use_of_one_link_signs_in_once(app, client, session, member):
    import threading

    request_link(client)
    token = outbox_link(session)
    session.commit()
    results = []
    barrier = threading.Barrier(4)

    def use():
        c = app.test_client()
        barrier.wait()
        results.append(c.get(f"/v1/auth/magic-links/{token}").headers.get("Location", ""))

    threads = [threading.Thread(target=use) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum("member_token=" in loc for loc in results) == 1, results


def test_no_enumeration_same_answer_for_member_and_stranger(client, session, member):
    a = request_link(client, "member@example.org")
    b = request_link(client, "stranger@example.org")
    assert a.status_code == b.status_code == 202
    assert a.get_data() == b.get_data()
    assert {k: v for k, v in a.headers if k.lower().startswith(("content", "cache"))} == \
        {k: v for k, v in b.headers if k.lower().startswith(("content", "cache"))}
    mails = {m.to_addr: m for m in session.scalars(sa.select(OutboxMessage))}
    assert set(mails) == {"member@example.org", "stranger@example.org"}
    assert "/v1/auth/magic-links/" not in mails["stranger@example.org"].body  # no sign-in for non-members
    assert session.scalar(sa.select(sa.func.count()).select_from(MagicLink)) == 2  # same work on both paths


def test_link_for_a_non_member_redirects_with_an_error(app, client, session, clock):
    settings = app.extensions["paywall"].settings
    signin.request_magic_link(session, settings, email="x@example.org", return_url=RETURN, now=clock.now())
    # the link token is not mailed to non-members; forge a row as if they had one
    session.add(MagicLink(token_hash=signin._hash("t" * 43), email="x@example.org", return_url=RETURN,
                          created_at=clock.now(), expires_at=clock.now() + timedelta(minutes=15)))
    session.commit()
    r = client.get("/v1/auth/magic-links/" + "t" * 43)
    assert parse_qs(urlsplit(r.headers["Location"]).fragment) == {"sign_in_error": ["not_a_member"]}


def test_email_is_normalised(client, session, member):
    assert request_link(client, "  Member@Example.ORG ").status_code in (202, 422)
    assert request_link(client, "MEMBER@example.org").status_code == 202
    assert outbox_link(session)


@pytest.mark.parametrize("url", [
    "https://evil.com/", "//evil.com/x", "javascript:alert(1)", "https://news.example@evil.com/",
    "https://news.example:8443/", "http://news.example/", "https://news.example.evil.com/",
    "https://news.example\\@evil.com/", "/relative", "data:text/html,x",
])
def test_open_redirect_attempts_are_refused(client, session, member, url):
    r = request_link(client, return_url=url)
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


@pytest.mark.parametrize("payload", [
    {}, {"email": "member@example.org"}, {"return_url": RETURN}, {"email": "not-an-email", "return_url": RETURN},
    {"email": 5, "return_url": RETURN}, {"email": "a@b.org", "return_url": 5},
    {"email": "a" * 400 + "@example.org", "return_url": RETURN}, {"email": "a@b.org", "return_url": "h" * 3000},
    {"email": ["a@b.org"], "return_url": RETURN}, {"email": None, "return_url": None},
])
def test_magic_link_bad_input_is_422(client, payload):
    r = client.post("/v1/auth/magic-links", json=payload)
    assert r.status_code == 422 and r.mimetype == "application/problem+json"


def test_magic_link_rate_limited_per_email(app, client, member):
    for _ in range(5):
        assert request_link(client, environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 202
    r = request_link(client, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert r.status_code == 429 and r.mimetype == "application/problem+json"
    assert r.headers["Retry-After"] == "3600"  # kept in the database on the app's clock: all 5 were sent now
    assert request_link(client, "other@example.org", environ_base={"REMOTE_ADDR": "10.0.0.3"}).status_code == 202


def test_magic_link_rate_limited_per_ip(client):
    codes = [request_link(client, f"r{i}@example.org", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code
             for i in range(21)]
    assert codes[:20] == [202] * 20 and codes[20] == 429


# --- SMTP ----------------------------------------------------------------------------------------

class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()

    def authenticator(server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        return AuthResult(success=auth_data.login == b"mailer" and auth_data.password == b"s3cret/pw")

    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def smtp_app(app_config, smtp_server):
    from service import create_app

    controller, _ = smtp_server
    app = create_app({**app_config, "SMTP_URL": f"smtp://mailer:s3cret%2Fpw@127.0.0.1:{controller.port}",
                      "MAIL_FROM": "News Membership <members@news.example>"})
    with app.app_context():
        yield app
        db.session.remove()


def test_magic_link_mail_goes_through_smtp(smtp_app, smtp_server, clock):
    _, inbox = smtp_server
    factories.member(db.session, clock.now(), email="member@example.org")
    db.session.commit()
    client = smtp_app.test_client()
    assert request_link(client).status_code == 202
    for _ in range(50):
        if inbox.messages:
            break
        time.sleep(0.05)
    rcpt, msg = inbox.messages[0]
    assert rcpt == ["member@example.org"]
    assert msg["From"] == "News Membership <members@news.example>" and msg["Subject"] == "Your sign-in link"
    assert msg.get_content_type() == "multipart/alternative"
    body = next(p for p in msg.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    token = re.search(r"/v1/auth/magic-links/(\S+)", body).group(1)
    assert "15 minutes" in body
    sent = db.session.scalars(sa.select(OutboxMessage)).one()
    assert sent.status == "sent" and token not in sent.body + sent.html + sent.context  # no copy of the link kept
    r = client.get(f"/v1/auth/magic-links/{token}")
    assert "member_token=" in r.headers["Location"]


def test_smtp_down_keeps_the_mail_for_a_retry(app_config, clock):
    """The outbox (service/mail): the link and its mail are committed together; a mail server that does not
    answer leaves the mail pending for a retry, and the reader gets the same 202 as ever."""
    from service import create_app

    app = create_app({**app_config, "SMTP_URL": f"smtp://127.0.0.1:{free_port()}", "SMTP_TIMEOUT": 2})
    with app.app_context():
        r = request_link(app.test_client(), "anyone@example.org")
        assert r.status_code == 202
        mail = db.session.scalars(sa.select(OutboxMessage)).one()
        assert (mail.status, mail.attempts, mail.kind) == ("pending", 1, "sign_in_unknown")
        assert mail.next_attempt_at > clock.now() and mail.last_error
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MagicLink)) == 1
        db.session.remove()


def test_smtp_url_forms():
    from service.mail.send import SmtpSettings

    s = SmtpSettings.parse("smtp+starttls://u%40x:p%3Aw@mail.example")
    assert (s.scheme, s.host, s.port, s.username, s.password) == ("smtp+starttls", "mail.example", 587, "u@x", "p:w")
    assert SmtpSettings.parse("smtps://mail.example").port == 465
    with pytest.raises(ValueError):
        SmtpSettings.parse("http://mail.example")


def test_outbox_command_prints_mail(client, runner, session, member):
    request_link(client)
    out = runner.invoke(args=["outbox"]).output
    assert "To: member@example.org" in out and "/v1/auth/magic-links/" in out and "1 message(s)." in out


# --- member tokens -------------------------------------------------------------------------------

def test_member_token_cli_and_me(app, client, runner, member):
    r = runner.invoke(args=["member", "token", "MEMBER@example.org"])
    assert r.exit_code == 0, r.output
    me = client.get("/v1/members/me", headers={"Authorization": "Bearer " + r.output.strip()}).get_json()
    assert me["email"] == "member@example.org" and me["status"] == "active" and me["plan"] == "monthly"
    assert me["current_period_end"].startswith("2025-06-21") and me["cancel_at_period_end"] is False
    assert me["access"] == "member"
    bad = runner.invoke(args=["member", "token", "nobody@example.org"])
    assert bad.exit_code == 1 and "No member" in bad.output


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer nope", "Basic abc", "Bearer " + "x" * 5000])
def test_me_without_a_valid_token_is_401(client, header):
    r = client.get("/v1/members/me", headers={"Authorization": header} if header is not None else {})
    assert r.status_code == 401 and r.mimetype == "application/problem+json"


def test_member_token_expires(app, client, clock, member):
    token = token_for(app, member)
    clock.advance(days=29)
    assert client.get("/v1/members/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    clock.advance(days=1, seconds=1)
    assert client.get("/v1/members/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_token_signed_with_another_secret_is_refused(client, clock, member):
    forged = tokens.issue_member_token("another-secret-0123456789abcdef0123456789", member.id, 1, clock.now())
    assert client.get("/v1/members/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_sign_out_everywhere_revokes_all_tokens(app, client, session, member):
    t1, t2 = token_for(app, member), token_for(app, member)
    r = client.post("/v1/members/me/sign-out-everywhere", headers={"Authorization": f"Bearer {t1}"})
    assert r.status_code == 204
    for t in (t1, t2):
        assert client.get("/v1/members/me", headers={"Authorization": f"Bearer {t}"}).status_code == 401
    session.refresh(member)
    assert member.token_version == 2
    fresh = {"Authorization": f"Bearer {token_for(app, member)}"}
    assert client.get("/v1/members/me", headers=fresh).status_code == 200


def test_membership_change_bumps_version_and_revokes(app, client, session, member):
    token = token_for(app, member)
    member.token_version += 1  # what payments does on cancel or refund
    session.commit()
    assert client.get("/v1/members/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


# --- checkout claim --------------------------------------------------------------------------------

@pytest.fixture
def stripe_app(app_config, fake_stripe):
    from service import create_app
    from tests.stripe_events import PRICES_SETTING

    app = create_app({**app_config, "STRIPE_API_BASE": fake_stripe.url, "STRIPE_PRICES": PRICES_SETTING})
    with app.app_context():
        yield app
        db.session.remove()


def completed_session(clock, **over):
    """A paid subscription checkout as Stripe answers it with `expand[]=subscription` (a membership price)."""
    from tests.stripe_events import YEARLY_PRICE, subscription

    created = int(clock.now().timestamp()) - 60
    base = dict(id="cs_test_done", status="complete", payment_status="paid", mode="subscription",
                customer="cus_new1", customer_email=None, created=created,
                subscription=subscription("sub_new1", "cus_new1", YEARLY_PRICE, created=created),
                metadata={"plan": "yearly", "locale": "uk", "source": "paywall"})
    return fixture("checkout_session.json", **{**base, **over})


def test_claim_creates_member_and_signs_in(stripe_app, fake_stripe, clock):
    cs = completed_session(clock)
    cs["customer_details"] = {**cs["customer_details"], "email": "New.Member@Example.org"}
    fake_stripe.reply("GET", r"/v1/checkout/sessions/cs_test_done", cs)
    c = stripe_app.test_client()
    r = c.post("/v1/checkout/sessions/cs_test_done/claim")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["member"]["email"] == "new.member@example.org"
    # no membership webhook yet: provisional access, for an hour at most
    assert body["member"]["access"] == "provisional"
    assert body["member"]["access_until"] == (clock.now() + timedelta(hours=1)).isoformat()
    access = c.post("/v1/access", json={"article": {"id": "a"}, "member_token": body["member_token"]}).get_json()
    assert access["reason"] == "provisional" and access["entitlement"]
    # claiming again signs the same member in
    again = c.post("/v1/checkout/sessions/cs_test_done/claim").get_json()
    assert again["member"]["id"] == body["member"]["id"]


def test_claim_of_an_existing_member_mails_a_link_instead(stripe_app, fake_stripe, clock):
    """A member who existed before the checkout (even holding its customer) is not signed in by it."""
    m = factories.member(db.session, clock.now(), email="old@example.org")
    m.stripe_customer_id = "cus_new1"
    db.session.commit()
    fake_stripe.reply("GET", r"/v1/checkout/sessions/cs_test_done", completed_session(clock))
    r = stripe_app.test_client().post("/v1/checkout/sessions/cs_test_done/claim")
    assert r.status_code == 202 and r.get_json()["status"] == "verify_email" and "member_token" not in r.get_json()
    assert db.session.scalars(sa.select(OutboxMessage.to_addr)).all() == ["old@example.org"]


@pytest.mark.parametrize("status,payment_status", [("open", "unpaid"), ("complete", "unpaid"), ("expired", "unpaid")])
def test_claim_of_unfinished_checkout_is_409(stripe_app, fake_stripe, clock, status, payment_status):
    fake_stripe.reply("GET", r"/v1/checkout/sessions/cs_test_done",
                      completed_session(clock, status=status, payment_status=payment_status))
    r = stripe_app.test_client().post("/v1/checkout/sessions/cs_test_done/claim")
    assert r.status_code == 409 and r.mimetype == "application/problem+json"


def test_claim_trial_without_payment_is_ok(stripe_app, fake_stripe, clock):
    cs = completed_session(clock, payment_status="no_payment_required", customer_email="trial@example.org")
    cs["customer_details"] = None
    fake_stripe.reply("GET", r"/v1/checkout/sessions/cs_test_done", cs)
    assert stripe_app.test_client().post("/v1/checkout/sessions/cs_test_done/claim").status_code == 200


def test_claim_of_a_one_off_payment_is_409(stripe_app, fake_stripe, clock):
    fake_stripe.reply("GET", r"/v1/checkout/sessions/cs_test_done", completed_session(clock, mode="payment"))
    assert stripe_app.test_client().post("/v1/checkout/sessions/cs_test_done/claim").status_code == 409


def test_claim_too_old_is_409(stripe_app, fake_stripe, clock):
    fake_stripe.reply("GET", r"/v1/checkout/sessions/cs_test_done",
                      completed_session(clock, created=int(clock.now().timestamp()) - 2 * 86400))
    assert stripe_app.test_client().post("/v1/checkout/sessions/cs_test_done/claim").status_code == 409


def test_claim_stripe_errors(stripe_app, fake_stripe):
    c = stripe_app.test_client()
    fake_stripe.error("GET", r"/v1/checkout/sessions/cs_test_gone", status=404, type_="invalid_request_error",
                      message="No such checkout.session")
    assert c.post("/v1/checkout/sessions/cs_test_gone/claim").status_code == 404
    fake_stripe.error("GET", r"/v1/checkout/sessions/cs_test_down", status=500, type_="api_error", message="boom")
    r = c.post("/v1/checkout/sessions/cs_test_down/claim")
    assert r.status_code == 502 and r.mimetype == "application/problem+json"
    assert c.post("/v1/checkout/sessions/not-a-session/claim").status_code == 404
    assert c.post("/v1/checkout/sessions/" + "cs_" + "a" * 300 + "/claim").status_code == 404


# --- billing portal --------------------------------------------------------------------------------

def test_billing_portal_url(stripe_app, fake_stripe, clock):
    m = factories.member(db.session, clock.now(), email="p@example.org")
    m.stripe_customer_id = "cus_portal"
    db.session.commit()
    fake_stripe.reply("POST", r"/v1/billing_portal/sessions",
                      fixture("billing_portal_session.json", url="https://billing.stripe.com/p/session/test_1"))
    c = stripe_app.test_client()
    auth = {"Authorization": "Bearer " + token_for(stripe_app, m)}
    r = c.post("/v1/billing-portal/sessions", json={"return_url": "https://news.example/account"}, headers=auth)
    assert r.status_code == 201 and r.get_json()["url"] == "https://billing.stripe.com/p/session/test_1"
    sent = fake_stripe.requests[-1].params
    assert sent == {"customer": "cus_portal", "return_url": "https://news.example/account"}
    assert c.post("/v1/billing-portal/sessions", json={"return_url": "https://evil.com/"},
                  headers=auth).status_code == 422
    assert c.post("/v1/billing-portal/sessions", json={}).status_code == 401
    assert c.post("/v1/billing-portal/sessions", json={"return_url": 5}, headers=auth).status_code == 422
    fake_stripe.error("POST", r"/v1/billing_portal/sessions", status=500, type_="api_error")
    assert c.post("/v1/billing-portal/sessions", json={}, headers=auth).status_code == 502


def test_billing_portal_without_customer_is_409(app, client, clock, session):
    m = factories.member(session, clock.now(), email="nocust@example.org")
    session.commit()
    r = client.post("/v1/billing-portal/sessions", json={}, headers={"Authorization": "Bearer " + token_for(app, m)})
    assert r.status_code == 409


# --- meter purge -----------------------------------------------------------------------------------

def test_meter_purge_deletes_expired_reads_in_batches(runner, session, clock):
    now = clock.now()
    session.add_all([MeterRead(reader_id=f"r{i}", article_id="a", read_at=now - timedelta(days=31 + i % 3))
                     for i in range(25)])
    session.add_all([MeterRead(reader_id=f"k{i}", article_id="a", read_at=now - timedelta(days=29))
                     for i in range(5)])
    session.commit()
    r = runner.invoke(args=["meter", "purge", "--batch-size", "10"])
    assert r.exit_code == 0, r.output
    assert "Purged 25 expired meter reads" in r.output
    assert session.scalar(sa.select(sa.func.count()).select_from(MeterRead)) == 5
    assert "Purged 0" in runner.invoke(args=["meter", "purge"]).output


def test_keygen_prints_a_usable_key(runner, app_config):
    from service import create_app

    r = runner.invoke(args=["paywall", "keygen"])
    assert r.exit_code == 0
    pem = r.stdout if hasattr(r, "stdout") else r.output
    pem = pem[pem.index("-----BEGIN"):pem.index("-----END PRIVATE KEY-----") + len("-----END PRIVATE KEY-----")]
    app = create_app({**app_config, "ENTITLEMENT_KEYS": pem})
    assert app.extensions["paywall"].keys.signing.kid


def test_reader_id_helpers_roundtrip():
    signed, bare = tokens.new_reader_id("s" * 40)
    assert tokens.read_reader_id("s" * 40, signed) == bare
    assert tokens.read_reader_id("t" * 40, signed) is None


def test_purge_links_deletes_old_links(client, runner, session, clock, member):
    request_link(client)
    clock.advance(days=1, minutes=16)
    request_link(client, "b@example.org")
    r = runner.invoke(args=["paywall", "purge-links"])
    assert r.exit_code == 0 and "Deleted 1 expired sign-in links." in r.output
    assert session.scalar(sa.select(sa.func.count()).select_from(MagicLink)) == 1


def test_development_key_is_kept_in_instance(app_config, tmp_path, monkeypatch):
    from service import create_app

    cfg = {**app_config, "SERVICE_ENV": "development"}
    a = create_app(cfg)
    b = create_app(cfg)
    assert a.extensions["paywall"].keys.jwks() == b.extensions["paywall"].keys.jwks()


def test_no_enumeration_same_database_work_for_both(client, session, member):
    from tests.test_paywall_access import Statements

    def shapes(email):
        with Statements(db.engine) as s:
            assert request_link(client, email).status_code == 202
        return [" ".join(q.split()[:3]) for q in s.sql]

    assert shapes("member@example.org") == shapes("stranger@example.org")


def test_malformed_smtp_url_refuses_to_start(app_config):
    from service import create_app
    from service.config import ConfigError

    with pytest.raises(ConfigError, match="SMTP_URL"):
        create_app({**app_config, "SMTP_URL": "mail.example.org:25"})


def _self_signed(tmp_path):
    """A certificate for 127.0.0.1 and a client context that trusts it (tests only)."""
    import datetime as dt
    import ipaddress
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    return server, str(cert_file)


def test_starttls_with_login(app_config, clock, tmp_path, monkeypatch):
    import ssl

    from aiosmtpd.smtp import AuthResult


    server_ctx, cafile = _self_signed(tmp_path)
    trusting = ssl.create_default_context(cafile=cafile)
    monkeypatch.setattr("service.mail.send.ssl.create_default_context", lambda *a, **k: trusting)
    inbox = Inbox()
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((session.ssl is not None, auth_data.login))
        return AuthResult(success=auth_data.password == b"pw")

    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=server_ctx,
                            require_starttls=True, authenticator=authenticator)
    _request_link_through(controller, inbox, app_config, f"smtp+starttls://mailer:pw@127.0.0.1:{controller.port}")
    assert logins == [(True, b"mailer")]  # logged in only after STARTTLS
    assert inbox.messages[0][0] == ["anyone@example.org"]


def test_smtps_implicit_tls(app_config, clock, tmp_path, monkeypatch):
    import ssl


    server_ctx, cafile = _self_signed(tmp_path)
    trusting = ssl.create_default_context(cafile=cafile)
    monkeypatch.setattr("service.mail.send.ssl.create_default_context", lambda *a, **k: trusting)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), ssl_context=server_ctx)
    _request_link_through(controller, inbox, app_config, f"smtps://127.0.0.1:{controller.port}")
    assert inbox.messages[0][0] == ["anyone@example.org"]


def test_claim_uses_the_stored_webhook_without_calling_stripe(stripe_app, fake_stripe, clock):
    from service.members.models import Subscription
    from service.payments.models import WebhookEvent
    from tests.stripe_events import YEARLY_PRICE

    cs = completed_session(clock, customer_email="hook@example.org", subscription="sub_hook1")
    cs["customer_details"] = None
    event = {"id": "evt_claim_1", "type": "checkout.session.completed", "data": {"object": cs}}
    # payments stored the subscription's snapshot (a membership price) as well: the plan is known locally
    owner = factories.member(db.session, clock.now(), email="someone.else@example.org")
    db.session.add(Subscription(stripe_id="sub_hook1", member_id=owner.id, status="active", price_id=YEARLY_PRICE,
                                stripe_status="active", created_at=clock.now(), updated_at=clock.now()))
    db.session.add(WebhookEvent(stripe_event_id="evt_claim_1", type="checkout.session.completed", livemode=False,
                                api_version="", object_id="cs_test_done", created=clock.now(),
                                payload=json.dumps(event), status="applied", attempts=1, last_error="",
                                received_at=clock.now()))
    db.session.commit()
    r = stripe_app.test_client().post("/v1/checkout/sessions/cs_test_done/claim")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["member"]["email"] == "hook@example.org"
    assert fake_stripe.requests == []  # no call to Stripe


def _request_link_through(controller, inbox, app_config, smtp_url):
    """Start the SMTP server, ask for a sign-in link through it, wait for the mail, stop the server."""
    from service import create_app

    controller.start()
    try:
        app = create_app({**app_config, "SMTP_URL": smtp_url})
        with app.app_context():
            assert request_link(app.test_client(), "anyone@example.org").status_code == 202
            db.session.remove()
        for _ in range(50):
            if inbox.messages:
                break
            time.sleep(0.05)
    finally:
        controller.stop()
