"""The audit's replay rebuilds every projection from the log and names any row edited,
inserted or deleted behind the log's back, with its table, key and entry."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ledger import audit
from ledger.domain.replay import replay_check
from tests.ledger.domain.world import allocation, build, shipment


@pytest.fixture
def log(engine):
    log = build(engine)
    log.append("allocation.recorded", "p-a", allocation())
    log.append("shipment.recorded", "p-a", shipment())
    return log


def findings(log):
    report = audit.audit(log.engine, operator_keys=[], extra_checks=[replay_check()], workers=1)
    return {(f.rule, f.table, f.key, f.seq) for f in report.findings}, report


def sql(log, statement):
    with log.engine.begin() as conn:
        conn.execute(text(statement))


def test_replay_of_an_untouched_ledger_is_clean(log):
    assert findings(log)[1].clean


def test_a_row_edited_behind_the_log_is_named_with_table_key_and_entry(log):
    sql(log, "UPDATE batch SET kg = 200000 WHERE batch_id = 'AL-1'")
    found, _ = findings(log)
    assert ("projection.differs", "batch", "AL-1", 10) in found  # seq 10: the shipment wrote it last


def test_extra_allocated_mwh_in_a_certificate_row_is_named(log):
    sql(log, "UPDATE certificate SET allocated_kwh = 0")
    found, report = findings(log)
    assert any(r == "projection.differs" and t == "certificate" for r, t, _, _ in found)
    assert "allocated_kwh" in report.findings[0].detail


def test_a_deleted_row_is_named(log):
    sql(log, "DELETE FROM allocation")
    found, _ = findings(log)
    assert ("projection.missing", "allocation", "A1", 9) in found


def test_an_inserted_row_is_named(log):
    sql(log, "INSERT INTO shipment (shipment_id, seller, buyer, date, destination_country, kg, seq) "
             "VALUES ('S-FAKE', 'p-a', 'p-buyer', '2025-05-01', 'CN', 1000, 0)")
    found, _ = findings(log)
    assert ("projection.extra", "shipment", "S-FAKE", None) in found


def test_an_entry_that_breaks_a_rule_is_named_by_the_replay(log):
    """An over-shipment written straight into the log table (appliers bypassed, hashes
    recomputed so the chain itself is intact) is caught when the rules are replayed."""
    from ledger.log import Log

    raw = Log(log.engine)  # no appliers: the rules are bypassed
    raw.append("shipment.recorded", "p-a", shipment("S-BAD", "90.000"))
    found, _ = findings(log)
    assert ("rule.shipment.mass-balance", "log_entry", None, 11) in found
