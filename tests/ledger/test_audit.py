"""Tampering: every edit, deletion, swap or consistent rewrite is named by the audit."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from ledger import audit, encoding
from ledger.checkpoint import Signer
from ledger.log import Log, sign_checkpoint
from ledger.store.engine import make_engine
from ledger.store.migrate import upgrade

N = 40


@pytest.fixture
def signer() -> Signer:
    return Signer("greenledger.test/log", Ed25519PrivateKey.generate())


@pytest.fixture
def log(engine, signer) -> Log:
    log = Log(engine)
    log.append_many(("test.appended", "p-a", {"i": i, "mwh": f"{i}.000"}) for i in range(N // 2))
    sign_checkpoint(log, signer)
    log.append_many(("test.appended", "p-a", {"i": i, "mwh": f"{i}.000"}) for i in range(N // 2, N))
    sign_checkpoint(log, signer)
    return log


def run(log: Log, signer: Signer, **kw) -> audit.AuditReport:
    return audit.audit(log.engine, operator_keys=[signer.verifier], workers=1, **kw)


def rules(report: audit.AuditReport) -> set[tuple[str, int | None]]:
    return {(f.rule, f.seq) for f in report.findings}


def test_an_untouched_log_audits_clean(log, signer):
    report = run(log, signer)
    assert report.clean, report.findings
    assert (report.size, report.checkpoints) == (N, 2)


def sql(log: Log, statement: str, **params) -> None:
    with log.engine.begin() as conn:
        conn.execute(text(statement), params)


@pytest.mark.parametrize("column, value, rule", [
    ("kind", "test.other", "entry.column"),
    ("actor", "p-evil", "entry.column"),
    ("at", "2020-01-01T00:00:00.000000Z", "entry.column"),
    ("leaf_hash", b"\x00" * 32, "chain.leaf-hash"),
    ("chain_hash", b"\x00" * 32, "chain.chain-hash"),
])
def test_editing_a_column_is_named_with_its_seq(log, signer, column, value, rule):
    sql(log, f"UPDATE log_entry SET {column} = :v WHERE seq = 7", v=value)
    assert (rule, 7) in rules(run(log, signer))


def test_editing_the_entry_text_breaks_leaf_and_checkpoint(log, signer):
    row = log.entry(7)
    forged = row.entry.replace('"mwh":"7.000"', '"mwh":"70.000"')
    sql(log, "UPDATE log_entry SET entry = :e WHERE seq = 7", e=forged)
    found = rules(run(log, signer))
    assert ("chain.leaf-hash", 7) in found


def test_rewriting_one_entry_with_all_its_hashes_is_caught_by_the_next_link(log, signer):
    row = log.entry(7)
    forged = row.entry.replace('"mwh":"7.000"', '"mwh":"70.000"').encode()
    leaf = encoding.leaf_hash(forged)
    chain = encoding.chain_hash(bytes(log.entry(6).chain_hash), leaf)
    sql(log, "UPDATE log_entry SET entry = :e, leaf_hash = :l, chain_hash = :c WHERE seq = 7",
        e=forged.decode(), l=leaf, c=chain)
    found = run(log, signer)
    assert ("chain.chain-hash", 8) in rules(found)
    assert any(f.rule == "tree.node-hash" for f in found.findings)
    assert any(f.rule == "checkpoint.root" for f in found.findings)


def test_a_non_canonical_entry_text_is_named(log, signer):
    row = log.entry(3)
    spaced = row.entry.replace('","', '", "', 1)
    sql(log, "UPDATE log_entry SET entry = :e WHERE seq = 3", e=spaced)
    assert ("entry.canonical", 3) in rules(run(log, signer))


def test_deleting_an_entry_is_named(log, signer):
    sql(log, "DELETE FROM log_entry WHERE seq = 11")
    found = rules(run(log, signer))
    assert ("chain.seq-gap", 12) in found
    assert ("chain.chain-hash", 12) in found


def test_deleting_the_last_entries_is_named(log, signer):
    sql(log, "DELETE FROM log_entry WHERE seq >= 35")
    report = run(log, signer)
    assert {"chain.head-size", "checkpoint.beyond-log"} <= {f.rule for f in report.findings}


def test_swapping_two_entries_is_named(log, signer):
    a, b = log.entry(4), log.entry(9)
    with log.engine.begin() as conn:
        conn.execute(text("DELETE FROM log_entry WHERE seq IN (4, 9)"))
        for seq, row in ((4, b), (9, a)):
            conn.execute(text("INSERT INTO log_entry (seq, kind, actor, at, entry, leaf_hash, "
                              "chain_hash) VALUES (:s, :k, :a, :t, :e, :l, :c)"),
                         {"s": seq, "k": row.kind, "a": row.actor, "t": row.at, "e": row.entry,
                          "l": row.leaf_hash, "c": row.chain_hash})
    found = rules(run(log, signer))
    assert ("entry.seq", 4) in found and ("entry.seq", 9) in found
    assert ("chain.chain-hash", 4) in found


def test_a_corrupted_tree_node_is_named(log, signer):
    sql(log, "UPDATE tree_node SET hash = :h WHERE node_id = (SELECT MAX(node_id) FROM tree_node)",
        h=b"\x01" * 32)
    assert any(f.rule == "tree.node-hash" for f in run(log, signer).findings)


def test_a_checkpoint_signed_by_another_key_is_named(log, signer):
    other = Signer(signer.name, Ed25519PrivateKey.generate())
    report = audit.audit(log.engine, operator_keys=[other.verifier], workers=1)
    assert {f.rule for f in report.findings} == {"checkpoint.signature"}


def test_a_consistent_rewrite_under_a_new_key_is_caught_by_an_earlier_checkpoint(
        log, signer, tmp_path):
    """The operator rebuilds the whole log with one entry changed, re-signs everything with
    a new key: internally consistent, but it contradicts a checkpoint a certifier kept."""
    kept = log.checkpoint_at(N // 2).note  # the certifier's copy, outside the database
    forged_engine = make_engine(f"sqlite:///{tmp_path / 'forged.db'}")
    upgrade(forged_engine)
    forged = Log(forged_engine)
    new_key = Signer(signer.name, Ed25519PrivateKey.generate())
    bodies = [encoding.parse_entry(r.entry).body for r in log.entries()]
    bodies[5]["mwh"] = "500.000"
    forged.append_many(("test.appended", "p-a", b) for b in bodies[: N // 2])
    sign_checkpoint(forged, new_key)
    forged.append_many(("test.appended", "p-a", b) for b in bodies[N // 2:])
    sign_checkpoint(forged, new_key)
    # audited with the new key alone, the rewrite looks clean...
    assert audit.audit(forged_engine, operator_keys=[new_key.verifier], workers=1).clean
    # ...but not against the trusted key, nor against the checkpoint kept earlier.
    report = audit.audit(forged_engine, operator_keys=[signer.verifier, new_key.verifier],
                         witnessed=[kept], workers=1)
    assert "witness.fork" in {f.rule for f in report.findings}
    report = audit.audit(forged_engine, operator_keys=[signer.verifier], workers=1)
    assert "checkpoint.signature" in {f.rule for f in report.findings}


def test_a_truncated_log_is_caught_by_an_earlier_checkpoint(log, signer):
    kept = log.latest_checkpoint().note
    sql(log, "DELETE FROM checkpoint")
    sql(log, "DELETE FROM log_entry WHERE seq >= 30")
    report = run(log, signer, witnessed=[kept])
    assert "witness.rollback" in {f.rule for f in report.findings}


def test_parallel_scan_finds_the_same_breaks(log, signer, monkeypatch):
    monkeypatch.setattr(audit, "CHUNK", 8)
    sql(log, "UPDATE log_entry SET actor = 'p-evil' WHERE seq = 17")
    sql(log, "DELETE FROM log_entry WHERE seq = 25")
    one = audit.audit(log.engine, operator_keys=[signer.verifier], workers=1)
    two = audit.audit(log.engine, operator_keys=[signer.verifier], workers=2)
    assert rules(one) == rules(two)
    assert ("entry.column", 17) in rules(two) and ("chain.seq-gap", 26) in rules(two)
