"""Appends from many processes never fork, skip or repeat a seq (DESIGN §3.2), and a
process killed mid-append loses nothing it was told was committed."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from ledger import audit, encoding
from ledger.log import Log
from ledger.store.engine import make_engine

PROCESSES, EACH = 8, 500


def _append_worker(url: str, worker: int, count: int) -> list[int]:
    engine = make_engine(url)
    log = Log(engine)
    seqs = [log.append("test.appended", f"p-{worker}", {"worker": worker, "n": n}).seq
            for n in range(count)]
    engine.dispose()
    return seqs


@pytest.mark.slow
def test_eight_processes_appending_give_one_gapless_chain(db_url, engine):
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(PROCESSES) as pool:
        results = pool.starmap(_append_worker, [(db_url, w, EACH) for w in range(PROCESSES)])
    total = PROCESSES * EACH
    returned = sorted(s for r in results for s in r)
    assert returned == list(range(total))  # each caller got its own seq
    log = Log(engine)
    rows = log.entries()
    assert [r.seq for r in rows] == list(range(total))
    per_worker = {}
    for r in rows:
        body = encoding.parse_entry(r.entry).body
        per_worker.setdefault(body["worker"], []).append(body["n"])
    assert all(ns == list(range(EACH)) for ns in per_worker.values())  # order kept per writer
    assert audit.audit(engine, operator_keys=[], workers=1).clean


CRASH_WORKER = """
import os, sys
from ledger.log import Log
from ledger.store.engine import make_engine
log = Log(make_engine(sys.argv[1]))
out = open(sys.argv[2], "a", buffering=1)
n = 0
while True:
    done = log.append("test.appended", "p-crash", {"n": n})
    out.write(f"{done.seq}\\n")   # written only after append returned (committed)
    out.flush(); os.fsync(out.fileno())
    n += 1
"""


@pytest.mark.slow
def test_a_process_killed_while_appending_loses_no_committed_entry(db_url, engine, tmp_path):
    acked = tmp_path / "acked.txt"
    acked.touch()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    for _round in range(3):
        proc = subprocess.Popen([sys.executable, "-c", CRASH_WORKER, db_url, str(acked)], env=env)
        deadline = time.monotonic() + 20
        start = len(acked.read_text().split())
        while len(acked.read_text().split()) < start + 150 and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    seqs = [int(s) for s in acked.read_text().split()]
    assert len(seqs) >= 450
    log = Log(engine)
    stored = {r.seq for r in log.entries()}
    assert set(seqs) <= stored  # every acknowledged append survived
    assert stored == set(range(len(stored)))  # and the chain has no hole
    assert audit.audit(engine, operator_keys=[], workers=1).clean
    with engine.connect() as conn:  # the log is still writable after the kills
        assert conn.execute(text("SELECT size FROM log_head")).scalar() == len(stored)
    Log(engine).append("test.appended", "p-after", {"n": -1})
