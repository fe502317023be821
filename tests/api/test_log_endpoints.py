"""The log's public endpoints (proofs verify with ``ledger.verify``, the checkpoint round-trips)
and its writes: signing checkpoints, accepting cosignatures only when they verify and the
service's own audit is clean."""

from __future__ import annotations

import base64
import hashlib

import pytest
from sqlalchemy import text
from sqlmodel import Session

from api.v1 import log as log_views
from ledger import access, keys, verify
from ledger.checkpoint import cosign, open_checkpoint, parse_note, verify_cosignature
from ledger.store.engine import make_engine
from ledger.store.tables import StoredCheckpoint
from tests.api.conftest import PASSPHRASE, World, app_for, settings_for


def operator(world: World):
    return keys.load_verifier(world.settings.key_dir, "operator")


def current_checkpoint(client, world: World):
    response = client.get("/api/v1/log/checkpoint")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    return response.get_data(as_text=True), open_checkpoint(response.get_data(as_text=True),
                                                            operator(world))


def test_the_checkpoint_is_the_stored_note_verbatim(client, world: World):
    note, cp = current_checkpoint(client, world)
    engine = make_engine(world.settings.database_url)
    with Session(engine) as s:
        stored = s.get(StoredCheckpoint, cp.size)
    engine.dispose()
    assert note == stored.note and cp.size == world.checkpoint_size


@pytest.mark.parametrize("seq", [0, 1, 63, 100, 194])
def test_inclusion_proofs_verify_against_the_signed_root(client, world: World, seq):
    _, cp = current_checkpoint(client, world)
    answer = client.get(f"/api/v1/log/proof/inclusion?seq={seq}&size={cp.size}").get_json()
    assert answer["root"] == cp.root.hex() and answer["size"] == cp.size
    verify.verify_inclusion(seq, cp.size, bytes.fromhex(answer["leaf_hash"]),
                            [bytes.fromhex(h) for h in answer["proof"]], cp.root)


def test_a_leaf_hash_is_the_hash_of_the_entry_text(client, world: World):
    page = client.get("/api/v1/log/entries?start=0&end=20",
                      headers=world.headers("operator")).get_json()
    for entry in page["entries"]:
        digest = hashlib.sha256(b"\x00" + entry["entry"].encode("utf-8")).hexdigest()
        assert digest == entry["leaf_hash"]


@pytest.mark.parametrize("first, second", [(1, 195), (7, 64), (64, 128), (100, 195), (5, 5)])
def test_consistency_proofs_verify(client, world: World, first, second):
    answer = client.get(f"/api/v1/log/proof/consistency?first={first}&second={second}").get_json()
    roots = {n: bytes.fromhex(client.get(f"/api/v1/log/proof/inclusion?seq=0&size={n}")
                              .get_json()["root"]) for n in (first, second)}
    verify.verify_consistency(first, second, roots[first], roots[second],
                              [bytes.fromhex(h) for h in answer["proof"]])


def test_entries_are_paged_with_a_next_link(client, world: World, monkeypatch):
    monkeypatch.setattr(log_views, "MAX_ENTRIES", 50)
    seen, url = [], "/api/v1/log/entries?start=10"
    while url:
        response = client.get(url)
        page = response.get_json()
        seen += [e["seq"] for e in page["entries"]]
        url = page.get("next")
        if url:
            assert response.headers["Link"] == f'<{url}>; rel="next"'
    assert seen == list(range(10, page["size"]))


def test_no_checkpoint_yet_is_a_404_problem(tmp_path):
    app = app_for(settings_for(tmp_path, tmp_path / "empty.db"))
    response = app.test_client().get("/api/v1/log/checkpoint")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_the_operator_signs_a_checkpoint_of_the_current_size(fresh, world: World):
    client = fresh.test_client()
    created = client.post("/api/v1/facilities", headers=world.headers("producer"), json={
        "facility": "f-cp", "name": "x", "province": "CN-YN", "grid_region": "CN-SOUTH",
        "country": "CN", "process": "x"}).get_json()
    signed = client.post("/api/v1/log/checkpoint", headers=world.headers("operator")).get_json()
    assert signed["size"] == created["seq"] + 1
    note, cp = current_checkpoint(client, world)
    assert note == signed["note"] and cp.size == signed["size"]
    proof = client.get(f"/api/v1/log/proof/inclusion?seq={created['seq']}").get_json()
    verify.verify_inclusion(created["seq"], cp.size, bytes.fromhex(created["leaf_hash"]),
                            [bytes.fromhex(h) for h in proof["proof"]], cp.root)


