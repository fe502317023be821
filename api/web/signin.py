"""Signing in to the web pages with an API key, and who is signed in.

A party signs in by pasting an API key (``greenledger keys api create``); the key is checked
exactly as the JSON API checks it (:func:`ledger.access.authenticate`, the same limiter of
failed attempts per address) and is then forgotten: the session cookie carries the key's
public id, party and role, never its secret. Every request reads the key's row again, so a
key revoked with ``greenledger keys api revoke`` signs its sessions out at once.

The session is Flask's signed cookie: HttpOnly, SameSite=Lax, ``Secure`` whenever the request
came over HTTPS (directly or, behind a proxy, as ``ProxyFix`` reports it), and valid for
:data:`SESSION_HOURS`. Its signing secret is per installation: 32 random bytes in
``<GREENLEDGER_HOME>/web-secret`` (mode 0600), created on first start. Several hosts serving
one ledger must share that file for a session to be valid on each of them.
"""

from __future__ import annotations

import functools
import math
import os
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, g, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from werkzeug.wrappers import Response as BaseResponse

from api.auth import LIMITER, FailureLimiter, public
from api.service import service
from api.web.blueprint import bp
from api.web.forms import LoginForm, LogoutForm, first_error
from ledger import access
from ledger.access import ApiKey, ApiPrincipal
from ledger.domain.rules import ROLES

F = TypeVar("F", bound=Callable[..., Any])
SECRET_FILE = "web-secret"  # noqa: S105 - a file name, not a secret
SESSION_HOURS = 8
COOKIE_NAME = "greenledger_session"


def web_secret(home: Path) -> bytes:
    """The installation's session secret, created (mode 0600) if there is none yet. Two
    processes starting together both read the one that was created first."""
    path = Path(home) / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    text = path.read_text(encoding="ascii").strip()
    if len(text) < 64:
        # a file cut short by a crash between create and write: replace it
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        os.replace(tmp, path)
        text = path.read_text(encoding="ascii").strip()
    return bytes.fromhex(text)


class WebSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, marked ``Secure`` on every HTTPS request."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def init_sessions(app: Flask, home: Path) -> None:
    if not app.secret_key:
        app.secret_key = web_secret(home)
    app.config.update(SESSION_COOKIE_NAME=COOKIE_NAME, SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax",
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS))
    app.session_interface = WebSessionInterface()


def authenticate_key(presented: str) -> ApiPrincipal | None:
    with Session(service().engine) as db:
        found = access.authenticate(db, presented.strip())
        try:
            db.commit()  # last_used_at, best effort
        except OperationalError:
            db.rollback()
        return found


def sign_in(principal: ApiPrincipal) -> None:
    session.clear()  # nothing from before signing in survives (CSRF token included)
    session.permanent = True
    session.update(key_id=principal.key_id, party=principal.party, role=principal.role)


def sign_out() -> None:
    session.clear()


def signed_in() -> ApiPrincipal | None:
    """Who is signed in on this request, if the key still exists and is not revoked."""
    if "web_principal" in g:
        return g.web_principal  # type: ignore[no-any-return]
    found: ApiPrincipal | None = None
    key_id = session.get("key_id")
    if isinstance(key_id, str):
        with Session(service().engine) as db:
            row = db.get(ApiKey, key_id)
        if (row is not None and row.revoked_at is None and row.party == session.get("party")
                and row.role == session.get("role")):
            found = ApiPrincipal(row.party, row.role, row.key_id)
        else:
            sign_out()
    g.web_principal = found
    return found


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site (never another host), else None."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def require_roles(*roles: str) -> Callable[[F], F]:
    """A page for signed-in parties acting in one of ``roles``; anyone else is sent to the
    sign-in page (which says which role the page needs)."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            who = signed_in()
            if who is None or who.role not in roles:
                return redirect_to_login(roles)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def redirect_to_login(roles: tuple[str, ...] = ()) -> BaseResponse:
    target = request.full_path if request.method == "GET" else request.path
    needs = ",".join(roles) if roles else None
    return redirect(url_for("web.login", next=target.rstrip("?"), needs=needs))


def home_of(principal: ApiPrincipal) -> str:
    """Where a party lands after signing in."""
    if principal.role == "producer":
        return url_for("web.dashboard")
    if principal.role in ("certifier", "operator"):
        return url_for("web.audit_page")
    return url_for("web.home")


def limiter() -> FailureLimiter:
    return current_app.extensions[LIMITER]  # type: ignore[no-any-return]


# --- the pages ----------------------------------------------------------------------------

@bp.context_processor
def _who() -> dict[str, object]:
    who = signed_in()
    return {"who": who, "logout_form": LogoutForm(formdata=None) if who else None}


def _login_page(form: LoginForm, error: str | None, status: int = 200,
                **extra: object) -> ResponseReturnValue:
    needs = [r for r in request.args.get("needs", "").split(",") if r in ROLES]
    return render_template("web/login.html", form=form, error=error, needs=needs,
                           next=safe_next(request.args.get("next")), **extra), status


@bp.get("/login")
@public
def login() -> ResponseReturnValue:
    return _login_page(LoginForm(), None)


@bp.post("/login")
@public
def login_submit() -> ResponseReturnValue:
    form = LoginForm()
    address = request.remote_addr or "unknown"
    wait = limiter().wait(address)
    if wait > 0:
        return _login_page(form, "login.rate_limited", 429, retry=max(1, math.ceil(wait)))
    if not form.validate_on_submit():
        return _login_page(form, first_error(form), 400)
    principal = authenticate_key(form.api_key.data or "")
    if principal is None:
        limiter().fail(address)
        return _login_page(LoginForm(formdata=None), "login.bad_key", 401)
    sign_in(principal)
    return redirect(safe_next(request.args.get("next")) or home_of(principal))


@bp.get("/logout")
@public
def logout_get() -> ResponseReturnValue:
    return redirect(url_for("web.login"))


@bp.post("/logout")
@public
def logout() -> ResponseReturnValue:
    form = LogoutForm()
    if form.validate_on_submit():
        sign_out()
    return redirect(url_for("web.home"))
