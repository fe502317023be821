"""The export for the provincial product life-cycle carbon database (issue #11.4): from the audited
ledger only, valid against its own published schemas, with the footprint engine's numbers; and
the published schemas themselves (and the targets they compare with)."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text
from sqlmodel import Session

from ledger.checkpoint import Signer
from ledger.domain.footprints import Footprints
from ledger.domain.tables import Batch
from ledger.errors import InputError
from ledger.factors import FactorLibrary
from ledger.log import sign_checkpoint
from ledger.reports import provincial_export
from ledger.reports.periods import Period
from ledger.reports.provincial_export import CSV_COLUMNS, LedgerChanged, LedgerNotClean, audited_export
from ledger.reports.targets import DEFAULT_PATH as TARGETS_CSV
from ledger.reports.targets import load_targets
from ledger.store.engine import make_engine
from ledger.store.migrate import upgrade
from tests.ledger.test_reports_world import (
    OUR_SCHEMAS,
    assert_valid,
    load_schema,
    scenario,
    schema_errors,
)

LIBRARY = FactorLibrary.load()


@pytest.fixture
def signed(engine):
    """The sample year with a signed checkpoint, and the operator's verifier key."""
    log = scenario(engine)
    signer = Signer("greenledger.test/log", Ed25519PrivateKey.generate())
    sign_checkpoint(log, signer)
    return log, signer.verifier


def test_a_monthly_export_has_exactly_the_batch_footprints(engine, signed):
    log, operator = signed
    export = audited_export(engine, LIBRARY, kind="month", year=2025, operator_keys=[operator])
    data = json.loads(export.json_text())
    assert_valid(data, "provincial_export.schema.json")
    assert data["ledger"] == {"size": log.size(), "root": log.root().hex(), "checkpoints": 1,
                              "audit": "clean", "projections_replayed": True}
    assert len(data["rows"]) == 48  # 4 products x 12 months, one batch each in the sample year
    with Session(engine) as s:
        fps = Footprints(s, LIBRARY)
        for row in data["rows"]:
            (batch_id,) = row["batch_ids"]
            fp = fps.batch(batch_id).to_json()
            for key in ("tonnes", "market_per_tonne", "location_per_tonne", "electricity_mwh", "green_mwh",
                        "green_mwh_voucher_covered", "green_share_percent", "primary_data_share_percent",
                        "recycled_share_percent", "family", "gwp_set"):
                assert row[key] == fp[key], (batch_id, key)
            assert row["factors"] == fp["factors"]
            assert row["period"] == fp["period_end"][:7]
    rows = list(csv.DictReader(io.StringIO(export.csv_text())))
    assert list(rows[0]) == list(CSV_COLUMNS) == load_schema("provincial_export_row.schema.json")["x-columns"]
    for flat, row in zip(rows, data["rows"], strict=True):
        assert_valid(flat, "provincial_export_row.schema.json")
        assert flat["market_total_kg_co2e_per_t"] == row["market_per_tonne"]["total_kg_co2e_per_t"]
        assert flat["location_electricity_kg_co2e_per_t"] == \
            row["location_per_tonne"]["electricity_kg_co2e_per_t"]
        factors = json.loads(flat["factors_json"])
        assert factors == row["factors"]
        for factor in factors:
            assert not schema_errors(factor, load_schema("provincial_export.schema.json")["$defs"]["factor"],
                                     load_schema("provincial_export.schema.json"))


def test_a_yearly_row_is_the_tonne_weighted_mean_of_its_batches(engine, signed):
    _, operator = signed
    export = audited_export(engine, LIBRARY, kind="year", year=2025, operator_keys=[operator])
    rows = {r.metal: r.to_json() for r in export.rows}
    assert set(rows) == {"Al", "Al2O3", "Cu", "Zn"}
    with Session(engine) as s:
        fps = Footprints(s, LIBRARY)
        for metal, row in rows.items():
            ids = list(s.scalars(select(Batch.batch_id).where(Batch.metal == metal)))
            batches = [fps.batch(i) for i in ids]
            tonnes = sum(fp.tonnes for fp in batches)
            market = sum(fp.market.total for fp in batches)
            location = sum(fp.location.total for fp in batches)
            assert Decimal(row["tonnes"]) == tonnes and row["batches"] == 12
            # per tonne = sum of the batches' kg CO2e / sum of their tonnes
            assert row["market_per_tonne"]["total_kg_co2e_per_t"] == \
                str((market / tonnes).quantize(Decimal("0.001")))
            assert row["location_per_tonne"]["total_kg_co2e_per_t"] == \
                str((location / tonnes).quantize(Decimal("0.001")))


def test_quarters_split_the_year_by_the_month_each_batch_ended(engine, signed):
    _, operator = signed
    export = audited_export(engine, LIBRARY, kind="quarter", year=2025, operator_keys=[operator])
    quarters = sorted({r.period.label for r in export.rows})
    assert quarters == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    assert all(len(r.batch_ids) == 3 for r in export.rows)


def test_an_edited_projection_stops_the_export(engine, signed):
    _, operator = signed
    with engine.begin() as conn:  # a batch's metered electricity lowered behind the log's back
        conn.execute(text("UPDATE batch SET electricity_kwh = electricity_kwh - 1000 "
                          "WHERE batch_id = 'AL-2025-03'"))
    with pytest.raises(LedgerNotClean) as refused:
        audited_export(engine, LIBRARY, kind="year", year=2025, operator_keys=[operator])
    assert any(f.rule == "projection.differs" and f.table == "batch" and f.key == "AL-2025-03"
               for f in refused.value.report.findings)


