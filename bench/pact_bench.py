"""PACT host figures (issue #10): ``GET /3/footprints?limit=100`` over 10,000 footprints,
target >= 300 pages/s with p99 <= 50 ms, 2 gunicorn workers on SQLite, HTTPS.

Data set. One real declaration is issued from the sample scenario (so the payload has the real
shape and size, ~14 KB with its ledger proof), then cloned 10,000 times (2,000 with
``--quick``) with fresh ids and product ids: the clones are written straight into the
``declaration`` and ``declaration_document`` tables, bypassing the log (the host serves those two
tables; issuing 10,000 signed PDFs would take an hour for the same rows). An operator API key's
PACT client credentials get the token, so every page is full (100 footprints, ~1.4 MB).

Server. ``gunicorn -w 2 --worker-class gthread --threads 4 --certfile/--keyfile
'api.app:create_app()'`` with a self-signed certificate: TLS on, keep-alive on (a sync worker
would close every connection and pay a handshake per page). Both workers are warmed first (the
index of 10,000 footprints is built on a worker's first request).

Load. A separate process: Debian's ``wrk`` (``apt-get install wrk``) with a Lua script that
walks the 100 pages' own ``Link`` URLs in turn with the ``Authorization`` header, 2 threads, 8
connections, 15 s (5 s quick); its ``--latency`` percentiles give p99. Without ``wrk``, a Python
load generator (multiprocessing, one ``requests.Session`` per process, keep-alive) does the same
and says so in the figure's params. The load generator shares the machine's cores with the
server; the figures include that.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import BENCH_DIR, Figure, Options, progress

ROOT = BENCH_DIR.parent
PASSPHRASE = "bench-pact"
PAGE = 100
PAGES_TARGET = 300.0
P99_TARGET_MS = 50.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build(folder: Path, count: int) -> dict[str, Any]:
    """The ledger with ``count`` footprints; returns settings paths and client credentials."""
    import rfc8785
    from sqlalchemy import insert
    from sqlmodel import Session

    from certificates.issuing import issue_declaration
    from ledger import access, keys
    from ledger.config import Settings
    from ledger.domain import domain_log
    from ledger.domain.tables import Declaration
    from ledger.importing import load_scenario
    from ledger.store.documents import DeclarationDocument
    from ledger.store.engine import make_engine
    from ledger.store.migrate import upgrade

    db = folder / "ledger.db"
    settings = Settings(home=folder, database_url=f"sqlite:///{db}", key_dir=folder / "keys",
                        origin="greenledger.bench/log", public_base_url="https://127.0.0.1",
                        key_passphrase=PASSPHRASE)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    load_scenario(domain_log(engine), ROOT / "sample_data" / "scenario")
    keys.generate(settings.key_dir, "operator", settings.origin, PASSPHRASE)
    issued = issue_declaration(engine, settings, "SH-AL-GD-2025-01", actor="p-smelter",
                               create_demo_issuer=True)
    template = issued.payload
    with Session(engine) as s:
        made = access.create_api_key(s, "p-operator", "operator")
        first_seq = 1_000_000
        decls, docs, sizes = [], [], 0
        for i in range(count - 1):  # + the issued one = count
            doc = json.loads(json.dumps(template))
            doc["id"] = str(uuid.uuid4())
            doc["productIds"] = [f"{template['productIds'][0]}-{i % 50}"]
            text = rfc8785.dumps(doc).decode("utf-8")
            sizes += len(text)
            decls.append({"declaration_id": doc["id"], "shipment_id": "SH-AL-GD-2025-01",
                          "issuer": "p-smelter", "buyer": "p-buyer-gd", "payload_sha256": "0" * 64,
                          "status": "valid", "reason": None, "supersedes": None,
                          "issued_seq": first_seq + i, "seq": first_seq + i})
            docs.append({"declaration_id": doc["id"], "pdf": b"%PDF-bench", "payload": text,
                         "jws": "", "created_at": "2026-01-01T00:00:00.000000Z"})
        for start in range(0, len(decls), 2_000):
            s.execute(insert(Declaration.__table__), decls[start:start + 2_000])  # type: ignore[attr-defined]
            s.execute(insert(DeclarationDocument.__table__), docs[start:start + 2_000])  # type: ignore[attr-defined]
        s.commit()
    engine.dispose()
    return {"settings": settings, "client_id": made.client_id, "client_secret": made.client_secret,
            "payload_bytes_mean": round(sizes / (count - 1))}


class Server:
    def __init__(self, settings: Any, cert: Path, key: Path, workers: int = 2, threads: int = 4):
        self.port = _free_port()
        self.base = f"https://127.0.0.1:{self.port}"
        env = {**os.environ, "GREENLEDGER_HOME": str(settings.home),
               "GREENLEDGER_DATABASE_URL": settings.database_url,
               "GREENLEDGER_KEY_DIR": str(settings.key_dir),
               "GREENLEDGER_KEY_PASSPHRASE": PASSPHRASE,
               "GREENLEDGER_PUBLIC_BASE_URL": self.base}
        self.log = open(settings.home / "gunicorn.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "--worker-class", "gthread",
             "--threads", str(threads), "-b", f"127.0.0.1:{self.port}", "--certfile", str(cert),
             "--keyfile", str(key), "--keep-alive", "30", "--log-level", "warning",
             "api.app:create_app()"], cwd=ROOT, env=env, stdout=self.log, stderr=self.log)

    def wait(self, cert: Path, timeout: float = 60) -> None:
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.proc.returncode}); see {self.log.name}")
            try:
                requests.get(f"{self.base}/.well-known/openid-configuration", verify=str(cert),
                             timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer in time")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def _page_paths(base: str, token: str, cert: Path) -> tuple[list[str], int]:
    """Walk the pages once (and check them); the path of each page and the footprint count."""
    import requests

    from certificates.pact_client import next_link

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    url: str | None = f"{base}/3/footprints?limit={PAGE}"
    paths, seen = [], 0
    while url:
        r = session.get(url, verify=str(cert), timeout=60)
        r.raise_for_status()
        seen += len(r.json()["data"])
        paths.append(url[len(base):])
        url = next_link(r.headers.get("Link"))
    return paths, seen


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if not m:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(m.group(1)) * _UNIT_MS[m.group(2)]


def run_wrk(base: str, token: str, paths: list[str], seconds: int, folder: Path) -> dict[str, Any]:
    script = folder / "pages.lua"
    listing = ",\n".join(json.dumps(p) for p in paths)
    script.write_text(
        f"local paths = {{\n{listing}\n}}\nlocal i = 0\n"
        f"local headers = {{[\"Authorization\"] = \"Bearer {token}\"}}\n"
        "request = function()\n  i = i % #paths + 1\n"
        "  return wrk.format(\"GET\", paths[i], headers)\nend\n", encoding="utf-8")
    done = subprocess.run(["wrk", "-t2", "-c4", f"-d{seconds}s", "--latency", "-s", str(script),
                           base], capture_output=True, text=True, timeout=seconds + 60)
    out = done.stdout
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr.strip() or out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    if bad and int(bad.group(1)):
        raise RuntimeError(f"wrk saw {bad.group(1)} error responses")
    return {"pages_per_s": rate, "p99_ms": p99, "p50_ms": p50, "tool": "wrk 2 threads, 4 connections",
            "socket_errors": errors.group(0) if errors else ""}


def _python_worker(args: tuple[str, str, list[str], float, str]) -> list[float]:
    import requests

    base, token, paths, seconds, cert = args
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    times, i, end = [], 0, time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.perf_counter()
        r = session.get(base + paths[i % len(paths)], verify=cert, timeout=30)
        r.raise_for_status()
        times.append((time.perf_counter() - t0) * 1000)
        i += 1
    return times


def run_python(base: str, token: str, paths: list[str], seconds: int, cert: Path) -> dict[str, Any]:
    from multiprocessing import get_context

    procs = 4
    with get_context("spawn").Pool(procs) as pool:
        t0 = time.perf_counter()
        results = pool.map(_python_worker, [(base, token, paths[k::procs] or paths, seconds,
                                             str(cert)) for k in range(procs)])
        elapsed = time.perf_counter() - t0
    times = sorted(t for r in results for t in r)
    return {"pages_per_s": len(times) / elapsed, "p99_ms": times[int(0.99 * (len(times) - 1))],
            "p50_ms": times[len(times) // 2],
            "tool": f"python multiprocessing, {procs} processes with requests.Session keep-alive"}


def list_pages(opts: Options) -> list[Figure]:
    import requests

    from api.pact.tls import make_self_signed

    count = max(PAGE * 2, opts.count(10_000, 2_000))
    seconds = 5 if opts.quick else 15
    folder = Path(tempfile.mkdtemp(prefix="pact-", dir=opts.work_path("pact").parent))
    opts.stack.callback(shutil.rmtree, folder, ignore_errors=True)
    progress(f"pact: issuing one declaration and cloning it into {count} footprints")
    built = build(folder, count)
    cert, key = make_self_signed(folder / "tls", ["127.0.0.1"])
    server = Server(built["settings"], cert, key)
    opts.stack.callback(server.stop)
    server.wait(cert)
    answer = requests.post(f"{server.base}/auth/token", verify=str(cert), timeout=30,
                           auth=(built["client_id"], built["client_secret"]),
                           data={"grant_type": "client_credentials"})
    if answer.status_code != 200:
        raise RuntimeError(f"/auth/token answered {answer.status_code}: {answer.text[:300]}")
    token = answer.json()["access_token"]
    progress("pact: warming both workers (each indexes the footprints on its first request)")
    for _ in range(24):  # a new connection each time, so that every worker gets some
        requests.get(f"{server.base}/3/footprints?limit=1", verify=str(cert), timeout=60,
                     headers={"Authorization": f"Bearer {token}", "Connection": "close"})
    paths, seen = _page_paths(server.base, token, cert)
    if seen != count or len(paths) != -(-count // PAGE):
        raise RuntimeError(f"walking the pages found {seen} footprints in {len(paths)} pages, "
                           f"expected {count}")
    progress(f"pact: {len(paths)} pages of {PAGE}; load for {seconds} s")
    if shutil.which("wrk"):
        result = run_wrk(server.base, token, paths, seconds, folder)
    else:
        result = run_python(server.base, token, paths, seconds, cert)
    params = {"footprints": count, "limit": PAGE, "payload_bytes_mean": built["payload_bytes_mean"],
              "server": "gunicorn 2 workers (gthread, 4 threads), HTTPS, SQLite",
              "load": result["tool"], "duration_s": seconds, "p50_ms": round(result["p50_ms"], 2),
              "seeded": "declaration rows and documents inserted directly (not through the log)"}
    return [Figure("pact_list_pages", result["pages_per_s"], "pages/s", ">=", PAGES_TARGET, params),
            Figure("pact_list_p99", result["p99_ms"], "ms", "<=", P99_TARGET_MS, dict(params))]


BENCHES: dict[str, Callable[[Options], list[Figure]]] = {"pact_list_pages": list_pages}
