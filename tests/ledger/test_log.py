"""The stored log on SQLite and PostgreSQL: proofs from storage equal the reference tree,
appends are atomic, refused entries leave no trace."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ledger import encoding, merkle, verify
from ledger.errors import InputError, RuleViolation
from ledger.log import Log


def body(i: int) -> dict:
    return {"i": i, "plant": "澜沧江示例水电站", "mwh": f"{i}.000"}


def test_proofs_from_storage_equal_the_reference_tree(engine):
    log = Log(engine)
    for start in range(0, 300, 37):  # several transactions of different sizes
        log.append_many(("test.appended", "p-a", body(i)) for i in range(start, min(start + 37, 300)))
    rows = log.entries()
    assert [r.seq for r in rows] == list(range(300))
    leaves = [bytes(r.leaf_hash) for r in rows]
    for size in (1, 2, 3, 5, 8, 64, 100, 255, 256, 257, 300):
        root = merkle.root_from_leaf_hashes(leaves[:size])
        assert log.root(size) == root
        for seq in {0, size // 2, size - 1}:
            proof = log.inclusion_proof(seq, size)
            assert proof == merkle.inclusion_proof(leaves, seq, size)
            verify.verify_inclusion(seq, size, leaves[seq], proof, root)
        for first in {1, size // 3 or 1, size - 1 or 1, size}:
            proof = log.consistency_proof(first, size)
            verify.verify_consistency(first, size, log.root(first), root, proof)


def test_entry_text_and_hashes_are_stored_exactly(engine):
    log = Log(engine)
    done = log.append("test.appended", "p-a", body(1))
    row = log.entry(0)
    assert row.entry == done.entry
    assert encoding.parse_entry(row.entry).body == body(1)
    assert bytes(row.leaf_hash) == encoding.leaf_hash(row.entry.encode())
    assert bytes(row.chain_hash) == encoding.chain_hash(bytes(32), bytes(row.leaf_hash))


def test_a_failing_bulk_append_writes_nothing(engine):
    log = Log(engine)
    log.append("test.appended", "p-a", body(0))
    items = [("test.appended", "p-a", body(i)) for i in range(1, 10)]
    items.append(("test.appended", "p-a", {"mwh": 1.5}))  # a float: refused
    with pytest.raises(InputError):
        log.append_many(items)
    assert log.size() == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM log_entry")).scalar() == 1
        assert conn.execute(text("SELECT COUNT(*) FROM tree_node")).scalar() == 1


def test_an_applier_refusal_rolls_back_its_writes_and_the_entry(engine):
    def refuse_big(session, entry):
        session.execute(text("UPDATE log_head SET size = size WHERE id = 1"))
        if int(entry.body["i"]) > 2:
            raise RuleViolation("test.limit", "i too large", field="i", limit=2, got=entry.body["i"])

    log = Log(engine, {"test.appended": refuse_big})
    with log.writer() as w:
        w.append("test.appended", "p-a", body(1))
        with pytest.raises(RuleViolation) as err:
            w.append("test.appended", "p-a", body(3))
        assert err.value.field == "i" and err.value.limit == 2
        w.append("test.appended", "p-a", body(2))
    assert [encoding.parse_entry(r.entry).body["i"] for r in log.entries()] == [1, 2]
    assert [r.seq for r in log.entries()] == [0, 1]


@pytest.mark.parametrize("seq, size", [(-1, 5), (5, 5), (0, 6)])
def test_proof_requests_outside_the_log_are_input_errors(engine, seq, size):
    log = Log(engine)
    log.append_many(("test.appended", "p-a", body(i)) for i in range(5))
    with pytest.raises(InputError):
        log.inclusion_proof(seq, size)


def test_a_cosigned_note_keeps_every_other_signature(engine):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ledger import checkpoint
    from ledger.log import sign_checkpoint, store_cosigned

    log = Log(engine)
    log.append_many(("test.appended", "p-a", body(i)) for i in range(4))
    op = checkpoint.Signer("greenledger.test/log", Ed25519PrivateKey.generate())
    a = checkpoint.Signer("certifier.test/a", Ed25519PrivateKey.generate(), alg=checkpoint.ALG_COSIGNATURE_V1)
    b = checkpoint.Signer("certifier.test/b", Ed25519PrivateKey.generate(), alg=checkpoint.ALG_COSIGNATURE_V1)
    row = sign_checkpoint(log, op)
    both = checkpoint.cosign(checkpoint.cosign(row.note, a, 100), b, 100)
    store_cosigned(log, row.size, both)
    store_cosigned(log, row.size, checkpoint.cosign(both, a, 200))  # a signs again: allowed
    with pytest.raises(InputError):  # b's line dropped
        store_cosigned(log, row.size, checkpoint.cosign(row.note, a, 300))
    with pytest.raises(InputError):  # the operator's signature dropped
        store_cosigned(log, row.size, both.replace(both.split("\n\n")[1].split("\n")[0] + "\n", ""))
