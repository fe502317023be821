"""``/api/v1/declarations``: issued declarations, their public status and their PDF.

- ``GET .../{id}/status`` is public (DESIGN §7): what the QR code and
  ``certificates/verify_online.py`` read — ``status`` (``valid`` / ``revoked`` /
  ``superseded``), the revocation ``reason`` and time, ``issued_seq``, and the size of the
  latest checkpoint that includes the entry. It reads the ``declaration`` projection only.
- The PDF is the buyer's document, and shows the shipment's figures: it needs a key that may
  read the declaration (its issuer or buyer, an operator or a certifier); to anyone else an
  existing declaration is a 404 like a missing one.
- Issuing and revoking go through :mod:`certificates.issuing` (footprint, payload, JWS,
  signed PDF, entry, checkpoint and the Idempotency-Key's response in one transaction). It
  is imported when first used: a service without it answers 501.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from flask import Response, current_app
from flask_openapi3 import APIBlueprint, Tag
from sqlalchemy import func, select
from sqlmodel import Session, col

from api.auth import authenticated, principal, public, roles
from api.problems import ApiProblem
from api.schemas.common import IdempotencyHeader, Links, ListQuery
from api.schemas.declarations import (
    DeclarationCreate,
    DeclarationIssued,
    DeclarationPage,
    DeclarationPublic,
    DeclarationRevoke,
    DeclarationRevoked,
    DeclarationStatus,
)
from api.service import service
from api.v1.paths import PREFIX, DeclarationPath, location, operation_id
from api.v1.responses import item, json_response, list_page, visible_row
from api.v1.writing import IdempotencyKey, outside_transaction
from ledger.domain.tables import Declaration, Shipment
from ledger.errors import KeyFileError, NotFound
from ledger.store.tables import LogEntry, StoredCheckpoint

bp = APIBlueprint("declarations", __name__, url_prefix=f"{PREFIX}/declarations",
                  abp_tags=[Tag(name="declarations")],
                  operation_id_callback=operation_id)
#: app config key: create a demo issuer certificate for a producer that has none
DEMO_ISSUERS = "GREENLEDGER_DEMO_ISSUERS"


def links(declaration_id: str) -> Links:
    base = location("declarations", declaration_id)
    return Links(status=f"{base}/status", pdf=f"{base}.pdf")


def present(_session: Session, row: Declaration) -> DeclarationPublic:
    return DeclarationPublic(
        id=row.declaration_id, shipment=row.shipment_id, issuer=row.issuer, buyer=row.buyer,
        payload_sha256=row.payload_sha256, status=row.status, reason=row.reason,
        supersedes=row.supersedes, issued_seq=row.issued_seq, seq=row.seq,
        links=links(row.declaration_id))


def issuing(name: str) -> Callable[..., Any]:
    try:
        module = importlib.import_module("certificates.issuing")
    except ImportError as exc:
        raise ApiProblem(501, "not-implemented", "issuing declarations is not available in "
                         "this service") from exc
    function: Callable[..., Any] | None = getattr(module, name, None)
    if function is None:
        raise ApiProblem(501, "not-implemented", "issuing declarations is not available in "
                         "this service")
    return function


@bp.get("", responses={200: DeclarationPage}, summary="List the declarations the caller may read")
@authenticated
def list_declarations(query: ListQuery) -> Response:
    return list_page(Declaration, query, DeclarationPage,
                     lambda s, rows: [present(s, r) for r in rows])


@bp.post("", responses={201: DeclarationIssued, 501: None},
         summary="Issue the signed declaration of a shipment (its seller)")
@roles("producer")
def issue_declaration(body: DeclarationCreate, header: IdempotencyHeader) -> Response:
    svc = service()
    idem = IdempotencyKey.of_request()
    if idem is not None:
        with Session(svc.engine) as session:
            earlier = idem.replay(session)
        if earlier is not None:
            return earlier
    with Session(svc.engine) as session:
        visible_row(session, Shipment, body.shipment, field="shipment", label="shipment")
        if body.supersedes is not None:
            visible_row(session, Declaration, body.supersedes, field="supersedes",
                        label="declaration")
    issue = issuing("issue_declaration")
    answered: list[Response] = []

    def guard(session: Session) -> None:  # under the write lock: a concurrent retry waits here
        earlier = idem.replay(session) if idem is not None else None
        if earlier is not None:
            raise _Replayed(earlier)

    def record(session: Session, issued: Any) -> None:  # in the issuing transaction
        answer = DeclarationIssued(id=issued.declaration_id, shipment=body.shipment,
                                   seq=issued.seq, leaf_hash=issued.leaf_hash,
                                   checkpoint_size=issued.checkpoint_size,
                                   links=links(issued.declaration_id))
        response = json_response(answer, 201,
                                 {"Location": location("declarations", issued.declaration_id)})
        if idem is not None:
            idem.record(session, response)
        answered.append(response)

    try:
        issue(svc.engine, svc.settings, body.shipment, actor=principal().party,
              supersedes=body.supersedes,
              create_demo_issuer=bool(current_app.config.get(DEMO_ISSUERS)),
              guard=guard, record=record)
    except _Replayed as replayed:
        return replayed.response
    except KeyFileError as exc:
        if exc.field != "issuer":
            raise
        raise ApiProblem(409, "no-issuer-certificate", "your party has no issuer "
                         "certificate to sign declarations with; the operator creates one "
                         "with 'greenledger keys issuer create'", field="shipment") from exc
    return answered[0]


class _Replayed(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__("replayed")
        self.response = response


@bp.get("/<declaration_id>", responses={200: DeclarationPublic}, summary="One declaration")
@authenticated
def get_declaration(path: DeclarationPath) -> Response:
    return item(Declaration, path.declaration_id, present, field="declaration_id",
                label="declaration")


@bp.post("/<declaration_id>/revoke", responses={200: DeclarationRevoked, 501: None},
         summary="Revoke a declaration, with a reason (its issuer)")
@roles("producer")
def revoke_declaration(path: DeclarationPath, body: DeclarationRevoke, header: IdempotencyHeader) -> Response:
    svc = service()

    def run() -> Response:
        with Session(svc.engine) as session:
            visible_row(session, Declaration, path.declaration_id, field="declaration_id",
                        label="declaration")
        revoke = issuing("revoke_declaration")
        revoke(svc.engine, svc.settings, path.declaration_id,
                           actor=principal().party, reason=body.reason)
        with Session(svc.engine) as session:
            row = session.get(Declaration, path.declaration_id)
            assert row is not None
            entry = session.get(LogEntry, row.seq)
            leaf = bytes(entry.leaf_hash).hex() if entry is not None else ""
            answer = DeclarationRevoked(**present(session, row).model_dump(), leaf_hash=leaf)
        return json_response(answer)

    return outside_transaction(run)


@bp.get("/<declaration_id>/status", responses={200: DeclarationStatus},
        summary="Public status of a declaration: valid, revoked or superseded")
@public
def declaration_status(path: DeclarationPath) -> Response:
    with Session(service().engine) as session:
        row = session.get(Declaration, path.declaration_id)
        if row is None:
            raise NotFound(f"no declaration {path.declaration_id!r}", field="declaration_id")
        answer: dict[str, Any] = {"declaration": row.declaration_id, "id": row.declaration_id,
                                  "status": row.status, "issued_seq": row.issued_seq}
        if row.status == "revoked":
            answer["reason"] = row.reason
            answer["revoked_at"] = session.scalar(
                select(col(LogEntry.at)).where(col(LogEntry.seq) == row.seq))
        if row.status == "superseded":
            answer["superseded_by"] = session.scalar(
                select(col(Declaration.declaration_id)).where(
                    col(Declaration.supersedes) == row.declaration_id).limit(1))
        answer["checkpoint_size"] = session.scalar(
            select(func.max(col(StoredCheckpoint.size))).where(
                col(StoredCheckpoint.size) > row.issued_seq))
    return json_response(DeclarationStatus(**answer))


@bp.get("/<declaration_id>.pdf", summary="The signed PDF (issuer, buyer, operator, certifier)",
        responses={200: {"description": "the signed declaration (PAdES)",
                         "content": {"application/pdf": {"schema": {"type": "string",
                                                                    "format": "binary"}}}},
                   501: None})
@authenticated
def declaration_pdf(path: DeclarationPath) -> Response:
    svc = service()
    with Session(svc.engine) as session:
        visible_row(session, Declaration, path.declaration_id, field="declaration_id",
                    label="declaration")
    data = issuing("declaration_pdf")(svc.engine, path.declaration_id)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{path.declaration_id}.pdf"'})
