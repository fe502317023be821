"""``/api/v1/vouchers``: traceability vouchers (绿电溯源凭证) of a producer's facilities."""

from __future__ import annotations

from flask import Response
from flask_openapi3 import APIBlueprint, Tag

from api.auth import authenticated, roles
from api.schemas.common import IdempotencyHeader, ListQuery
from api.schemas.registry import VoucherCreate, VoucherPage, VoucherPublic, VoucherWritten
from api.v1.paths import PREFIX, VoucherPath, location, operation_id
from api.v1.responses import item, list_page, visible_row
from api.v1.writing import append, entry_body, written
from ledger.domain.tables import Facility, Voucher

bp = APIBlueprint("vouchers", __name__, url_prefix=f"{PREFIX}/vouchers",
                  abp_tags=[Tag(name="vouchers")],
                  operation_id_callback=operation_id)


@bp.get("", responses={200: VoucherPage}, summary="List the vouchers the caller may read")
@authenticated
def list_vouchers(query: ListQuery) -> Response:
    return list_page(Voucher, query, VoucherPage,
                     lambda _s, rows: [VoucherPublic.of(r) for r in rows])


@bp.post("", responses={201: VoucherWritten}, summary="Register a voucher (producer)")
@roles("producer")
def create_voucher(body: VoucherCreate, header: IdempotencyHeader) -> Response:
    voucher_id = f"{body.issuer}:{body.number}"

    def check(session):  # type: ignore[no-untyped-def]
        visible_row(session, Facility, body.facility, field="facility", label="facility")

    def respond(session, done):  # type: ignore[no-untyped-def]
        row = session.get(Voucher, voucher_id)
        return written(VoucherWritten, VoucherPublic.of(row), done), location("vouchers", voucher_id)

    return append("voucher.registered", entry_body(body), respond, check=check)


@bp.get("/<path:voucher_id>", responses={200: VoucherPublic}, summary="One voucher")
@authenticated
def get_voucher(path: VoucherPath) -> Response:
    return item(Voucher, path.voucher_id, lambda _s, row: VoucherPublic.of(row),
                field="voucher_id", label="voucher")
