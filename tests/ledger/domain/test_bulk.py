"""The set-wise certificate import (ledger/domain/bulk.py) refuses exactly what the
per-entry appliers refuse, with the same rules, and writes the same projections."""

from __future__ import annotations

import random
import re
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from ledger import audit, importing
from ledger.domain import domain_log
from ledger.domain.replay import replay_check
from ledger.store.engine import make_engine
from ledger.store.migrate import upgrade
from tests.ledger.domain.world import build, gec

COLUMNS = importing.COLUMNS["certificates"]


def rows(seed: int, n: int) -> list[tuple[int, dict[str, str]]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        block = rng.choice(["31200808265308017", "31200808265308018"])
        month = rng.choice(["2025-03", "2025-04"])
        start = rng.randint(1, 400)
        length = rng.randint(1, 30)
        registry = "CN-GEC" if rng.random() < 0.9 else "I-REC"
        if registry == "CN-GEC":
            first = f"{block}{month.replace('-', '')}{start:09d}"
            last = f"{block}{month.replace('-', '')}{start + length - 1:09d}"
        else:
            first, last = f"IREC-CN-7-{start:09d}", f"IREC-CN-7-{start + length - 1:09d}"
        mwh = str(length if rng.random() < 0.95 else length + 1)
        out.append((i + 2, {
            "registry": registry, "first": first, "last": last, "mwh": mwh,
            "technology": rng.choice(["hydro", "wind", "fusion"]) if rng.random() < 0.05 else "hydro",
            "plant": rng.choice(["Plant A", "Plant B"]), "plant_province": "CN-YN", "country": "CN",
            "generation_month": month, "tradable": "false", "owner": rng.choice(["p-a", "p-a", "p-b"]),
            "evidence_ref": f"R{i}", "evidence_sha256": "ab" * 32}))
    return out


def run(engine, data, *, bulk: bool, monkeypatch) -> tuple[list[tuple[int, str]], list]:
    monkeypatch.setattr(importing, "BULK_THRESHOLD", 0 if bulk else 10**9)
    log = domain_log(engine)
    try:
        importing.import_rows(log, "certificates", data)
        refused = []
    except importing.ImportRefused as exc:
        refused = [(line, re.match(r"\[([^\]]+)\]|([a-z_.]+):", reason).group(0))
                   for line, reason in exc.refused]
    with engine.connect() as conn:
        certs = conn.execute(text("SELECT * FROM certificate ORDER BY certificate_id")).all()
    return refused, certs


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32), n=st.integers(1, 40))
def test_bulk_refuses_a_file_exactly_when_the_appliers_do(tmp_path, monkeypatch, seed, n):
    """Same verdict on every file and, for a file taken, the same projection rows. When a
    file breaks several rules that interact, the lines each path names may differ (see
    ledger/domain/bulk.py); every line either path names does break a rule."""
    data = rows(seed, n)
    results = []
    for bulk in (False, True):
        engine = make_engine(f"sqlite:///{tmp_path / f'{uuid.uuid4().hex}.db'}")
        upgrade(engine)
        build(engine)
        results.append(run(engine, data, bulk=bulk, monkeypatch=monkeypatch))
        engine.dispose()
    (ref_a, certs_a), (ref_b, certs_b) = results
    assert bool(ref_a) == bool(ref_b)
    assert certs_a == certs_b  # both empty when refused: nothing of a refused file is written
    if ref_a:
        # the first offending line (in file order) is found by both
        first = min(ref_a)[0]
        assert first in {line for line, _ in ref_b} or any(
            line < first for line, _ in ref_b)


def test_a_bulk_import_audits_clean_and_equals_the_per_entry_projection(engine, monkeypatch):
    build(engine)
    data = [(i + 2, {
        "registry": "CN-GEC", "first": f"11111111111111111202503{i * 10 + 1:09d}",
        "last": f"11111111111111111202503{i * 10 + 10:09d}", "mwh": "10", "technology": "wind",
        "plant": "Wind", "plant_province": "CN-YN", "country": "CN", "generation_month": "2025-03",
        "tradable": "true", "owner": "p-b", "evidence_ref": f"R{i}", "evidence_sha256": "cd" * 32})
        for i in range(300)]
    monkeypatch.setattr(importing, "BULK_THRESHOLD", 0)
    report = importing.import_rows(domain_log(engine), "certificates", data)
    assert report.taken == 300
    result = audit.audit(engine, operator_keys=[], extra_checks=[replay_check()], workers=1)
    assert result.clean, result.findings


def test_bulk_refuses_overlap_with_stored_ranges_and_within_the_file(engine, monkeypatch):
    build(engine)  # registers 31200808265308017202503000000001..1000 for p-a
    monkeypatch.setattr(importing, "BULK_THRESHOLD", 0)
    base = {"registry": "CN-GEC", "mwh": "10", "technology": "hydro", "plant": "澜沧江示例水电站",
            "plant_province": "CN-YN", "country": "CN", "generation_month": "2025-03",
            "tradable": "false", "owner": "p-a", "evidence_ref": "R", "evidence_sha256": "ab" * 32}
    data = [(2, {**base, "first": gec(995), "last": gec(1004)}),
            (3, {**base, "first": gec(2001), "last": gec(2010)}),
            (4, {**base, "first": gec(2010), "last": gec(2019)})]
    with pytest.raises(importing.ImportRefused) as err:
        importing.import_rows(domain_log(engine), "certificates", data)
    reasons = dict(err.value.refused)
    assert set(reasons) == {2, 4}
    assert "[certificate.unique-serial]" in reasons[2] and "CN-GEC:" in reasons[2]
    assert "line 3 of this file" in reasons[4]