@pytest.fixture
def certifier(fresh, world: World, tmp_path):
    """A certifier key, registered for p-certifier in the fresh copy."""
    signer = keys.generate(tmp_path / "certifier", "certifier", "certifier.test/w1", PASSPHRASE)
    engine = make_engine(fresh.extensions["greenledger"].settings.database_url)
    with Session(engine) as session:
        access.add_cosigner(session, "p-certifier", signer.verifier.vkey())
        session.commit()
    engine.dispose()
    return signer


def post_note(client, world: World, note: str, who: str = "certifier"):
    return client.post("/api/v1/log/cosignatures", data=note.encode("utf-8"),
                       content_type="text/plain", headers=world.headers(who))


def test_a_good_cosignature_is_added(fresh, world: World, certifier):
    client = fresh.test_client()
    note, cp = current_checkpoint(client, world)
    cosigned = cosign(note, certifier, 1_750_000_000)
    response = post_note(client, world, cosigned)
    assert response.status_code == 200, response.get_data(as_text=True)
    published, again = current_checkpoint(client, world)
    assert again == cp
    assert verify_cosignature(published, certifier.verifier) == 1_750_000_000
    assert len(parse_note(published).signatures) == 2
    assert post_note(client, world, cosigned).status_code == 200  # harmless repeat
    assert published == current_checkpoint(client, world)[0]


def test_a_bad_cosignature_is_refused(fresh, world: World, certifier, tmp_path):
    client = fresh.test_client()
    note, _ = current_checkpoint(client, world)
    cosigned = cosign(note, certifier, 1_750_000_000)
    head, _, last = cosigned.rstrip("\n").rpartition("\n")
    name, blob = last.split(" ")[1:]
    raw = bytearray(base64.b64decode(blob))
    raw[-1] ^= 1
    tampered = f"{head}\n\u2014 {name} {base64.b64encode(bytes(raw)).decode()}\n"
    response = post_note(client, world, tampered)
    assert response.status_code == 422 and response.get_json()["field"] == "note"
    stranger = keys.generate(tmp_path / "other", "certifier", "certifier.test/w1", PASSPHRASE)
    assert post_note(client, world, cosign(note, stranger, 1)).status_code == 422
    assert post_note(client, world, "not a note").status_code == 422
    assert len(parse_note(current_checkpoint(client, world)[0]).signatures) == 1


def test_a_cosignature_needs_a_registered_key(fresh, world: World, tmp_path):
    client = fresh.test_client()
    note, _ = current_checkpoint(client, world)
    signer = keys.generate(tmp_path / "c", "certifier", "certifier.test/w9", PASSPHRASE)
    response = post_note(client, world, cosign(note, signer, 1))
    assert response.status_code == 409


def test_no_cosignature_over_a_log_that_does_not_audit_clean(fresh, world: World, certifier):
    client = fresh.test_client()
    note, _ = current_checkpoint(client, world)
    engine = make_engine(fresh.extensions["greenledger"].settings.database_url)
    with engine.begin() as conn:  # an edit behind the log's back
        conn.execute(text("UPDATE batch SET kg = kg + 1000 WHERE batch_id = 'AL-2025-03'"))
    engine.dispose()
    response = post_note(client, world, cosign(note, certifier, 1_750_000_000))
    assert response.status_code == 409
    assert "projection.differs" in response.get_json()["detail"]
    assert len(parse_note(current_checkpoint(client, world)[0]).signatures) == 1
    report = client.get("/api/v1/audit", headers=world.headers("certifier")).get_json()
    assert not report["clean"]
    assert any(f["rule"] == "projection.differs" and f["table"] == "batch"
               for f in report["findings"])


def test_the_audit_report_of_a_clean_log(client, world: World):
    report = client.get("/api/v1/audit", headers=world.headers("operator")).get_json()
    assert report["clean"] and report["size"] == world.checkpoint_size
    assert report["checkpoints"] >= 1
