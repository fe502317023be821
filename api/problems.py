"""Errors as RFC 9457 ``application/problem+json``, and what they may say.

Every error response of the service is a problem object with ``type``, ``title``,
``status``, ``detail`` and, where one input is at fault, ``field``; a domain rule's refusal
adds ``rule``, ``limit`` and ``got``; a validation error lists every failing field in
``errors``. HTTP errors (404, 405, 413...) take the same shape. Nothing else reaches the
client: an unexpected exception is logged here (without request headers, so no key) and
answered with a 500 that names no internals.

Confidentiality (DESIGN §7). A refusal must not leak another party's records. The API checks
before appending that every record a write names is one the caller may read (so "not yours"
and "does not exist" are the same 404), but some rules are about the whole ledger and must
refuse on the strength of other parties' records: a GEC serial range that overlaps one
registered by anybody (``certificate.unique-serial``), a plant-month claimed through the other
registry (``certificate.one-registry``). Their refusal stays, with rule and field; their
message (which names the other record and its ``seq``), ``limit`` and ``got`` are replaced by
a generic text for callers who may not read everything. The same holds for rules whose
message names another party (``shipment.seller``, ``allocation.owner``) and for
``PermissionDenied`` (whose message names the owner).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, request
from pydantic import BaseModel, ConfigDict, ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from ledger.errors import (
    ConfigError,
    Conflict,
    GreenledgerError,
    KeyFileError,
    NotFound,
    PermissionDenied,
    RuleViolation,
)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:greenledger:problem:"

log = logging.getLogger("greenledger.api")


class Problem(BaseModel):
    """An RFC 9457 problem object (``application/problem+json``)."""

    model_config = ConfigDict(extra="forbid")

    type: str
    title: str
    status: int
    detail: str
    field: str | None = None
    rule: str | None = None
    limit: str | None = None
    got: str | None = None
    errors: list[dict[str, str]] | None = None


#: rules refused on the strength of other parties' records -> what a caller is told instead
CONFIDENTIAL_RULES: dict[str, str] = {
    "certificate.unique-serial": "these serials overlap serials already registered in the "
                                 "ledger; a serial can be registered only once",
    "certificate.one-registry": "this plant and month of generation are already claimed "
                                "through another registry; a plant-month is claimed through "
                                "one registry only",
    "shipment.seller": "only the producer of a batch ships it",
    "allocation.owner": "a certificate is retired to its owner's own batches",
}
PERMISSION_DENIED_TEXT = "you may not act for the owner of this record"

_STATUS_OF: tuple[tuple[type[GreenledgerError], int], ...] = (
    (NotFound, 404), (Conflict, 409), (PermissionDenied, 403),
    (ConfigError, 500), (KeyFileError, 500),
)
_TITLES = {
    400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
    405: "Method not allowed", 409: "Conflict", 413: "Request too large",
    415: "Unsupported media type", 422: "Unprocessable content", 429: "Too many requests",
    500: "Internal server error", 501: "Not implemented", 503: "Service unavailable",
}


class ApiProblem(Exception):
    """Raise from a view to answer with a problem (status, code, detail, headers)."""

    def __init__(self, status: int, code: str, detail: str, *, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.field = field
        self.headers = headers or {}


def problem(status: int, code: str, detail: str, *, field: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> Response:
    body = Problem(type=TYPE_BASE + code, title=_TITLES.get(status, "Error"), status=status,
                   detail=detail, field=field, **extra)
    response = Response(body.model_dump_json(exclude_none=True), status=status,
                        mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _reader_sees_all() -> bool:
    principal = getattr(g, "principal", None)
    return principal is not None and principal.role in ("operator", "certifier")


def from_error(exc: GreenledgerError) -> Response:
    """The problem for a domain error, stripped of other parties' data (module docstring)."""
    status = next((s for cls, s in _STATUS_OF if isinstance(exc, cls)), 422)
    if status == 500:
        log.error("configuration error on %s %s: %s", request.method, request.path, exc)
        return problem(500, "configuration", "the service is not configured to do this; "
                       "the operator has been told")
    if isinstance(exc, PermissionDenied) and not _reader_sees_all():
        return problem(status, exc.code, PERMISSION_DENIED_TEXT, field=exc.field)
    if isinstance(exc, RuleViolation):
        if exc.rule in CONFIDENTIAL_RULES and not _reader_sees_all():
            return problem(status, exc.code, CONFIDENTIAL_RULES[exc.rule], field=exc.field,
                           rule=exc.rule)
        return problem(status, exc.code, exc.message, field=exc.field, rule=exc.rule,
                       limit=None if exc.limit is None else str(exc.limit),
                       got=None if exc.got is None else str(exc.got))
    return problem(status, exc.code, exc.message, field=exc.field)


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def from_validation(exc: ValidationError) -> Response:
    """A pydantic validation error: 422, naming the first failing field and listing all."""
    errors = []
    for err in exc.errors(include_url=False, include_input=False, include_context=False):
        field = _loc(tuple(err["loc"])) or "body"
        errors.append({"field": field, "detail": err["msg"]})
    first = errors[0] if errors else {"field": "body", "detail": "invalid"}
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return problem(422, "invalid-input", f"{first['field']}: {first['detail']}{more}",
                   field=first["field"], errors=errors)


def _from_http(exc: HTTPException) -> Response:
    status = exc.code or 500
    headers = {}
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    codes = {404: "not-found", 405: "method-not-allowed", 413: "too-large", 400: "bad-request",
             415: "unsupported-media-type"}
    detail = {
        404: "no such resource",
        405: f"{request.method} is not allowed here",
        413: "the request body is larger than this service accepts",
    }.get(status, exc.description or _TITLES.get(status, "error"))
    return problem(status, codes.get(status, "http-error"), detail, headers=headers)


def register(app: Flask) -> None:
    """Install the handlers that turn every error into a problem."""

    @app.errorhandler(ApiProblem)
    def _api_problem(exc: ApiProblem) -> Response:
        return problem(exc.status, exc.code, exc.detail, field=exc.field, headers=exc.headers)

    @app.errorhandler(GreenledgerError)
    def _domain(exc: GreenledgerError) -> Response:
        return from_error(exc)

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError) -> Response:
        return from_validation(exc)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        if exc.response is not None:
            return exc.response  # type: ignore[return-value]
        return _from_http(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.error("unexpected error on %s %s", request.method, request.path,
                  exc_info=(type(exc), exc, exc.__traceback__))
        return problem(500, "internal", "the service failed to answer; the error was logged")

