"""Hostile input to every documented operation: SQL-looking strings, path traversal, very long and odd
strings in every path, query and body parameter and in credentials; huge, negative and wrongly typed
numbers; invalid JSON and UTF-8, wrong content types, deep nesting and bodies over 1 MiB.

Every answer is below 500; every 4xx is application/problem+json; and a refused request leaves the
database exactly as it was (a dump of every table before and after).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml

from tests.reliability.conftest import dump_tables
from tests.stripe_events import PRICES_SETTING, fixture

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]
SPEC = yaml.safe_load((ROOT / "openapi.yaml").read_text())
KNOWN_SLUG = "members-25k"

STRINGS = [
    "' OR '1'='1", "1; DROP TABLE members; --", "\" OR 1=1 --", "members-25k' --", "%' AND 1=0 UNION SELECT 1 --",
    "../../../../etc/passwd", "..\\..\\..\\windows\\win.ini", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/etc/passwd\u0000",
    "<script>alert(1)</script>", "{{7*7}}${7*7}", "${jndi:ldap://127.0.0.1/x}", "\r\nSet-Cookie: x=1",
    "\u0000", "\u202e\u0645\u0631\u062d\u0628\u0627", "\U0001F600" * 64, "", " ", "x" * 5_000, "y" * 70_000,
    "-1", "0", "99999999999999999999999999999999", "1e309", "NaN", "null", "true", "[]", "{}",
]
NUMBERS = [-1, 0, -(2**63) - 1, 2**63, 2**64, 10**30, -(10**30), 1e308, -1e308, 0.5, True]
WRONG_TYPES = [None, [], {}, ["a"], {"$gt": ""}, 1, "1", False]
PROBLEM = "application/problem+json"


def resolve(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        node = SPEC["components"]["schemas"][name]
    return node


def kind(schema: dict) -> str:
    t = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "string")
    return t


def sample(name: str, schema: dict) -> Any:
    """A plausible valid value, so that one hostile field at a time is what the service sees."""
    schema = resolve(schema)
    if "enum" in schema:
        return schema["enum"][0]
    t = kind(schema)
    if t == "object":
        props = schema.get("properties", {})
        return {k: sample(k, v) for k, v in props.items() if k in schema.get("required", [])}
    if t in ("integer", "number"):
        return max(1, schema.get("minimum", 1))
    if t == "boolean":
        return False
    if t == "array":
        return []
    if "email" in name or schema.get("format") == "email":
        return "reader@example.org"
    if name.endswith("url"):
        return "http://127.0.0.1:5000/done"
    if name in ("campaign", "slug"):
        return KNOWN_SLUG
    if name == "plan":
        return "monthly"
    return "a1"


def hostile_values(schema: dict) -> list[Any]:
    t = kind(resolve(schema))
    if t in ("integer", "number"):
        return NUMBERS + STRINGS[:6] + WRONG_TYPES
    if t == "object":
        return WRONG_TYPES + STRINGS[:4]
    return STRINGS + NUMBERS[:4] + WRONG_TYPES


def body_variants(schema: dict) -> list[tuple[str, Any]]:
    """(label, JSON value): the valid sample with one property (or one nested property) made hostile."""
    schema = resolve(schema)
    base = sample("", schema)
    out: list[tuple[str, Any]] = [("sample", base)]
    for prop, sub in schema.get("properties", {}).items():
        for value in hostile_values(sub):
            out.append((f"{prop}={value!r:.40}", {**copy.deepcopy(base), prop: value}))
        sub = resolve(sub)
        if kind(sub) == "object":
            inner = sample(prop, sub)
            for nested, nsub in sub.get("properties", {}).items():
                for value in hostile_values(nsub):
                    out.append((f"{prop}.{nested}={value!r:.40}",
                                {**copy.deepcopy(base), prop: {**inner, nested: value}}))
    return out


def raw_bodies() -> list[tuple[str, bytes, str, set[int] | None]]:
    """(label, body, content type, statuses required or None for any 4xx)."""
    return [
        ("over 1 MiB", b'{"x": "' + b"a" * (1024 * 1024 + 10) + b'"}', "application/json", {413}),
        ("invalid JSON", b'{"article": {"id": ', "application/json", None),
        ("invalid UTF-8", b'{"email": "\xff\xfe\xfa"}', "application/json", None),
        ("UTF-16", '{"email": "a@example.org"}'.encode("utf-16"), "application/json", None),
        ("JSON array", b"[1, 2, 3]", "application/json", None),
        ("JSON string", b'"hello"', "application/json", None),
        ("JSON null", b"null", "application/json", None),
        ("big number", b'{"n": 1' + b"0" * 400 + b"}", "application/json", None),
        ("wrong content type", b'{"email": "reader@example.org"}', "text/plain", None),
        ("form body", b"email=reader%40example.org", "application/x-www-form-urlencoded", None),
        ("XML", b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>",
         "application/xml", None),
        ("empty body", b"", "application/json", None),
    ]


def operations() -> list[tuple[str, str, dict, list[dict]]]:
    out = []
    for path, item in SPEC["paths"].items():
        shared = item.get("parameters", [])
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                out.append((method.upper(), path, op, shared + op.get("parameters", [])))
    return out


OPERATIONS = operations()


@pytest.fixture
def app_config(app_config, fake_stripe):
    return {**app_config, "STRIPE_API_BASE": fake_stripe.url, "STRIPE_PRICES": PRICES_SETTING}


@pytest.fixture
def stripe_replies(fake_stripe):
    cs = fixture("checkout_session")
    cs.update(id="cs_test_hostile", url="https://checkout.stripe.com/c/pay/cs_test_hostile")
    fake_stripe.reply("POST", r"/v1/checkout/sessions$", cs)
    portal = fixture("billing_portal_session")
    fake_stripe.reply("POST", r"/v1/billing_portal/sessions$", portal)
    return fake_stripe


class Prober:
    """Sends requests; checks each answer; keeps the database dump to compare refused requests against."""

    def __init__(self, client, engine, safe_method: bool, op: dict | None = None) -> None:  # noqa: ANN001
        self.client = client
        # Statuses the contract answers with an HTML page (a link's page a person opens), not a problem.
        self.html = {code for code, r in ((op or {}).get("responses") or {}).items()
                     if "text/html" in ((r or {}).get("content") or {})}
        self.engine = engine
        self.dump = dump_tables(engine)
        self.safe_method = safe_method  # GET: compared once at the end (nothing may change at all)
        self.seen: list[tuple[str, int]] = []

    def send(self, label: str, method: str, url: str, *, expect: set[int] | None = None, **kwargs: Any) -> int:
        r = self.client.open(url, method=method, **kwargs)
        status = r.status_code
        self.seen.append((label, status))
        assert status < 500, f"{label}: {method} {url[:120]} -> {status} {r.get_data(as_text=True)[:300]}"
        if expect is not None:
            assert status in expect, f"{label}: {method} {url[:120]} -> {status}, expected {sorted(expect)}"
        if status >= 400 and str(status) in self.html:
            assert r.mimetype == "text/html", f"{label}: {status} answered as {r.mimetype}"
        elif status >= 400:
            assert r.mimetype == PROBLEM, f"{label}: {status} answered as {r.mimetype}"
            body = r.get_json()
            assert body["status"] == status and body["title"], label
            if not self.safe_method:
                assert dump_tables(self.engine) == self.dump, f"{label}: refused with {status} but the database changed"
        elif status < 300 and not self.safe_method:
            self.dump = dump_tables(self.engine)  # an accepted request may change it
        return status

    def finish(self) -> None:
        assert self.seen
        if self.safe_method:  # a GET changes nothing but the audit log (staff reads such as exports are audited)
            after = {t: rows for t, rows in dump_tables(self.engine).items() if t != "staff_audit_log"}
            before = {t: rows for t, rows in self.dump.items() if t != "staff_audit_log"}
            assert after == before, "a GET changed the database"


def fill(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return path


@pytest.mark.parametrize(("method", "path", "op", "params"), OPERATIONS,
                         ids=[f"{m} {p}" for m, p, _, _ in OPERATIONS])
def test_hostile_input_never_breaks_an_operation(method, path, op, params, client, demo_campaign, stripe_replies,
                                                 app):
    from service.extensions import db

    probe = Prober(client, db.engine, safe_method=method == "GET", op=op)
    path_params = [p for p in params if p["in"] == "path"]
    query_params = [p for p in params if p["in"] == "query"]
    valid_path = {p["name"]: sample(p["name"], p.get("schema", {})) for p in path_params}
    valid_path = {k: quote(str(v), safe="") for k, v in valid_path.items()}
    body_schema = (op.get("requestBody", {}).get("content", {}).get("application/json", {}) or {}).get("schema")
    base_body = sample("", body_schema) if body_schema else None
    json_kw = {"json": base_body} if base_body is not None else {}

    for p in path_params:
        for value in STRINGS + [str(n) for n in NUMBERS[:6]]:
            if value == "":
                continue
            url = fill(path, {**valid_path, p["name"]: quote(value, safe="")})
            probe.send(f"path {p['name']}={value!r:.40}", method, url, **json_kw)
        raw = fill(path, {**valid_path, p["name"]: "../../../../etc/passwd"})
        probe.send(f"raw traversal in {p['name']}", method, raw, **json_kw)

    url = fill(path, valid_path)
    for p in query_params:
        for value in STRINGS + [str(n) for n in NUMBERS[:6]]:
            probe.send(f"query {p['name']}={value!r:.40}", method, url, query_string={p["name"]: value}, **json_kw)
    probe.send("repeated and unknown query parameters", method, url + "?locale=en&locale=uk&x=%00&__proto__=1",
               **json_kw)

    for value in STRINGS[:6] + ["<script>", "\u0000", "x" * 9000]:
        header_safe = value.replace("\r", "").replace("\n", "")
        probe.send(f"bearer {value!r:.40}", method, url, headers={"Authorization": f"Bearer {header_safe}"}, **json_kw)
        probe.send(f"cookie {value!r:.40}", method, url, headers={"Cookie": f"session={quote(header_safe)}"},
                   **json_kw)

    if method in ("POST", "PUT", "PATCH"):
        for label, raw, ctype, expect in raw_bodies():
            status = probe.send(f"body: {label}", method, url, data=raw, content_type=ctype, expect=expect)
            if body_schema is not None or path.endswith("/webhooks/stripe"):
                assert 400 <= status < 500, f"body: {label} -> {status}"
        if body_schema is not None:
            for label, value in body_variants(body_schema):
                probe.send(f"body {label}", method, url, json=value)
    probe.finish()


JSON_OPERATIONS = [(m, p) for m, p, op, _ in OPERATIONS
                   if m == "POST" and ("requestBody" in op or p.endswith("/webhooks/stripe"))]
# Bodies on which Python's json module raises something other than JSONDecodeError, which webargs does
# not catch: RecursionError (deep nesting) and ValueError (an integer over 4,300 digits).
PARSER_BOMBS = {
    "deeply nested JSON": ("[" * 100_000 + "]" * 100_000).encode(),
    "5,000-digit number": b'{"n": 1' + b"0" * 5000 + b"}",
}


@pytest.mark.parametrize("bomb", sorted(PARSER_BOMBS))
@pytest.mark.parametrize(("method", "path"), JSON_OPERATIONS, ids=[f"{m} {p}" for m, p in JSON_OPERATIONS])
def test_json_that_chokes_the_parser_is_refused_not_a_500(method, path, bomb, client, demo_campaign,
                                                          stripe_replies, app):
    from service.extensions import db

    probe = Prober(client, db.engine, safe_method=False)
    url = fill(path, {"slug": KNOWN_SLUG, "session_id": "cs_test_1"})
    status = probe.send(f"body: {bomb}", method, url, data=PARSER_BOMBS[bomb], content_type="application/json")
    assert 400 <= status < 500


# Text the databases cannot store. In a JSON body: NUL and unpaired surrogates, sent as \u escapes (the
# test client's JSON encoder escapes them), anywhere in the document: a 422 naming the field, the same
# on SQLite and PostgreSQL. In a path or query: %00 is a 400 before any view runs; a surrogate cannot
# reach a view at all (werkzeug decodes its UTF-8 form, %ED%A0%80, to U+FFFD), so it only has to be < 500.
UNSTORABLE = ["\u0000", "a\u0000b", "\ud800", "x\udfffy", "\udbff\u0000"]
URL_NUL = ["%00", "a%00b", "%00%00"]
URL_SURROGATES = ["%ED%A0%80", "%ED%BF%BF", "a%ED%A0%80b"]


def staff_token(client, session, clock) -> str:  # noqa: ANN001
    """An admin's API token, so that staff operations parse their body; used once already, so that its use
    (noted at most once a minute) writes nothing during the probe."""
    from service.staff import accounts, api_tokens

    admin = accounts.create_staff(session, email="hostile-admin@newsroom.example", role="admin",
                                  password="hostile-admin-password-0123", now=clock.now())
    _, secret = api_tokens.create_token(session, name="hostile", staff=admin, now=clock.now())
    session.commit()
    used = client.get(f"/v1/staff/campaigns/{KNOWN_SLUG}/stats", headers={"Authorization": f"Bearer {secret}"})
    assert used.status_code == 200, used.get_data(as_text=True)[:300]
    return secret


def unstorable_bodies(schema: dict) -> list[tuple[str, Any]]:
    """The valid sample with one property (top-level or nested) made unstorable, and with an unstorable key."""
    schema = resolve(schema)
    base = sample("", schema)
    out: list[tuple[str, Any]] = [(f"key {value!r}", {**copy.deepcopy(base), value: "a"}) for value in UNSTORABLE]
    for prop, sub in schema.get("properties", {}).items():
        out += [(f"{prop}={value!r}", {**copy.deepcopy(base), prop: value}) for value in UNSTORABLE]
        out.append((f"{prop}=[{UNSTORABLE[2]!r}]", {**copy.deepcopy(base), prop: ["ok", UNSTORABLE[2]]}))
        sub = resolve(sub)
        if kind(sub) == "object":
            inner = sample(prop, sub)
            for nested in sub.get("properties", {}):
                out += [(f"{prop}.{nested}={value!r}", {**copy.deepcopy(base), prop: {**inner, nested: value}})
                        for value in UNSTORABLE]
    return out


@pytest.mark.parametrize(("method", "path", "op", "params"), OPERATIONS,
                         ids=[f"{m} {p}" for m, p, _, _ in OPERATIONS])
def test_unstorable_text_is_a_4xx_in_every_body_query_and_path(method, path, op, params, client, demo_campaign,
                                                               stripe_replies, app, session, clock):
    from service.extensions import db

    valid_path = {p["name"]: quote(str(sample(p["name"], p.get("schema", {}))), safe="")
                  for p in params if p["in"] == "path"}
    body_schema = (op.get("requestBody", {}).get("content", {}).get("application/json", {}) or {}).get("schema")
    json_kw: dict[str, Any] = {"json": sample("", body_schema)} if body_schema else {}
    if any("staffToken" in scheme for scheme in op.get("security") or []):  # reach the body, not the 401
        json_kw["headers"] = {"Authorization": f"Bearer {staff_token(client, session, clock)}"}
    probe = Prober(client, db.engine, safe_method=method == "GET", op=op)
    url = fill(path, valid_path)

    for name in valid_path:
        for value in URL_NUL:
            probe.send(f"path {name}={value}", method, fill(path, {**valid_path, name: value}), expect={400}, **json_kw)
        for value in URL_SURROGATES:
            probe.send(f"path {name}={value}", method, fill(path, {**valid_path, name: value}), **json_kw)
    query_names = [p["name"] for p in params if p["in"] == "query"] + ["unknown"]
    for name in query_names:
        for value in URL_NUL:
            probe.send(f"query {name}={value}", method, f"{url}?{name}={value}", expect={400}, **json_kw)
        for value in URL_SURROGATES:
            probe.send(f"query {name}={value}", method, f"{url}?{name}={value}", **json_kw)

    if body_schema is not None:
        headers = json_kw.get("headers", {})
        for label, body in unstorable_bodies(body_schema):
            status = probe.send(f"body {label}", method, url, json=body, expect={422}, headers=headers)
            assert status == 422
        raw = b'{"a": "\\ud800", "b": ["\\u0000"]}'
        probe.send("raw body with escapes", method, url, data=raw, content_type="application/json", expect={422},
                   headers=headers)
    elif method == "POST":
        probe.send("raw body with escapes", method, url, data=b'{"a": "\\ud800\\u0000"}',
                   content_type="application/json")
    probe.finish()
