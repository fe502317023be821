"""Registry and footprint figures (issue 3): importing GECs, allocating against a million
registered ranges, and the footprint of a shipment over 100 batches with 3 upstream tiers."""

from __future__ import annotations

import csv
import hashlib
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session

from bench.common import Figure, Options, progress, sample_stats_ms, size_label, time_each
from ledger import importing
from ledger.domain import domain_log
from ledger.domain.footprints import Footprints
from ledger.factors import FactorLibrary
from ledger.store.engine import make_engine
from ledger.store.migrate import upgrade

SCENARIO = Path(__file__).resolve().parents[1] / "sample_data" / "scenario"
HEADER = importing.COLUMNS["certificates"]
PER_BLOCK = 5000


def _code(i: int) -> tuple[str, str, str]:
    """The i-th generated range: 100 codes of a 2025 month of one of many projects."""
    project = f"{31200808265308017 + i // PER_BLOCK:017d}"
    month = f"2025-{i % 12 + 1:02d}"
    k = (i % PER_BLOCK) * 100 + 1
    stem = project + month.replace("-", "")
    return f"{stem}{k:09d}", f"{stem}{k + 99:09d}", month


def write_csv(path: Path, n: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for i in range(n):
            first, last, month = _code(i)
            out.writerow(["CN-GEC", first, last, "100", "hydro", f"示例水电站 Plant {i // PER_BLOCK}",
                          "CN-YN", "CN", month, "false", "p-smelter", f"KMPX-{i}",
                          hashlib.sha256(str(i).encode()).hexdigest()])


def _fresh_ledger(opts: Options, name: str):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{opts.work_path(name)}.db")
    upgrade(engine)
    log = domain_log(engine)
    for kind in ("parties", "facilities"):
        importing.import_file(log, kind, SCENARIO / f"{kind}.csv")
    return engine, log


def _imported(opts: Options) -> tuple[object, object, int]:
    def make() -> tuple[object, object, int]:
        n = opts.count(1_000_000, 100_000)
        path = opts.work_path("certificates").with_suffix(".csv")
        progress(f"writing {n} certificate rows")
        write_csv(path, n)
        engine, log = _fresh_ledger(opts, "import")
        progress(f"importing {n} certificates")
        t0 = time.perf_counter()
        report = importing.import_file(log, "certificates", path)
        seconds = time.perf_counter() - t0
        assert report.taken == n
        return (engine, log, n, seconds)

    return opts.shared_value("imported", make)  # type: ignore[no-any-return]


def import_certificates(opts: Options) -> list[Figure]:
    _, _, n, seconds = _imported(opts)  # type: ignore[misc]
    target = 60 * n / 1_000_000
    return [Figure(f"import_certificates_{size_label(n)}", seconds, "s", "<=", round(target, 1),
                   {"rows": n, "rows_per_s": round(n / seconds), "runs": 1,
                    "what": "greenledger import certificates FILE.csv: CSV read, every rule, "
                            "entries, tree nodes, projections, one commit; SQLite file, WAL, "
                            "synchronous=FULL"})]


def allocation_overlap(opts: Options) -> list[Figure]:
    engine, log, n, _ = _imported(opts)  # type: ignore[misc]
    log.append("batch.registered", "p-smelter", {
        "batch": "BENCH-1", "lot": "BENCH-1", "facility": "f-smelter",
        "product": "primary aluminium ingot", "metal": "Al", "grade": "Al99.70", "cn_code": "76011000",
        "tonnes": "1000000.000", "period_start": "2025-01-01", "period_end": "2025-12-31",
        "electricity_mwh": "99000000.000", "fuels": [], "process_emissions": [], "inputs": []})
    if engine.dialect.name == "sqlite":  # type: ignore[attr-defined]
        # steady state: fold the import's write-ahead log into the database first, or the
        # first commits measured pay for checkpointing a million rows
        with engine.connect() as conn:  # type: ignore[attr-defined]
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    rng = random.Random(7)
    samples = opts.count(300, 100, minimum=20)
    picks = rng.sample(range(n), samples)

    def allocate(i: int) -> int:
        first, _, _ = _code(i)
        return log.append("allocation.recorded", "p-smelter", {
            "allocation": f"B-{i}", "certificate": f"CN-GEC:{first}", "first": first,
            "last": first, "mwh": "1.000", "batch": "BENCH-1", "beneficiary": "p-smelter"}).seq

    times, _ = time_each(picks, allocate)
    stats = sample_stats_ms(times)
    return [Figure(f"allocation_{size_label(n)}_ranges", stats["median_ms"], "ms", "<=", 2,
                   {**stats, "registered_ranges": n,
                    "what": "one allocation.recorded append in its own transaction: rules "
                            "(owner, inside the certificate, no code allocated twice, metered "
                            "MWh, vintage, expiry, market boundary), entry, tree nodes, commit"})]


def _tiered_world(opts: Options) -> tuple[object, str]:
    engine, log = _fresh_ledger(opts, "tiers")
    rng = random.Random(3)
    items: list[tuple[str, str, dict]] = []

    def batch(bid: str, facility: str, actor: str, inputs: list[dict]) -> None:
        items.append(("batch.registered", actor, {
            "batch": bid, "lot": bid, "facility": facility, "product": "aluminium", "metal": "Al",
            "grade": "Al99.70", "cn_code": "76011000", "tonnes": "100.000",
            "period_start": "2025-03-01", "period_end": "2025-03-31",
            "electricity_mwh": f"{rng.randint(1200, 1400)}.000",
            "fuels": [{"fuel": "natural_gas", "amount": "3500", "unit": "m3"}],
            "process_emissions": [{"gas": "CO2", "kg": "150000"}, {"gas": "CF4", "kg": "2.1"}],
            "inputs": inputs}))

    def ship(sid: str, seller: str, buyer: str, ids: list[str]) -> None:
        items.append(("shipment.recorded", seller, {
            "shipment": sid, "seller": seller, "buyer": buyer, "date": "2025-04-01",
            "destination_country": "CN", "lines": [{"batch": b, "tonnes": "100.000"} for b in ids]}))

    tiers = [("f-refinery", "p-refinery"), ("f-smelter", "p-smelter"), ("f-copper", "p-copper")]
    previous: list[str] = []
    for t, (facility, actor) in enumerate(tiers):
        ids = [f"T{t}-{i}" for i in range(100)]
        for i, bid in enumerate(ids):
            inputs = ([{"kind": "batch", "ref": previous[i], "tonnes": "100.000"}] if previous else
                      [{"kind": "factor", "ref": "material_bauxite", "amount": "250", "unit": "t"}])
            batch(bid, facility, actor, inputs)
        buyer = tiers[t + 1][1] if t + 1 < len(tiers) else "p-buyer-gd"
        ship(f"S{t}", actor, buyer, ids)
        previous = ids
    log.append_many(items)
    return engine, "S2"


def footprint_shipment(opts: Options) -> list[Figure]:
    engine, shipment = _tiered_world(opts)
    library = FactorLibrary.load()
    runs = opts.repeat(15, 5)

    def compute(_: int) -> str:
        with Session(engine) as s:  # type: ignore[arg-type]
            return str(Footprints(s, library).shipment(shipment).market_per_tonne.total)

    compute(0)  # warm the connection and imports
    times, results = time_each(list(range(runs)), compute)
    assert len(set(results)) == 1
    stats = sample_stats_ms(times)
    return [Figure("footprint_shipment_100_batches_3_tiers", stats["median_ms"], "ms", "<=", 20,
                   {**stats, "batches": 300, "tiers": 3,
                    "what": "Footprints(session).shipment(): 100 shipped batches, each drawing "
                            "on an upstream batch that draws on another (300 batches priced), "
                            "from the projections, fresh cache per run"})]


BENCHES: dict[str, Callable[[Options], list[Figure]]] = {
    "import_certificates": import_certificates,
    "allocation_overlap": allocation_overlap,
    "footprint_shipment": footprint_shipment,
}

__all__ = ["BENCHES", "statistics"]
