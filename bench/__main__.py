"""``python -m bench [--quick] [--only NAME]``: run the benchmarks (DESIGN §9).

Prints one line per figure, ``bench: NAME = VALUE UNIT (target OP VALUE)`` or
``(no target)``, writes the same figures as JSON to ``bench/results.json`` and ends with
``bench: N figures, M below target``. A missed target is a figure, not a failure: the exit
status is 0 unless the harness itself broke (1) or the command line is wrong (2). Benches that
cannot run here (no PostgreSQL server, no pymerkle) print ``bench: skipped NAME: why``.

Every ``bench/<area>_bench.py`` module exposing ``BENCHES`` is picked up; see bench/README.md.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import platform
import re
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench.common import (
    BENCH_DIR,
    DEFAULT_CACHE_DIR,
    DEFAULT_PG_URL,
    DEFAULT_RESULTS,
    PG_ENV,
    Figure,
    Options,
    Skip,
    cpu_probe_ms,
)

#: display order of the areas; any other ``*_bench`` module follows alphabetically
AREA_ORDER = ("log", "registry", "declaration", "http")

Bench = Callable[[Options], list[Figure]]


def discover() -> dict[str, tuple[str, Bench]]:
    """Every bench by name, in display order, with the area it belongs to."""
    areas = [m.name[: -len("_bench")] for m in pkgutil.iter_modules([str(BENCH_DIR)])
             if m.name.endswith("_bench")]
    areas.sort(key=lambda a: (AREA_ORDER.index(a) if a in AREA_ORDER else len(AREA_ORDER), a))
    found: dict[str, tuple[str, Bench]] = {}
    for area in areas:
        module = importlib.import_module(f"bench.{area}_bench")
        for name, fn in module.BENCHES.items():
            if name in found:
                raise RuntimeError(f"bench {name!r} is defined by both {found[name][0]}_bench "
                                   f"and {area}_bench")
            found[name] = (area, fn)
    return found


_SIZE_SUFFIX = re.compile(r"_\d+[km]?$")


def select(benches: dict[str, tuple[str, Bench]], only: list[str]) -> list[str]:
    """Names to run for ``--only`` values: a bench name, a figure name (``proof_generate_1m``),
    or an area (``log``). Raises KeyError naming what matched nothing."""
    if not only:
        return list(benches)
    wanted: set[str] = set()
    for raw in only:
        for name in filter(None, (part.strip() for part in raw.split(","))):
            if name in benches:
                wanted.add(name)
            elif _SIZE_SUFFIX.sub("", name) in benches:
                wanted.add(_SIZE_SUFFIX.sub("", name))
            elif any(area == name for area, _ in benches.values()):
                wanted.update(b for b, (area, _) in benches.items() if area == name)
            else:
                raise KeyError(name)
    return [b for b in benches if b in wanted]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description="Run greenledger's benchmarks.")
    p.add_argument("--quick", action="store_true",
                   help="small sizes (100k-entry log, fewer entries and runs); under ~60 s")
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="run only this bench, figure or area (repeatable, or comma-separated)")
    p.add_argument("--list", action="store_true", help="list the benches and exit")
    p.add_argument("--scale", type=float, default=1.0,
                   help="multiply entry counts and the big log's size (tests: 0.01)")
    p.add_argument("--runs", type=int, default=None,
                   help="repetitions per figure (default 5, audit 3; --quick 3)")
    p.add_argument("--out", type=Path, default=DEFAULT_RESULTS,
                   help="results file (default bench/results.json)")
    p.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR,
                   help="where the big log is cached and scratch databases live "
                        "(default bench/.cache)")
    p.add_argument("--rebuild-cache", action="store_true",
                   help="rebuild the cached big log (and pymerkle's copy) even if valid")
    args = p.parse_args(argv)
    if args.scale <= 0:
        p.error("--scale must be > 0")
    if args.runs is not None and args.runs < 1:
        p.error("--runs must be >= 1")
    return args


def write_results(path: Path, figures: list[Figure]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps([f.to_json() for f in figures], ensure_ascii=False, indent=2) + "\n",
                   encoding="utf-8")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    benches = discover()
    if args.list:
        for name, (area, _) in benches.items():
            print(f"{name}  ({area})")
        return 0
    try:
        names = select(benches, args.only)
    except KeyError as exc:
        print(f"python -m bench: unknown bench {exc.args[0]!r}; known: {', '.join(benches)} "
              f"(or an area: {', '.join(sorted({a for a, _ in benches.values()}))})",
              file=sys.stderr)
        return 2
    options = Options(quick=args.quick, scale=args.scale, runs=args.runs,
                      cache_dir=args.cache_dir.resolve(), rebuild_cache=args.rebuild_cache,
                      pg_url=os.environ.get(PG_ENV) or DEFAULT_PG_URL)
    print(f"bench: ... {time.strftime('%Y-%m-%d %H:%M')} {platform.node()} {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {'quick' if args.quick else 'full'} run",
          file=sys.stderr, flush=True)
    figures: list[Figure] = []
    errors = 0
    started = time.perf_counter()
    try:
        for name in names:
            _, fn = benches[name]
            probe_before = cpu_probe_ms()
            t0 = time.perf_counter()
            try:
                produced = fn(options)
            except Skip as exc:
                print(f"bench: skipped {name}: {exc}", flush=True)
                continue
            except Exception as exc:  # a broken bench must not hide the other figures
                errors += 1
                traceback.print_exc()
                print(f"bench: error in {name}: {type(exc).__name__}: {exc}", flush=True)
                continue
            took = time.perf_counter() - t0
            probe = [probe_before, cpu_probe_ms()]
            for figure in produced:
                figure.params.setdefault("bench", name)
                figure.params["cpu_probe_ms"] = probe
                figures.append(figure)
                print(figure.line(), flush=True)
            print(f"bench: ... {name} took {took:.1f} s (cpu probe {probe[0]} / {probe[1]} ms "
                  "before / after)", file=sys.stderr, flush=True)
    finally:
        options.stack.close()
        write_results(args.out, figures)
    below = sum(1 for f in figures if f.passed is False)
    print(f"bench: ... {time.perf_counter() - started:.0f} s; results in {args.out}",
          file=sys.stderr)
    print(f"bench: {len(figures)} figures, {below} below target", flush=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
