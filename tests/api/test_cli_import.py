"""``greenledger import`` and ``demo`` through the CLI: exit 0 all taken, 1 rows refused
(each with line and reason, nothing written), 2 unreadable input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main

SCENARIO = Path(__file__).resolve().parents[2] / "sample_data" / "scenario"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GREENLEDGER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GREENLEDGER_KEY_PASSPHRASE", "pw")
    monkeypatch.delenv("GREENLEDGER_DATABASE_URL", raising=False)
    return tmp_path


def cli(*args, code=0):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result.output


def size() -> int:
    return int(cli("log", "entries").count("\n"))


def test_importing_the_scenario_files_in_order(home):
    for kind in ("parties", "facilities", "certificates", "vouchers"):
        out = cli("import", kind, SCENARIO / f"{kind}.csv")
        assert f"{kind} taken" in out
    assert size() == 72
    assert "p-smelter" in cli("parties", "list")


def test_a_refused_row_is_reported_with_its_line_and_nothing_is_written(home):
    for kind in ("parties", "facilities"):
        cli("import", kind, SCENARIO / f"{kind}.csv")
    before = size()
    bad = home / "certs.csv"
    lines = (SCENARIO / "certificates.csv").read_text(encoding="utf-8").splitlines()
    lines.append(lines[1])  # the first certificate again: overlapping serials
    lines.append(lines[2].replace(",solar,", ",fusion,"))
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = cli("import", "certificates", bad, code=1)
    n = len(lines)
    assert f"certs.csv:{n - 1}: [certificate.unique-serial] first:" in out
    assert f"certs.csv:{n}: technology: must be one of" in out
    assert "2 of 48 row(s) refused; nothing was written" in out
    assert size() == before


@pytest.mark.parametrize("content, message", [
    ("registry,first\nCN-GEC,x\n", "missing column(s)"),
    (b"\xff\xfe\x00garbage", "cannot read the file"),
])
def test_unreadable_input_is_exit_2(home, content, message):
    f = home / "in.csv"
    f.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert message in cli("import", "certificates", f, code=2)


def test_a_missing_file_is_exit_2(home):
    assert "cannot read the file" in cli("import", "batches", home / "nope.csv", code=2)


def test_demo_loads_the_scenario_and_audits_clean(home, tmp_path):
    out = cli("demo", "--no-serve", "--out", tmp_path / "demo")
    assert "193 entries of the sample scenario" in out
    assert "audit clean" in out
    # the demo is repeatable: a fresh ledger each time
    out = cli("demo", "--no-serve", "--out", tmp_path / "demo")
    assert "audit clean" in out
    shutil.rmtree(tmp_path / "demo")


def test_rotate_the_operator_key_and_back_up_through_the_cli(home, tmp_path, monkeypatch):
    out = tmp_path / "demo"
    cli("demo", "--no-serve", "--out", out)
    monkeypatch.setenv("GREENLEDGER_HOME", str(out))
    old = (out / "keys" / "operator.vkey").read_text().strip()
    assert "rotated" in cli("keys", "rotate", "--reason", "scheduled")
    assert (out / "keys" / "operator.vkey").read_text().strip() != old
    assert "audit: clean" in cli("audit")
    pdf = out / "declarations" / "SH-AL-EU-2025-01.pdf"
    assert "valid" in cli("verify", pdf, "--log-key", old)  # signed before the rotation
    assert "is a prefix of the live log" in cli("backup", tmp_path / "backup.db")
    assert "never overwrites" in cli("backup", tmp_path / "backup.db", code=2)


def test_a_large_file_goes_the_bulk_way_all_or_nothing(home):
    """From ledger.importing.BULK_THRESHOLD rows on, the set-wise bulk path (its fast way when
    every row is taken): the same report, the same refusals with line and reason."""
    for kind in ("parties", "facilities"):
        cli("import", kind, SCENARIO / f"{kind}.csv")
    before = size()
    header = ("registry,first,last,mwh,technology,plant,plant_province,country,"
              "generation_month,tradable,owner,evidence_ref,evidence_sha256")
    rows = [f"CN-GEC,31200808265308099202507{10 * i + 1:09d},31200808265308099202507"
            f"{10 * i + 10:09d},10,hydro,示例水电站,CN-YN,CN,2025-07,false,p-smelter,R{i},"
            + "ab" * 32 for i in range(300)]
    bad = home / "bad.csv"
    bad.write_text("\n".join([header, *rows[:150], rows[3], *rows[150:]]) + "\n", encoding="utf-8")
    out = cli("import", "certificates", bad, code=1)
    assert "bad.csv:152: [certificate.unique-serial] first:" in out
    assert "1 of 301 row(s) refused; nothing was written" in out
    assert size() == before
    good = home / "good.csv"
    good.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    out = cli("import", "certificates", good)
    assert f"import: 300 certificates taken (seq {before}..{before + 299})" in out
    assert size() == before + 300
