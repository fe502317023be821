"""Request bodies, checked before any view runs.

- A body larger than ``MAX_CONTENT_LENGTH`` is refused with 413 before it is read.
- A JSON body must be well-formed UTF-8 JSON (RFC 8259) without ``NaN``/``Infinity`` and
  without lone surrogates (which have no UTF-8 form, so no canonical entry bytes): anything
  else is a 400 problem saying where it broke. The pydantic models then check its shape
  (422 naming the field).
- A view takes JSON unless it is marked :func:`text_body` (the cosigned checkpoint note is
  ``text/plain``); a non-empty body of another media type is a 415 problem.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, request

from api.problems import ApiProblem

F = TypeVar("F", bound=Callable[..., Any])
TEXT_BODY_ATTR = "_greenledger_text_body"
_WRITES = ("POST", "PUT", "PATCH")


def text_body(func: F) -> F:
    """Mark a view whose body is ``text/plain``."""
    setattr(func, TEXT_BODY_ATTR, True)
    return func


def takes_text(view: Callable[..., Any] | None) -> bool:
    return bool(getattr(view, TEXT_BODY_ATTR, False))


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def check_body() -> None:
    """``before_request``: size, media type and JSON syntax of the body."""
    if request.method not in _WRITES or request.endpoint is None:
        return
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is not None and (request.content_length or 0) > limit:
        raise ApiProblem(413, "too-large", f"the request body is larger than {limit} bytes")
    data = request.get_data(cache=True)
    if not data:
        return
    view = current_app.view_functions.get(request.endpoint)
    if takes_text(view):
        if request.mimetype not in ("text/plain", ""):
            raise ApiProblem(415, "unsupported-media-type", "send the note as text/plain")
        return
    if not (request.mimetype == "application/json" or request.mimetype.endswith("+json")):
        raise ApiProblem(415, "unsupported-media-type",
                         "send the body as application/json", field="Content-Type")
    try:
        text = data.decode("utf-8")
        value = json.loads(text, parse_constant=_refuse_constant)
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError) as exc:
        raise ApiProblem(400, "malformed-json", "the body is not UTF-8 JSON: "
                         f"{type(exc).__name__} ({exc.reason})", field="body") from exc
    except json.JSONDecodeError as exc:
        raise ApiProblem(400, "malformed-json", f"the body is not valid JSON: {exc.msg} at line "
                         f"{exc.lineno} column {exc.colno}", field="body") from exc
    except ValueError as exc:
        raise ApiProblem(400, "malformed-json", f"the body is not valid JSON: {exc}",
                         field="body") from exc
