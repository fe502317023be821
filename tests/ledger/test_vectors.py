"""Golden bytes: greenledger's own log vectors (shared/vectors/log-v1.json) and the published
RFC 6962 / RFC 9162 vectors of transparency-dev/merkle and Certificate Transparency
(tests/ledger/vectors/, provenance in its README)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import checkpoint, encoding, merkle, verify
from ledger.errors import ProofError

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "vectors" / "log-v1.json"
RFC = Path(__file__).with_name("vectors") / "rfc6962_transparency_dev.json"

LOG = json.loads(SHARED.read_text(encoding="utf-8"))
RFCV = json.loads(RFC.read_text(encoding="utf-8"))
H = bytes.fromhex


def _leaves() -> list[bytes]:
    return [H(e["leaf_hash"]) for e in LOG["entries"]]


@pytest.mark.parametrize("vector", LOG["entries"], ids=lambda v: f"seq{v['seq']}")
def test_entry_bytes_leaf_and_chain_hashes(vector):
    data = H(vector["entry_hex"])
    assert vector["entry"].encode("utf-8") == data
    entry = encoding.parse_entry(data)
    assert entry.canonical() == data  # re-encoding the parsed entry gives the same bytes
    assert encoding.leaf_hash(data).hex() == vector["leaf_hash"]
    prev = H(LOG["entries"][vector["seq"] - 1]["chain_hash"]) if vector["seq"] else bytes(32)
    assert encoding.chain_hash(prev, H(vector["leaf_hash"])).hex() == vector["chain_hash"]


def test_log_roots_for_every_size():
    leaves = _leaves()
    for size, root in LOG["roots"].items():
        assert merkle.root_from_leaf_hashes(leaves[: int(size)]).hex() == root


@pytest.mark.parametrize("p", LOG["inclusion_proofs"], ids=lambda p: f"{p['index']}-{p['size']}")
def test_log_inclusion_proofs(p):
    leaves = _leaves()
    assert [h.hex() for h in merkle.inclusion_proof(leaves, p["index"], p["size"])] == p["path"]
    verify.verify_inclusion(p["index"], p["size"], leaves[p["index"]], [H(x) for x in p["path"]],
                            H(LOG["roots"][str(p["size"])]))


@pytest.mark.parametrize("p", LOG["consistency_proofs"],
                         ids=lambda p: f"{p['first']}-{p['second']}")
def test_log_consistency_proofs(p):
    leaves = _leaves()
    got = merkle.consistency_proof(leaves, p["first"], p["second"])
    assert [h.hex() for h in got] == p["proof"]
    verify.verify_consistency(p["first"], p["second"], H(LOG["roots"][str(p["first"])]),
                              H(LOG["roots"][str(p["second"])]), [H(x) for x in p["proof"]])


def _test_key(label: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(label.encode()).digest())


def test_checkpoint_note_signature_and_cosignature_bytes():
    cp = LOG["checkpoint"]
    op = checkpoint.Signer(cp["operator"]["name"], _test_key(cp["operator"]["private_key_label"]))
    ce = checkpoint.Signer(cp["certifier"]["name"],
                           _test_key(cp["certifier"]["private_key_label"]),
                           alg=checkpoint.ALG_COSIGNATURE_V1)
    assert op.verifier.vkey() == cp["operator"]["vkey"]
    assert ce.verifier.vkey() == cp["certifier"]["vkey"]
    body = checkpoint.Checkpoint(op.name, 8, H(LOG["roots"]["8"]))
    signed = checkpoint.sign_checkpoint(body, op)
    cosigned = checkpoint.cosign(signed, ce, cp["certifier"]["cosignature_time"])
    assert cosigned == cp["note"]
    opened = checkpoint.open_checkpoint(cp["note"], checkpoint.Verifier.from_vkey(cp["operator"]["vkey"]))
    assert (opened.size, opened.root) == (8, H(LOG["roots"]["8"]))
    t = checkpoint.verify_cosignature(cp["note"],
                                      checkpoint.Verifier.from_vkey(cp["certifier"]["vkey"]))
    assert t == cp["certifier"]["cosignature_time"]


# --- published RFC 6962 vectors -----------------------------------------------------------

RFC_LEAVES = [merkle.hash_leaf(H(x)) for x in RFCV["leaves_hex"]]


@pytest.mark.parametrize("r", RFCV["roots"], ids=lambda r: f"size{r['size']}")
def test_rfc6962_roots(r):
    assert merkle.root_from_leaf_hashes(RFC_LEAVES[: r["size"]]).hex() == r["root"]


@pytest.mark.parametrize("p", RFCV["inclusion_proofs"],
                         ids=lambda p: f"{p['leaf_index']}-{p['tree_size']}")
def test_rfc6962_inclusion(p):
    i, n = p["leaf_index"], p["tree_size"]
    assert [h.hex() for h in merkle.inclusion_proof(RFC_LEAVES, i, n)] == p["proof"]
    root = merkle.root_from_leaf_hashes(RFC_LEAVES[:n])
    verify.verify_inclusion(i, n, RFC_LEAVES[i], [H(x) for x in p["proof"]], root)


@pytest.mark.parametrize("p", RFCV["consistency_proofs"], ids=lambda p: f"{p['size1']}-{p['size2']}")
def test_rfc6962_consistency(p):
    m, n = p["size1"], p["size2"]
    assert [h.hex() for h in merkle.consistency_proof(RFC_LEAVES, m, n)] == p["proof"]
    verify.verify_consistency(m, n, merkle.root_from_leaf_hashes(RFC_LEAVES[:m]),
                              merkle.root_from_leaf_hashes(RFC_LEAVES[:n]),
                              [H(x) for x in p["proof"]])


def test_rfc6962_node_hashes_are_the_perfect_subtrees():
    for level in RFCV["node_hashes"]["levels"]:
        for index, want in enumerate(level["hashes"]):
            size = 1 << level["level"]
            got = merkle.root_from_leaf_hashes(RFC_LEAVES[index * size:(index + 1) * size])
            assert got.hex() == want


@pytest.mark.parametrize("probe", RFCV["edge_case_probes"]["probes"], ids=lambda p: p["desc"])
def test_rfc6962_edge_case_probes(probe):
    """Upstream's verifier edge cases. We are stricter in one way: hashes must be 32 bytes,
    so a probe that upstream accepts with short placeholder roots is an error here."""
    hashes = ("root1", "root2", "root", "leaf_hash")
    placeholder = any(len(H(probe[k] or "")) != 32 for k in hashes if k in probe)
    want_error = probe["want_error"] or placeholder
    try:
        if probe["kind"] == "consistency":
            verify.verify_consistency(probe["size1"], probe["size2"], H(probe["root1"]),
                                      H(probe["root2"]), [H(x) for x in probe["proof"]])
        else:
            verify.verify_inclusion(probe["leaf_index"], probe["tree_size"], H(probe["leaf_hash"]),
                                    [H(x) for x in probe["proof"]], H(probe["root"]))
    except ProofError:
        assert want_error, "upstream accepts this probe"
    else:
        assert not want_error, "upstream rejects this probe"
