"""API keys on requests (DESIGN §7 "Auth"): ``Authorization: Bearer gl_<key_id>_<secret>``.

Each view declares who may call it with one of three decorators, placed *under* the route
decorator so that the declaration travels with the view function:

- ``@public``: anyone; a key, when one is sent, must still be valid (it widens what some
  public answers include, e.g. entry contents in ``/log/entries``);
- ``@authenticated``: any valid key, whatever its role (what it then sees is filtered by
  :mod:`ledger.domain.visibility`);
- ``@roles("producer", ...)``: a valid key of one of these roles, else 403.

The check runs before the request body is validated, so an unauthenticated caller learns
nothing about the body a view expects: a missing, malformed, unknown or revoked key is a 401
problem with ``WWW-Authenticate: Bearer``. Failed attempts are limited per client address
with a token bucket (in process: each worker keeps its own; behind a reverse proxy, configure
werkzeug's ``ProxyFix`` so that ``remote_addr`` is the client's); past the burst, attempts are
refused with 429 and ``Retry-After`` *before* the key is checked, so guessing gains nothing.
Keys are never logged: the Authorization header is read here and nowhere else.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, current_app, g, request
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from api.problems import ApiProblem
from api.service import service
from ledger import access as keys
from ledger.access import ApiPrincipal

F = TypeVar("F", bound=Callable[..., Any])
ACCESS_ATTR = "_greenledger_access"
LIMITER = "greenledger.auth_failures"
#: failed attempts allowed in a burst per address, and refilled per minute (app config keys)
BURST_CONFIG, RATE_CONFIG = "GREENLEDGER_AUTH_FAILURE_BURST", "GREENLEDGER_AUTH_FAILURES_PER_MINUTE"


@dataclass(frozen=True)
class Access:
    public: bool = False
    roles: frozenset[str] | None = None  # None: any role


PUBLIC = Access(public=True)


def _declare(access: Access) -> Callable[[F], F]:
    def decorator(func: F) -> F:
        setattr(func, ACCESS_ATTR, access)
        return func

    return decorator


def public(func: F) -> F:
    return _declare(PUBLIC)(func)


def authenticated(func: F) -> F:
    return _declare(Access())(func)


def roles(*names: str) -> Callable[[F], F]:
    return _declare(Access(roles=frozenset(names)))


def access_of(view: Callable[..., Any] | None) -> Access:
    return getattr(view, ACCESS_ATTR, PUBLIC)


class FailureLimiter:
    """A token bucket of failed authentication attempts per client address."""

    def __init__(self, burst: int, per_minute: float, *, max_addresses: int = 10_000) -> None:
        self.burst = max(1, burst)
        self.rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self._max = max_addresses

    def _tokens(self, address: str, now: float) -> float:
        tokens, last = self._buckets.get(address, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - last) * self.rate)

    def wait(self, address: str) -> float:
        """Seconds until ``address`` may try again (0: now)."""
        with self._lock:
            tokens = self._tokens(address, time.monotonic())
        if tokens >= 1:
            return 0.0
        return (1 - tokens) / self.rate if self.rate > 0 else 3600.0

    def fail(self, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._buckets) >= self._max:
                self._buckets = {a: b for a, b in self._buckets.items()
                                 if self._tokens(a, now) < self.burst}
            self._buckets[address] = (self._tokens(address, now) - 1, now)


def _unauthorized(detail: str, *, invalid: bool) -> ApiProblem:
    challenge = 'Bearer realm="greenledger"' + (', error="invalid_token"' if invalid else "")
    return ApiProblem(401, "unauthorized", detail, headers={"WWW-Authenticate": challenge})


def _authenticate(token: str) -> ApiPrincipal | None:
    with Session(service().engine) as session:
        principal = keys.authenticate(session, token)
        try:
            session.commit()  # last_used_at, best effort
        except OperationalError:
            session.rollback()
        return principal


def check_request() -> None:
    """``before_request``: authenticate the key, if any, and enforce the view's access."""
    g.principal = None
    if request.endpoint is None:
        return
    access = access_of(current_app.view_functions.get(request.endpoint))
    header = request.headers.get("Authorization")
    if header is None:
        if access.public:
            return
        raise _unauthorized("this needs an API key: Authorization: Bearer gl_...", invalid=False)
    limiter: FailureLimiter = current_app.extensions[LIMITER]
    address = request.remote_addr or "unknown"
    wait = limiter.wait(address)
    if wait > 0:
        raise ApiProblem(429, "rate-limited", "too many failed authentication attempts from "
                         "this address; try again later",
                         headers={"Retry-After": str(max(1, math.ceil(wait)))})
    scheme, _, token = header.partition(" ")
    principal = _authenticate(token.strip()) if scheme.lower() == "bearer" else None
    if principal is None:
        limiter.fail(address)
        raise _unauthorized("the API key is malformed, unknown or revoked", invalid=True)
    g.principal = principal
    if access.roles is not None and principal.role not in access.roles:
        raise ApiProblem(403, "forbidden", f"this needs a key of role "
                         f"{' or '.join(sorted(access.roles))}; this key acts as {principal.role}")


def principal() -> ApiPrincipal:
    """The caller's principal in a view that requires a key."""
    found: ApiPrincipal | None = getattr(g, "principal", None)
    if found is None:
        raise _unauthorized("this needs an API key: Authorization: Bearer gl_...", invalid=False)
    return found


def optional_principal() -> ApiPrincipal | None:
    return getattr(g, "principal", None)


def init_app(app: Flask) -> None:
    app.config.setdefault(BURST_CONFIG, 10)
    app.config.setdefault(RATE_CONFIG, 10)
    app.extensions[LIMITER] = FailureLimiter(int(app.config[BURST_CONFIG]),
                                             float(app.config[RATE_CONFIG]))
    app.before_request(check_request)
