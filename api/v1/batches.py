"""``/api/v1/batches``: production batches with their energy and material inputs.

A batch may consume an upstream batch of another producer only if it was shipped to the
caller; any other batch id in ``inputs`` is answered like one that does not exist.
"""

from __future__ import annotations

from flask import Response
from flask_openapi3 import APIBlueprint, Tag
from sqlalchemy import select

from api.auth import authenticated, principal, roles
from api.schemas.common import IdempotencyHeader, ListQuery
from api.schemas.production import BatchCreate, BatchPage, BatchPublic, BatchWritten
from api.v1.paths import PREFIX, BatchPath, location, operation_id
from api.v1.responses import item, list_page, visible_row
from api.v1.writing import append, entry_body, written
from ledger.domain.tables import Batch, Facility, ShipmentLine
from ledger.errors import NotFound

bp = APIBlueprint("batches", __name__, url_prefix=f"{PREFIX}/batches",
                  abp_tags=[Tag(name="batches")],
                  operation_id_callback=operation_id)


@bp.get("", responses={200: BatchPage}, summary="List the batches the caller may read")
@authenticated
def list_batches(query: ListQuery) -> Response:
    return list_page(Batch, query, BatchPage, lambda _s, rows: [BatchPublic.of(r) for r in rows])


@bp.post("", responses={201: BatchWritten}, summary="Register a production batch (producer)")
@roles("producer")
def create_batch(body: BatchCreate, header: IdempotencyHeader) -> Response:
    party = principal().party

    def check(session):  # type: ignore[no-untyped-def]
        visible_row(session, Facility, body.facility, field="facility", label="facility")
        for i, item_ in enumerate(body.inputs):
            if item_.kind != "batch":
                continue
            own = session.scalar(select(Batch.batch_id).where(Batch.batch_id == item_.ref,
                                                              Batch.owner == party))
            received = session.scalar(select(ShipmentLine.batch_id).where(
                ShipmentLine.batch_id == item_.ref, ShipmentLine.buyer == party).limit(1))
            if own is None and received is None:
                raise NotFound(f"no batch {item_.ref!r}", field=f"inputs[{i}].ref")

    def respond(session, done):  # type: ignore[no-untyped-def]
        row = session.get(Batch, body.batch)
        return written(BatchWritten, BatchPublic.of(row), done), location("batches", body.batch)

    return append("batch.registered", entry_body(body), respond, check=check)


@bp.get("/<path:batch_id>", responses={200: BatchPublic}, summary="One batch")
@authenticated
def get_batch(path: BatchPath) -> Response:
    return item(Batch, path.batch_id, lambda _s, row: BatchPublic.of(row), field="batch_id",
                label="batch")
