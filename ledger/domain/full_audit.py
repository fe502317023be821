"""The audit as certifiers run it: the log core (ledger/audit.py), the replay of every
projection and rule, and the operator-key rotation check, with the keys trusted the same
way everywhere (CLI, API, web, demo).

Trusted: the operator key in the key directory and its retired keys (pinned out of band).
Checked, not trusted: the keys the log announced (``key.activated``); whether a checkpoint
may use one is the rotation check's call. Cosignatures are checked with the registered
cosigners' keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from ledger import access, keys
from ledger.audit import AuditReport, ExtraCheck, Progress, audit
from ledger.checkpoint import Verifier
from ledger.domain.log_keys import key_history, rotation_check
from ledger.domain.replay import replay_check


def pinned_operator_keys(key_dir: Path) -> list[Verifier]:
    found = [keys.load_verifier(key_dir, "operator")]
    for path in sorted((key_dir / "retired").glob("operator-*.vkey")):
        found.append(Verifier.from_vkey(path.read_text(encoding="utf-8")))
    return found


@dataclass(frozen=True)
class AuditInputs:
    operator_keys: list[Verifier]  # trusted, then announced (checked by the rotation check)
    certifier_keys: list[Verifier]
    extra_checks: list[ExtraCheck]


def audit_inputs(engine: Engine, trusted: Sequence[Verifier]) -> AuditInputs:
    """What the audit checks signatures with, and the domain checks it runs; for callers
    that run the audit themselves (the provincial export audits inside its read snapshot)."""
    with Session(engine) as session:
        certifiers = access.cosigner_verifiers(session)
        announced = [Verifier.from_vkey(v) for v in key_history(session)]
    pinned = {v.vkey() for v in trusted}
    return AuditInputs([*trusted, *(v for v in announced if v.vkey() not in pinned)], certifiers,
                       [replay_check(), rotation_check(list(trusted))])


def full_audit(engine: Engine, trusted: Sequence[Verifier], *, witnessed: Sequence[str] = (),
               progress: Progress | None = None, workers: int = 2) -> AuditReport:
    inputs = audit_inputs(engine, trusted)
    return audit(engine, operator_keys=inputs.operator_keys, certifier_keys=inputs.certifier_keys,
                 witnessed=witnessed, progress=progress, workers=workers,
                 extra_checks=inputs.extra_checks)