def test_a_checkpoint_signed_by_an_unknown_key_stops_the_export(engine, signed):
    stranger = Signer("greenledger.test/log", Ed25519PrivateKey.generate()).verifier
    with pytest.raises(LedgerNotClean) as refused:
        audited_export(engine, LIBRARY, kind="year", year=2025, operator_keys=[stranger])
    assert {f.rule for f in refused.value.report.findings} == {"checkpoint.signature"}


def test_entries_appended_while_auditing_are_not_exported_unaudited(engine, signed, monkeypatch):
    log, operator = signed
    real = provincial_export.auditing.audit

    def audit_while_someone_appends(*args, **kwargs):
        log.append("party.registered", "p-operator", {"party": "p-late", "name": "Late", "roles": ["buyer"]})
        return real(*args, **kwargs)

    monkeypatch.setattr(provincial_export.auditing, "audit", audit_while_someone_appends)
    with pytest.raises(LedgerChanged):
        audited_export(engine, LIBRARY, kind="year", year=2025, operator_keys=[operator])


def test_a_wrong_period_kind_is_refused_before_auditing(engine):
    with pytest.raises(InputError):
        audited_export(engine, LIBRARY, kind="week", year=2025, operator_keys=[])


# -- the published schemas ----------------------------------------------------------------------


@pytest.mark.parametrize("name", OUR_SCHEMAS)
def test_each_published_schema_is_a_2020_12_schema_with_an_id(name):
    schema = load_schema(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("/" + name)
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover
        return
    assert jsonschema_rs.meta.is_valid(schema)


def test_the_shared_definitions_are_the_same_in_every_schema():
    seen: dict[str, tuple[str, object]] = {}
    for name in OUR_SCHEMAS:
        for key, value in load_schema(name)["$defs"].items():
            if key in ("facility", "totals", "batch", "shipment", "row", "benchmark", "metal_total",
                       "month_figures", "inventory_line"):
                continue  # report-specific
            if key in seen:
                assert value == seen[key][1], f"$defs/{key} differs between {seen[key][0]} and {name}"
            else:
                seen[key] = (name, value)


@pytest.fixture(scope="module")
def yearly_export(tmp_path_factory) -> str:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('export') / 'ledger.db'}")
    upgrade(engine)
    scenario(engine)
    text = audited_export(engine, LIBRARY, kind="year", year=2025, operator_keys=[]).json_text()
    engine.dispose()
    return text


@pytest.mark.parametrize("bad, where", [
    ({"tonnes": 100.0}, "tonnes"),  # a binary float, never
    ({"tonnes": "1e2"}, "tonnes"),
    ({"green_share_percent": "69.031"}, "green_share_percent"),
    ({"surprise": "x"}, "surprise"),
])
def test_the_schema_refuses_what_the_export_must_never_contain(yearly_export, bad, where):
    data = json.loads(yearly_export)
    data["rows"][0].update(bad)
    errors = schema_errors(data, load_schema("provincial_export.schema.json"))
    assert errors and any(where in e for e in errors), errors


def test_targets_have_sources_and_the_plan_figures():
    targets = {t.target_id: t for t in load_targets()}
    for t in targets.values():
        assert t.source and t.status in ("[C]", "[U]")
    # the Yunnan plan (云工信原材〔2024〕6号): 60 % aluminium, 30 % copper, lead, zinc at benchmark
    aluminium = targets["yn_al_efficiency_benchmark_share"]
    assert (aluminium.value, aluminium.status) == (Decimal(60), "[C]")
    assert targets["yn_cu_pb_zn_efficiency_benchmark_share"].metals == ("Cu", "Pb", "Zn")
    # FACTS §2: Yunnan 70 % unconfirmed, counted in GECs; FACTS §6: national 25 % by 2025 confirmed
    assert (targets["cn_al_green_power_yunnan"].value, targets["cn_al_green_power_yunnan"].status,
            targets["cn_al_green_power_yunnan"].instrument) == (Decimal(70), "[U]", "CN-GEC")
    assert (targets["cn_al_renewable_share_2025"].value, targets["cn_al_renewable_share_2025"].status) == \
        (Decimal(25), "[C]")
    # full GEC coverage has no figure in the plan: 100 % is our reading, so [U]
    assert targets["yn_gec_full_coverage"].status == "[U]"


def test_targets_without_a_source_are_refused(tmp_path):
    path = tmp_path / "targets.csv"
    lines = TARGETS_CSV.read_text(encoding="utf-8").splitlines()
    head, first = lines[0], next(csv.reader([lines[1]]))
    first[10] = ""  # source
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(first)
    path.write_text(head + "\n" + buffer.getvalue(), encoding="utf-8")
    with pytest.raises(InputError, match="source"):
        load_targets(path)


@pytest.mark.parametrize("period, label, first, last, after", [
    (Period("year", 2025), "2025", "2025-01", "2025-12", "2026-01-01"),
    (Period("quarter", 2025, 4), "2025-Q4", "2025-10", "2025-12", "2026-01-01"),
    (Period("month", 2025, 2), "2025-02", "2025-02", "2025-02", "2025-03-01"),
])
def test_periods(period, label, first, last, after):
    assert (period.label, period.first_month, period.last_month, period.after_last_day) == \
        (label, first, last, after)
