"""The offline ledger half of declaration verification: the entry and its inclusion proof.

A declaration's payload carries (in its greenledger extension, ``data.ledger``) the canonical
text of its ``declaration.issued`` entry, that entry's ``seq`` and leaf hash, a signed
checkpoint and the RFC 9162 inclusion proof from the leaf to the checkpoint's root (DESIGN §3.1,
§6). With nothing but the operator's public key a buyer can then check, without asking anyone:

* :func:`check_entry` — the entry is canonical (RFC 8785), hashes to the stated leaf hash
  (``SHA-256(0x00 || entry)``), is a ``declaration.issued`` entry at the stated ``seq`` that
  names this declaration's id and the SHA-256 of the JCS bytes of
  :func:`certificates.pact.payload_core` (the payload without its ledger part, which only
  exists once the entry is written);
* :func:`check_inclusion` — the checkpoint note is signed by one of the operator keys
  (C2SP signed note) and the proof leads from the leaf at ``seq`` to its root.

Both raise :class:`LedgerCheckFailed` with a one-line reason; they never trust a type.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from certificates.pact import payload_core
from ledger.checkpoint import Checkpoint, Verifier, open_checkpoint
from ledger.encoding import canonical_bytes, leaf_hash, parse_entry
from ledger.errors import SignatureError
from ledger.verify import verify_inclusion

ENTRY_KIND = "declaration.issued"
MAX_PROOF_HASHES = 64
MAX_NOTE_CHARS = 64 * 1024


class LedgerCheckFailed(Exception):
    """The ledger binding does not prove what it claims; the message says why."""


@dataclass(frozen=True)
class Inclusion:
    checkpoint: Checkpoint
    operator: Verifier
    seq: int


def _int(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise LedgerCheckFailed(f"{what} is not a non-negative integer")
    return value


def _hex32(value: Any, what: str) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except (TypeError, ValueError):
        raise LedgerCheckFailed(f"{what} is not hex") from None
    if len(raw) != 32:
        raise LedgerCheckFailed(f"{what} is not 32 bytes")
    return raw


def payload_digest(payload: dict[str, Any]) -> str:
    """What the ``declaration.issued`` entry records: SHA-256 hex of JCS(payload_core)."""
    return hashlib.sha256(canonical_bytes(payload_core(payload))).hexdigest()


def check_entry(payload: dict[str, Any], ledger: dict[str, Any]) -> str:
    text = ledger.get("entry")
    if not isinstance(text, str):
        raise LedgerCheckFailed("the ledger entry is missing")
    entry_bytes = text.encode("utf-8")
    entry = parse_entry(entry_bytes)
    if leaf_hash(entry_bytes) != _hex32(ledger.get("leafHash"), "leafHash"):
        raise LedgerCheckFailed("the entry does not hash to the stated leaf hash")
    if entry.seq != _int(ledger.get("seq"), "seq"):
        raise LedgerCheckFailed(f"the entry's seq {entry.seq} differs from the stated seq")
    if entry.kind != ENTRY_KIND:
        raise LedgerCheckFailed(f"the entry is a {entry.kind!r}, not a {ENTRY_KIND} entry")
    if entry.body.get("declaration") != payload.get("id"):
        raise LedgerCheckFailed("the entry names another declaration")
    if entry.body.get("payload_sha256") != payload_digest(payload):
        raise LedgerCheckFailed("the entry's payload_sha256 is not the SHA-256 of this payload")
    return f"{ENTRY_KIND} entry seq {entry.seq} records this payload"


def open_with_any(note: Any, operator_keys: list[Verifier]) -> tuple[Checkpoint, Verifier]:
    """The checkpoint of ``note`` and the first operator key whose signature on it verifies."""
    if not isinstance(note, str) or len(note) > MAX_NOTE_CHARS:
        raise LedgerCheckFailed("the checkpoint note is missing")
    reasons = []
    for operator in operator_keys:
        try:
            return open_checkpoint(note, operator), operator
        except SignatureError as exc:
            reasons.append(str(exc))
    raise LedgerCheckFailed("the checkpoint is not signed by a trusted operator key: "
                            + "; ".join(reasons))


def check_inclusion(ledger: dict[str, Any], operator_keys: list[Verifier]) -> Inclusion:
    checkpoint, operator = open_with_any(ledger.get("checkpoint"), operator_keys)
    size, seq = _int(ledger.get("treeSize"), "treeSize"), _int(ledger.get("seq"), "seq")
    if size != checkpoint.size:
        raise LedgerCheckFailed(
            f"treeSize {size} differs from the checkpoint's size {checkpoint.size}")
    proof = ledger.get("inclusionProof")
    if not isinstance(proof, list) or len(proof) > MAX_PROOF_HASHES:
        raise LedgerCheckFailed("the inclusion proof is not a list of at most 64 hashes")
    hashes = [_hex32(h, "inclusion proof hash") for h in proof]
    verify_inclusion(seq, size, _hex32(ledger.get("leafHash"), "leafHash"), hashes,
                     checkpoint.root)
    return Inclusion(checkpoint, operator, seq)
