"""The multi-host run (issue #6, items 2, 3, 7): three API servers on one PostgreSQL ledger,
clients writing through all of them at once, faults in the middle, then the reckoning.

    .venv/bin/python -m bench.multihost                  # 90 s, 6 clients, 3 servers, both faults
    .venv/bin/python -m bench.multihost --seconds 120 --clients 8
    .venv/bin/python -m bench.multihost --pg-fault none --kills 0     # no faults

What happens (everything on 127.0.0.1, bounded in time):
1. a fresh database ``gl_multihost_<hex>`` on the server of ``--pg-url`` (default
   ``GREENLEDGER_TEST_POSTGRES_URL``), with the sample scenario, an operator key, p-smelter's
   issuer certificate and the contended pool (:mod:`bench.multihost_setup`);
2. ``--servers`` gunicorn servers (``-w 2``) on ephemeral ports, sharing database and keys;
3. ``--clients`` processes register certificates and batches, allocate, ship and declare for
   ``--seconds``, each write with its own ``Idempotency-Key``, retried with the same key
   (:mod:`bench.multihost_client`);
4. faults: ``--kills`` times a server is SIGKILLed (master and workers) and restarted after
   ``--down`` seconds; ``--pg-fault restart`` restarts the PostgreSQL cluster
   (``pg_ctlcluster ... restart``: every connection of every user is cut, so do not use it
   where others share the server), ``terminate`` only cuts this run's connections;
5. the servers stop, the checker reconciles and audits (:mod:`bench.multihost_check`), the
   database and the home are removed (``--keep`` keeps them).

It prints ``multihost: NAME = VALUE`` lines and exits 1 if a write was lost or doubled, the
audit is not clean, or any other invariant broke (each named on stderr); 2 on a bad command
line. It is not part of ``python -m bench`` (not a ``*_bench`` module): it restarts servers
and, by default, PostgreSQL itself.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import DEFAULT_PG_URL, PG_ENV
from bench.multihost_check import CheckResult, check_run
from bench.multihost_client import ClientConfig, run_client
from bench.multihost_procs import Server, restart_postgres, terminate_backends, wait_postgres
from bench.multihost_setup import World, build_world, destroy_world

PG_FAULTS = ("restart", "terminate", "none")


@dataclass
class RunConfig:
    seconds: float = 90.0
    clients: int = 6
    servers: int = 3
    workers: int = 2
    kills: int = 1
    #: seconds a killed server stays down before it is restarted
    down: float = 3.0
    pg_fault: str = "restart"
    pg_url: str = field(default_factory=lambda: os.environ.get(PG_ENV) or DEFAULT_PG_URL)
    epoch_seconds: float = 10.0
    give_up_s: float = 60.0
    #: fraction of writes whose first response the client drops (see bench.multihost_client)
    lost_responses: float = 0.05
    lose_declarations: bool = False
    keep: bool = False
    seed: int = 0
    #: progress lines (stderr); None = quiet
    say: Any = None


@dataclass
class RunResult:
    config: RunConfig
    check: CheckResult
    faults: list[str]
    client_failures: list[str]

    @property
    def ok(self) -> bool:
        return self.check.ok and not self.client_failures

    def fault_summary(self) -> str:
        kills = sum(f.startswith("server SIGKILL") for f in self.faults)
        pg = sum(f.startswith("postgres") for f in self.faults)
        parts = [f"server SIGKILL x{kills}"]
        if self.config.pg_fault != "none":
            parts.append(f"postgres {self.config.pg_fault} x{pg}")
        return ", ".join(parts)

    def figures(self) -> list[tuple[str, str]]:
        c = self.check
        span = max(c.last_at - c.first_at, 1e-9)
        ordered = sorted(c.latencies_ms)

        def pct(p: float) -> str:
            return f"{ordered[min(len(ordered) - 1, int(p * len(ordered)))]:.1f}" if ordered else "n/a"

        rules = ", ".join(f"{rule} x{n}" for rule, n in c.refused_by_rule.most_common())
        failed = ", ".join(f"{cause} x{n}" for cause, n in c.failed_attempts.most_common())
        audit = "clean" if c.audit_clean else f"{len(c.audit_findings)} finding(s)"
        return [
            ("servers", f"{self.config.servers} x gunicorn -w {self.config.workers}, "
                        f"{self.config.clients} clients, {self.config.seconds:g} s"),
            ("requests", str(c.requests)),
            ("writes", str(c.writes)),
            ("acknowledged_writes", str(c.acknowledged)),
            ("rejected_writes", str(c.rejected)),
            ("unresolved_writes", str(c.unresolved)),
            ("rejected_by_rule", rules or "none"),
            ("double_allocation_refused", str(c.refused_by_rule["allocation.double-count"])),
            ("retried_writes", str(c.retried)),
            ("failed_attempts", f"{sum(c.failed_attempts.values())} ({failed or 'none'})"),
            ("lost_responses_injected", str(c.lost_responses_injected)),
            ("replayed_after_lost_response", str(c.replayed_after_lost_response)),
            ("replayed_after_fault", str(c.replayed_after_fault)),
            ("lost_writes", f"{c.lost} (must be 0)"),
            ("duplicates", f"{c.duplicates} (must be 0)"),
            ("refused_but_written", f"{c.rejected_but_written} (must be 0)"),
            ("ack_seq_mismatches", f"{c.seq_mismatches} (must be 0)"),
            ("unexpected_entries", f"{c.unexpected_entries} (must be 0)"),
            ("overlapping_allocations", f"{c.overlapping_allocations} (must be 0)"),
            ("over_allocated_batches", f"{c.over_allocated_batches} (must be 0)"),
            ("over_shipped_batches", f"{c.over_shipped_batches} (must be 0)"),
            ("faults", self.fault_summary()),
            ("audit", f"{audit} ({c.log_size} entries, replayed)"),
            ("throughput", f"{c.requests / span:.1f} requests/s, "
                           f"{c.acknowledged / span:.1f} acknowledged writes/s"),
            ("latency_p50_ms", pct(0.50)),
            ("latency_p99_ms", pct(0.99)),
        ]


def _fault_plan(config: RunConfig) -> list[tuple[float, str]]:
    """(seconds after the start, action): kills spread over the first half, the database
    fault at two thirds, so the run has load before, during and after each."""
    plan = [(config.seconds * (0.2 + 0.3 * (k + 1) / (config.kills + 1)), f"kill:{k}")
            for k in range(config.kills)]
    if config.pg_fault != "none":
        plan.append((config.seconds * 0.65, f"pg:{config.pg_fault}"))
    return sorted(plan)


def _inject(action: str, servers: list[Server], world: World, config: RunConfig) -> str:
    kind, _, arg = action.partition(":")
    if kind == "kill":
        server = servers[int(arg) % len(servers)]
        server.kill()
        time.sleep(config.down)
        server.start()
        server.wait_ready()
        return f"server SIGKILL {server.name} (down {config.down:g} s)"
    if arg == "restart":
        restart_postgres()
        wait_postgres(world.admin_url)
        return "postgres restart"
    cut = terminate_backends(world.admin_url, world.database)
    return f"postgres terminate ({cut} connections cut)"


def run(config: RunConfig) -> RunResult:
    say = config.say or (lambda _msg: None)
    epochs = int(config.seconds // config.epoch_seconds) + 2
    say(f"setting up a fresh database on {config.pg_url} ...")
    world = build_world(config.pg_url, clients=config.clients, epochs=epochs,
                        epoch_seconds=config.epoch_seconds, keep=config.keep)
    servers = [Server(f"server-{i}", world.env(), world.home / f"server-{i}.log",
                      workers=config.workers) for i in range(config.servers)]
    clients: list[multiprocessing.process.BaseProcess] = []
    outputs = [world.home / f"client-{i}.jsonl" for i in range(config.clients)]
    faults: list[str] = []
    failures: list[str] = []
    try:
        say(f"database {world.database}, {world.setup_size} entries; home {world.home}")
        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready()
        say("servers: " + ", ".join(s.url for s in servers))
        start = time.time() + 1.0
        spawn = multiprocessing.get_context("spawn")
        day = datetime.now(UTC).date().isoformat()
        for i in range(config.clients):
            cfg = ClientConfig(i, [s.url for s in servers], world.api_keys[i], world.run_id,
                               start, config.seconds, world.pool, str(outputs[i]),
                               seed=config.seed * 1000 + i, give_up_s=config.give_up_s, day=day,
                               lost_responses=config.lost_responses,
                               lose_declarations=config.lose_declarations)
            clients.append(spawn.Process(target=run_client, args=(cfg,), name=f"client-{i}"))
        for proc in clients:
            proc.start()
        for at, action in _fault_plan(config):
            time.sleep(max(0.0, start + at - time.time()))
            faults.append(_inject(action, servers, world, config))
            say(f"fault at {at:.1f} s: {faults[-1]}; back at {time.time() - start:.1f} s")
        for proc in clients:
            proc.join(timeout=max(1.0, start + config.seconds + config.give_up_s + 60 - time.time()))
            if proc.is_alive() or proc.exitcode != 0:
                failures.append(f"{proc.name} did not finish cleanly (exit code {proc.exitcode})")
        say(f"load done after {time.time() - start:.1f} s; stopping the servers, checking ...")
        for server in servers:
            server.stop()
        check = check_run(world.url, world.key_dir, world.setup_size, outputs)
        return RunResult(config, check, faults, failures)
    finally:
        for proc in clients:
            if proc.is_alive():
                proc.kill()
            proc.join(timeout=5)
        for server in servers:
            server.stop()
        destroy_world(world)


def parse_args(argv: list[str] | None) -> tuple[RunConfig, Path | None]:
    p = argparse.ArgumentParser(prog="python -m bench.multihost", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=90.0, help="load duration (default 90)")
    p.add_argument("--clients", type=int, default=6, help="client processes (default 6)")
    p.add_argument("--servers", type=int, default=3, help="gunicorn servers (default 3)")
    p.add_argument("--workers", type=int, default=2, help="workers per server (default 2)")
    p.add_argument("--kills", type=int, default=1, help="server SIGKILLs (default 1; 0 = none)")
    p.add_argument("--down", type=float, default=3.0, help="seconds a killed server stays down")
    p.add_argument("--pg-fault", choices=PG_FAULTS, default="restart",
                   help="restart the PostgreSQL cluster (default), terminate only this run's "
                        "connections, or none")
    p.add_argument("--pg-url", default=os.environ.get(PG_ENV) or DEFAULT_PG_URL,
                   help=f"server to create the run's database on (default ${PG_ENV} or "
                        f"{DEFAULT_PG_URL})")
    p.add_argument("--lost-responses", type=float, default=0.05, metavar="F",
                   help="fraction of writes whose first response the client drops, then retries "
                        "(default 0.05; declarations only with --lose-declaration-responses)")
    p.add_argument("--lose-declaration-responses", action="store_true",
                   help="drop first responses of declarations too (shows the window of "
                        "api/v1/writing.py: they may be issued twice)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep", action="store_true",
                   help="keep the database and the home (server logs, client records)")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    args = p.parse_args(argv)
    if not 5 <= args.seconds <= 3600:
        p.error("--seconds must be within 5..3600")
    if not 0 <= args.lost_responses <= 1:
        p.error("--lost-responses is a fraction within 0..1")
    if args.clients < 1 or args.servers < 1 or args.workers < 1 or args.kills < 0:
        p.error("--clients, --servers and --workers must be >= 1, --kills >= 0")
    config = RunConfig(seconds=args.seconds, clients=args.clients, servers=args.servers,
                       workers=args.workers, kills=args.kills, down=args.down,
                       pg_fault=args.pg_fault, pg_url=args.pg_url, seed=args.seed,
                       lost_responses=args.lost_responses,
                       lose_declarations=args.lose_declaration_responses,
                       keep=args.keep, say=lambda m: print(f"multihost: ... {m}", file=sys.stderr,
                                                           flush=True))
    return config, args.json


def main(argv: list[str] | None = None) -> int:
    config, json_path = parse_args(argv)

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)  # run()'s finally stops every process

    signal.signal(signal.SIGTERM, stop)
    result = run(config)
    figures = result.figures()
    for name, value in figures:
        print(f"multihost: {name} = {value}", flush=True)
    for line in [*result.check.problems, *result.check.audit_findings, *result.client_failures]:
        print(f"multihost: PROBLEM {line}", file=sys.stderr)
    if json_path is not None:
        json_path.write_text(json.dumps(dict(figures), ensure_ascii=False, indent=2) + "\n",
                             encoding="utf-8")
    print(f"multihost: verdict = {'PASS' if result.ok else 'FAIL'}", flush=True)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
