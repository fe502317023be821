"""Property tests: every proof verifies, and any flipped bit makes it fail (RFC 9162 §2.1)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle, verify
from ledger.errors import ProofError

MAX = 3000
LEAVES = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(MAX)]

# Prefix roots for every size, computed once with the naive reference.
_ROOTS: dict[int, bytes] = {}


def root(n: int) -> bytes:
    if n not in _ROOTS:
        _ROOTS[n] = merkle.root_from_leaf_hashes(LEAVES[:n])
    return _ROOTS[n]


def flip(data: bytes, bit: int) -> bytes:
    b = bytearray(data)
    b[(bit // 8) % len(b)] ^= 1 << (bit % 8)
    return bytes(b)


@st.composite
def index_and_size(draw):
    size = draw(st.integers(1, MAX))
    return draw(st.integers(0, size - 1)), size


@st.composite
def two_sizes(draw):
    second = draw(st.integers(1, MAX))
    return draw(st.integers(1, second)), second


def test_all_small_trees_exhaustively():
    for n in range(1, 65):
        for i in range(n):
            verify.verify_inclusion(i, n, LEAVES[i], merkle.inclusion_proof(LEAVES, i, n), root(n))
        for m in range(1, n + 1):
            verify.verify_consistency(m, n, root(m), root(n),
                                      merkle.consistency_proof(LEAVES, m, n))


@settings(max_examples=150, deadline=None)
@given(index_and_size(), st.integers(0, 255))
def test_inclusion_proofs_verify_and_any_flipped_bit_fails(pos, bit):
    index, size = pos
    proof = merkle.inclusion_proof(LEAVES, index, size)
    verify.verify_inclusion(index, size, LEAVES[index], proof, root(size))
    with pytest.raises(ProofError):
        verify.verify_inclusion(index, size, flip(LEAVES[index], bit), proof, root(size))
    with pytest.raises(ProofError):
        verify.verify_inclusion(index, size, LEAVES[index], proof, flip(root(size), bit))
    if proof:
        k = bit % len(proof)
        bad = [*proof[:k], flip(proof[k], bit), *proof[k + 1:]]
        with pytest.raises(ProofError):
            verify.verify_inclusion(index, size, LEAVES[index], bad, root(size))
        with pytest.raises(ProofError):
            verify.verify_inclusion(index, size, LEAVES[index], proof[:-1], root(size))
    with pytest.raises(ProofError):
        verify.verify_inclusion(index, size, LEAVES[index], [*proof, LEAVES[0]], root(size))


@settings(max_examples=150, deadline=None)
@given(two_sizes(), st.integers(0, 255))
def test_consistency_proofs_verify_and_any_flipped_bit_fails(sizes, bit):
    first, second = sizes
    proof = merkle.consistency_proof(LEAVES, first, second)
    verify.verify_consistency(first, second, root(first), root(second), proof)
    with pytest.raises(ProofError):
        verify.verify_consistency(first, second, flip(root(first), bit), root(second), proof)
    if first != second:
        with pytest.raises(ProofError):
            verify.verify_consistency(first, second, root(first), flip(root(second), bit), proof)
        k = bit % len(proof)
        bad = [*proof[:k], flip(proof[k], bit), *proof[k + 1:]]
        with pytest.raises(ProofError):
            verify.verify_consistency(first, second, root(first), root(second), bad)


@settings(max_examples=100, deadline=None)
@given(index_and_size())
def test_range_decomposition_matches_the_reference_tree(pos):
    """Storage folds perfect subtrees; the result must equal the naive MTH of the range."""
    index, size = pos
    for a, b in merkle.inclusion_ranges(index, size):
        hashes = [merkle.root_from_leaf_hashes(LEAVES[i << lv:(i + 1) << lv])
                  for lv, i in merkle.perfect_subtrees(a, b)]
        assert merkle.fold_right(hashes) == merkle.root_from_leaf_hashes(LEAVES[a:b])
