"""``/api/v1/allocations``: certificate sub-ranges retired to a producer's own batches."""

from __future__ import annotations

from flask import Response
from flask_openapi3 import APIBlueprint, Tag

from api.auth import authenticated, principal, roles
from api.schemas.common import IdempotencyHeader, ListQuery
from api.schemas.production import (
    AllocationCreate,
    AllocationPage,
    AllocationPublic,
    AllocationWritten,
)
from api.v1.paths import PREFIX, AllocationPath, location, operation_id
from api.v1.responses import item, list_page, visible_row
from api.v1.writing import append, entry_body, written
from ledger.domain.tables import Allocation, Batch, Certificate

bp = APIBlueprint("allocations", __name__, url_prefix=f"{PREFIX}/allocations",
                  abp_tags=[Tag(name="allocations")],
                  operation_id_callback=operation_id)


@bp.get("", responses={200: AllocationPage}, summary="List the allocations the caller may read")
@authenticated
def list_allocations(query: ListQuery) -> Response:
    return list_page(Allocation, query, AllocationPage,
                     lambda _s, rows: [AllocationPublic.of(r) for r in rows])


@bp.post("", responses={201: AllocationWritten},
         summary="Retire a certificate sub-range to a batch (producer)")
@roles("producer")
def create_allocation(body: AllocationCreate, header: IdempotencyHeader) -> Response:
    def check(session):  # type: ignore[no-untyped-def]
        visible_row(session, Certificate, body.certificate, field="certificate",
                    label="certificate")
        visible_row(session, Batch, body.batch, field="batch", label="batch")

    def respond(session, done):  # type: ignore[no-untyped-def]
        row = session.get(Allocation, body.allocation)
        return (written(AllocationWritten, AllocationPublic.of(row), done),
                location("allocations", body.allocation))

    return append("allocation.recorded", entry_body(body, beneficiary=principal().party),
                  respond, check=check)


@bp.get("/<path:allocation_id>", responses={200: AllocationPublic}, summary="One allocation")
@authenticated
def get_allocation(path: AllocationPath) -> Response:
    return item(Allocation, path.allocation_id, lambda _s, row: AllocationPublic.of(row),
                field="allocation_id", label="allocation")
