"""Operator key rotation anchored in the log: old checkpoints stay valid, a checkpoint signed
with a revoked key after its revocation is refused, an unannounced key is not trusted."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session

from ledger import audit, checkpoint
from ledger.checkpoint import Signer
from ledger.domain.log_keys import rotation_check
from ledger.domain.replay import replay_check
from ledger.log import sign_checkpoint
from ledger.store.tables import StoredCheckpoint
from tests.ledger.domain.world import build, shipment

ORIGIN = "greenledger.test/log"


def run(log, trusted, keys):
    return audit.audit(log.engine, operator_keys=keys, workers=1,
                       extra_checks=[replay_check(), rotation_check(trusted)])


def rotate(log, old: Signer) -> Signer:
    new = Signer(ORIGIN, Ed25519PrivateKey.generate())
    log.append("key.activated", "p-op", {"vkey": new.verifier.vkey()})
    sign_checkpoint(log, old)
    log.append("key.revoked", "p-op", {"vkey": old.verifier.vkey(), "reason": "scheduled"})
    sign_checkpoint(log, new)
    return new


def test_rotation_keeps_old_checkpoints_valid_and_the_audit_clean(engine):
    log = build(engine)
    old = Signer(ORIGIN, Ed25519PrivateKey.generate())
    first = sign_checkpoint(log, old)
    new = rotate(log, old)
    log.append("shipment.recorded", "p-a", shipment())
    sign_checkpoint(log, new)
    report = run(log, [old.verifier], [old.verifier, new.verifier])
    assert report.clean, report.findings
    assert checkpoint.open_checkpoint(first.note, old.verifier).size == first.size


def test_a_checkpoint_signed_with_a_revoked_key_after_its_revocation_is_refused(engine):
    log = build(engine)
    old = Signer(ORIGIN, Ed25519PrivateKey.generate())
    sign_checkpoint(log, old)
    new = rotate(log, old)
    log.append("shipment.recorded", "p-a", shipment())
    # whoever still holds the old key signs the current tree (it contains the revocation)
    stolen = sign_checkpoint(log, old)
    report = run(log, [old.verifier], [old.verifier, new.verifier])
    found = [(f.rule, f.key) for f in report.findings]
    assert ("checkpoint.revoked-key", f"size {stolen.size}") in found


def test_a_key_no_trusted_checkpoint_announced_is_not_trusted(engine):
    log = build(engine)
    old = Signer(ORIGIN, Ed25519PrivateKey.generate())
    sign_checkpoint(log, old)
    rogue = Signer(ORIGIN, Ed25519PrivateKey.generate())
    log.append("key.activated", "p-op", {"vkey": rogue.verifier.vkey()})
    row = sign_checkpoint(log, rogue)  # no checkpoint of the trusted key covers the announcement
    report = run(log, [old.verifier], [old.verifier, rogue.verifier])
    assert ("checkpoint.untrusted-key", f"size {row.size}") in [(f.rule, f.key) for f in report.findings]


def test_only_the_operator_announces_keys_and_never_the_same_twice(engine):
    import pytest

    from ledger.errors import Conflict, RuleViolation

    log = build(engine)
    key = Signer(ORIGIN, Ed25519PrivateKey.generate()).verifier.vkey()
    with pytest.raises(RuleViolation):
        log.append("key.activated", "p-a", {"vkey": key})
    log.append("key.activated", "p-op", {"vkey": key})
    with pytest.raises(Conflict):
        log.append("key.activated", "p-op", {"vkey": key})
    with Session(engine) as s:
        assert s.get(StoredCheckpoint, 999) is None
