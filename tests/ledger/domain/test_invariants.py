"""Invariants under random sequences of operations, also from several processes at once:
no MWh is ever allocated twice, no batch ships more than it produced, allocations never
exceed metered electricity, and the audit's replay agrees with storage."""

from __future__ import annotations

import itertools
import multiprocessing
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import Session

from ledger import audit
from ledger.domain import domain_log
from ledger.domain.replay import replay_check
from ledger.domain.tables import Allocation, Batch, Certificate
from ledger.errors import GreenledgerError
from ledger.store.engine import make_engine
from ledger.store.migrate import upgrade
from tests.ledger.domain.world import allocation, batch, build, certificate, gec, shipment

CERTS = [(1, 1000), (1001, 1600), (2001, 2400)]
BATCHES = ["AL-1", "AL-2", "AL-3"]


def setup_world(engine):
    log = build(engine)
    log.append_many([("certificate.registered", "p-a", certificate(a, b, plant=f"P{a}"))
                     for a, b in CERTS[1:]]
                    + [("batch.registered", "p-a", batch(b, lot=b, electricity_mwh="700.000",
                                                         tonnes="50.000")) for b in BATCHES[1:]])
    return log


def random_operation(rng: random.Random, n: int) -> tuple[str, str, dict]:
    if rng.random() < 0.6:
        a, b = rng.choice(CERTS)
        first = rng.randint(a, b)
        last = min(b, first + rng.randint(0, 400))
        return "allocation.recorded", "p-a", allocation(
            f"A{n}-{rng.getrandbits(32)}", first, last, certificate=f"CN-GEC:{gec(a)}",
            batch=rng.choice(BATCHES))
    lines = [{"batch": rng.choice(BATCHES), "tonnes": f"{rng.randint(1, 40)}.000"}]
    return "shipment.recorded", "p-a", shipment(f"S{n}-{rng.getrandbits(32)}", lines=lines)


def check_invariants(engine) -> None:
    with Session(engine) as s:
        allocs = list(s.scalars(select(Allocation)))
        for cert in s.scalars(select(Certificate)):
            spans = sorted((a.first_no, a.last_no) for a in allocs if a.certificate_id == cert.certificate_id)
            for (_, end), (start, _) in itertools.pairwise(spans):
                assert end < start, "a code was allocated twice"
            assert all(cert.first_no <= a <= b <= cert.last_no for a, b in spans)
            assert sum(b - a + 1 for a, b in spans) * 1000 == cert.allocated_kwh <= cert.kwh
        for b in s.scalars(select(Batch)):
            assert sum(a.kwh for a in allocs if a.batch_id == b.batch_id) == b.allocated_kwh
            assert b.allocated_kwh <= b.electricity_kwh
            assert b.shipped_kg <= b.kg
    report = audit.audit(engine, operator_keys=[], extra_checks=[replay_check()], workers=1)
    assert report.clean, report.findings


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32), steps=st.integers(5, 40))
def test_no_mwh_is_ever_allocated_twice_and_no_batch_over_ships(sqlite_url, seed, steps):
    engine = make_engine(sqlite_url.replace("ledger.db", f"l{seed}-{steps}.db"))
    upgrade(engine)
    log = setup_world(engine)
    rng = random.Random(seed)
    accepted = 0
    for n in range(steps):
        try:
            log.append(*random_operation(rng, n))
            accepted += 1
        except GreenledgerError:
            pass
    check_invariants(engine)
    engine.dispose()


def _worker(url: str, seed: int, steps: int) -> int:
    engine = make_engine(url)
    log = domain_log(engine)
    rng = random.Random(seed)
    ok = 0
    for n in range(steps):
        try:
            log.append(*random_operation(rng, seed * 1000 + n))
            ok += 1
        except GreenledgerError:
            pass
    engine.dispose()
    return ok


@pytest.mark.postgres
@pytest.mark.slow
def test_concurrent_processes_never_double_allocate_on_postgres(pg_url):
    engine = make_engine(pg_url)
    upgrade(engine)
    setup_world(engine)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        accepted = pool.starmap(_worker, [(pg_url, seed, 60) for seed in range(4)])
    assert sum(accepted) > 20  # the contest really happened
    check_invariants(engine)
    engine.dispose()
