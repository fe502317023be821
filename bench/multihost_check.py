"""After the multi-host run: hold what the clients were told against what the ledger holds.

- **Every acknowledged write is in the log exactly once, at the ``seq`` it was answered
  with.** Each request carries a tag (see :mod:`bench.multihost_client`); the run's entries
  are indexed by the same tag. An acknowledged write with no entry is *lost*; any tag with two
  or more entries is a *duplicate* (for declarations: a shipment declared twice, which is what
  a retry would do if the first response was lost and the idempotency record with it); a
  refused write whose tag is in the log was *written although refused* (a retry answered 409
  "already exists" instead of the first result). Entries of the run that no request explains
  are counted too.
- **No MWh allocated twice, no batch over-allocated or over-shipped**, read from the
  projections: per certificate, allocated code ranges do not overlap and stay inside it; per
  batch, Σ allocated MWh ≤ metered and Σ shipped tonnes ≤ produced, and both sums equal the
  batch's running totals.
- **The audit is clean**, with the replay of the whole log into fresh projections.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

#: the tag of a run's entry, by kind (the same as the client puts in its request)
TAG_OF = {
    "certificate.registered": lambda b: b["evidence"]["ref"],
    "batch.registered": lambda b: b["batch"],
    "allocation.recorded": lambda b: b["allocation"],
    "shipment.recorded": lambda b: b["shipment"],
    "declaration.issued": lambda b: f"decl:{b['shipment']}",
}


@dataclass
class CheckResult:
    writes: int = 0
    acknowledged: int = 0
    rejected: int = 0
    unresolved: int = 0
    requests: int = 0
    retried: int = 0
    #: writes whose first answer the client dropped on purpose (a lost response)
    lost_responses_injected: int = 0
    #: attempts without a final answer, by cause ("lost response (injected)", error class, "http 5xx")
    failed_attempts: Counter[str] = field(default_factory=Counter)
    #: acknowledged by replaying the first result after an attempt whose answer was lost:
    #: dropped on purpose, or cut by a fault (server killed, database restarted)
    replayed_after_lost_response: int = 0
    replayed_after_fault: int = 0
    lost: int = 0
    duplicates: int = 0
    rejected_but_written: int = 0
    seq_mismatches: int = 0
    unexpected_entries: int = 0
    refused_by_rule: Counter[str] = field(default_factory=Counter)
    overlapping_allocations: int = 0
    over_allocated_batches: int = 0
    over_shipped_batches: int = 0
    projection_mismatches: int = 0
    audit_clean: bool = False
    audit_findings: list[str] = field(default_factory=list)
    log_size: int = 0
    #: per answered attempt, milliseconds
    latencies_ms: list[float] = field(default_factory=list)
    first_at: float = 0.0
    last_at: float = 0.0
    #: a line for each thing that must not happen, to print
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.audit_clean and not any((
            self.lost, self.duplicates, self.rejected_but_written, self.seq_mismatches,
            self.unexpected_entries, self.overlapping_allocations, self.over_allocated_batches,
            self.over_shipped_batches, self.projection_mismatches))


def read_records(paths: Iterable[Path]) -> list[dict[str, Any]]:
    records = []
    for path in paths:
        if path.exists():
            with path.open(encoding="utf-8") as fh:
                records.extend(json.loads(line) for line in fh if line.strip())
    return records


def run_entries(engine: Engine, since: int) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    """The run's entries (``seq >= since``) by tag: ``tag -> [(seq, body)]``; untagged kinds
    under ``"?<kind>"``."""
    from sqlmodel import Session

    from ledger.store.tables import LogEntry

    found: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    with Session(engine) as s:
        for seq, kind, text in s.execute(select(LogEntry.seq, LogEntry.kind, LogEntry.entry)
                                         .where(LogEntry.seq >= since).order_by(LogEntry.seq)):
            body = json.loads(text)["body"]
            tag = TAG_OF[kind](body) if kind in TAG_OF else f"?{kind}"
            found[tag].append((seq, body))
    return found


def reconcile(result: CheckResult, records: list[dict[str, Any]],
              entries: dict[str, list[tuple[int, dict[str, Any]]]]) -> None:
    for r in records:
        result.writes += 1
        result.requests += len(r["attempts"])
        result.retried += len(r["attempts"]) > 1
        result.lost_responses_injected += any(a.get("lost") for a in r["attempts"])
        for a in r["attempts"]:
            if a.get("lost"):
                result.failed_attempts["lost response (injected)"] += 1
            elif "error" in a or a["status"] >= 500 or a["status"] == 429:
                result.failed_attempts[a.get("error") or f"http {a['status']}"] += 1
        result.latencies_ms += [a["ms"] for a in r["attempts"] if "status" in a]
        found = entries.get(r["tag"], [])
        if len(found) > 1:
            result.duplicates += len(found) - 1
            result.problems.append(f"duplicate: {r['tag']} is in the log {len(found)} times, "
                                   f"seqs {[seq for seq, _ in found]} ({r['outcome']})")
        if r["outcome"] == "acked":
            result.acknowledged += 1
            if r.get("replayed"):
                injected = any(a.get("lost") for a in r["attempts"])
                result.replayed_after_lost_response += injected
                result.replayed_after_fault += not injected and len(r["attempts"]) > 1
            if not found:
                result.lost += 1
                result.problems.append(f"lost: {r['tag']} acknowledged with seq {r.get('seq')} "
                                       "but not in the log")
            elif r.get("seq") not in [seq for seq, _ in found] or (
                    r["op"] == "declaration" and r.get("id") not in
                    [b["declaration"] for _, b in found]):
                result.seq_mismatches += 1
                result.problems.append(f"mismatch: {r['tag']} acknowledged as seq {r.get('seq')}, "
                                       f"in the log at {[seq for seq, _ in found]}")
        elif r["outcome"] == "rejected":
            result.rejected += 1
            result.refused_by_rule[r.get("rule") or str(r.get("status"))] += 1
            if found:
                result.rejected_but_written += 1
                result.problems.append(f"refused but written: {r['tag']} answered "
                                       f"{r.get('status')} {r.get('rule')}, in the log at "
                                       f"{[seq for seq, _ in found]}")
        else:
            result.unresolved += 1
        at = r["at"]
        result.first_at = min(result.first_at or at, at)
        result.last_at = max(result.last_at, at)
    explained = {r["tag"] for r in records}
    for tag, found in entries.items():
        if tag not in explained:
            result.unexpected_entries += len(found)
            result.problems.append(f"unexpected: {len(found)} entr(ies) {tag} at "
                                   f"{[seq for seq, _ in found]} that no request explains")


def check_projections(result: CheckResult, engine: Engine) -> None:
    """No code allocated twice; per batch, allocations within metered, shipments within made."""
    from sqlmodel import Session

    from ledger.domain.tables import Allocation, Batch, Certificate, ShipmentLine

    with Session(engine) as s:
        certs = {c.certificate_id: c for c in s.scalars(select(Certificate))}
        batches = {b.batch_id: b for b in s.scalars(select(Batch))}
        ranges: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        allocated: Counter[str] = Counter()
        for a in s.scalars(select(Allocation)):
            ranges[a.certificate_id].append((a.first_no, a.last_no, a.allocation_id))
            allocated[a.batch_id] += a.kwh
        shipped: Counter[str] = Counter()
        for line in s.scalars(select(ShipmentLine)):
            shipped[line.batch_id] += line.kg
    for cid, spans in ranges.items():
        cert = certs[cid]
        spans.sort()
        reach, holder = spans[0][1], spans[0][2]
        for first, last, aid in spans[1:]:
            if first <= reach:
                result.overlapping_allocations += 1
                result.problems.append(f"double allocation: {aid} overlaps {holder} in {cid}")
            if last > reach:
                reach, holder = last, aid
        if spans[0][0] < cert.first_no or max(e for _, e, _ in spans) > cert.last_no:
            result.overlapping_allocations += 1
            result.problems.append(f"allocation outside {cid}")
        if sum(e - f + 1 for f, e, _ in spans) * 1000 != cert.allocated_kwh:
            result.projection_mismatches += 1
            result.problems.append(f"{cid}: allocated_kwh {cert.allocated_kwh} != its allocations")
    for bid, batch in batches.items():
        if allocated[bid] > batch.electricity_kwh:
            result.over_allocated_batches += 1
            result.problems.append(f"over-allocated: {bid} {allocated[bid]} kWh of "
                                   f"{batch.electricity_kwh}")
        if shipped[bid] > batch.kg:
            result.over_shipped_batches += 1
            result.problems.append(f"over-shipped: {bid} {shipped[bid]} kg of {batch.kg}")
        if allocated[bid] != batch.allocated_kwh or shipped[bid] != batch.shipped_kg:
            result.projection_mismatches += 1
            result.problems.append(f"{bid}: running totals differ from its allocations/shipments")


def run_audit(result: CheckResult, engine: Engine, key_dir: Path) -> None:
    from ledger import keys
    from ledger.audit import audit
    from ledger.domain.replay import replay_check

    report = audit(engine, operator_keys=[keys.load_verifier(key_dir, "operator")],
                   extra_checks=[replay_check()])
    result.audit_clean = report.clean
    result.audit_findings = [f.line() for f in report.findings]
    result.log_size = report.size


def check_run(url: str, key_dir: Path, since: int, record_files: Iterable[Path]) -> CheckResult:
    from ledger.store.engine import make_engine

    result = CheckResult()
    engine = make_engine(url)
    try:
        reconcile(result, read_records(record_files), run_entries(engine, since))
        check_projections(result, engine)
        run_audit(result, engine, key_dir)
    finally:
        engine.dispose()
    return result
