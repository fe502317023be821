"""Who may read what (DESIGN §7 "Visibility").

The log's *structure* is public (leaf and chain hashes, proofs, checkpoints); its *content* is
not: smelters' volumes, suppliers and customers are business secrets. Two questions, two
answers here, so the API, the web pages and the PACT view all decide the same way:

- **Entries.** :func:`parties_named` is the set of parties an entry names: its actor and the
  owner / seller / buyer / beneficiary / ``to`` / issuer fields of its kind. Entries that name
  only a facility, batch, certificate or declaration name their owner too, resolved from the
  projections when a session is given. :func:`may_read_entry`: operators and certifiers read
  every entry; any other reader reads the entries that name its party; nobody else does.
  Upstream batches consumed as inputs do *not* name their producer: how much alumina a
  smelter used is the smelter's secret, not the refinery's.
- **Projection rows.** :func:`readable` is the SQL condition selecting the rows of a
  projection a reader may see, by the role of the reader's key: a producer its own facilities,
  certificates, vouchers (of its facilities), batches, allocations (of its batches, or naming
  it as beneficiary), shipments as seller and declarations as issuer; a buyer the shipments
  and declarations where it is the buyer; operators and certifiers everything. Lists and item
  look-ups use the same condition, so an item a reader may not see is indistinguishable from
  one that does not exist.

Owners are resolved from the *current* projections: a certificate transferred later is named
by its new owner too (``certificate.transferred`` names both ``to`` and its actor).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlmodel import Session, col

from ledger.domain.tables import (
    Allocation,
    Batch,
    Certificate,
    Declaration,
    Facility,
    Party,
    Shipment,
    Voucher,
)
from ledger.encoding import Entry

#: roles whose keys read every entry and every row
READ_ALL_ROLES = frozenset({"operator", "certifier"})

#: body fields that name a party directly, per kind
_PARTY_FIELDS: dict[str, tuple[str, ...]] = {
    "party.registered": ("party",),
    "facility.registered": ("owner",),
    "certificate.registered": ("owner",),
    "certificate.transferred": ("to",),
    "shipment.recorded": ("seller", "buyer"),
    "allocation.recorded": ("beneficiary",),
    "declaration.issued": ("buyer",),
}


def _owner(session: Session, model: type, key: Any, column: str) -> str | None:
    row = session.get(model, key)
    return getattr(row, column) if row is not None else None


def parties_named(entry: Entry, session: Session | None = None) -> set[str]:
    """The parties an entry names (its actor first among them)."""
    body = entry.body if isinstance(entry.body, dict) else {}
    named = {entry.actor}
    for field in _PARTY_FIELDS.get(entry.kind, ()):
        value = body.get(field)
        if isinstance(value, str):
            named.add(value)
    if session is None:
        return named
    resolved: list[str | None] = []
    kind = entry.kind
    if kind in ("certificate.transferred", "certificate.cancelled", "certificate.attested",
                "allocation.recorded") and isinstance(body.get("certificate"), str):
        resolved.append(_owner(session, Certificate, body["certificate"], "owner"))
    if kind in ("voucher.registered", "batch.registered") and isinstance(body.get("facility"), str):
        resolved.append(_owner(session, Facility, body["facility"], "owner"))
    if kind == "allocation.recorded" and isinstance(body.get("batch"), str):
        resolved.append(_owner(session, Batch, body["batch"], "owner"))
    if kind == "declaration.issued" and isinstance(body.get("shipment"), str):
        resolved.append(_owner(session, Shipment, body["shipment"], "seller"))
    if kind == "declaration.revoked" and isinstance(body.get("declaration"), str):
        row = session.get(Declaration, body["declaration"])
        if row is not None:
            resolved.extend([row.issuer, row.buyer])
    named.update(p for p in resolved if p)
    return named


def may_read_entry(entry: Entry, *, party: str, role: str, session: Session | None = None) -> bool:
    """Whether a reader (a party acting in ``role``) may read the entry's content."""
    if role in READ_ALL_ROLES:
        return True
    return party in parties_named(entry, session)


def readable(model: type, *, party: str, role: str) -> ColumnElement[bool]:
    """The condition on ``model``'s rows that a reader may see (see the module docstring)."""
    if role in READ_ALL_ROLES or model is Party:
        return true()
    if role == "producer":
        if model is Facility:
            return col(Facility.owner) == party
        if model is Certificate:
            return col(Certificate.owner) == party
        if model is Batch:
            return col(Batch.owner) == party
        if model is Voucher:
            return col(Voucher.facility).in_(
                select(col(Facility.facility_id)).where(col(Facility.owner) == party))
        if model is Allocation:
            return or_(col(Allocation.beneficiary) == party,
                       col(Allocation.batch_id).in_(
                           select(col(Batch.batch_id)).where(col(Batch.owner) == party)))
        if model is Shipment:
            return col(Shipment.seller) == party
        if model is Declaration:
            return col(Declaration.issuer) == party
    if role == "buyer":
        if model is Shipment:
            return col(Shipment.buyer) == party
        if model is Declaration:
            return col(Declaration.buyer) == party
    return false()


def may_read_row(session: Session, model: type, key: Any, *, party: str, role: str) -> bool:
    """Whether the row of ``model`` with primary key ``key`` exists and the reader may see it."""
    pk = model.__table__.primary_key.columns  # type: ignore[attr-defined]
    (column,) = list(pk)
    found = session.scalar(select(column).where(column == key,
                                                readable(model, party=party, role=role)))
    return found is not None
