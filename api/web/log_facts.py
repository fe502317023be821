"""What the log's public structure says about a declaration or a checkpoint (DESIGN §3.1, §7).

Everything here is public without a key: a declaration's status, its entry's ``seq`` and leaf
hash, the stored checkpoints and their signature lines.

- :func:`public_facts` — the declaration's status (as ``GET .../status`` reports it), its
  issued entry and the checkpoints that include it.
- :func:`inclusion_now` — the RFC 9162 inclusion proof of the issued entry in the *latest*
  signed checkpoint, taken from storage and checked with the standalone verifier
  (:func:`ledger.verify.verify_inclusion`) against the root of a note whose operator
  signature verifies: the page shows the check, not a stored claim.
- :func:`cosigned_covering` — which certifiers cosigned a checkpoint that covers an entry:
  a valid ``cosignature/v1`` by a registered cosigner (:func:`ledger.access.cosigners`) on a
  stored checkpoint of size ≥ ``seq + 1``. A cosignature means "audited clean up to this size"
  (DESIGN §3.1), so it vouches for every entry below that size.
- :func:`checkpoint_views` — each signature line of stored checkpoints, checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from ledger import access
from ledger import checkpoint as notes
from ledger.domain.tables import Declaration, Party
from ledger.errors import GreenledgerError, ProofError, SignatureError
from ledger.log import Log
from ledger.store.tables import LogEntry, StoredCheckpoint
from ledger.verify import verify_inclusion


@dataclass(frozen=True)
class PublicFacts:
    declaration_id: str
    status: str  # valid | revoked | superseded
    reason: str | None
    revoked_at: str | None
    superseded_by: str | None
    issued_seq: int
    leaf_hash: str  # hex
    first_checkpoint: int | None  # the smallest signed tree size that includes the entry
    latest_checkpoint: int | None  # the largest


def public_facts(session: Session, declaration_id: str) -> PublicFacts | None:
    row = session.get(Declaration, declaration_id)
    if row is None:
        return None
    entry = session.get(LogEntry, row.issued_seq)
    revoked_at = None
    if row.status == "revoked":
        revoked_at = session.scalar(select(col(LogEntry.at)).where(col(LogEntry.seq) == row.seq))
    superseded_by = None
    if row.status == "superseded":
        superseded_by = session.scalar(select(col(Declaration.declaration_id)).where(
            col(Declaration.supersedes) == row.declaration_id).limit(1))
    sizes = session.execute(select(func.min(col(StoredCheckpoint.size)),
                                   func.max(col(StoredCheckpoint.size))).where(
        col(StoredCheckpoint.size) > row.issued_seq)).one()
    return PublicFacts(row.declaration_id, row.status, row.reason, revoked_at, superseded_by,
                       row.issued_seq, bytes(entry.leaf_hash).hex() if entry is not None else "",
                       sizes[0], sizes[1])


@dataclass(frozen=True)
class InclusionNow:
    ok: bool | None  # None: could not check (no checkpoint yet, no operator key)
    reason: str  # message id
    size: int | None = None
    root: str | None = None  # hex
    operator: str | None = None
    detail: str = ""  # the verifier's own words, when it failed
    hashes: int | None = None  # the proof's length, when it verified


def inclusion_now(log: Log, seq: int, operator_keys: Sequence[notes.Verifier]) -> InclusionNow:
    stored = log.latest_checkpoint()
    if stored is None:
        return InclusionNow(None, "inclusion.no_checkpoint")
    if not operator_keys:
        return InclusionNow(None, "inclusion.no_operator_key", stored.size)
    checkpoint, operator = None, None
    for verifier in operator_keys:
        try:
            checkpoint, operator = notes.open_checkpoint(stored.note, verifier), verifier
            break
        except SignatureError:
            continue
    if checkpoint is None or operator is None:
        return InclusionNow(False, "inclusion.unsigned", stored.size)
    if seq >= checkpoint.size:
        return InclusionNow(None, "inclusion.not_yet", checkpoint.size)
    try:
        proof = log.inclusion_proof(seq, checkpoint.size)
        leaf = bytes(log.entry(seq).leaf_hash)
        verify_inclusion(seq, checkpoint.size, leaf, proof, checkpoint.root)
    except (ProofError, GreenledgerError) as exc:
        return InclusionNow(False, "inclusion.failed", checkpoint.size, checkpoint.root.hex(),
                            operator.name, str(exc))
    return InclusionNow(True, "inclusion.ok", checkpoint.size, checkpoint.root.hex(),
                        operator.name, hashes=len(proof))


@dataclass(frozen=True)
class Cosigned:
    name: str  # the cosigning key's name
    party: str
    party_name: str
    size: int  # the largest cosigned checkpoint covering the entry
    at: str  # when it was cosigned (UTC)


def _utc(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def cosigned_covering(session: Session, seq: int) -> list[Cosigned]:
    """Each registered cosigner's largest valid cosignature on a checkpoint covering ``seq``."""
    found = []
    for row in access.cosigners(session):
        verifier = notes.Verifier.from_vkey(row.vkey)
        marker = f"{notes.EM_DASH} {row.name} "
        candidates = session.scalars(
            select(StoredCheckpoint).where(col(StoredCheckpoint.size) > seq,
                                           col(StoredCheckpoint.note).contains(marker,
                                                                               autoescape=True))
            .order_by(col(StoredCheckpoint.size).desc()))
        for stored in candidates:
            try:
                timestamp = notes.verify_cosignature(stored.note, verifier)
            except SignatureError:
                continue
            party = session.get(Party, row.party)
            found.append(Cosigned(row.name, row.party, party.name if party else row.party,
                                  stored.size, _utc(timestamp)))
            break
    return found


@dataclass(frozen=True)
class SignatureView:
    name: str
    kind: str  # operator | cosigner | unknown
    ok: bool | None  # None: a key this service does not know
    party: str | None = None
    at: str | None = None


@dataclass(frozen=True)
class CheckpointView:
    size: int
    root: str  # hex
    signed_at: str
    signatures: tuple[SignatureView, ...]


def checkpoint_views(rows: Sequence[StoredCheckpoint], operator_keys: Sequence[notes.Verifier],
                     cosigners: Sequence[access.Cosigner]) -> list[CheckpointView]:
    operators = {(v.name, v.key_id): v for v in operator_keys}
    registered = {}
    for row in cosigners:
        verifier = notes.Verifier.from_vkey(row.vkey)
        registered[(verifier.name, verifier.key_id)] = (verifier, row.party)
    out = []
    for stored in rows:
        try:
            lines = notes.parse_note(stored.note).signatures
        except SignatureError:
            lines = ()
        views = []
        for line in lines:
            key = (line.name, line.key_id)
            if key in operators:
                try:
                    notes.open_checkpoint(stored.note, operators[key])
                    views.append(SignatureView(line.name, "operator", True))
                except SignatureError:
                    views.append(SignatureView(line.name, "operator", False))
            elif key in registered:
                verifier, party = registered[key]
                try:
                    at = _utc(notes.verify_cosignature(stored.note, verifier))
                    views.append(SignatureView(line.name, "cosigner", True, party, at))
                except SignatureError:
                    views.append(SignatureView(line.name, "cosigner", False, party))
            else:
                views.append(SignatureView(line.name, "unknown", None))
        out.append(CheckpointView(stored.size, bytes(stored.root).hex(), stored.signed_at,
                                  tuple(views)))
    return out
