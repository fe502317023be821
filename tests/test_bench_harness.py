"""The benchmark harness (DESIGN §9): ``python -m bench`` prints figure lines in the stable
format, writes results.json, and exits 0 even when a target is missed. Tiny sizes: < 10 s."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.common import Figure

ROOT = Path(__file__).resolve().parents[1]
FIGURE_LINE = re.compile(
    r"^bench: (?P<name>[a-z0-9_]+) = (?P<value>-?\d+(\.\d+)?(e-?\d+)?) (?P<unit>\S+) "
    r"\((target (?P<op>>=|<=) (?P<target>\d+(\.\d+)?)|no target)\)$"
)
SUMMARY_LINE = re.compile(r"^bench: (\d+) figures, (\d+) below target$")


def run_bench(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args, "--out", str(tmp_path / "results.json"),
         "--cache-dir", str(tmp_path / "cache")],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )


def test_quick_single_append_prints_a_figure_line_and_valid_json(tmp_path):
    done = run_bench(tmp_path, "--quick", "--only", "append_sqlite_single", "--scale", "0.01",
                     "--runs", "2")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    figures = [m for m in map(FIGURE_LINE.match, lines) if m]
    assert [m["name"] for m in figures] == ["append_sqlite_single"], done.stdout
    line = figures[0]
    assert (line["unit"], line["op"], line["target"]) == ("entries/s", ">=", "1000")
    assert float(line["value"]) > 0
    assert SUMMARY_LINE.match(lines[-1]), lines[-1]
    assert SUMMARY_LINE.match(lines[-1]).group(1) == "1"
    # every stdout line is a figure, a skip/error note, or the summary
    assert all(FIGURE_LINE.match(x) or SUMMARY_LINE.match(x) or x.startswith("bench: skipped ")
               for x in lines), done.stdout

    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert isinstance(results, list) and len(results) == 1
    fig = results[0]
    assert set(fig) == {"name", "value", "unit", "target_op", "target", "passed", "params"}
    assert (fig["name"], fig["unit"], fig["target_op"], fig["target"]) == \
        ("append_sqlite_single", "entries/s", ">=", 1000)
    assert fig["passed"] is (fig["value"] >= 1000)
    assert fig["params"]["runs"] == 2 and fig["params"]["per_transaction"] == 1
    assert fig["params"]["entries"] >= 10
    # the machine's speed around the bench: two positive probe readings
    probe = fig["params"]["cpu_probe_ms"]
    assert len(probe) == 2 and all(isinstance(x, float) and x > 0 for x in probe)
    # the scratch databases are gone
    assert not list((tmp_path / "cache").glob("work-*"))


def test_unknown_bench_is_a_usage_error(tmp_path):
    done = run_bench(tmp_path, "--only", "no_such_bench")
    assert done.returncode == 2
    assert "append_sqlite_bulk" in done.stderr  # lists what exists


@pytest.mark.parametrize("op, target, value, passed, text", [
    (">=", 5000, 16234.4, True, "bench: x = 16234 entries/s (target >= 5000)"),
    ("<=", 2, 2.5, False, "bench: x = 2.50 entries/s (target <= 2)"),
    ("<=", 0.2, 0.0178, True, "bench: x = 0.0178 entries/s (target <= 0.2)"),
    (None, None, 741.4, None, "bench: x = 741 entries/s (no target)"),
])
def test_figure_line_and_verdict(op, target, value, passed, text):
    fig = Figure("x", value, "entries/s", op, target)
    assert fig.line() == text
    assert FIGURE_LINE.match(fig.line())
    assert fig.passed is passed
    assert fig.to_json()["passed"] is passed
