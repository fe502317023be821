"""PACT error responses (Tech Specs v3 index.md §Error Handling, openapi ``Error``).

The ``/3/...`` actions answer errors as ``{"code", "message"}`` with ``application/json``:
``BadRequest`` 400, ``AccessDenied`` 403, ``NotFound`` 404, ``TokenExpired`` 401,
``NotImplemented`` (400 in the spec's error table; openapi's enum comment says 501, the table is
followed here), ``InternalError`` 500. An unusable or missing access token is a 401 whose code
is ``BadRequest`` (what the conformance tool's test cases 6, 7 and 16 expect) with an RFC 6750
``WWW-Authenticate`` challenge. ``/auth/token`` answers RFC 6749 §5.2 bodies instead:
``{"error", "error_description"}`` (:class:`OAuthError`).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response

CODES = {"BadRequest": 400, "AccessDenied": 403, "NotFound": 404, "TokenExpired": 401,
         "NotImplemented": 400, "InternalError": 500}
REALM = 'Bearer realm="greenledger-pact"'


class PactError(Exception):
    """Raise in a PACT view: answered as ``{"code", "message"}``."""

    def __init__(self, code: str, message: str, *, status: int | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code, self.message = code, message
        self.status = status or CODES[code]
        self.headers = headers or {}


class OAuthError(Exception):
    """Raise in the token endpoint: answered as an RFC 6749 §5.2 error."""

    def __init__(self, error: str, description: str, *, status: int = 400,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status
        self.headers = headers or {}


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(obj, ensure_ascii=False, separators=(",", ":")), status=status,
                        mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(exc: PactError) -> Response:
    return json_response({"code": exc.code, "message": exc.message}, exc.status, exc.headers)


def oauth_response(exc: OAuthError) -> Response:
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache", **exc.headers}
    return json_response({"error": exc.error, "error_description": exc.description}, exc.status,
                         headers)


def invalid_token(message: str) -> PactError:
    return PactError("BadRequest", message, status=401,
                     headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'})


def missing_token() -> PactError:
    return PactError("BadRequest", "this action needs an access token from /auth/token: "
                     "Authorization: Bearer <token>", status=401,
                     headers={"WWW-Authenticate": REALM})


def expired_token() -> PactError:
    return PactError("TokenExpired", "The specified access token has expired",
                     headers={"WWW-Authenticate": f'{REALM}, error="invalid_token", '
                              'error_description="expired"'})
