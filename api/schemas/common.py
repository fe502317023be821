"""Field types shared by the request and response models, pages, receipts, list queries.

The string limits mirror the columns the projections store them in, so that whatever the API
accepts also fits every database back-end (PostgreSQL refuses a too long ``varchar`` or a NUL
character; SQLite would silently keep them). Quantities allow twelve integer digits: their
sums in thousandths stay far inside a 64-bit integer.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from ledger.domain.rules import ROLES, TECHNOLOGIES

NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"


def _text(max_length: int, min_length: int = 1) -> Any:
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length,
                                            pattern=NO_CONTROL)]


Text10 = _text(10)
Text16 = _text(16)
Text32 = _text(32)
Text40 = _text(40)
Text64 = _text(64)
Text80 = _text(80)
Text120 = _text(120)
Text200 = _text(200)
Text500 = _text(500)
OptionalText200 = _text(200, 0)
#: a party or facility id (their columns hold 64 characters)
PartyId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")]
#: a batch, shipment or allocation id (1-80 characters, as ``ledger.domain.fields.ident``)
RecordId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,79}$")]
#: a decimal quantity, at most three decimals (MWh -> kWh, tonnes -> kg)
Quantity = Annotated[str, StringConstraints(pattern=r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,3})?$")]
Month = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
Day = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Role = Literal[ROLES]  # type: ignore[valid-type]
Technology = Literal[TECHNOLOGIES]  # type: ignore[valid-type]
#: a keyset cursor: the id of the last item of the previous page
Cursor = Annotated[str, StringConstraints(min_length=1, max_length=300, pattern=NO_CONTROL)]


class RequestBody(BaseModel):
    """A request body: strict JSON types, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Public(BaseModel):
    """A response body: exactly these fields."""

    model_config = ConfigDict(extra="forbid")


class ListQuery(BaseModel):
    limit: int = Field(50, ge=1, le=500, description="items per page (at most 500)")
    after: Cursor | None = Field(None, description="the id after which the page starts "
                                 "(the `next` link carries it)")


class IdempotencyHeader(BaseModel):
    model_config = ConfigDict(extra="ignore")

    idempotency_key: str | None = Field(
        None, alias="Idempotency-Key", min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$",
        description="a retried write with the same key (per party) returns the first "
                    "response and never appends twice; the same key with another body is 422")


class Links(Public):
    status: str
    pdf: str


def receipt(model: type[Public]) -> type[Public]:
    """``model`` plus the leaf hash of the entry that wrote it (its ``seq`` is already there)."""
    name = model.__name__.removesuffix("Public") + "Written"
    return create_model(  # type: ignore[no-any-return, call-overload]
        name, __base__=model,
        leaf_hash=(str, Field(description="leaf hash (hex) of the log entry of this write")))


def page(model: type[Public]) -> type[Public]:
    """A page of ``model`` items with the link to the next page (null on the last)."""
    name = model.__name__.removesuffix("Public") + "Page"
    return create_model(  # type: ignore[no-any-return, call-overload]
        name, __base__=Public, items=(list[model], ...),  # type: ignore[valid-type]
        next=(str | None, Field(None, description="URL of the next page")))
