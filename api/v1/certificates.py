"""``/api/v1/certificates``: green-power certificates (GEC, I-REC) and their lifecycle.

A producer registers, transfers (a tradable GEC, once) and cancels its own certificates; a
certifier attests a certificate's evidence after checking it at the source. Each is one entry
(``certificate.registered`` / ``.transferred`` / ``.cancelled`` / ``.attested``).
"""

from __future__ import annotations

from flask import Response
from flask_openapi3 import APIBlueprint, Tag

from api.auth import authenticated, principal, roles
from api.schemas.common import IdempotencyHeader, ListQuery
from api.schemas.registry import (
    CertificateAttest,
    CertificateCancel,
    CertificateCreate,
    CertificatePage,
    CertificatePublic,
    CertificateTransfer,
    CertificateWritten,
)
from api.v1.paths import PREFIX, CertificatePath, location, operation_id
from api.v1.responses import item, list_page, visible_row
from api.v1.writing import append, entry_body, written
from ledger.domain.certificates import certificate_id
from ledger.domain.tables import Certificate

bp = APIBlueprint("certificates", __name__, url_prefix=f"{PREFIX}/certificates",
                  abp_tags=[Tag(name="certificates")],
                  operation_id_callback=operation_id)


@bp.get("", responses={200: CertificatePage}, summary="List the certificates the caller may read")
@authenticated
def list_certificates(query: ListQuery) -> Response:
    return list_page(Certificate, query, CertificatePage,
                     lambda _s, rows: [CertificatePublic.of(r) for r in rows])


@bp.post("", responses={201: CertificateWritten}, summary="Register a certificate range (producer)")
@roles("producer")
def create_certificate(body: CertificateCreate, header: IdempotencyHeader) -> Response:
    cid = certificate_id(body.registry, body.first)

    def respond(session, done):  # type: ignore[no-untyped-def]
        row = session.get(Certificate, cid)
        return written(CertificateWritten, CertificatePublic.of(row), done), location("certificates", cid)

    return append("certificate.registered", entry_body(body, owner=principal().party), respond)


@bp.get("/<path:certificate_id>", responses={200: CertificatePublic}, summary="One certificate")
@authenticated
def get_certificate(path: CertificatePath) -> Response:
    return item(Certificate, path.certificate_id, lambda _s, row: CertificatePublic.of(row),
                field="certificate_id", label="certificate")


def _change(kind: str, cid: str, fields: dict[str, str]) -> Response:
    def check(session):  # type: ignore[no-untyped-def]
        visible_row(session, Certificate, cid, field="certificate_id", label="certificate")

    def respond(session, done):  # type: ignore[no-untyped-def]
        return written(CertificateWritten, CertificatePublic.of(session.get(Certificate, cid)),
                       done), None

    return append(kind, {"certificate": cid, **fields}, respond, check=check, status=200)


@bp.post("/<path:certificate_id>/attest", responses={200: CertificateWritten},
         summary="Attest a certificate's evidence (certifier)")
@roles("certifier")
def attest_certificate(path: CertificatePath, body: CertificateAttest,
                       header: IdempotencyHeader) -> Response:
    return _change("certificate.attested", path.certificate_id,
                   {"evidence_sha256": body.evidence_sha256})


@bp.post("/<path:certificate_id>/cancel", responses={200: CertificateWritten},
         summary="Cancel what is left of a certificate (producer)")
@roles("producer")
def cancel_certificate(path: CertificatePath, body: CertificateCancel,
                       header: IdempotencyHeader) -> Response:
    return _change("certificate.cancelled", path.certificate_id, {"reason": body.reason})


@bp.post("/<path:certificate_id>/transfer", responses={200: CertificateWritten},
         summary="Transfer a tradable certificate to another producer (once)")
@roles("producer")
def transfer_certificate(path: CertificatePath, body: CertificateTransfer,
                         header: IdempotencyHeader) -> Response:
    return _change("certificate.transferred", path.certificate_id, {"to": body.to})
