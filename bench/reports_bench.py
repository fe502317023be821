"""Report figures (issue #11): the yearly green-share report of one facility with 100,000
allocations, target <= 200 ms, on SQLite (the embedded default) and PostgreSQL.

The data set is written straight into the projection tables (``batch``, ``certificate``,
``allocation``, ``voucher``...) with bulk inserts: the report reads projections only, and
building 100,000 allocations through the log's appliers would take minutes of set-up for the
same rows. Shape: 1,000 batches of the facility across 2025 (~83 a month), 500 GEC ranges of
2,000 MWh (hydro non-tradable, wind and solar tradable; vintages across 2025, one block per
technology and month so that a month's hydro ranges are consecutive codes), 100,000 allocations
of 5 MWh (each batch 100 of them, 500 of its 1,000 metered MWh), a coded hydro voucher and a
voucher without codes per month, and a second facility with 20,000 allocations of its own so the
report must filter. Every figure is checked against the totals the builder knows before it is
timed.

Timing: the whole ``green_share(...)`` call (all SQL and the Python that shapes the result), in a
new session each run, median of the runs (warm cache: the first run is not counted).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from bench.common import (
    Figure,
    Options,
    Skip,
    fresh_postgres,
    fresh_sqlite,
    postgres_unreachable,
    progress,
    size_label,
)

TARGET_MS = 200.0
BATCHES = 1_000
CERTIFICATES = 500
CODES_PER_CERTIFICATE = 2_000
MWH_PER_ALLOCATION = 5
BATCH_MWH = 1_000
OTHER_ALLOCATIONS = 20_000
TECHNOLOGIES = ("hydro", "wind", "solar")


def _gec_block(technology: str, month: int, facility: int) -> str:
    """A fictitious 17-character project part per technology, month and facility."""
    return f"9{TECHNOLOGIES.index(technology)}{facility}{month:02d}5300000000000"[:17]


def build(engine: Any, allocations: int) -> dict[str, int]:
    """Write the data set; return the figures the report must find (kWh)."""
    from sqlalchemy import insert

    from ledger.domain.tables import (
        Allocation,
        Batch,
        Certificate,
        Facility,
        Party,
        Voucher,
    )

    parties = [{"party_id": p, "name": p, "roles": "producer", "uscc": None, "seq": 0}
               for p in ("p-bench", "p-other")]
    facilities = [{"facility_id": f, "owner": p, "name": f"示例 {f}", "province": "CN-YN",
                   "grid_region": "CN-SOUTH", "country": "CN", "process": "aluminium electrolysis",
                   "seq": 0} for f, p in (("f-bench", "p-bench"), ("f-other", "p-other"))]
    expected = {"electricity_kwh": 0, "counted_kwh": 0, "hydro_kwh": 0}
    batches: list[dict[str, Any]] = []
    certificates: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    vouchers: list[dict[str, Any]] = []
    n_batches = min(BATCHES, allocations)
    n_certs = CERTIFICATES
    for fac_no, (facility, owner, count) in enumerate(
            (("f-bench", "p-bench", allocations), ("f-other", "p-other", OTHER_ALLOCATIONS))):
        fac_batches = n_batches if facility == "f-bench" else 100
        for b in range(fac_batches):
            month = b % 12 + 1
            kwh = BATCH_MWH * 1000
            batches.append({
                "batch_id": f"{facility}-B{b:05d}", "lot": f"L{b:05d}", "facility": facility, "owner": owner,
                "product": "primary aluminium ingot", "metal": "Al", "grade": "Al99.70",
                "cn_code": "76011000", "kg": 80_000_000, "shipped_kg": 0,
                "period_start": f"2025-{month:02d}-01", "period_end": f"2025-{month:02d}-28",
                "electricity_kwh": kwh, "allocated_kwh": 0, "recycled_kg": 0, "recycled_origin": "",
                "details": '{"fuels":[],"inputs":[],"process_emissions":[]}', "seq": 0})
            if facility == "f-bench":
                expected["electricity_kwh"] += kwh
        first_batch = len(batches) - fac_batches
        next_no: dict[str, int] = {}
        fac_certs: list[dict[str, Any]] = []
        for k in range(n_certs):
            month, tech = k % 12 + 1, TECHNOLOGIES[(k // 12) % 3]
            block = _gec_block(tech, month, fac_no)
            first = next_no.get(block, 1)
            next_no[block] = first + CODES_PER_CERTIFICATE
            last = first + CODES_PER_CERTIFICATE - 1
            cert: dict[str, Any] = {
                    "certificate_id": f"CN-GEC:{block}{first:015d}", "registry": "CN-GEC", "block": block,
                    "first": f"{block}{first:015d}", "last": f"{block}{last:015d}",
                    "first_no": first, "last_no": last,
                    "kwh": CODES_PER_CERTIFICATE * 1000, "allocated_kwh": 0, "cancelled_kwh": 0,
                    "technology": tech, "plant": f"plant {tech} {fac_no}", "plant_province": "CN-YN",
                    "country": "CN", "generation_month": f"2025-{month:02d}",
                    "expires_month": f"2027-{month - 1:02d}" if month > 1 else "2026-12",
                    "tradable": tech != "hydro", "transfers": 0, "owner": owner, "evidence_ref": "bench",
                    "evidence_sha256": "0" * 64, "attested_by": "p-cert" if k % 5 == 0 else None,
                    "status": "active", "seq": 0}
            fac_certs.append(cert)
        used = {c["certificate_id"]: 0 for c in fac_certs}
        by_month: dict[int, list[dict[str, Any]]] = {}
        for c in fac_certs:
            by_month.setdefault(int(c["generation_month"][5:]), []).append(c)
        fac_per_batch = max(1, count // fac_batches)
        for i in range(count):
            b = first_batch + (i // fac_per_batch) % fac_batches
            month = int(batches[b]["period_end"][5:7])
            pool = by_month[month]
            cert = pool[i % len(pool)]
            start = cert["first_no"] + used[cert["certificate_id"]]
            if start + MWH_PER_ALLOCATION - 1 > cert["last_no"]:
                raise RuntimeError("bench data set: a certificate ran out of codes")
            used[cert["certificate_id"]] += MWH_PER_ALLOCATION
            kwh = MWH_PER_ALLOCATION * 1000
            if batches[b]["allocated_kwh"] + kwh > batches[b]["electricity_kwh"]:
                raise RuntimeError("bench data set: a batch would be over-allocated")
            batches[b]["allocated_kwh"] += kwh
            cert["allocated_kwh"] += kwh
            rows.append({"allocation_id": f"{facility}-A{i:07d}", "certificate_id": cert["certificate_id"],
                         "first_no": start, "last_no": start + MWH_PER_ALLOCATION - 1,
                         "first": f"{cert['block']}{start:015d}",
                         "last": f"{cert['block']}{start + MWH_PER_ALLOCATION - 1:015d}", "kwh": kwh,
                         "batch_id": batches[b]["batch_id"], "beneficiary": owner, "seq": 0})
            if facility == "f-bench":
                expected["counted_kwh"] += kwh
                if cert["technology"] == "hydro":
                    expected["hydro_kwh"] += kwh
        certificates += fac_certs
        for month, pool in by_month.items():
            hydro = [c for c in pool if c["technology"] == "hydro"]
            if hydro:
                vouchers.append({
                    "voucher_id": f"KMPX:{facility}-{month:02d}", "issuer": "KMPX",
                    "number": f"{facility}-{month:02d}", "facility": facility,
                    "period_start": f"2025-{month:02d}", "period_end": f"2025-{month:02d}",
                    "kwh": sum(c["kwh"] for c in hydro), "technology": "hydro",
                    "certificate_first": min(c["first"] for c in hydro),
                    "certificate_last": max(c["last"] for c in hydro), "evidence_sha256": "", "seq": 0})
            vouchers.append({
                "voucher_id": f"KMPX:{facility}-{month:02d}-w", "issuer": "KMPX",
                "number": f"{facility}-{month:02d}-w", "facility": facility,
                "period_start": f"2025-{month:02d}", "period_end": f"2025-{month:02d}", "kwh": 1_000_000,
                "technology": "wind", "certificate_first": None, "certificate_last": None,
                "evidence_sha256": "", "seq": 0})
    with engine.begin() as conn:
        for model, data in ((Party, parties), (Facility, facilities), (Batch, batches),
                            (Certificate, certificates), (Voucher, vouchers)):
            conn.execute(insert(model.__table__), data)  # type: ignore[union-attr]
        for i in range(0, len(rows), 20_000):
            conn.execute(insert(Allocation.__table__), rows[i:i + 20_000])  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return expected


def _measure(engine: Any, options: Options, allocations: int, expected: dict[str, int],
             backend: str) -> Figure:
    from decimal import Decimal

    from sqlmodel import Session

    from ledger.reports.green_share import green_share
    from ledger.reports.periods import Period
    from ledger.reports.targets import load_targets

    targets = load_targets()
    period = Period.of_year(2025)

    def run() -> dict[str, Any]:
        with Session(engine) as session:
            return green_share(session, period=period, facility="f-bench", targets=targets).to_json()

    report = run()  # warm-up, and the check
    fac = report["facilities"][0]
    got = (Decimal(fac["electricity_mwh"]) * 1000, Decimal(fac["green_mwh"]) * 1000,
           Decimal(fac["by_technology"].get("hydro", "0")) * 1000)
    want = (expected["electricity_kwh"], expected["counted_kwh"], expected["hydro_kwh"])
    if got != tuple(Decimal(w) for w in want):
        raise RuntimeError(f"green-share report disagrees with the data set: got {got}, want {want}")
    samples = []
    for _ in range(options.repeat(full=7, quick=3)):
        t0 = time.perf_counter()
        run()
        samples.append((time.perf_counter() - t0) * 1000)
    return Figure(f"green_share_{size_label(allocations)}_allocations" + ("" if backend == "sqlite" else
                                                                       f"_{backend}"),
                  statistics.median(samples), "ms", "<=", TARGET_MS,
                  {"backend": backend, "allocations": allocations, "batches": min(BATCHES, allocations),
                   "other_facility_allocations": OTHER_ALLOCATIONS, "runs": len(samples),
                   "samples_ms": [round(x, 1) for x in samples],
                   "green_share_percent": fac["green_share_percent"],
                   "voucher_covered_mwh": fac["voucher_covered_mwh"],
                   "built": "projection rows inserted directly; the report reads projections only"})


def _bench(backend: str) -> Callable[[Options], list[Figure]]:
    def bench(options: Options) -> list[Figure]:
        allocations = options.count(100_000, 100_000, minimum=100)
        if backend == "postgres":
            why = postgres_unreachable(options)
            if why:
                raise Skip(why)
            context: AbstractContextManager[Any] = fresh_postgres(options)
        else:
            context = fresh_sqlite(options, "reports")
        with context as engine:
            progress(f"building {allocations} allocations on {backend}")
            expected = build(engine, allocations)
            return [_measure(engine, options, allocations, expected, backend)]

    return bench


BENCHES: dict[str, Callable[[Options], list[Figure]]] = {
    "green_share_100k_allocations": _bench("sqlite"),
    "green_share_100k_allocations_postgres": _bench("postgres"),
}
