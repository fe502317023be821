"""Export for the provincial product life-cycle carbon database (Yunnan plan 二(六)12:
建立产品全生命周期碳排放基础数据库; issue #11.4), as JSON and CSV with a published schema
(``sample_data/schemas/provincial_export.schema.json`` and ``provincial_export_row.schema.json``).

One row per product — metal + grade + CN code — and period (year, quarter or month): the
cradle-to-gate footprint per tonne, market-based (the headline) and location-based, split into
upstream, direct and electricity, with the factor family, the GWP set, every factor used with its
value, unit, source and status, and the disclosures. The per-tonne figures are the tonne-weighted
mean of the batches of that product that ended in the period, computed by the footprint engine's
own code (``Footprints`` for each batch, ``shipment_footprint`` for the mean, as if the period's
whole output were one shipment), so a product-period of one batch shows exactly the figures of
``greenledger footprint batch ID --json``.

**From the audited ledger only.** :func:`audited_export` opens a read snapshot, runs the full
audit (chain, tree, checkpoints, witnesses, replay of every projection and rule) and exports only
if it is clean *and* covers exactly the entries of the snapshot it exports from; otherwise it
raises :class:`LedgerNotClean` (the CLI exits 1) or :class:`LedgerChanged` (entries were appended
while auditing: run it again). The export names the audited log size and root.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session, col

from ledger import audit as auditing
from ledger.checkpoint import Verifier
from ledger.domain.footprints import Footprints
from ledger.domain.replay import replay_check
from ledger.domain.tables import Batch
from ledger.errors import GreenledgerError
from ledger.factors import FactorLibrary
from ledger.footprint import shipment_footprint
from ledger.footprint_model import SupplierFootprint
from ledger.reports.labels import labels_for
from ledger.reports.periods import Period
from ledger.store.tables import LogHead

B = Batch.__table__.c  # type: ignore[attr-defined]
SCHEMA_ID = "https://greenledger.example/schemas/provincial_export.schema.json"
ROW_SCHEMA_ID = "https://greenledger.example/schemas/provincial_export_row.schema.json"
SCHEMA_VERSION = "1"
METHOD = ("Cradle-to-gate product carbon footprint (ISO 14067:2018 / GB/T 24067-2024 style, greenledger "
          "DESIGN §5). Per tonne: tonne-weighted mean of the product's batches that ended in the period "
          "(a batch belongs to the period of its period_end). Market-based is the headline; "
          "location-based is shown beside it. One electricity factor family per export, never mixed.")
STAGES = ("upstream", "direct", "electricity", "total")
CSV_COLUMNS = (
    "period", "period_kind", "first_month", "last_month", "metal", "grade", "cn_code", "batches",
    "tonnes", "family", "gwp_set",
    *(f"market_{s}_kg_co2e_per_t" for s in STAGES), *(f"location_{s}_kg_co2e_per_t" for s in STAGES),
    "electricity_mwh", "green_mwh", "green_mwh_voucher_covered", "green_share_percent",
    "primary_data_share_percent", "recycled_share_percent", "ledger_size", "ledger_root",
    "products_json", "facilities_json", "factors_json", "notes_json",
)


class LedgerNotClean(GreenledgerError):
    """The audit found problems: nothing is exported from a ledger that does not audit clean."""

    code = "audit-not-clean"

    def __init__(self, report: auditing.AuditReport) -> None:
        super().__init__(f"the audit found {len(report.findings)} problem(s); nothing exported",
                         field="ledger")
        self.report = report


class LedgerChanged(GreenledgerError):
    """Entries were appended between the export's snapshot and the audit."""

    code = "ledger-changed"


@dataclass(frozen=True)
class ExportRow:
    period: Period
    metal: str
    grade: str
    cn_code: str
    products: tuple[str, ...]
    facilities: tuple[str, ...]
    batch_ids: tuple[str, ...]
    figures: dict[str, Any]  # ShipmentFootprint.to_json() of the period's batches

    def to_json(self) -> dict[str, Any]:
        f = self.figures
        return {
            "period": self.period.label, "period_kind": self.period.kind,
            "first_month": self.period.first_month, "last_month": self.period.last_month,
            "product": {"metal": self.metal, "grade": self.grade, "cn_code": self.cn_code,
                        "names": list(self.products)},
            "facilities": list(self.facilities), "batches": len(self.batch_ids),
            "batch_ids": list(self.batch_ids), "tonnes": f["tonnes"], "family": f["family"],
            "gwp_set": f["gwp_set"],
            "market_per_tonne": _stages(f["market_per_tonne"]),
            "location_per_tonne": _stages(f["location_per_tonne"]),
            "market_kg_co2e": _stages(f["market_kg_co2e"], "kg_co2e"),
            "location_kg_co2e": _stages(f["location_kg_co2e"], "kg_co2e"),
            "by_gas_kg_co2e": f["by_gas_kg_co2e"],
            "electricity_mwh": f["electricity_mwh"], "green_mwh": f["green_mwh"],
            "green_mwh_voucher_covered": f["green_mwh_voucher_covered"],
            "green_share_percent": f["green_share_percent"],
            "primary_data_share_percent": f["primary_data_share_percent"],
            "recycled_share_percent": f["recycled_share_percent"],
            "factors": f["factors"], "notes": f["notes"],
        }


