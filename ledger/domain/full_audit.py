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
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from ledger import access, keys
from ledger.audit import AuditReport, Progress, audit
from ledger.checkpoint import Verifier
from ledger.domain.log_keys import key_history, rotation_check
from ledger.domain.replay import replay_check


def pinned_operator_keys(key_dir: Path) -> list[Verifier]:
    found = [keys.load_verifier(key_dir, "operator")]
    for path in sorted((key_dir / "retired").glob("operator-*.vkey")):
        found.append(Verifier.from_vkey(path.read_text(encoding="utf-8")))
    return found


def full_audit(engine: Engine, trusted: Sequence[Verifier], *, witnessed: Sequence[str] = (),
               progress: Progress | None = None, workers: int = 2) -> AuditReport:
    with Session(engine) as session:
        certifiers = access.cosigner_verifiers(session)
        announced = [Verifier.from_vkey(v) for v in key_history(session)]
    pinned = {v.vkey() for v in trusted}
    operator_keys = [*trusted, *(v for v in announced if v.vkey() not in pinned)]
    return audit(engine, operator_keys=operator_keys, certifier_keys=certifiers,
                 witnessed=witnessed, progress=progress, workers=workers,
                 extra_checks=[replay_check(), rotation_check(list(trusted))])
