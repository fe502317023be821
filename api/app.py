"""The Flask application factory of the greenledger service (DESIGN §7).

``create_app()`` with no argument reads the ``GREENLEDGER_*`` settings (DESIGN §8), so the
production command is simply::

    greenledger init    # once: schema (Alembic) and operator key
    gunicorn -w 2 -b 127.0.0.1:8000 'api.app:create_app()'
    # TLS: add --certfile cert.pem --keyfile key.pem

Each worker brings the schema up to date on start (a no-op once migrated; run
``greenledger init`` first so that workers never migrate concurrently) and keeps its own
connection pool (the migration's connections are closed before any request, so nothing is
shared across a fork). ``greenledger serve`` runs the same app on werkzeug's server.

What every response gets here: JSON errors as RFC 9457 problems (:mod:`api.problems`), API
key checks (:mod:`api.auth`), body checks (:mod:`api.v1.bodies`), and security headers
(``nosniff``, no framing, no referrer, a CSP that allows nothing to load, no caching of
answers to authenticated requests, HSTS over TLS).
"""

from __future__ import annotations

from flask import Response, request
from flask_openapi3 import Info, OpenAPI

from api import auth, problems, v1, web
from api.pact import register as register_pact
from api.service import EXTENSION, Service
from api.v1.bodies import check_body
from ledger.config import Settings, load_settings
from ledger.domain import domain_log
from ledger.domain.rules import Rules
from ledger.store.engine import make_engine
from ledger.store.migrate import upgrade

MAX_CONTENT_LENGTH = 25 * 1024 * 1024
CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Content-Security-Policy", CSP)
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if "Authorization" in request.headers:
        headers["Cache-Control"] = "no-store"
        headers.add("Vary", "Authorization")
    return response


def create_app(settings: Settings | None = None, *, testing: bool = False) -> OpenAPI:
    settings = settings or load_settings()
    app = OpenAPI(__name__, info=Info(title="greenledger API", version="1"), doc_ui=False,
                  validation_error_callback=problems.from_validation, static_folder=None)
    app.config.update(MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH, TESTING=testing)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    app.extensions[EXTENSION] = Service(settings, engine, domain_log(engine, Rules()))
    problems.register(app)
    auth.init_app(app)
    app.before_request(check_body)
    app.after_request(_security_headers)
    v1.register(app)
    web.register(app)
    register_pact(app)
    return app
