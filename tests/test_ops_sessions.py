"""Sessions are opened cheaply on the public API and still work for staff pages."""

from flask import session

from service.ops.sessions import LazyCookieSessionInterface


def test_the_app_uses_the_lazy_session_interface(app):
    assert isinstance(app.session_interface, LazyCookieSessionInterface)


def test_a_request_without_the_cookie_gets_an_empty_session_without_a_serializer(app):
    iface = app.session_interface
    with app.test_request_context("/v1/campaigns/x/progress"):
        s = iface.open_session(app, __import__("flask").request)
        assert s is not None and dict(s) == {}
    assert iface._serializers == {}


def test_a_signed_session_round_trips_and_a_forged_one_is_empty(app):
    @app.route("/_test/session/set")
    def set_value():
        session["who"] = "editor@news.example"
        return "ok"

    @app.route("/_test/session/get")
    def get_value():
        return session.get("who", "nobody")

    client = app.test_client()
    client.get("/_test/session/set")
    assert client.get("/_test/session/get").get_data(as_text=True) == "editor@news.example"
    assert len(app.session_interface._serializers) == 1  # built once, reused
    forged = app.test_client()
    forged.set_cookie(app.config.get("SESSION_COOKIE_NAME", "session"), "eyJ3aG8iOiJhZG1pbiJ9.forged.sig")
    assert forged.get("/_test/session/get").get_data(as_text=True) == "nobody"
