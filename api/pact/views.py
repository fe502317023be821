"""The PACT v3 actions (see :mod:`api.pact` for the whole; spec references inline)."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any
from urllib.parse import unquote_plus, urlencode

from flask import Blueprint, Response, current_app, request
from sqlalchemy import Connection, select
from sqlmodel import Session
from werkzeug.exceptions import HTTPException

from api.pact import tokens
from api.pact.errors import (
    OAuthError,
    PactError,
    error_response,
    expired_token,
    invalid_token,
    json_response,
    missing_token,
    oauth_response,
)
from api.pact.events import Context, PactState, handle, parse_event
from api.pact.filters import FilterError, criteria
from api.pact.index import may_see, payload_texts
from api.service import service
from certificates.pact_client_peers import PeerStore
from ledger import access
from ledger.access import ApiKey
from ledger.errors import GreenledgerError, InputError

log = logging.getLogger("greenledger.pact")

BLUEPRINT = Blueprint("pact", __name__)
EXTENSION = "greenledger.pact"
LIFETIME_CONFIG = "GREENLEDGER_PACT_TOKEN_TTL"
TRUSTED_PROXY_CONFIG = "GREENLEDGER_TRUSTED_PROXY"
CACHE_CONFIG = "GREENLEDGER_PACT_CACHE_MB"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
EVENT_MEDIA_TYPES = ("application/cloudevents+json", "application/json")
_KEY = ApiKey.__table__  # type: ignore[attr-defined]


def state() -> PactState:
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]


# --- transport: HTTPS only, our own origin ------------------------------------------------

def _trusted_proxy() -> bool:
    return bool(current_app.config.get(TRUSTED_PROXY_CONFIG))


def _forwarded(name: str) -> str:
    return request.headers.get(name, "").split(",")[0].strip()


def is_https() -> bool:
    if request.is_secure:
        return True
    return _trusted_proxy() and _forwarded("X-Forwarded-Proto").lower() == "https"


def base_url() -> str:
    """``scheme://host[:port][script root]`` as the client reached us (Host header)."""
    if _trusted_proxy():
        scheme = _forwarded("X-Forwarded-Proto").lower() or request.scheme
        host = _forwarded("X-Forwarded-Host") or request.host
    else:
        scheme, host = request.scheme, request.host
    return f"{scheme}://{host}{request.script_root}"


def _require_https(*, oauth: bool = False) -> None:
    if is_https():
        return
    message = "PACT is served over HTTPS only; use https:// (spec v3 §Host System)"
    if oauth:
        raise OAuthError("invalid_request", message)
    raise PactError("AccessDenied", message)


# --- authentication -----------------------------------------------------------------------

def _ttl() -> int:
    return max(1, int(current_app.config.get(LIFETIME_CONFIG, tokens.DEFAULT_TTL)))


def _secret() -> bytes:
    return tokens.secret(service().settings.key_dir)


def caller(conn: Connection) -> tokens.Claims:
    """The claims of the request's valid access token whose API key is not revoked."""
    header = request.headers.get("Authorization")
    if not header:
        raise missing_token()
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise invalid_token("send the access token as Authorization: Bearer <token>")
    try:
        claims = tokens.verify(_secret(), token.strip())
    except tokens.TokenExpired:
        raise expired_token() from None
    except tokens.TokenInvalid as exc:
        raise invalid_token(f"Invalid access token: {exc}") from None
    revoked = conn.execute(select(_KEY.c.revoked_at).where(_KEY.c.key_id == claims.key_id)).first()
    if revoked is None or revoked[0] is not None:
        raise invalid_token("the credentials this token was issued for are revoked")
    return claims


def _client_credentials() -> tuple[str, str]:
    basic = request.authorization
    form_id, form_secret = request.form.get("client_id"), request.form.get("client_secret")
    if basic is not None and basic.type == "basic":
        if form_secret:
            raise OAuthError("invalid_request", "use one client authentication method, not two")
        return unquote_plus(basic.username or ""), unquote_plus(basic.password or "")
    if form_id and form_secret:
        return form_id, form_secret
    raise OAuthError("invalid_client", "client authentication (HTTP Basic client_id:client_secret) "
                     "is required", status=401,
                     headers={"WWW-Authenticate": 'Basic realm="greenledger-pact"'})


