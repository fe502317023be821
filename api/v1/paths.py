"""Path parameters of the item routes, and where an item lives (its ``Location``).

Ids may hold ``/`` and ``:`` (voucher ids are ``<issuer>:<number>``, certificate ids
``<registry>:<first code>``), so item routes use werkzeug's ``path`` converter; a client
percent-encodes what it must, and :func:`location` does the same.
"""

from __future__ import annotations

from urllib.parse import quote

from pydantic import BaseModel, Field

from api.schemas.common import Cursor

PREFIX = "/api/v1"


def operation_id(*, bp_name: str = "", name: str = "", path: str = "", method: str = "") -> str:
    """OpenAPI operation ids are the view functions' names (``list_batches``, ...)."""
    return name


def location(collection: str, key: str) -> str:
    return f"{PREFIX}/{collection}/{quote(key, safe=':')}"


class PartyPath(BaseModel):
    party_id: Cursor


class FacilityPath(BaseModel):
    facility_id: Cursor


class CertificatePath(BaseModel):
    certificate_id: Cursor


class VoucherPath(BaseModel):
    voucher_id: Cursor


class BatchPath(BaseModel):
    batch_id: Cursor


class AllocationPath(BaseModel):
    allocation_id: Cursor


class ShipmentPath(BaseModel):
    shipment_id: Cursor


class DeclarationPath(BaseModel):
    declaration_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")
