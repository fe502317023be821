"""Verifying a declaration: the home page, the verdict on an uploaded PDF, the QR landing page
``/verify/<id>`` (the URL printed in every declaration's QR code) and the PDF itself.

- ``GET /`` — upload a PDF, or type a declaration id (``GET /lookup?id=`` → ``/verify/<id>``).
- ``POST /verify`` — the verdict on the upload: valid, invalid or could not check, each check by
  name (:mod:`api.web.trust`: what ``greenledger verify --online`` would say against this
  ledger), the declaration's status here and which certifiers cosigned a checkpoint covering it.
- ``GET /verify/<id>`` — public facts only (DESIGN §7): status (revoked with its reason,
  superseded by which), the issued entry's seq and leaf hash, the inclusion proof checked now
  against the latest checkpoint, the cosigners; for a signed-in party that may read the
  declaration (its issuer, its buyer, an operator or a certifier) also the shipment, the
  parties and a link to the PDF. ``POST /verify/<id>`` verifies the buyer's own copy and says
  whether it is this declaration.
- ``GET /declarations/<id>.pdf`` — the signed PDF, for those same readers; to anyone else an
  existing declaration is a 404 like a missing one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import Response, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlmodel import Session

from api.auth import public
from api.service import service
from api.web.blueprint import bp
from api.web.forms import VerifyUploadForm, first_error
from api.web.log_facts import (
    Cosigned,
    PublicFacts,
    cosigned_covering,
    inclusion_now,
    public_facts,
)
from api.web.signin import redirect_to_login, signed_in
from api.web.trust import operator_keys, verify_upload
from certificates.issuing import declaration_pdf
from certificates.verify import Report
from ledger.domain.tables import Declaration, Party
from ledger.domain.visibility import may_read_row

#: the checks a verdict lists, in the verifier's order (labels in :mod:`api.web.strings`)
CHECK_NAMES = ("pdf-readable", "signature-intact", "signer-trusted", "attachment-present",
               "payload-signature", "printed-figures", "ledger-entry", "inclusion-proof",
               "online-status", "online-consistency")


def declaration_id_or_none(text: str | None) -> str | None:
    try:
        return str(uuid.UUID((text or "").strip()))
    except ValueError:
        return None


@dataclass(frozen=True)
class Verdict:
    report: Report
    outcome: str  # valid | invalid | unknown (could not check)
    facts: PublicFacts | None  # of the declaration the PDF names, if this ledger has it
    cosigned: list[Cosigned]
    expected_id: str | None = None  # the page's declaration, when a copy was uploaded there

    @property
    def same_declaration(self) -> bool | None:
        if self.expected_id is None:
            return None
        return self.report.declaration_id == self.expected_id


def _outcome(report: Report) -> str:
    return {0: "valid", 1: "invalid"}.get(report.exit_code, "unknown")


def _verdict(data: bytes, expected_id: str | None) -> Verdict:
    svc = service()
    report = verify_upload(svc.settings, data)
    facts, cosigned = None, []
    named = declaration_id_or_none(report.declaration_id)
    if named is not None:
        with Session(svc.engine) as session:
            facts = public_facts(session, named)
            if facts is not None:
                cosigned = cosigned_covering(session, facts.issued_seq)
    return Verdict(report, _outcome(report), facts, cosigned, expected_id)


def _uploaded(form: VerifyUploadForm) -> bytes:
    return bytes(form.pdf.data.read())


@bp.get("/")
@public
def home() -> ResponseReturnValue:
    return render_template("web/home.html", form=VerifyUploadForm(), lookup_error=None)


@bp.get("/lookup")
@public
def lookup() -> ResponseReturnValue:
    found = declaration_id_or_none(request.args.get("id"))
    if found is None:
        return render_template("web/home.html", form=VerifyUploadForm(),
                               lookup_error="lookup.not_an_id",
                               lookup_value=request.args.get("id", "")[:80]), 400
    return redirect(url_for("web.declaration_page", declaration_id=found))


@bp.get("/verify")
@public
def verify_form() -> ResponseReturnValue:
    return redirect(url_for("web.home"))


@bp.post("/verify")
@public
def verify_upload_page() -> ResponseReturnValue:
    form = VerifyUploadForm()
    if not form.validate_on_submit():
        return render_template("web/home.html", form=form, upload_error=first_error(form),
                               lookup_error=None), 400
    verdict = _verdict(_uploaded(form), None)
    return render_template("web/verdict.html", verdict=verdict, check_names=CHECK_NAMES)


def _declaration_context(declaration_id: str) -> dict[str, object]:
    svc = service()
    who = signed_in()
    with Session(svc.engine) as session:
        facts = public_facts(session, declaration_id)
        if facts is None:
            abort(404)
        cosigned = cosigned_covering(session, facts.issued_seq)
        readable = who is not None and may_read_row(session, Declaration, declaration_id,
                                                    party=who.party, role=who.role)
        private = None
        if readable:
            row = session.get(Declaration, declaration_id)
            assert row is not None
            names = _party_names(session, row.issuer, row.buyer)
            private = {"shipment": row.shipment_id, "issuer": names.get(row.issuer, row.issuer),
                       "buyer": names.get(row.buyer, row.buyer)}
    inclusion = inclusion_now(svc.log, facts.issued_seq, operator_keys(svc.settings))
    return {"facts": facts, "cosigned": cosigned, "inclusion": inclusion, "readable": readable,
            "private": private, "signed_in": who is not None}


def _party_names(session: Session, *ids: str) -> dict[str, str]:
    out = {}
    for party_id in ids:
        row = session.get(Party, party_id)
        if row is not None:
            out[party_id] = row.name
    return out


@bp.get("/verify/<declaration_id>")
@public
def declaration_page(declaration_id: str) -> ResponseReturnValue:
    found = declaration_id_or_none(declaration_id)
    if found is None:
        abort(404)
    if found != declaration_id:
        return redirect(url_for("web.declaration_page", declaration_id=found))
    return render_template("web/declaration.html", form=VerifyUploadForm(),
                           **_declaration_context(found))


@bp.post("/verify/<declaration_id>")
@public
def verify_copy(declaration_id: str) -> ResponseReturnValue:
    found = declaration_id_or_none(declaration_id)
    if found is None:
        abort(404)
    form = VerifyUploadForm()
    if not form.validate_on_submit():
        return render_template("web/declaration.html", form=form, upload_error=first_error(form),
                               **_declaration_context(found)), 400
    verdict = _verdict(_uploaded(form), found)
    return render_template("web/verdict.html", verdict=verdict, check_names=CHECK_NAMES)


@bp.get("/declarations/<declaration_id>.pdf")
@public
def declaration_pdf_download(declaration_id: str) -> ResponseReturnValue:
    who = signed_in()
    if who is None:
        return redirect_to_login()
    found = declaration_id_or_none(declaration_id)
    if found is None:
        abort(404)
    svc = service()
    with Session(svc.engine) as session:
        if not may_read_row(session, Declaration, found, party=who.party, role=who.role):
            abort(404)
    return Response(declaration_pdf(svc.engine, found), mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="declaration-{found}.pdf"',
        "Cache-Control": "no-store"})
