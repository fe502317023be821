"""Rotation of the log operator's checkpoint key, anchored in the log itself.

``key.activated`` announces a new operator verifier key; ``key.revoked`` retires one. A
checkpoint of tree size N signed by key K is valid only while K's revocation is not part of
that tree (revoked at seq >= N): any checkpoint signed after the revocation was appended
covers the revocation entry, so it is refused by anyone who reads the log, and the operator
cannot backdate it. Checkpoints signed before the rotation stay valid under the old key.
The first operator key (genesis) is trusted out of band, as C2SP witnesses do.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Text, select
from sqlmodel import Field, Session, SQLModel

from ledger.checkpoint import ALG_ED25519, Verifier
from ledger.domain import fields as f
from ledger.domain.parties import require_role
from ledger.encoding import Entry
from ledger.errors import Conflict, InputError, NotFound, RuleViolation


class LogKey(SQLModel, table=True):
    __tablename__ = "log_key"
    vkey: str = Field(sa_column=Column(Text, primary_key=True))
    activated_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    revoked_seq: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))


def _vkey(body: dict) -> str:
    text = f.text(body, "vkey", max_len=300)
    try:
        verifier = Verifier.from_vkey(text)
    except InputError as exc:
        raise InputError(exc.message, field="vkey") from exc
    if verifier.alg != ALG_ED25519:
        raise InputError("an operator key is an Ed25519 signed-note key (type 0x01)", field="vkey")
    return verifier.vkey()


def apply_key_activated(session: Session, entry: Entry) -> None:
    require_role(session, entry.actor, "operator", field="actor")
    vkey = _vkey(entry.body)
    if session.get(LogKey, vkey) is not None:
        raise Conflict("this key was already announced; a retired key never comes back",
                       field="vkey")
    session.add(LogKey(vkey=vkey, activated_seq=entry.seq, seq=entry.seq))


def apply_key_revoked(session: Session, entry: Entry) -> None:
    require_role(session, entry.actor, "operator", field="actor")
    vkey = _vkey(entry.body)
    row = session.get(LogKey, vkey)
    if row is None:  # the genesis key: revoked without having been announced in the log
        row = LogKey(vkey=vkey, activated_seq=-1, seq=entry.seq)
    elif row.revoked_seq is not None:
        raise RuleViolation("key.revoked", "already revoked", field="vkey")
    row.revoked_seq, row.reason, row.seq = entry.seq, f.text(entry.body, "reason"), entry.seq
    session.add(row)


def key_history(session: Session) -> dict[str, LogKey]:
    return {k.vkey: k for k in session.scalars(select(LogKey))}


def check_key_for_size(history: dict[str, LogKey], vkey: str, size: int) -> str | None:
    """Why a checkpoint of ``size`` may not be signed by ``vkey``, or None if it may."""
    row = history.get(vkey)
    if row is None:
        return None  # genesis (trusted out of band) and never revoked
    if row.revoked_seq is not None and row.revoked_seq < size:
        return (f"signed with a key revoked at seq {row.revoked_seq}, for a tree of {size} "
                "entries that already contains the revocation")
    if row.activated_seq >= size:
        return f"signed with a key announced at seq {row.activated_seq}, after this tree"
    return None


def get_key(session: Session, vkey: str) -> LogKey:
    row = session.get(LogKey, vkey)
    if row is None:
        raise NotFound("no such operator key in the log", field="vkey")
    return row


def rotation_check(trusted: list[Verifier]):  # type: ignore[no-untyped-def]
    """An audit extra check: every stored checkpoint is signed by a key that was trusted for
    its size. Trust starts from the keys given (pinned out of band) and passes to a key
    announced by ``key.activated`` once a checkpoint signed by a trusted key covers that
    announcement; a key stops signing at its revocation."""
    from ledger import checkpoint as notes
    from ledger.audit import AuditReport, Finding
    from ledger.errors import GreenledgerError
    from ledger.store.tables import StoredCheckpoint

    def check(engine, report: AuditReport) -> list[Finding]:  # type: ignore[no-untyped-def]
        with Session(engine) as s:
            history = key_history(s)
            stored = list(s.scalars(select(StoredCheckpoint).order_by(StoredCheckpoint.size)))
        known = {v.vkey(): v for v in trusted}
        for vkey in history:
            known.setdefault(vkey, Verifier.from_vkey(vkey))
        trusted_now = {v.vkey() for v in trusted}
        findings = []
        for row in stored:
            signer = None
            for vkey, verifier in known.items():
                try:
                    notes.open_checkpoint(row.note, verifier)
                    signer = vkey
                    break
                except GreenledgerError:
                    continue
            key = f"size {row.size}"
            if signer is None:
                continue  # the core audit reports checkpoints no known key signed
            if signer not in trusted_now:
                findings.append(Finding("checkpoint.untrusted-key", "signed by a key that no "
                                        "checkpoint of a trusted key announced", None, "checkpoint", key))
                continue
            why = check_key_for_size(history, signer, row.size)
            if why:
                findings.append(Finding("checkpoint.revoked-key", why, None, "checkpoint", key))
                continue
            trusted_now |= {k for k, h in history.items() if h.activated_seq < row.size}
        return findings

    return check
