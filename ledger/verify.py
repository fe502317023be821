"""Verification of inclusion and consistency proofs (RFC 9162 §2.1.3.2 and §2.1.4.2).

Standalone on purpose: this is what a buyer's or certifier's verifier imports, and it needs
nothing but ``hashlib``. It returns nothing on success and raises one precise error
(:class:`~ledger.errors.ProofError`, or :class:`~ledger.errors.RootMismatchError` when the
proof is well formed but leads elsewhere).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from ledger.errors import ProofError, RootMismatchError


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != 32:
        raise ProofError(f"{what} must be 32 bytes")


def root_from_inclusion_proof(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]
) -> bytes:
    """The root that ``proof`` leads to from ``leaf_hash`` at ``index`` in a tree of ``size``."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_hash(leaf_hash, "leaf hash")
    fn, sn = index, size - 1
    r = bytes(leaf_hash)
    for p in proof:
        _check_hash(p, "proof hash")
        if sn == 0:
            raise ProofError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = _node(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the tree is deep")
    return r


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    _check_hash(root, "root")
    got = root_from_inclusion_proof(index, size, leaf_hash, proof)
    if got != root:
        raise RootMismatchError(
            f"inclusion proof for leaf {index} leads to {got.hex()}, expected {bytes(root).hex()}"
        )


def verify_consistency(
    first: int,
    second: int,
    first_root: bytes,
    second_root: bytes,
    proof: Sequence[bytes],
) -> None:
    """Check that the tree of size ``second`` with ``second_root`` extends the tree of size
    ``first`` with ``first_root``."""
    _check_hash(first_root, "first root")
    _check_hash(second_root, "second root")
    if first < 1 or second < first:
        # As transparency-dev/merkle: a proof from the empty tree proves nothing; refuse it.
        raise ProofError(f"consistency needs 0 < first <= second, got {first}, {second}")
    if first == second:
        if proof:
            raise ProofError("a consistency proof between equal sizes must be empty")
        if first_root != second_root:
            raise RootMismatchError("equal tree sizes with different roots")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    for p in proof:
        _check_hash(p, "proof hash")
    path = list(proof)
    if first & (first - 1) == 0:  # first is an exact power of two
        path.insert(0, bytes(first_root))
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than expected")
        if fn & 1 or fn == sn:
            fr = _node(c, fr)
            sr = _node(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _node(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than expected")
    if fr != first_root:
        raise RootMismatchError(
            f"consistency proof rebuilds first root {fr.hex()}, expected {bytes(first_root).hex()}"
        )
    if sr != second_root:
        raise RootMismatchError(
            f"consistency proof rebuilds second root {sr.hex()}, "
            f"expected {bytes(second_root).hex()}"
        )
