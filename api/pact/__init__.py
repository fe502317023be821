"""The PACT v3.0 host (Tech Specs 3.0.3; DESIGN §7 "PACT API v3", §9): blueprint ``pact``.

``POST /auth/token`` (OAuth2 client credentials with a key's ``client_id``/``client_secret``),
``GET /.well-known/openid-configuration``, ``GET /3/footprints`` (filters, ``limit``, ``Link``
pagination), ``GET /3/footprints/{id}``, ``POST /3/events`` (CloudEvents). Modules:
:mod:`api.pact.views` (the actions), :mod:`api.pact.tokens` (access tokens),
:mod:`api.pact.filters` (the eight criteria), :mod:`api.pact.index` (what is served, to whom),
:mod:`api.pact.events` (events in and out), :mod:`api.pact.errors`, :mod:`api.pact.tls`
(a self-signed demo certificate).

HTTPS only (spec §Host System "MUST offer its actions over HTTPS only"): over plain HTTP every
PACT path is refused (403 ``AccessDenied`` for ``/3/...``, 400 ``invalid_request`` for the
token endpoint) and no token or data is returned. Behind a TLS-terminating proxy, set the app
config ``GREENLEDGER_TRUSTED_PROXY`` to True and ``X-Forwarded-Proto``/``X-Forwarded-Host``
are believed; never otherwise. Other app config: ``GREENLEDGER_PACT_TOKEN_TTL`` (access-token
lifetime, seconds, default 3600), ``GREENLEDGER_PACT_CACHE_MB`` (payload cache per process,
default 256).

The app's API-key check (:func:`api.auth.check_request`) and JSON body check
(:func:`api.v1.bodies.check_body`) do not apply to these paths: PACT requests carry OAuth2
Basic credentials or PACT access tokens, not API keys, and answer errors in PACT's own
``{"code", "message"}`` form. :func:`register` wraps those two hooks so that they skip the
blueprint; it must therefore run after ``auth.init_app`` (it checks).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, request

from api.pact.events import PactState
from api.pact.index import PayloadCache
from api.pact.views import BLUEPRINT, CACHE_CONFIG, EXTENSION, LIFETIME_CONFIG, TRUSTED_PROXY_CONFIG

__all__ = ["BLUEPRINT", "CACHE_CONFIG", "EXTENSION", "LIFETIME_CONFIG", "TRUSTED_PROXY_CONFIG", "register"]


def _skip_pact(hook: Callable[[], Any]) -> Callable[[], Any]:
    def hook_outside_pact() -> Any:
        if request.blueprint == BLUEPRINT.name:
            return None
        return hook()

    hook_outside_pact.__wrapped__ = hook  # type: ignore[attr-defined]
    hook_outside_pact.__name__ = getattr(hook, "__name__", "hook")
    return hook_outside_pact


def _exempt_app_hooks(app: Flask) -> None:
    """Wrap the app-wide key and body checks so that they skip this blueprint. The body check
    may already be wrapped by the web pages (:mod:`api.web` skips its own blueprint the same
    way), so that wrapper is wrapped in turn: register the pages first. Both wrappers can go
    once ``check_request``/``check_body`` learn to skip blueprints themselves."""
    from api import auth
    from api.v1.bodies import check_body

    try:
        from api import web
    except ImportError:  # pragma: no cover - the pages are optional to the PACT host
        web = None
    targets = [auth.check_request, check_body, getattr(web, "_check_body_outside_web", None)]
    hooks = app.before_request_funcs.setdefault(None, [])
    for i, hook in enumerate(hooks):
        if any(hook is target for target in targets):
            hooks[i] = _skip_pact(hook)
    wrapped = [getattr(h, "__wrapped__", None) for h in hooks]
    if not any(w is auth.check_request for w in wrapped):
        raise RuntimeError("register the PACT blueprint after api.auth.init_app(app)")
    if not any(w is not None and w is not auth.check_request for w in wrapped):
        raise RuntimeError("register the PACT blueprint after the body check is installed")


def register(app: Flask) -> None:
    """Register the PACT blueprint on ``app`` (after ``auth.init_app``)."""
    app.config.setdefault(LIFETIME_CONFIG, 3600)
    app.config.setdefault(TRUSTED_PROXY_CONFIG, False)
    app.config.setdefault(CACHE_CONFIG, 256)
    budget = int(app.config[CACHE_CONFIG]) * 1024 * 1024
    app.extensions[EXTENSION] = PactState(payloads=PayloadCache(budget))
    app.register_blueprint(BLUEPRINT)
    _exempt_app_hooks(app)
