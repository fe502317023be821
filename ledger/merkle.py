"""RFC 9162 §2.1 Merkle tree math: pure functions, no storage.

The tree over ``n`` leaf hashes splits at ``k``, the largest power of two smaller than ``n``.
A *perfect subtree* ``(level, index)`` covers leaves ``[index·2^level, (index+1)·2^level)``;
storage keeps the hash of every perfect subtree once it is complete, so that any subtree
hash MTH(D[a:b]) that a proof needs is a fold of at most log2(n) stored nodes.

Proof generation here returns *which ranges* of leaves the proof hashes cover (in RFC 9162
order); the caller fetches their hashes (``range_hash``) from wherever it keeps them. The
naive reference functions at the bottom compute everything from a list of leaf hashes; tests
compare the two, and the buyer-side verifier lives in ``verify.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()

Range = tuple[int, int]  # [begin, end) of leaf indices
Node = tuple[int, int]  # (level, index) of a perfect subtree


def hash_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_subtrees(begin: int, end: int) -> list[Node]:
    """Decompose ``[begin, end)`` into perfect subtrees, left to right.

    For the ranges RFC 9162 proofs use (``begin`` aligned to the subtree that contains the
    range), this yields subtrees of decreasing size, and MTH(D[begin:end]) is their right fold.
    """
    nodes: list[Node] = []
    while begin < end:
        # biggest aligned block starting at begin that fits in the range
        size = begin & -begin if begin else 1 << ((end - begin).bit_length() - 1)
        while size > end - begin:
            size >>= 1
        level = size.bit_length() - 1
        nodes.append((level, begin >> level))
        begin += size
    return nodes


def fold_right(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from the hashes of its perfect subtrees (decreasing sizes)."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = hash_children(h, acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """Ranges whose subtree hashes make the inclusion proof of leaf ``index`` in a tree of
    ``size`` leaves, in RFC 9162 §2.1.3.1 order (from the leaf up)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} outside a tree of size {size}")
    ranges: list[Range] = []
    begin, end = 0, size
    while end - begin > 1:
        k = split_point(end - begin)
        if index < begin + k:
            ranges.append((begin + k, end))
            end = begin + k
        else:
            ranges.append((begin, begin + k))
            begin = begin + k
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[Range]:
    """Ranges whose subtree hashes make the consistency proof between sizes ``first`` and
    ``second`` (RFC 9162 §2.1.4.1 SUBPROOF), in proof order."""
    if not 0 < first <= second:
        raise ValueError(f"consistency needs 0 < first <= second, got {first}, {second}")
    if first == second:
        return []

    def subproof(m: int, begin: int, end: int, complete: bool) -> list[Range]:
        n = end - begin
        if m == n:
            return [] if complete else [(begin, end)]
        k = split_point(n)
        if m <= k:
            return [*subproof(m, begin, begin + k, complete), (begin + k, end)]
        return [*subproof(m - k, begin + k, end, False), (begin, begin + k)]

    return subproof(first, 0, second, True)


# --- reference implementation over an in-memory list of leaf hashes -----------------------


def root_from_leaf_hashes(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[0:n]) computed bottom-up over all leaves."""
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    while len(level) > 1:
        nxt = [hash_children(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def range_hash_from_leaves(leaves: Sequence[bytes]) -> Callable[[Range], bytes]:
    def range_hash(r: Range) -> bytes:
        return root_from_leaf_hashes(leaves[r[0] : r[1]])

    return range_hash


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int) -> list[bytes]:
    rh = range_hash_from_leaves(leaves)
    return [rh(r) for r in inclusion_ranges(index, size)]


def consistency_proof(leaves: Sequence[bytes], first: int, second: int) -> list[bytes]:
    rh = range_hash_from_leaves(leaves)
    return [rh(r) for r in consistency_ranges(first, second)]
