"""``/audit``: the certifier's page (certifiers and operators read it; certifiers act on it).

- Chain status: the full audit (DESIGN §3.3) run now, with the replay of every projection and
  rule and the operator-key rotation check, trusting exactly what ``GET /api/v1/audit``
  trusts (:func:`api.v1.audit.full_audit`): every finding by rule, seq, table and detail.
- The latest stored checkpoints, each signature line checked (operator, registered cosigner,
  or a key this service does not know).
- ``POST /audit/attest``: a certifier attests that a certificate's evidence (the platform's
  record, by its SHA-256) is what it checked at the source: one ``certificate.attested``
  entry appended through the domain log, whose rule refuses a hash that differs from the
  registered one.
- ``POST /audit/cosign``: the cosigning key never leaves the certifier. It runs
  ``greenledger checkpoint cosign`` (its own audit first) and pastes the cosigned note here;
  the note goes through the very function behind ``POST /api/v1/log/cosignatures``
  (:func:`api.v1.checkpoints.add_cosignature`): a valid cosignature by a key registered for
  the certifier's party, on the stored checkpoint's exact body, and a clean audit by the
  service itself, or it is refused with the reason.
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlmodel import Session, col

from api.auth import public
from api.problems import ApiProblem
from api.service import service
from api.v1.audit import full_audit
from api.v1.checkpoints import add_cosignature
from api.web.blueprint import bp
from api.web.forms import AttestForm, CosignForm, first_error
from api.web.log_facts import checkpoint_views
from api.web.signin import require_roles, signed_in
from ledger import access
from ledger.access import ApiPrincipal
from ledger.checkpoint import Verifier
from ledger.domain.full_audit import pinned_operator_keys
from ledger.domain.log_keys import key_history
from ledger.domain.tables import Certificate
from ledger.errors import GreenledgerError, RuleViolation
from ledger.store.tables import StoredCheckpoint

#: checkpoints listed, newest first; and certificates awaiting attestation
MAX_CHECKPOINTS, MAX_UNATTESTED = 20, 20
COSIGNATURES_PATH = "/api/v1/log/cosignatures"


def audit_data(who: ApiPrincipal) -> dict[str, Any]:
    svc = service()
    report = full_audit(svc)
    trusted = pinned_operator_keys(svc.settings.key_dir)
    with Session(svc.engine) as session:
        announced = [Verifier.from_vkey(v) for v in key_history(session)]
        cosigners = access.cosigners(session)
        stored = list(session.scalars(select(StoredCheckpoint).order_by(
            col(StoredCheckpoint.size).desc()).limit(MAX_CHECKPOINTS)))
        checkpoint_count = session.scalar(select(func.count()).select_from(StoredCheckpoint))
        unattested = list(session.scalars(select(Certificate).where(
            col(Certificate.attested_by).is_(None), col(Certificate.status) == "active")
            .order_by(col(Certificate.seq)).limit(MAX_UNATTESTED)))
        unattested_count = session.scalar(select(func.count()).select_from(Certificate).where(
            col(Certificate.attested_by).is_(None), col(Certificate.status) == "active"))
    return {
        "report": report,
        "checkpoints": checkpoint_views(stored, [*trusted, *announced], cosigners),
        "checkpoint_count": checkpoint_count,
        "cosigners": cosigners,
        "my_cosigners": [c.name for c in cosigners if c.party == who.party],
        "unattested": unattested,
        "unattested_count": unattested_count,
        "can_act": who.role == "certifier",
    }


@bp.get("/audit")
@public
@require_roles("certifier", "operator")
def audit_page() -> ResponseReturnValue:
    who = signed_in()
    assert who is not None
    return render_template("web/audit.html", attest_form=AttestForm(), cosign_form=CosignForm(),
                           **audit_data(who))


def _flash(kind: str, key: str, **params: Any) -> None:
    """A message for the next page, translated when it is shown (:func:`api.web.i18n.flashed`)."""
    flash(json.dumps({"key": key, "params": {k: str(v) for k, v in params.items()}}), kind)


@bp.get("/audit/attest")
@bp.get("/audit/cosign")
@public
def audit_forms_get() -> ResponseReturnValue:
    return redirect(url_for("web.audit_page"))


@bp.post("/audit/attest")
@public
@require_roles("certifier")
def attest() -> ResponseReturnValue:
    who = signed_in()
    assert who is not None
    form = AttestForm()
    if not form.validate_on_submit():
        _flash("error", first_error(form) or "form.csrf")
        return redirect(url_for("web.audit_page"))
    certificate, digest = form.certificate.data, form.evidence_sha256.data
    try:
        done = service().log.append("certificate.attested", who.party,
                                    {"certificate": certificate, "evidence_sha256": digest})
    except RuleViolation as exc:
        _flash("error", "attest.refused", certificate=certificate, rule=exc.rule,
               detail=exc.message)
    except GreenledgerError as exc:
        _flash("error", "attest.failed", certificate=certificate, detail=exc.message)
    else:
        _flash("ok", "attest.done", certificate=certificate, seq=done.seq)
    return redirect(url_for("web.audit_page"))


def post_cosignature(note: str, who: ApiPrincipal) -> dict[str, Any]:
    """Run ``POST /api/v1/log/cosignatures`` for ``who`` with ``note`` as its body, in process;
    return its JSON answer or raise its error (``ApiProblem`` or a ``GreenledgerError``)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with app.app_context(), app.test_request_context(
            COSIGNATURES_PATH, method="POST", data=note.encode("utf-8"),
            content_type="text/plain; charset=utf-8"):
        g.principal = who
        response = add_cosignature()
        return json.loads(response.get_data(as_text=True))  # type: ignore[no-any-return]


@bp.post("/audit/cosign")
@public
@require_roles("certifier")
def cosign() -> ResponseReturnValue:
    who = signed_in()
    assert who is not None
    form = CosignForm()
    if not form.validate_on_submit():
        _flash("error", first_error(form) or "form.csrf")
        return redirect(url_for("web.audit_page"))
    try:
        accepted = post_cosignature(form.note.data, who)
    except ApiProblem as exc:
        _flash("error", "cosign.refused", detail=exc.detail)
    except GreenledgerError as exc:
        _flash("error", "cosign.refused", detail=exc.message)
    else:
        _flash("ok", "cosign.done", size=accepted["size"], cosigner=accepted["cosigner"])
    return redirect(url_for("web.audit_page"))
