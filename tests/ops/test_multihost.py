"""The multi-host run, short (issue #6): three gunicorn servers on one PostgreSQL database,
five clients writing through all of them for 20 s, one server SIGKILLed (master and workers)
mid-run and restarted, the run's own database connections cut once. PostgreSQL itself is
*not* restarted here (other tests share the server in CI); ``python -m bench.multihost`` is
the long run that does.

Every acknowledged write must be in the log exactly once at the seq it was answered with,
every refused one absent, the clients must really have raced for the same certificate codes
(and been refused), and the audit, with its replay, must be clean.
"""

from __future__ import annotations

import os

import pytest

from bench.multihost import RunConfig, run

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def _postgres_url() -> str:
    url = os.environ.get("GREENLEDGER_TEST_POSTGRES_URL")
    if url:
        return url
    if os.environ.get("GREENLEDGER_REQUIRE_POSTGRES") == "1":
        pytest.fail("GREENLEDGER_TEST_POSTGRES_URL is not set but PostgreSQL is required")
    pytest.skip("GREENLEDGER_TEST_POSTGRES_URL not set")


def test_three_servers_one_killed_nothing_lost_nothing_doubled():
    config = RunConfig(seconds=20, clients=5, servers=3, workers=2, kills=1, down=2,
                       pg_fault="terminate", pg_url=_postgres_url(), give_up_s=40,
                       lost_responses=0.1)
    result = run(config)
    check = result.check
    problems = "\n".join(check.problems + check.audit_findings + result.client_failures)

    assert not result.client_failures, problems
    assert [f.split(" (")[0] for f in result.faults] == ["server SIGKILL server-0",
                                                         "postgres terminate"]
    assert check.acknowledged >= 50 and check.unresolved == 0, problems
    assert check.lost == 0, problems
    assert check.duplicates == 0, problems
    assert check.rejected_but_written == 0 and check.seq_mismatches == 0, problems
    assert check.unexpected_entries == 0, problems
    # the double allocation was really attempted, and refused every time
    assert check.refused_by_rule["allocation.double-count"] > 0
    assert check.overlapping_allocations == 0, problems
    assert check.over_allocated_batches == 0 and check.over_shipped_batches == 0, problems
    assert check.projection_mismatches == 0, problems
    # responses were lost after the request went out, and the retry got the first result
    assert check.replayed_after_lost_response > 0
    assert check.audit_clean, problems
    assert result.ok
