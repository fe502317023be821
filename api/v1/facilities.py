"""``/api/v1/facilities``: a producer registers and reads its own facilities."""

from __future__ import annotations

from flask import Response
from flask_openapi3 import APIBlueprint, Tag

from api.auth import authenticated, principal, roles
from api.schemas.common import IdempotencyHeader, ListQuery
from api.schemas.registry import FacilityCreate, FacilityPage, FacilityPublic, FacilityWritten
from api.v1.paths import PREFIX, FacilityPath, location, operation_id
from api.v1.responses import item, list_page
from api.v1.writing import append, entry_body, written
from ledger.domain.tables import Facility

bp = APIBlueprint("facilities", __name__, url_prefix=f"{PREFIX}/facilities",
                  abp_tags=[Tag(name="facilities")],
                  operation_id_callback=operation_id)


@bp.get("", responses={200: FacilityPage}, summary="List the facilities the caller may read")
@authenticated
def list_facilities(query: ListQuery) -> Response:
    return list_page(Facility, query, FacilityPage,
                     lambda _s, rows: [FacilityPublic.of(r) for r in rows])


@bp.post("", responses={201: FacilityWritten}, summary="Register a facility (producer)")
@roles("producer")
def create_facility(body: FacilityCreate, header: IdempotencyHeader) -> Response:
    def respond(session, done):  # type: ignore[no-untyped-def]
        row = session.get(Facility, body.facility)
        return (written(FacilityWritten, FacilityPublic.of(row), done),
                location("facilities", body.facility))

    return append("facility.registered", entry_body(body, owner=principal().party), respond)


@bp.get("/<path:facility_id>", responses={200: FacilityPublic}, summary="One facility")
@authenticated
def get_facility(path: FacilityPath) -> Response:
    return item(Facility, path.facility_id, lambda _s, row: FacilityPublic.of(row),
                field="facility_id", label="facility")
