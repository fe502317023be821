"""Bulk registration of certificates: the rules of ``certificate.registered``, checked
set-wise, so a file of a million ranges imports in one pass (issue 3: ≤ 60 s for 1,000,000).

The per-entry applier checks one range against storage with an indexed look-up; doing that a
million times through the ORM costs ~2 ms a row. Here every row is parsed with the very same
:func:`parse_certificate`, then:
- serial uniqueness: the file's ranges are sorted per registry and block and scanned once for
  overlaps among themselves, and each block's ranges already in storage are read once and
  merged against them;
- one registry per plant-month: the pairs of the file against each other and against storage;
- owner role and actor: once per owner.
Refusals carry the same rules, fields and limits as the applier's, and a file is refused by
this path exactly when the appliers would refuse it (tested on random files). Which lines are
named can differ when one file breaks several rules that interact: the appliers see the rows
in file order, one at a time, while the overlap scan here compares ranges in serial order. A
refused file is never partly written, so the verdict is what counts. Rows are then appended as
entries (without re-running the applier) and their projection rows written with one
executemany per table. The audit's replay re-checks every entry with the applier, and a test
runs random files through both paths and compares refusals and projections.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from ledger.domain.certificates import (
    ParsedCertificate,
    overlap_violation,
    parse_certificate,
    registry_violation,
)
from ledger.domain.parties import require_actor, require_role
from ledger.domain.tables import Certificate, PlantMonth
from ledger.encoding import Entry, canonical_bytes
from ledger.errors import GreenledgerError
from ledger.log import Writer, insert_rows

Row = tuple[int, str, dict[str, Any]]  # (line, actor, body)
#: a row ready to append: line, actor, body, what parsing found, the body's canonical bytes
Prepared = tuple[int, str, dict[str, Any], ParsedCertificate, bytes]


def prepare(rows: list[Row]) -> tuple[list[Prepared], list[tuple[int, str]]]:
    """Everything that needs no database: parse and check each body and encode it. Pure, so
    a bulk import runs it in worker processes."""
    ready: list[Prepared] = []
    refused: list[tuple[int, str]] = []
    for line, actor, body in rows:
        try:
            ready.append((line, actor, body, parse_certificate(body), canonical_bytes(body)))
        except GreenledgerError as exc:
            refused.append((line, str(exc)))
    return ready, refused


def _actor_check(session: Session, actor: str, owner: str, cache: dict) -> None:
    key = (actor, owner)
    if key not in cache:
        try:
            require_role(session, owner, "producer", field="owner")
            stub = Entry(0, "certificate.registered", "", actor, "", {})
            require_actor(session, stub, owner, field="owner")
            cache[key] = None
        except GreenledgerError as exc:
            cache[key] = exc
    if cache[key] is not None:
        raise cache[key]


def register_certificates(w: Writer, rows: list[Row] | None = None, *,
                          prepared: tuple[list[Prepared], list[tuple[int, str]]] | None = None,
                          ) -> list[tuple[int, str]]:
    r"""Check and append all rows (or rows already :func:`prepare`\ d); returns the refused
    ``(line, reason)`` (then the caller rolls the transaction back: nothing of a refused file
    is written)."""
    session = w.session
    ready, early = prepared if prepared is not None else prepare(rows or [])
    refused: dict[int, str] = dict(early)
    parsed: list[tuple[int, str, dict[str, Any], ParsedCertificate, bytes]] = []
    actors: dict = {}
    for item in ready:
        try:
            _actor_check(session, item[1], item[3].owner, actors)
            parsed.append(item)
        except GreenledgerError as exc:
            refused[item[0]] = str(exc)

    # serial uniqueness, within the file and against storage
    groups: dict[tuple[str, str], list[tuple[int, int, int, ParsedCertificate]]] = defaultdict(list)
    for line, _, _, p, _ in parsed:
        groups[(p.registry, p.rng.block)].append((p.rng.first_no, p.rng.last_no, line, p))
    for (registry, block), ranges in groups.items():
        ranges.sort(key=lambda r: (r[0], r[2]))
        stored = session.execute(
            select(Certificate.first_no, Certificate.last_no, Certificate.first, Certificate.last,
                   Certificate.certificate_id, Certificate.seq)
            .where(Certificate.registry_name == registry, Certificate.block == block)
            .order_by(Certificate.first_no)).all()
        starts = [r.first_no for r in stored]
        reach, reach_line, reach_p = -1, 0, None
        for first_no, last_no, line, p in ranges:
            if line in refused:
                continue
            i = bisect_right(starts, last_no) - 1
            if i >= 0 and stored[i].last_no >= first_no:
                s = stored[i]
                refused[line] = str(overlap_violation(p, s.first, s.last,
                                                      f"{s.certificate_id} (seq {s.seq})"))
            elif first_no <= reach and reach_p is not None:
                refused[line] = str(overlap_violation(
                    p, reach_p.row["first"], reach_p.row["last"], f"line {reach_line} of this file"))
            if last_no > reach:
                reach, reach_line, reach_p = last_no, line, p

    # one registry per plant-month
    plants = {item[3].plant for item in parsed}
    claims: dict[tuple[str, str], str] = {}
    for i in range(0, len(plants), 500):
        chunk = list(plants)[i:i + 500]
        for pm in session.scalars(select(PlantMonth).where(PlantMonth.plant.in_(chunk))):
            claims[(pm.plant, pm.month)] = pm.registry_name
    new_claims: dict[tuple[str, str], int] = {}
    for line, _, _, p, _ in sorted(parsed, key=lambda t: t[0]):
        if line in refused:
            continue
        key = (p.plant, p.generation)
        if key in claims and claims[key] != p.registry:
            refused[line] = str(registry_violation(p, claims[key]))
        elif key not in claims:
            claims[key] = p.registry
            new_claims[key] = line

    if refused:
        return sorted(refused.items())
    cert_rows, claim_rows = [], []
    claim_lines = {line: key for key, line in new_claims.items()}
    for line, actor, body, p, body_bytes in parsed:
        done = w.append_prevalidated("certificate.registered", actor, body, body_bytes)
        row = {**p.row, "seq": done.seq}
        row["registry"] = row.pop("registry_name")  # Core inserts name columns, not attributes
        cert_rows.append(row)
        if line in claim_lines:
            plant, month = claim_lines[line]
            claim_rows.append({"plant": plant, "month": month, "registry": p.registry,
                               "seq": done.seq})
    conn = session.connection()
    for table, rows in (("certificate", cert_rows), ("plant_month", claim_rows)):
        if rows:
            columns = tuple(rows[0])
            insert_rows(conn, table, columns, [tuple(r[c] for c in columns) for r in rows])
    return []
