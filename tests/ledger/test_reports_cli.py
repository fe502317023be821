"""``greenledger report``: the three reports and the provincial export through the command line,
with their exit codes (0 ok, 1 the ledger does not audit clean, 2 a usage or input error)."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from api.cli import main
from ledger.config import load_settings
from ledger.store.engine import make_engine
from tests.ledger.test_reports_world import assert_valid, scenario


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A ledger home with the sample year (init: schema and operator key) and a signed checkpoint."""
    path = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("GREENLEDGER_HOME", str(path))
    mp.setenv("GREENLEDGER_KEY_PASSPHRASE", "pw")
    mp.delenv("GREENLEDGER_DATABASE_URL", raising=False)
    cli("init")
    engine = make_engine(load_settings().database_url)
    scenario(engine)
    engine.dispose()
    cli("checkpoint", "sign")
    yield path
    mp.undo()


def cli(*args, code=0):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result.output


def test_green_share_as_text_and_as_json(home):
    out = cli("report", "green-share", "--facility", "f-smelter")
    assert "1970852.000 MWh metered, 1509208.000 MWh green counted = 76.58 %" in out
    assert "target cn_al_green_power_yunnan >= 70.00 % [U]: achieved 76.58 %, met" in out
    assert "p-smelter vintage_outside_year: 31840.000 MWh CN-GEC hydro non-tradable vintage 2024-11" in out
    data = json.loads(cli("report", "green-share", "--year", "2025", "--month", "3", "--json"))
    assert_valid(data, "green_share_report.schema.json")
    shares = {f["facility_id"]: f["green_share_percent"] for f in data["facilities"]}
    assert shares["f-smelter"] == "50.00" and data["period"]["label"] == "2025-03"


def test_efficiency_and_recycled(home):
    out = cli("report", "efficiency", "--facility", "f-zinc")
    assert "not comparable: the benchmark is comprehensive energy consumption in kgce/t Zn" in out
    data = json.loads(cli("report", "efficiency", "--json"))
    assert_valid(data, "efficiency_report.schema.json")
    out = cli("report", "recycled", "--facility", "f-smelter", "--month", "12")
    assert "recycled in 640.000 t = 4.78 %" in out and "mass balance holds" in out
    assert_valid(json.loads(cli("report", "recycled", "--json")), "recycled_report.schema.json")


def test_the_export_equals_the_footprint_command(home, tmp_path):
    out = cli("report", "export", "--period", "month", "--year", "2025", "--out", tmp_path / "db.json")
    assert "48 product-period row(s)" in out and "audited clean" in out
    data = json.loads((tmp_path / "db.json").read_text(encoding="utf-8"))
    assert_valid(data, "provincial_export.schema.json")
    for batch_id in ("AL-2025-03", "AO-2025-07", "CU-2025-12", "ZN-2025-01"):
        fp = json.loads(cli("footprint", "batch", batch_id, "--json"))
        (row,) = [r for r in data["rows"] if r["batch_ids"] == [batch_id]]
        assert row["market_per_tonne"] == fp["market_per_tonne"]
        assert row["location_per_tonne"] == fp["location_per_tonne"]
        for key in ("tonnes", "green_mwh", "green_share_percent", "family", "gwp_set"):
            assert row[key] == fp[key], (batch_id, key)
    cli("report", "export", "--period", "quarter", "--year", "2025", "--out", tmp_path / "db.csv")
    header = (tmp_path / "db.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("period,period_kind,first_month,last_month,metal,grade,cn_code,")


@pytest.mark.parametrize("args, message", [
    (("report", "green-share", "--facility", "f-none"), "no facility 'f-none'"),
    (("report", "efficiency", "--month", "13"), "a month is 1-12"),
    (("report", "export", "--year", "2025", "--out", "x.pdf"), "must end in .csv or .json"),
    (("report", "export", "--period", "week", "--year", "2025", "--out", "x.csv"), "'week' is not one of"),
])
def test_usage_and_input_errors_exit_2(home, args, message):
    assert message in cli(*args, code=2)


def test_an_export_from_a_ledger_that_does_not_audit_clean_is_refused(home, tmp_path, monkeypatch):
    shutil.copytree(home, tmp_path / "copy")  # the module's ledger stays clean for the other tests
    monkeypatch.setenv("GREENLEDGER_HOME", str(tmp_path / "copy"))
    engine = make_engine(load_settings().database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE certificate SET allocated_kwh = 0 WHERE certificate_id = "
                          "(SELECT certificate_id FROM allocation ORDER BY seq LIMIT 1)"))
    try:
        out = cli("report", "export", "--year", "2025", "--out", tmp_path / "db.json", code=1)
        assert "projection.differs" in out and "export refused" in out
        assert not (tmp_path / "db.json").exists()
    finally:
        engine.dispose()
