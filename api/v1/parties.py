"""``/api/v1/parties``: every key lists parties (ids, names and roles are not secret); only
the operator registers one (``party.registered``)."""

from __future__ import annotations

from flask import Response
from flask_openapi3 import APIBlueprint, Tag

from api.auth import authenticated, roles
from api.schemas.common import IdempotencyHeader, ListQuery
from api.schemas.registry import PartyCreate, PartyPage, PartyPublic, PartyWritten
from api.v1.paths import PREFIX, PartyPath, location, operation_id
from api.v1.responses import item, list_page
from api.v1.writing import append, entry_body, written
from ledger.domain.tables import Party

bp = APIBlueprint("parties", __name__, url_prefix=f"{PREFIX}/parties",
                  abp_tags=[Tag(name="parties")],
                  operation_id_callback=operation_id)


@bp.get("", responses={200: PartyPage}, summary="List parties")
@authenticated
def list_parties(query: ListQuery) -> Response:
    return list_page(Party, query, PartyPage, lambda _s, rows: [PartyPublic.of(r) for r in rows])


@bp.post("", responses={201: PartyWritten}, summary="Register a party (operator)")
@roles("operator")
def create_party(body: PartyCreate, header: IdempotencyHeader) -> Response:
    def respond(session, done):  # type: ignore[no-untyped-def]
        row = session.get(Party, body.party)
        return written(PartyWritten, PartyPublic.of(row), done), location("parties", body.party)

    return append("party.registered", entry_body(body), respond)


@bp.get("/<path:party_id>", responses={200: PartyPublic}, summary="One party")
@authenticated
def get_party(path: PartyPath) -> Response:
    return item(Party, path.party_id, lambda _s, row: PartyPublic.of(row), field="party_id",
                label="party")
