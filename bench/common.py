"""What every benchmark module shares: the figure and options types, timing, sizes, realistic
entries, and scratch databases (SQLite files on disk, PostgreSQL schemas).

A benchmark module ``bench/<area>_bench.py`` exposes
``BENCHES: dict[str, Callable[[Options], list[Figure]]]``; ``python -m bench`` finds it, runs
its entries in order and prints one line per figure (see ``bench/README.md``).
"""

from __future__ import annotations

import math
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from random import Random
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_CACHE_DIR = BENCH_DIR / ".cache"
DEFAULT_RESULTS = BENCH_DIR / "results.json"
DEFAULT_PG_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"
PG_ENV = "GREENLEDGER_TEST_POSTGRES_URL"


def _significant(value: float, digits: int = 6) -> float:
    return float(f"{value:.{digits}g}")


def format_number(value: float) -> str:
    """Readable and honest: integers for big figures, 3 significant digits for small ones."""
    if value == 0 or not math.isfinite(value):
        return str(value)
    if abs(value) >= 100:
        return str(round(value))
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


@dataclass
class Figure:
    """One measured figure. ``target_op`` is ``">="``, ``"<="`` or ``None`` (no target)."""

    name: str
    value: float
    unit: str
    target_op: str | None = None
    target: float | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool | None:
        if self.target_op is None or self.target is None:
            return None
        if self.target_op == ">=":
            return self.value >= self.target
        if self.target_op == "<=":
            return self.value <= self.target
        raise ValueError(f"unknown target operator {self.target_op!r}")

    def line(self) -> str:
        if self.target_op is None or self.target is None:
            target = "no target"
        else:
            target = f"target {self.target_op} {self.target:g}"
        return f"bench: {self.name} = {format_number(self.value)} {self.unit} ({target})"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "value": _significant(self.value), "unit": self.unit,
                "target_op": self.target_op, "target": self.target, "passed": self.passed,
                "params": self.params}


class Skip(Exception):
    """Raised by a bench that cannot run here; ``python -m bench`` prints a note instead."""


