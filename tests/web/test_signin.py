"""Signing in with an API key: the session cookie and its flags, bad and revoked keys, the
limiter of failed attempts, signing out (CSRF), the per-installation secret."""

from __future__ import annotations

import stat

from sqlmodel import Session

from api.auth import LIMITER, FailureLimiter
from api.web.signin import COOKIE_NAME, SECRET_FILE
from ledger import access
from ledger.store.engine import make_engine
from tests.web.conftest import csrf_token, sign_in


def _post_key(client, key: str):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"csrf_token": token, "api_key": key})


def test_a_producer_signs_in_and_lands_on_its_dashboard(client, web_world):
    answer = _post_key(client, web_world.keys["producer"])
    assert answer.status_code == 302 and answer.headers["Location"] == "/dashboard"
    cookie = next(h for h in answer.headers.getlist("Set-Cookie") if h.startswith(COOKIE_NAME))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert web_world.keys["producer"] not in cookie  # the secret never goes into the cookie
    assert client.get("/dashboard").status_code == 200


def test_certifiers_and_operators_land_on_the_audit_page(app, web_world):
    for holder in ("certifier", "operator"):
        answer = _post_key(app.test_client(), web_world.keys[holder])
        assert answer.headers["Location"] == "/audit"


def test_next_is_followed_only_on_this_site(app, web_world):
    c = app.test_client()
    token = csrf_token(c.get("/login").get_data(as_text=True))
    answer = c.post("/login?next=//evil.example/x", data={"csrf_token": token,
                                                         "api_key": web_world.keys["buyer"]})
    assert answer.headers["Location"] == "/"
    c = app.test_client()
    token = csrf_token(c.get("/login").get_data(as_text=True))
    answer = c.post(f"/login?next=/verify/{web_world.eu_declaration}",
                    data={"csrf_token": token, "api_key": web_world.keys["buyer"]})
    assert answer.headers["Location"] == f"/verify/{web_world.eu_declaration}"


def test_over_https_the_session_cookie_is_secure(app, web_world):
    c = app.test_client()
    page = c.get("/login", base_url="https://ledger.example").get_data(as_text=True)
    answer = c.post("/login", base_url="https://ledger.example",
                    data={"csrf_token": csrf_token(page), "api_key": web_world.keys["producer"]})
    cookie = next(h for h in answer.headers.getlist("Set-Cookie") if h.startswith(COOKIE_NAME))
    assert "Secure" in cookie


def test_a_bad_or_revoked_key_is_refused(client, web_world):
    for key in ("gl_000000000000_" + "0" * 64, "not a key", web_world.keys["revoked"]):
        answer = _post_key(client, key)
        assert answer.status_code == 401
        assert "密钥格式错误、不存在或已被撤销" in answer.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_a_login_without_csrf_token_is_refused(client, web_world):
    answer = client.post("/login", data={"api_key": web_world.keys["producer"]})
    assert answer.status_code == 400 and client.get("/dashboard").status_code == 302


def test_failed_attempts_are_limited_per_address(app, web_world):
    saved = app.extensions[LIMITER]
    app.extensions[LIMITER] = FailureLimiter(2, 0.001)
    try:
        c = app.test_client()
        assert _post_key(c, "wrong").status_code == 401
        assert _post_key(c, "wrong").status_code == 401
        limited = _post_key(c, web_world.keys["producer"])
        assert limited.status_code == 429 and "失败次数过多" in limited.get_data(as_text=True)
    finally:
        app.extensions[LIMITER] = saved


def test_signing_out_needs_the_form_token(signed_in):
    c = signed_in("producer")
    assert c.post("/logout").status_code == 302
    assert c.get("/dashboard").status_code == 200  # a forged sign-out did nothing
    token = csrf_token(c.get("/dashboard").get_data(as_text=True))
    assert c.post("/logout", data={"csrf_token": token}).status_code == 302
    assert c.get("/dashboard").status_code == 302


def test_revoking_the_key_signs_its_sessions_out(fresh, web_world):
    c = sign_in(fresh.test_client(), web_world.keys["producer"])
    assert c.get("/dashboard").status_code == 200
    engine = make_engine(fresh.extensions["greenledger"].settings.database_url)
    with Session(engine) as session:
        access.revoke_api_key(session, web_world.api.key_ids["producer"])
        session.commit()
    engine.dispose()
    assert c.get("/dashboard").status_code == 302


def test_the_session_secret_is_per_installation_and_private(web_world, app):
    path = web_world.settings.home / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert app.secret_key == bytes.fromhex(path.read_text().strip())
