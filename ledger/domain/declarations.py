"""Declarations in the log: issued (binding a payload hash to a shipment) and revoked.

The entry of an issued declaration names the shipment, issuer and buyer and carries the
SHA-256 of the payload's core (the PACT footprint without the ledger proof), so a buyer who
holds the payload and this entry can check that they belong together (DESIGN §6).
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlmodel import Session

from ledger.domain import fields as f
from ledger.domain.parties import require_actor
from ledger.domain.tables import Declaration, Shipment
from ledger.encoding import Entry
from ledger.errors import Conflict, InputError, NotFound, RuleViolation

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _uuid(body: dict, name: str) -> str:
    value = f.text(body, name, max_len=36)
    if not _UUID.match(value):
        raise InputError("a lower-case UUID is required", field=name)
    return value


def apply_declaration_issued(session: Session, entry: Entry) -> None:
    b = entry.body
    did = _uuid(b, "declaration")
    shipment = session.get(Shipment, f.ident(b, "shipment"))
    if shipment is None:
        raise NotFound(f"no shipment {b['shipment']!r}", field="shipment")
    require_actor(session, entry, shipment.seller, field="shipment")
    if f.ident(b, "buyer") != shipment.buyer:
        raise RuleViolation("declaration.buyer", "the buyer must be the shipment's",
                            field="buyer", limit=shipment.buyer, got=b["buyer"])
    if session.get(Declaration, did) is not None:
        raise Conflict(f"declaration {did} already exists", field="declaration")
    supersedes = b.get("supersedes")
    current = session.scalars(select(Declaration).where(
        Declaration.shipment_id == shipment.shipment_id, Declaration.status == "valid")).first()
    if current is not None and supersedes != current.declaration_id:
        # two valid declarations of one shipment would present its green MWh twice
        raise RuleViolation("declaration.one-per-shipment", f"{shipment.shipment_id} already has "
                            f"the valid declaration {current.declaration_id}; a correction "
                            "supersedes it", field="supersedes", limit=current.declaration_id,
                            got=supersedes)
    if supersedes is not None:
        old = session.get(Declaration, _uuid(b, "supersedes"))
        if old is None or old.shipment_id != shipment.shipment_id:
            raise RuleViolation("declaration.supersedes", "a correction supersedes a "
                                "declaration of the same shipment", field="supersedes")
        if old.status != "valid":
            raise RuleViolation("declaration.supersedes", f"{old.declaration_id} is "
                                f"{old.status}", field="supersedes", limit="valid",
                                got=old.status)
        old.status, old.seq = "superseded", entry.seq
        session.add(old)
    session.add(Declaration(declaration_id=did, shipment_id=shipment.shipment_id,
                            issuer=shipment.seller, buyer=shipment.buyer,
                            payload_sha256=f.sha256_hex(b, "payload_sha256"), status="valid",
                            supersedes=supersedes, issued_seq=entry.seq, seq=entry.seq))


def apply_declaration_revoked(session: Session, entry: Entry) -> None:
    b = entry.body
    row = session.get(Declaration, _uuid(b, "declaration"))
    if row is None:
        raise NotFound(f"no declaration {b['declaration']!r}", field="declaration")
    require_actor(session, entry, row.issuer, field="declaration")
    if row.status == "revoked":
        raise RuleViolation("declaration.revoked", "already revoked", field="declaration")
    row.status, row.reason, row.seq = "revoked", f.text(b, "reason", max_len=500), entry.seq
    session.add(row)
