"""The language of a page (zh or en) and its strings.

Two languages and about two hundred short strings: a plain catalog (:mod:`api.web.strings`,
one entry per message id with its ``zh`` and ``en`` text) is all the pages need. gettext
catalogs (flask-babel) would add a compile step (``.po`` → ``.mo``) and binary files to a
repository that has no build step, for plural rules and locale formats that two languages
with invariant nouns do not use. A lookup of an unknown id raises, so rendering every page in
both languages (the tests do) proves the catalog complete.

The language is chosen by ``?lang=zh|en`` on any page (remembered in a ``lang`` cookie for a
year), else the cookie, else Chinese: the pages serve Yunnan's smelters first.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from flask import g, request

from api.web.strings import STRINGS

LANGUAGES = ("zh", "en")
DEFAULT = "zh"
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
HTML_LANG = {"zh": "zh-CN", "en": "en"}


def choose_language() -> None:
    """``before_request``: the page's language, and whether to remember a new choice."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        g.web_lang = asked
        g.web_lang_changed = request.cookies.get(COOKIE) != asked
        return
    kept = request.cookies.get(COOKIE)
    g.web_lang = kept if kept in LANGUAGES else DEFAULT
    g.web_lang_changed = False


def language() -> str:
    return str(getattr(g, "web_lang", DEFAULT))


def t(key: str, *, lang: str | None = None, **params: Any) -> str:
    """The text of message ``key`` in the page's language, ``{name}`` fields filled in."""
    text = STRINGS[key][lang or language()]
    return text.format(**params) if params else text


def flashed(message: str) -> str:
    """The text of a flashed ``{"key", "params"}`` message in the page's language."""
    data = json.loads(message)
    return t(data["key"], **data["params"])


def has_text(key: str) -> bool:
    return key in STRINGS


def number(value: Decimal | int, places: int = 0) -> str:
    """A quantity for display: grouped thousands, ``places`` decimals (half-even)."""
    quantum = Decimal(1).scaleb(-places)
    return f"{Decimal(value).quantize(quantum):,}"


def other_language_url(lang: str) -> str:
    """This page in ``lang``: the same path and query with ``lang`` replaced (a GET; every
    page that answers a form also answers GET at its path)."""
    args = request.args.to_dict(flat=False) if request.method == "GET" else {}
    args["lang"] = [lang]
    return f"{request.path}?{urlencode(args, doseq=True)}"
