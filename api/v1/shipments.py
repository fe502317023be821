"""``/api/v1/shipments``: a producer records what it ships; the buyer reads it too."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Response
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import Session, col

from api.auth import authenticated, principal, roles
from api.schemas.common import IdempotencyHeader, ListQuery
from api.schemas.production import ShipmentCreate, ShipmentPage, ShipmentPublic, ShipmentWritten
from api.v1.paths import PREFIX, ShipmentPath, location, operation_id
from api.v1.responses import item, list_page, visible_row
from api.v1.writing import append, entry_body, written
from ledger.domain.tables import Batch, Shipment, ShipmentLine

bp = APIBlueprint("shipments", __name__, url_prefix=f"{PREFIX}/shipments",
                  abp_tags=[Tag(name="shipments")],
                  operation_id_callback=operation_id)


def present(session: Session, rows: Sequence[Any]) -> list[BaseModel]:
    ids = [r.shipment_id for r in rows]
    lines: dict[str, list[ShipmentLine]] = {i: [] for i in ids}
    for line in session.scalars(select(ShipmentLine).where(col(ShipmentLine.shipment_id).in_(ids))
                                .order_by(ShipmentLine.shipment_id, ShipmentLine.batch_id)):
        lines[line.shipment_id].append(line)
    return [ShipmentPublic.of(r, lines[r.shipment_id]) for r in rows]


@bp.get("", responses={200: ShipmentPage}, summary="List the shipments the caller may read")
@authenticated
def list_shipments(query: ListQuery) -> Response:
    return list_page(Shipment, query, ShipmentPage, present)


@bp.post("", responses={201: ShipmentWritten}, summary="Record a shipment (producer)")
@roles("producer")
def create_shipment(body: ShipmentCreate, header: IdempotencyHeader) -> Response:
    def check(session):  # type: ignore[no-untyped-def]
        for i, line in enumerate(body.lines):
            visible_row(session, Batch, line.batch, field=f"lines[{i}].batch", label="batch")

    def respond(session, done):  # type: ignore[no-untyped-def]
        (public,) = present(session, [session.get(Shipment, body.shipment)])
        return written(ShipmentWritten, public, done), location("shipments", body.shipment)

    return append("shipment.recorded", entry_body(body, seller=principal().party), respond,
                  check=check)


@bp.get("/<path:shipment_id>", responses={200: ShipmentPublic}, summary="One shipment")
@authenticated
def get_shipment(path: ShipmentPath) -> Response:
    return item(Shipment, path.shipment_id, lambda s, row: present(s, [row])[0],
                field="shipment_id", label="shipment")
