"""Declaration figures (issue 8): issuing a declaration from the ledger (footprint, payload,
log entry, checkpoint, proof, JWS, PDF, PAdES, stored document, one transaction) and
verifying it offline, as a buyer does."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from cryptography import x509

from bench.common import Figure, Options, progress, sample_stats_ms, time_each
from certificates.issuing import issue_declaration, issuer_dir
from certificates.verify import verify_declaration
from ledger import keys
from ledger.config import load_settings
from ledger.store.engine import make_engine

BIN = Path(sys.executable).parent


def _demo(opts: Options) -> Path:
    def make() -> Path:
        home = opts.work_path("decl-demo")
        progress("building the demo ledger for the declaration bench")
        env = {**os.environ, "GREENLEDGER_HOME": str(home),
               "GREENLEDGER_DATABASE_URL": f"sqlite:///{home}/ledger.db",
               "GREENLEDGER_KEY_PASSPHRASE": "greenledger-demo"}
        subprocess.run([str(BIN / "greenledger"), "demo", "--no-serve", "--out", str(home)],
                       check=True, capture_output=True, env=env)
        return home
    return opts.shared_value("decl_demo", make)  # type: ignore[no-any-return]


def issue_and_verify(opts: Options) -> list[Figure]:
    home = _demo(opts)
    settings = load_settings({"GREENLEDGER_HOME": str(home),
                              "GREENLEDGER_KEY_PASSPHRASE": "greenledger-demo"})
    engine = make_engine(settings.database_url)
    runs = opts.count(30, 10, minimum=5)
    # the demo declared every shipment: each run issues a correction of the previous one
    with engine.connect() as conn:
        latest = [conn.exec_driver_sql(
            "SELECT declaration_id FROM declaration WHERE shipment_id = 'SH-AL-EU-2025-01' "
            "AND status = 'valid'").scalar_one()]

    def issue(_: int) -> object:
        done = issue_declaration(engine, settings, "SH-AL-EU-2025-01", actor="p-smelter",
                                 supersedes=latest[0])
        latest[0] = done.declaration_id
        return done

    issue(0)  # warm caches and fonts
    issue_ns, issued = time_each(list(range(runs)), issue)
    roots = x509.load_pem_x509_certificates((issuer_dir(settings, "p-smelter") / "ca-cert.pem").read_bytes())
    operator = [keys.load_verifier(settings.key_dir, "operator")]
    pdfs = [d.pdf for d in issued]  # type: ignore[attr-defined]
    verify_declaration(pdfs[0], trust_roots=roots, operator_keys=operator)
    verify_ns, reports = time_each(pdfs, lambda pdf: verify_declaration(pdf, trust_roots=roots,
                                                                        operator_keys=operator))
    assert all(r.valid for r in reports)
    engine.dispose()
    issue, verify = sample_stats_ms(issue_ns), sample_stats_ms(verify_ns)
    what = ("EU sample shipment (2 batches, 4 certificate ranges, 23 factors), SQLite, one "
            "transaction per declaration")
    return [Figure("declaration_issue", issue["median_ms"], "ms", "<=", 100, {**issue, "what": what}),
            Figure("declaration_verify_offline", verify["median_ms"], "ms", "<=", 25,
                   {**verify, "what": "verify_declaration: every offline check"})]


BENCHES: dict[str, Callable[[Options], list[Figure]]] = {"declaration": issue_and_verify}
