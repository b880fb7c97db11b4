"""Trust in operations: text the database cannot store is a 4xx, logs carry no secrets, production
refuses a configuration that would run it with development secrets or plain-http URLs."""

from __future__ import annotations

import pytest

from service.api import NUL_MESSAGE, SURROGATE_MESSAGE, unstorable_text

ACCESS = "/v1/access"


# --- unstorable text (NUL, unpaired surrogates) ---------------------------------------------------


def test_unstorable_text_names_each_field_and_accepts_real_text():
    assert unstorable_text({"article": {"id": "ok \U0001F600 ü"}, "tags": ["a", "b"]}) is None
    assert unstorable_text({"article": {"id": "a\x00b"}, "tags": ["a", "\ud800"], "n": 1}) == {
        "article": {"id": [NUL_MESSAGE]}, "tags": {"1": [SURROGATE_MESSAGE]}}
    assert unstorable_text({"\udc00": 1}) == {"\\udc00": [SURROGATE_MESSAGE]}


@pytest.mark.parametrize(("raw", "field", "message"), [
    (b'{"article": {"id": "a\\u0000b"}}', ("article", "id"), NUL_MESSAGE),
    (b'{"article": {"id": "x"}, "reader_id": "\\ud800"}', ("reader_id",), SURROGATE_MESSAGE),
    (b'{"article": {"id": "x"}, "member_token": "\\udfff\\u0000"}', ("member_token",), SURROGATE_MESSAGE),
])
def test_an_access_request_with_unstorable_text_is_a_422_naming_the_field(client, raw, field, message):
    """Before: SQLite stored the NUL (200), PostgreSQL refused it, and an unpaired surrogate in reader_id
    was a 500 (UnicodeEncodeError while checking its signature)."""
    r = client.post(ACCESS, data=raw, content_type="application/json")
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    errors = r.get_json()["errors"]["json"]
    for name in field:
        errors = errors[name]
    assert errors == [message]


def test_a_valid_surrogate_pair_is_ordinary_text(client):
    r = client.post(ACCESS, data=b'{"article": {"id": "smile-\\ud83d\\ude00"}}', content_type="application/json")
    assert r.status_code == 200


@pytest.mark.parametrize("url", ["/v1/campaigns/members%00/progress", "/v1/campaigns/members-25k/progress?locale=%00",
                                 "/v1/auth/magic-links/tok%00en", "/healthz?x=a%00"])
def test_a_nul_in_a_path_or_query_is_a_400_before_any_view(client, url):
    r = client.get(url)
    assert r.status_code == 400 and r.mimetype == "application/problem+json"
    assert "NUL" in r.get_json()["detail"]
