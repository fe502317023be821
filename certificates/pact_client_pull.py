"""Pulling a supplier's footprints into the ledger (issue #10 part 2).

:func:`pull` lists (or gets, by id) the supplier's footprints with :class:`PactClient`,
checks each against the PACT 3.0 data model (:func:`validate_product_footprint`,
``strict=False``: unknown properties are legal PACT), and records each valid one as a
``supplier_footprint.recorded`` entry with its payload document (:mod:`ledger.domain.suppliers`)
— all in one append transaction per pull, each footprint in its own savepoint, so one refusal
does not stop the others. A footprint whose RFC 8785 bytes hash as the latest recorded version
is skipped ("unchanged"); a changed one becomes the next version, never an edit.

The entries' actor is the peer's ``party``, else the ledger's operator party.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import rfc8785
from sqlalchemy import Engine, select
from sqlmodel import Session

from certificates.pact_client import PactClient
from certificates.pact_client_peers import Peer
from certificates.pact_model import validate_product_footprint
from ledger import encoding
from ledger.domain import domain_log, suppliers
from ledger.domain.rules import Rules
from ledger.domain.tables import Party
from ledger.errors import GreenledgerError, InputError, NotFound


@dataclass
class PullReport:
    supplier: str
    seen: int = 0
    recorded: list[dict[str, Any]] = field(default_factory=list)  # footprint, version, seq, sha
    unchanged: list[str] = field(default_factory=list)
    invalid: list[dict[str, Any]] = field(default_factory=list)  # footprint, problems
    missing: list[str] = field(default_factory=list)  # ids the supplier answered 404 for

    def to_json(self) -> dict[str, Any]:
        return {"supplier": self.supplier, "seen": self.seen, "recorded": self.recorded,
                "unchanged": self.unchanged, "invalid": self.invalid, "missing": self.missing}


def payload_sha256(doc: dict[str, Any]) -> str:
    return hashlib.sha256(rfc8785.dumps(doc)).hexdigest()


def entry_body(supplier: str, source: str, doc: dict[str, Any], digest: str) -> dict[str, Any]:
    """The ``supplier_footprint.recorded`` body of a (valid) footprint."""
    pcf = doc["pcf"]
    body: dict[str, Any] = {
        "supplier": supplier,
        "footprint": str(uuid.UUID(doc["id"])),
        "product_ids": list(doc["productIds"]),
        "pcf_excluding_biogenic_uptake_kg_co2e": suppliers.plain_decimal(
            pcf["pcfExcludingBiogenicUptake"], field="pcf.pcfExcludingBiogenicUptake"),
        "declared_unit": pcf["declaredUnitOfMeasurement"],
        "declared_unit_amount": suppliers.plain_decimal(pcf["declaredUnitAmount"],
                                                        field="pcf.declaredUnitAmount"),
        "product_mass_per_declared_unit_kg": suppliers.plain_decimal(
            pcf["productMassPerDeclaredUnit"], field="pcf.productMassPerDeclaredUnit"),
        "status": doc["status"],
        "payload_sha256": digest,
        "source": source,
    }
    if pcf.get("primaryDataShare") is not None:
        body["primary_data_share"] = suppliers.plain_decimal(pcf["primaryDataShare"],
                                                             field="pcf.primaryDataShare")
    return body


def actor_for(engine: Engine, peer: Peer) -> str:
    if peer.party:
        return peer.party
    with Session(engine) as s:
        for row in s.scalars(select(Party).order_by(Party.party_id)):
            if "operator" in row.roles.split("|"):
                return row.party_id
    raise NotFound(f"PACT peer {peer.name} names no party and the ledger has no operator party; "
                   "register the peer with --party", field="party")


def record(engine: Engine, peer: Peer, docs: Iterable[Any], report: PullReport,
           *, actor: str | None = None) -> PullReport:
    """Validate and record ``docs`` (pulled from ``peer``) in one append transaction."""
    actor = actor or actor_for(engine, peer)
    log = domain_log(engine, Rules())
    valid: list[tuple[dict[str, Any], str]] = []
    for doc in docs:
        report.seen += 1
        fid = doc.get("id") if isinstance(doc, dict) else None
        problems = validate_product_footprint(doc, strict=False)
        if problems:
            report.invalid.append({"footprint": fid, "problems": problems[:20]})
            continue
        valid.append((doc, payload_sha256(doc)))
    if not valid:
        return report
    with log.writer() as w:
        for doc, digest in valid:
            try:
                body = entry_body(peer.name, peer.url, doc, digest)
            except (InputError, ValueError) as exc:
                report.invalid.append({"footprint": doc.get("id"), "problems": [str(exc)]})
                continue
            before = suppliers.latest(w.session, peer.name, body["footprint"])
            if before is not None and before.payload_sha256 == digest:
                report.unchanged.append(body["footprint"])
                continue
            try:
                done = w.append(suppliers.KIND, actor, body)
            except GreenledgerError as exc:
                report.invalid.append({"footprint": body["footprint"], "problems": [str(exc)]})
                continue
            if w.session.get(suppliers.SupplierFootprintDocument, digest) is None:
                w.session.add(suppliers.SupplierFootprintDocument(
                    payload_sha256=digest, payload=rfc8785.dumps(doc).decode("utf-8"),
                    stored_at=encoding.now()))
                w.session.flush()
            row = suppliers.latest(w.session, peer.name, body["footprint"])
            report.recorded.append({"footprint": body["footprint"],
                                    "version": row.version if row else None, "seq": done.seq,
                                    "payload_sha256": digest})
    return report


def pull(engine: Engine, peer: Peer, *, product_ids: Sequence[str] = (),
         ids: Sequence[str] = (), limit: int | None = None, client: PactClient | None = None,
         actor: str | None = None) -> PullReport:
    """Pull ``peer``'s footprints (all it lists for us, those of ``product_ids``, or exactly
    ``ids`` by GetFootprint) and record them. Network and host errors raise
    :class:`PactClientError` before anything is written."""
    client = client or PactClient.for_peer(peer)
    report = PullReport(peer.name)
    docs: list[Any] = []
    if ids:
        for fid in ids:
            doc = client.get_footprint(fid)
            if doc is None:
                report.missing.append(fid)
            else:
                docs.append(doc)
    else:
        criteria = {"productId": list(product_ids)} if product_ids else None
        docs = list(client.list_footprints(criteria, limit=limit))
    return record(engine, peer, docs, report, actor=actor)