@BLUEPRINT.post("/auth/token")
def auth_token() -> Response:
    """Action Authenticate: RFC 6749 §4.4 client credentials (spec v3 §Authentication Flow)."""
    _require_https(oauth=True)
    client_id, client_secret = _client_credentials()
    from api.auth import LIMITER

    limiter = current_app.extensions.get(LIMITER)
    address = request.remote_addr or "unknown"
    if limiter is not None and limiter.wait(address) > 0:
        raise OAuthError("invalid_client", "too many failed attempts from this address; retry "
                         "later", status=429, headers={"Retry-After": "60"})
    with Session(service().engine) as session:
        principal = access.authenticate_client(session, client_id, client_secret)
        session.commit()
    if principal is None:
        if limiter is not None:
            limiter.fail(address)
        raise OAuthError("invalid_client", "Authentication failed", status=401,
                         headers={"WWW-Authenticate": 'Basic realm="greenledger-pact"'})
    grant = request.form.get("grant_type")
    if not grant:
        raise OAuthError("invalid_request", "grant_type is required: client_credentials")
    if grant != "client_credentials":
        raise OAuthError("unsupported_grant_type", f"only client_credentials is supported, "
                         f"not {grant[:40]!r}")
    ttl = _ttl()
    token = tokens.issue(_secret(), key_id=principal.key_id, party=principal.party,
                         role=principal.role, ttl=ttl)
    return json_response({"access_token": token, "token_type": "Bearer", "expires_in": ttl},
                         headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@BLUEPRINT.get("/.well-known/openid-configuration")
def openid_configuration() -> Response:
    """Where the token endpoint is (spec v3 §Obtaining an Access Token)."""
    _require_https()
    base = base_url()
    return json_response({
        "issuer": base,
        "token_endpoint": f"{base}/auth/token",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "response_types_supported": ["token"],
    })


# --- footprints ---------------------------------------------------------------------------

def _limit() -> int:
    raw = request.args.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or int(raw) < 1:
        raise PactError("BadRequest", f"limit must be a positive integer, got {raw!r}")
    return min(int(raw), MAX_LIMIT)


def _cursor() -> tuple[int, int] | None:
    raw = request.args.get("cursor")
    if raw is None:
        return None
    after, _, upto = raw.partition(".")
    if not (after.isdigit() and upto.isdigit()):
        raise PactError("BadRequest", "this pagination cursor is not one of ours")
    return int(after), int(upto)


def _criteria() -> Any:
    if any(k.startswith("$") for k in request.args):
        raise PactError("NotImplemented", "OData query options ($filter) were removed in PACT "
                        "v3; use the filter parameters productId, companyId, geography, "
                        "classification, validOn, validAfter, validBefore, status")
    try:
        return criteria(request.args.items(multi=True))
    except FilterError as exc:
        raise PactError("BadRequest", str(exc)) from None


@BLUEPRINT.get("/3/footprints")
def list_footprints() -> Response:
    """Action ListFootprints (openapi ``/3/footprints``; filters in :mod:`api.pact.filters`)."""
    _require_https()
    limit, cursor, wanted = _limit(), _cursor(), _criteria()
    index = state().index
    with service().engine.connect() as conn:
        claims = caller(conn)
        index.refresh(conn)
        after, upto = cursor if cursor is not None else (-1, index.last_order())
        items, more = index.page(wanted, party=claims.party, role=claims.role, limit=limit,
                                 after=after, upto=upto)
        texts = payload_texts(conn, items, state().payloads)
    response = Response(b'{"data":[' + b",".join(texts) + b"]}", mimetype="application/json")
    if more:
        kept = [(k, v) for k, v in request.args.items(multi=True)
                if k.lower() not in ("limit", "cursor")]
        query = urlencode([*kept, ("limit", str(limit)), ("cursor", f"{items[-1].order}.{upto}")])
        response.headers["Link"] = f'<{base_url()}/3/footprints?{query}>; rel="next"'
    return response


@BLUEPRINT.get("/3/footprints/<path:footprint_id>")
def get_footprint(footprint_id: str) -> Response:
    """Action GetFootprint: 404 NotFound, 403 AccessDenied (openapi ``/3/footprints/{id}``)."""
    _require_https()
    index = state().index
    with service().engine.connect() as conn:
        claims = caller(conn)
        index.refresh(conn)
        try:
            item = index.get(str(uuid.UUID(footprint_id)))
        except ValueError:
            item = None
        if item is None:
            raise PactError("NotFound", f"Footprint with ID {footprint_id[:80]!r} does not exist")
        if not may_see(item, claims.party, claims.role):
            raise PactError("AccessDenied", "Access denied: this footprint is not shared with "
                            "your organisation")
        (text,) = payload_texts(conn, [item], state().payloads)
    return Response(b'{"data":' + text + b"}", mimetype="application/json")


# --- events -------------------------------------------------------------------------------

@BLUEPRINT.post("/3/events")
def events() -> Response:
    """Action Events (openapi ``/3/events``; see :mod:`api.pact.events`)."""
    _require_https()
    engine = service().engine
    with engine.connect() as conn:
        claims = caller(conn)
    if request.mimetype not in EVENT_MEDIA_TYPES:
        raise PactError("BadRequest", "send the event as application/cloudevents+json "
                        "(CloudEvents structured mode)")
    try:
        body = json.loads(request.get_data(cache=False).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise PactError("BadRequest", "the body is not UTF-8 JSON") from None
    event = parse_event(body)
    handle(event, Context(engine=engine, store=PeerStore(service().settings.key_dir),
                          state=state(), party=claims.party, role=claims.role,
                          own_source=f"{base_url()}/3/events"))
    return Response(status=200)


# --- errors -------------------------------------------------------------------------------

@BLUEPRINT.errorhandler(PactError)
def _pact_error(exc: PactError) -> Response:
    return error_response(exc)


@BLUEPRINT.errorhandler(OAuthError)
def _oauth_error(exc: OAuthError) -> Response:
    return oauth_response(exc)


@BLUEPRINT.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    if request.endpoint == f"{BLUEPRINT.name}.auth_token":
        return oauth_response(OAuthError("invalid_request", exc.description or "bad request",
                                         status=status))
    code = {403: "AccessDenied", 404: "NotFound"}.get(status, "BadRequest")
    return error_response(PactError(code, exc.description or "Bad Request", status=status))


@BLUEPRINT.errorhandler(GreenledgerError)
def _domain_error(exc: GreenledgerError) -> Response:
    if isinstance(exc, InputError):
        return error_response(PactError("BadRequest", str(exc)))
    log.error("PACT %s %s: %s", request.method, request.path, exc)
    return error_response(PactError("InternalError", "An internal or unexpected error has "
                                    "occurred; the operator has been told"))


@BLUEPRINT.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    log.error("unexpected error on PACT %s %s", request.method, request.path,
              exc_info=(type(exc), exc, exc.__traceback__))
    return error_response(PactError("InternalError", "An internal or unexpected error has "
                                    "occurred; the error was logged"))
