"""The ``web`` blueprint: what every page shares (templates, style sheet, language, headers,
error pages).

Errors on a page are pages too: an HTTP error in the visitor's language, and anything
unexpected logged and answered with a 500 page that names no internals (the JSON API keeps its
problem+json answers).

Pages are Jinja templates in ``templates/web/`` rendered on the server; the only other file is
one style sheet. Charts are inline SVG drawn on the server. There is no script at all, so the
pages' Content-Security-Policy allows nothing but this site's style sheet and forms posting
back to this site (the JSON API keeps the stricter policy that :func:`api.app.create_app` sets
on everything else). HTML pages are never cached: they carry CSRF tokens, verdicts and, once
signed in, a party's own figures.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Blueprint, g, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from api.web import i18n
from ledger.domain.fields import milli_to_decimal
from ledger.errors import GreenledgerError, NotFound

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
NAME = "web"
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")

log = logging.getLogger("greenledger.web")

bp = Blueprint(NAME, __name__, template_folder=str(TEMPLATES),
               static_folder=str(TEMPLATES / "web" / "static"), static_url_path="/web/static")

bp.before_request(i18n.choose_language)


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    if getattr(g, "web_lang_changed", False):
        response.set_cookie(i18n.COOKIE, i18n.language(), max_age=i18n.COOKIE_MAX_AGE,
                            samesite="Lax", httponly=True, secure=request.is_secure)
    return response


@bp.app_template_global("t")
def _t(key: str, **params: Any) -> str:
    return i18n.t(key, **params)


@bp.context_processor
def _page() -> dict[str, object]:
    lang = i18n.language()
    return {"lang": lang, "html_lang": i18n.HTML_LANG[lang], "number": i18n.number,
            "switch_url": i18n.other_language_url, "has_text": i18n.has_text,
            "flashed": i18n.flashed,
            "mwh": milli_to_decimal}


def error_page(status: int, message_key: str) -> ResponseReturnValue:
    return render_template("web/error.html", status=status, message_key=message_key), status


_ERROR_KEYS = {400: "error.bad_request", 403: "error.forbidden", 404: "error.not_found",
               405: "error.bad_request", 413: "error.too_large", 429: "error.rate_limited"}


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> ResponseReturnValue:
    status = exc.code or 500
    return error_page(status, _ERROR_KEYS.get(status, "error.unexpected"))


@bp.errorhandler(NotFound)
def _not_found(exc: NotFound) -> ResponseReturnValue:
    return error_page(404, "error.not_found")


@bp.errorhandler(GreenledgerError)
@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> ResponseReturnValue:
    """A failure the page cannot explain (a missing key file, a bug): logged here, without
    request headers or form fields, and answered with a page that names no internals."""
    log.error("web page %s %s failed", request.method, request.path,
              exc_info=(type(exc), exc, exc.__traceback__))
    return error_page(500, "error.unexpected")