@dataclass
class Options:
    """What a run was asked for, plus the resources benches share within one run."""

    quick: bool = False
    #: multiplies entry counts and the big log's size (tests use a tiny scale)
    scale: float = 1.0
    #: repetitions per figure; None = each bench's default (5 full, 3 quick)
    runs: int | None = None
    cache_dir: Path = DEFAULT_CACHE_DIR
    pg_url: str = field(default_factory=lambda: os.environ.get(PG_ENV) or DEFAULT_PG_URL)
    rebuild_cache: bool = False
    shared: dict[str, Any] = field(default_factory=dict)
    stack: ExitStack = field(default_factory=ExitStack)
    _work: Path | None = None

    def count(self, full: int, quick: int, minimum: int = 10) -> int:
        """An entry count for this run: ``full`` or ``quick``, times ``scale``."""
        return max(minimum, round((quick if self.quick else full) * self.scale))

    def repeat(self, full: int = 5, quick: int = 3) -> int:
        return max(1, self.runs if self.runs is not None else (quick if self.quick else full))

    def work_path(self, name: str) -> Path:
        """A fresh path in this run's scratch directory, on the same disk as the cache (not
        tmpfs: the append figures must include real fsyncs). Removed when the run ends."""
        if self._work is None:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            self._work = Path(tempfile.mkdtemp(prefix="work-", dir=self.cache_dir))
            self.stack.callback(shutil.rmtree, self._work, ignore_errors=True)
        return self._work / f"{name}-{uuid.uuid4().hex[:8]}"

    def shared_value(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self.shared:
            self.shared[key] = make()
        return self.shared[key]


def progress(message: str) -> None:
    """Progress for the human watching; stdout carries only figures and notes."""
    print(f"bench: ... {message}", file=sys.stderr, flush=True)


def size_label(n: int) -> str:
    """1000000 -> '1m', 100000 -> '100k', 2500 -> '2500'."""
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    if n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


# --- timing -------------------------------------------------------------------------------


def sample_stats_ms(samples_ns: Sequence[int]) -> dict[str, Any]:
    """Summary of per-operation samples, in milliseconds."""
    ordered = sorted(samples_ns)

    def pct(p: float) -> float:
        return _significant(ordered[min(len(ordered) - 1, int(p * len(ordered)))] / 1e6, 4)

    return {"samples": len(ordered), "median_ms": _significant(statistics.median(ordered) / 1e6, 4),
            "mean_ms": _significant(statistics.fmean(ordered) / 1e6, 4),
            "p90_ms": pct(0.90), "p99_ms": pct(0.99), "min_ms": _significant(ordered[0] / 1e6, 4),
            "max_ms": _significant(ordered[-1] / 1e6, 4)}


def cpu_probe_ms(runs: int = 5) -> float:
    """The median time of a fixed single-threaded workload (dict, string and Decimal work, like
    the ledger's): a reading of how fast this machine runs Python right now. Recorded beside
    every figure, so a figure taken while a shared VM is throttled can be told from a slower
    build (the same code's figure scales with the probe)."""
    def work() -> None:
        total, seen = Decimal(0), {}
        for i in range(4000):
            key = f"B-{i % 97}"
            seen[key] = seen.get(key, 0) + 1
            total += Decimal(i).scaleb(-3) * Decimal("1.5") / Decimal(7)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        work()
        times.append(time.perf_counter() - t0)
    return round(statistics.median(times) * 1000, 3)


def time_each(items: Sequence[Any], op: Callable[[Any], Any]) -> tuple[list[int], list[Any]]:
    """Time ``op(item)`` for each item separately; returns nanoseconds and results."""
    clock = time.perf_counter_ns
    times, results = [], []
    for item in items:
        t0 = clock()
        out = op(item)
        times.append(clock() - t0)
        results.append(out)
    return times, results


def rates_summary(rates: Sequence[float]) -> dict[str, Any]:
    return {"runs": len(rates), "per_run": [round(r) for r in rates],
            "min": round(min(rates)), "max": round(max(rates))}


# --- realistic entries --------------------------------------------------------------------

_FACILITIES = (
    "华能澜沧江水电股份有限公司 糯扎渡水电站", "大唐观音岩水电开发有限公司 3号机组",
    "云南滇能 大理祥云风电场二期", "国家电投云南国际 文山丘北光伏电站",
    "华电金沙江上游水电开发有限公司 苏洼龙水电站",
)
_PLANTS = ("云南宏泰新型材料有限公司 电解一车间", "文山铝业有限公司 电解二车间",
           "云南神火铝业有限公司 铸造车间", "云铝涌鑫铝业有限公司 电解三车间")
_PRODUCTS = ("电解铝锭 Al99.70（GB/T 1196-2023）", "铝合金圆铸锭 6063", "电工圆铝杆 1A60")
_BUYERS = ("Norsk Aluminium Trading AS", "Hydro Extrusion Deutschland GmbH",
           "宁德时代新能源科技股份有限公司", "Aluminium Rheinfelden Alloys GmbH")
_PORTS = ("鹿特丹港 Rotterdam", "汉堡港 Hamburg", "安特卫普港 Antwerpen")
_REMARKS = ("月度抄表数据已核对", "依据购售电合同第7条结算", "第三方核查：中国质量认证中心",
            "含厂用电，已扣减线损", "")
_ACTORS = ("p-yn-smelter-01", "p-yn-smelter-02", "p-gec-registry", "p-certifier-cqc",
           "p-trader-01")


def _dec(rng: Random, low: int, high: int, places: int) -> str:
    """A quantity as a decimal string with a fixed number of places (never a float)."""
    scale = 10 ** places
    return str(Decimal(rng.randrange(low * scale, high * scale)) / scale)


def make_items(n: int, seed: int = 1) -> list[tuple[str, str, dict[str, Any]]]:
    """``n`` (kind, actor, body) triples in the shape of greenledger's domain entries: Chinese
    names, decimal-string quantities, ids; bodies are about 200–300 bytes in canonical form."""
    rng = Random(seed)
    out: list[tuple[str, str, dict[str, Any]]] = []
    for i in range(n):
        year = 2024 + i % 2
        month = 1 + rng.randrange(12)
        cert = f"GEC-{year}-53-{rng.randrange(10**9):09d}"
        batch = f"B-{year}{month:02d}-{rng.randrange(10**5):05d}"
        actor = _ACTORS[i % len(_ACTORS)]
        k = i % 4
        if k == 0:
            out.append(("certificate.registered", actor, {
                "certificate_id": cert, "facility": rng.choice(_FACILITIES),
                "technology": rng.choice(("水电", "风电", "光伏")),
                "mwh": _dec(rng, 100, 5000, 3), "period": f"{year}-{month:02d}",
                "issuer": "国家可再生能源信息管理中心", "owner": actor,
                "remark": rng.choice(_REMARKS)}))
        elif k == 1:
            out.append(("batch.produced", actor, {
                "batch_id": batch, "product": rng.choice(_PRODUCTS), "plant": rng.choice(_PLANTS),
                "tonnes": _dec(rng, 10, 60, 3), "mwh": _dec(rng, 130, 800, 3),
                "kg_co2e": _dec(rng, 1000, 90000, 3), "produced_on": f"{year}-{month:02d}-15",
                "remark": rng.choice(_REMARKS)}))
        elif k == 2:
            out.append(("allocation.made", actor, {
                "allocation_id": f"A-{rng.randrange(10**8):08d}", "batch_id": batch,
                "certificate_id": cert, "mwh": _dec(rng, 1, 800, 3),
                "share": _dec(rng, 0, 1, 6), "basis": "按批次电量比例分配（GB/T 24067-2024）"}))
        else:
            out.append(("shipment.created", actor, {
                "shipment_id": f"S-{year}-{rng.randrange(10**6):06d}",
                "batch_ids": [f"B-{year}{month:02d}-{rng.randrange(10**5):05d}" for _ in range(3)],
                "buyer": rng.choice(_BUYERS), "destination": rng.choice(_PORTS),
                "tonnes": _dec(rng, 20, 500, 3), "cn_code": "7601", "remark": rng.choice(_REMARKS)}))
    return out


def items_params(items: Sequence[tuple[str, str, dict[str, Any]]]) -> dict[str, Any]:
    """Mean canonical sizes of a sample of the items' bodies and whole entries, in bytes."""
    from ledger import encoding

    sample = items[: min(len(items), 400)]
    bodies = [len(encoding.canonical_bytes(b)) for _, _, b in sample]
    entries = [len(entry_bytes(i, item)) for i, item in enumerate(sample)]
    return {"body_bytes_mean": round(statistics.fmean(bodies)),
            "entry_bytes_mean": round(statistics.fmean(entries))}


def entry_bytes(seq: int, item: tuple[str, str, dict[str, Any]]) -> bytes:
    """The canonical entry bytes greenledger would store for ``item`` at ``seq``."""
    from ledger import encoding

    kind, actor, body = item
    return encoding.Entry(seq, kind, encoding.now(), actor, encoding.new_nonce(), body).canonical()


def chunks(seq: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


# --- scratch databases --------------------------------------------------------------------


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@contextmanager
def fresh_sqlite(options: Options, name: str) -> Iterator[Any]:
    """An engine on a new, migrated SQLite file (WAL, synchronous=FULL, via make_engine)."""
    from ledger.store.engine import make_engine
    from ledger.store.migrate import upgrade

    path = options.work_path(name).with_suffix(".db")
    engine = make_engine(sqlite_url(path))
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def _admin_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def postgres_unreachable(options: Options) -> str | None:
    """None if PostgreSQL at ``options.pg_url`` answers, else why not (checked once per run)."""

    def check() -> str | None:
        from sqlalchemy import create_engine, text

        try:
            engine = create_engine(_admin_url(options.pg_url), connect_args={"connect_timeout": 3})
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
            finally:
                engine.dispose()
        except Exception as exc:  # any failure means: no figure, a note instead
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            return f"PostgreSQL unreachable at {safe_url(options.pg_url)} ({type(exc).__name__}: {first})"
        return None

    return options.shared_value("postgres_unreachable", check)


@contextmanager
def fresh_postgres(options: Options) -> Iterator[Any]:
    """An engine whose connections see a new, migrated schema ``gl_bench_<hex>``; dropped after."""
    from sqlalchemy import create_engine, text

    from ledger.store.engine import make_engine
    from ledger.store.migrate import upgrade

    schema = f"gl_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(_admin_url(options.pg_url), connect_args={"connect_timeout": 3})
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in options.pg_url else "?"
    engine = make_engine(f"{options.pg_url}{sep}options=-csearch_path%3D{schema}")
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
