"""HTTP figures (issue 9): the public declaration-status endpoint under load, served by
gunicorn with 2 workers on the embedded SQLite ledger, measured by a separate load process
(Debian's ``wrk``, installed by ``make bench``)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests

from bench.common import Figure, Options, Skip, progress

ROOT = Path(__file__).resolve().parents[1]
#: keep-alive connections from wrk: two per worker keeps both busy without queueing behind
#: them (measured: 16 connections on 2 x 4 threads gave the same rate at a p99 of ~90 ms)
CONNECTIONS = 4
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def demo_ledger(opts: Options) -> Path:
    """A ledger with the sample scenario and its 17 declarations (the demo, not served)."""
    def make() -> Path:
        home = opts.work_path("http-demo")
        progress("building the demo ledger for the HTTP bench")
        subprocess.run([str(BIN / "greenledger"), "demo", "--no-serve", "--out", str(home)],
                       check=True, capture_output=True, env={**os.environ, **_env(home)})
        return home
    return opts.shared_value("http_demo", make)  # type: ignore[no-any-return]


def _env(home: Path) -> dict[str, str]:
    return {"GREENLEDGER_HOME": str(home), "GREENLEDGER_DATABASE_URL": f"sqlite:///{home}/ledger.db",
            "GREENLEDGER_KEY_PASSPHRASE": os.environ.get("GREENLEDGER_KEY_PASSPHRASE", "greenledger-demo")}


class Gunicorn:
    def __init__(self, home: Path, workers: int = 2, threads: int = 1) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", str(workers), "--threads", str(threads),
             "-b", f"127.0.0.1:{self.port}", "--log-level", "warning", "api.app:create_app()"],
            cwd=ROOT, env={**os.environ, **_env(home)}, start_new_session=True)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.base}/api/v1/log/checkpoint", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def wrk(url: str, seconds: int, connections: int) -> tuple[float, float]:
    """(requests/s, p99 ms) from one wrk run."""
    out = subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency",
                          url], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{errors.group(1)} failed responses under load")
    return rps, p99


def declaration_status(opts: Options) -> list[Figure]:
    if shutil.which("wrk") is None:
        raise Skip("wrk is not installed (make bench installs it)")
    home = demo_ledger(opts)
    server = Gunicorn(home)
    try:
        decl = requests.get(f"{server.base}/api/v1/declarations", timeout=5)

        with sqlite3.connect(home / "ledger.db") as db:
            (declaration_id,) = db.execute("SELECT declaration_id FROM declaration LIMIT 1").fetchone()
        url = f"{server.base}/api/v1/declarations/{declaration_id}/status"
        assert requests.get(url, timeout=5).json()["status"] == "valid"
        seconds = 3 if opts.quick else 10
        runs = [wrk(url, seconds, CONNECTIONS) for _ in range(opts.repeat(3, 1))]
    finally:
        server.stop()
    rps = statistics.median(r for r, _ in runs)
    p99 = statistics.median(p for _, p in runs)
    params = {"runs": len(runs), "per_run": [[round(r), round(p, 2)] for r, p in runs],
              "server": "gunicorn -w 2 (sync workers), SQLite demo ledger",
              "load": f"wrk -t 2 -c {CONNECTIONS} -d {seconds}s --latency (separate process, "
                      "sharing the 2 cores)",
              "unauthenticated_list_status": decl.status_code}
    return [Figure("declaration_status_rps", rps, "requests/s", ">=", 1000, params),
            Figure("declaration_status_p99", p99, "ms", "<=", 20, params)]


BENCHES: dict[str, Callable[[Options], list[Figure]]] = {
    "declaration_status": declaration_status,
}
