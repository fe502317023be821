"""The web pages (DESIGN §7 "Web pages"): server-rendered Jinja, Chinese and English, no script.

=======================  ===============================================================
``/``                    verify: upload a declaration PDF, or look one up by id
``POST /verify``         the verdict on an uploaded PDF, check by check
``/verify/<id>``         the QR landing page of a declaration (public facts, proofs, cosigners)
``/declarations/<id>.pdf``  the signed PDF, for its issuer, its buyer, operators, certifiers
``/login``, ``/logout``  sign in with an API key (a session cookie), sign out
``/dashboard``           a producer's inventory, batches, footprint chart, declarations
``/audit``               the certifier's page: audit, checkpoints, attest, cosign
=======================  ===============================================================

Modules: :mod:`~api.web.blueprint` (what every page shares), :mod:`~api.web.i18n` and
:mod:`~api.web.strings` (languages), :mod:`~api.web.signin` (sessions), :mod:`~api.web.forms`,
one module per page group (:mod:`~api.web.verifying`, :mod:`~api.web.dashboard`,
:mod:`~api.web.auditing`) and what they compute (:mod:`~api.web.trust`,
:mod:`~api.web.log_facts`, :mod:`~api.web.charts`).
"""

from __future__ import annotations

from flask import Flask, request

from api.service import EXTENSION, Service
from api.v1.bodies import check_body
from api.web import auditing, dashboard, signin, verifying  # noqa: F401  (their routes join bp)
from api.web.blueprint import NAME, bp

__all__ = ["register"]


def _check_body_outside_web() -> None:
    # api.pact wraps this wrapper in turn (it looks it up by name): keep the name
    if request.blueprint == NAME:
        return None
    return check_body()


def _admit_form_posts(app: Flask) -> None:
    """Let the pages' form posts past the JSON API's body check.

    :func:`api.v1.bodies.check_body` (an app-wide ``before_request``) answers 415 to any POST
    body that is neither JSON nor a ``text/plain`` note, so a browser's form
    (``application/x-www-form-urlencoded``, ``multipart/form-data``) would never reach a page.
    Here the check is replaced by one that skips the ``web`` blueprint; its size limit still
    holds there (werkzeug refuses a form larger than ``MAX_CONTENT_LENGTH`` with 413). This
    belongs in ``check_body`` itself; it can go once that skips the pages.
    """
    funcs = app.before_request_funcs.setdefault(None, [])
    for i, func in enumerate(funcs):
        if func is check_body:
            funcs[i] = _check_body_outside_web


def register(app: Flask) -> None:
    """Add the pages to ``app`` (after :func:`api.app.create_app` set up the service)."""
    service: Service = app.extensions[EXTENSION]
    signin.init_sessions(app, service.settings.home)
    _admit_form_posts(app)
    app.register_blueprint(bp)