def _stages(basis: dict[str, str], suffix: str = "kg_co2e_per_t") -> dict[str, str]:
    """``{"upstream_kg_co2e_per_t": ...}`` -> ``{"upstream_kg_co2e_per_t": ...}`` in stage order."""
    return {f"{stage}_{suffix}": basis[f"{stage}_{suffix}"] for stage in STAGES}


@dataclass(frozen=True)
class LedgerState:
    """What the export was computed from: the audited log's size and root."""

    size: int
    root: str
    checkpoints: int
    audited: bool

    def to_json(self) -> dict[str, Any]:
        return {"size": self.size, "root": self.root, "checkpoints": self.checkpoints,
                "audit": "clean" if self.audited else "not audited", "projections_replayed": self.audited}


@dataclass(frozen=True)
class ProvincialExport:
    kind: str
    year: int
    family: str
    gwp_set: str
    rows: tuple[ExportRow, ...]
    ledger: LedgerState
    generated_at: str

    def to_json(self) -> dict[str, Any]:
        return {"$schema": SCHEMA_ID, "schema_version": SCHEMA_VERSION, "generated_at": self.generated_at,
                "ledger": self.ledger.to_json(), "period": {"kind": self.kind, "year": self.year},
                "family": self.family, "gwp_set": self.gwp_set, "method": METHOD,
                "rows": [r.to_json() for r in self.rows], "labels": labels_for("provincial_export")}

    def json_text(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2) + "\n"

    def csv_rows(self) -> list[dict[str, str]]:
        out = []
        for row in self.rows:
            j = row.to_json()
            flat = {k: str(j[k]) for k in ("period", "period_kind", "first_month", "last_month", "batches",
                                          "tonnes", "family", "gwp_set", "electricity_mwh", "green_mwh",
                                          "green_mwh_voucher_covered", "green_share_percent",
                                          "primary_data_share_percent", "recycled_share_percent")}
            flat.update({"metal": row.metal, "grade": row.grade, "cn_code": row.cn_code,
                         "ledger_size": str(self.ledger.size), "ledger_root": self.ledger.root})
            for basis in ("market", "location"):
                for stage in STAGES:
                    flat[f"{basis}_{stage}_kg_co2e_per_t"] = j[f"{basis}_per_tonne"][f"{stage}_kg_co2e_per_t"]
            for key, value in (("products_json", j["product"]["names"]), ("facilities_json", j["facilities"]),
                               ("factors_json", j["factors"]), ("notes_json", j["notes"])):
                flat[key] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            out.append({c: flat[c] for c in CSV_COLUMNS})
        return out

    def csv_text(self) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.csv_rows())
        return buffer.getvalue()


def export_rows(session: Session, library: FactorLibrary, *, kind: str, year: int,
                family: str = "lca_power", gwp_set: str = "AR6",
                suppliers: Callable[[str], SupplierFootprint] | None = None) -> tuple[ExportRow, ...]:
    """The rows of ``year`` split by ``kind`` (year, quarter, month), from ``session``'s view."""
    periods = Period("year", year).subperiods(kind)
    footprints = Footprints(session, library, family=family, gwp_set=gwp_set, suppliers=suppliers)
    rows = []
    for period in periods:
        groups: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
        for batch in session.execute(
                select(B.batch_id, B.metal, B.grade, B.cn_code, B.product, B.facility)
                .where(B.period_end >= period.first_day, B.period_end < period.after_last_day)
                .order_by(B.period_end, B.batch_id)):
            groups[(batch.metal, batch.grade, batch.cn_code)].append(batch)
        for (metal, grade, cn_code), batches in sorted(groups.items()):
            fps = [footprints.batch(b.batch_id) for b in batches]
            mean = shipment_footprint([(fp, fp.tonnes) for fp in fps])
            rows.append(ExportRow(period, metal, grade, cn_code, tuple(sorted({b.product for b in batches})),
                                  tuple(sorted({b.facility for b in batches})),
                                  tuple(b.batch_id for b in batches), mean.to_json()))
    return tuple(rows)


def audited_export(engine: Engine, library: FactorLibrary, *, kind: str, year: int,
                   operator_keys: Sequence[Verifier], certifier_keys: Sequence[Verifier] = (),
                   witnessed: Sequence[str] = (), extra_checks: Sequence[auditing.ExtraCheck] = (),
                   family: str = "lca_power", gwp_set: str = "AR6",
                   suppliers: Callable[[str], SupplierFootprint] | None = None,
                   ) -> ProvincialExport:
    """Audit (with replay, and ``extra_checks`` such as the CLI's key-rotation check) and export
    from the very state that was audited, or refuse."""
    Period("year", year).subperiods(kind)  # refuse a wrong kind before the (long) audit
    with Session(engine) as session:
        if engine.dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        snapshot = int(session.execute(select(col(LogHead.size)).where(col(LogHead.id) == 1)).scalar_one())
        report = auditing.audit(engine, operator_keys=operator_keys, certifier_keys=certifier_keys,
                                witnessed=witnessed, extra_checks=[replay_check(), *extra_checks])
        if not report.clean:
            raise LedgerNotClean(report)
        if report.size != snapshot:
            raise LedgerChanged(f"the ledger grew from {snapshot} to {report.size} entries while it "
                                "was audited; run the export again", field="ledger")
        rows = export_rows(session, library, kind=kind, year=year, family=family, gwp_set=gwp_set,
                           suppliers=suppliers)
    return ProvincialExport(kind, year, family, gwp_set, rows,
                            LedgerState(report.size, report.root.hex(), report.checkpoints, True),
                            datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
