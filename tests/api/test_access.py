"""``ledger.access`` (API keys, cosigners) and ``ledger.domain.visibility`` on their own."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from ledger import access, keys
from ledger.domain.tables import Batch, Certificate, Declaration, Facility, Shipment
from ledger.domain.visibility import may_read_entry, may_read_row, parties_named
from ledger.encoding import Entry
from ledger.errors import Conflict, InputError, NotFound, RuleViolation
from ledger.store.engine import make_engine
from ledger.store.migrate import upgrade
from tests.api.conftest import PASSPHRASE, World
from tests.ledger.domain import world as small


@pytest.fixture
def copy_engine(world: World, tmp_path):
    settings = world.copy(tmp_path / "copy")
    eng = make_engine(settings.database_url)
    yield eng
    eng.dispose()


def test_a_key_authenticates_as_its_party_and_role(copy_engine):
    with Session(copy_engine) as s:
        made = access.create_api_key(s, "p-copper", "producer")
        s.commit()
        principal = access.authenticate(s, made.api_key)
        assert principal == access.ApiPrincipal("p-copper", "producer", made.key_id)
        row = s.get(access.ApiKey, made.key_id)
        assert row.secret_hash.startswith("scrypt$") and made.api_key[16:] not in row.secret_hash
        assert row.last_used_at is not None
        assert made.api_key not in repr(made) and made.client_secret not in repr(made)
        assert access.authenticate_client(s, made.client_id, made.client_secret) == principal
        assert access.authenticate_client(s, made.client_id, "wrong") is None


def test_wrong_malformed_and_revoked_keys_do_not_authenticate(copy_engine):
    with Session(copy_engine) as s:
        made = access.create_api_key(s, "p-copper", "producer")
        wrong = made.api_key[:-1] + ("0" if made.api_key[-1] != "0" else "1")
        for presented in (wrong, "", "gl_", made.api_key + "0", "Bearer " + made.api_key,
                          made.api_key.replace("gl_", "gx_")):
            assert access.authenticate(s, presented) is None
        access.revoke_api_key(s, made.key_id)
        assert access.authenticate(s, made.api_key) is None
        first = s.get(access.ApiKey, made.key_id).revoked_at
        assert access.revoke_api_key(s, made.key_id).revoked_at == first


def test_a_key_needs_one_of_the_partys_roles(copy_engine):
    with Session(copy_engine) as s:
        with pytest.raises(InputError, match="not a certifier"):
            access.create_api_key(s, "p-copper", "certifier")
        with pytest.raises(InputError):
            access.create_api_key(s, "p-copper", "admin")
        with pytest.raises(NotFound):
            access.create_api_key(s, "p-nobody", "buyer")
        with pytest.raises(NotFound):
            access.revoke_api_key(s, "ffffffffffff")


def test_keys_are_listed_without_secrets(copy_engine):
    with Session(copy_engine) as s:
        made = access.create_api_key(s, "p-zinc", "producer")
        rows = access.list_api_keys(s, "p-zinc")
    assert [r.key_id for r in rows] == [made.key_id]
    assert made.api_key not in repr(rows) and made.client_secret not in repr(rows)


def test_cosigners_are_certifiers_cosignature_keys(copy_engine, tmp_path):
    signer = keys.generate(tmp_path, "certifier", "certifier.test/x", PASSPHRASE)
    operator = keys.generate(tmp_path, "operator", "op.test/log", PASSPHRASE)
    with Session(copy_engine) as s:
        with pytest.raises(InputError, match="cosignature/v1"):
            access.add_cosigner(s, "p-certifier", operator.verifier.vkey())
        with pytest.raises(RuleViolation):
            access.add_cosigner(s, "p-buyer-gd", signer.verifier.vkey())
        with pytest.raises(InputError):
            access.add_cosigner(s, "p-certifier", "not a vkey")
        access.add_cosigner(s, "p-certifier", signer.verifier.vkey())
        with pytest.raises(Conflict):
            access.add_cosigner(s, "p-certifier", signer.verifier.vkey())
        assert access.cosigner_verifiers(s, "p-certifier") == [signer.verifier]


def entry(kind: str, actor: str, body: dict) -> Entry:
    return Entry(seq=0, kind=kind, at="2025-01-01T00:00:00.000000Z", actor=actor,
                 nonce="A" * 22, body=body)


@pytest.mark.parametrize("kind, actor, body, named", [
    ("party.registered", "p-op", {"party": "p-a"}, {"p-op", "p-a"}),
    ("facility.registered", "p-a", {"owner": "p-a"}, {"p-a"}),
    ("certificate.registered", "p-op", {"owner": "p-a"}, {"p-op", "p-a"}),
    ("certificate.transferred", "p-a", {"certificate": "x", "to": "p-b"}, {"p-a", "p-b"}),
    ("shipment.recorded", "p-a", {"seller": "p-a", "buyer": "p-buyer"}, {"p-a", "p-buyer"}),
    ("allocation.recorded", "p-a", {"beneficiary": "p-c"}, {"p-a", "p-c"}),
    ("declaration.issued", "p-a", {"buyer": "p-buyer"}, {"p-a", "p-buyer"}),
    ("batch.registered", "p-a", {"inputs": [{"kind": "batch", "ref": "B"}]}, {"p-a"}),
])
def test_parties_named_by_the_body(kind, actor, body, named):
    assert parties_named(entry(kind, actor, body)) == named


def test_parties_named_through_the_projections(tmp_path):
    eng = make_engine(f"sqlite:///{tmp_path / 'small.db'}")
    upgrade(eng)
    log = small.build(eng)
    log.append("shipment.recorded", "p-a", small.shipment())
    with Session(eng) as s:
        cert = f"CN-GEC:{small.gec(1)}"
        # the operator acting for p-a still names p-a, through the facility / certificate
        assert parties_named(entry("batch.registered", "p-op", {"facility": "f-a"}), s) == {
            "p-op", "p-a"}
        assert parties_named(entry("certificate.cancelled", "p-op", {"certificate": cert}),
                             s) == {"p-op", "p-a"}
        assert parties_named(entry("certificate.attested", "p-cert", {"certificate": cert}),
                             s) == {"p-cert", "p-a"}
        assert parties_named(entry("declaration.issued", "p-op",
                                   {"shipment": "S1", "buyer": "p-buyer"}), s) == {
            "p-op", "p-a", "p-buyer"}
        e = entry("voucher.registered", "p-a", {"facility": "f-a"})
        assert may_read_entry(e, party="p-a", role="producer", session=s)
        assert not may_read_entry(e, party="p-b", role="producer", session=s)
        assert not may_read_entry(e, party="p-buyer", role="buyer", session=s)
        assert may_read_entry(e, party="p-cert", role="certifier", session=s)
        assert may_read_entry(e, party="p-op", role="operator", session=s)
        assert may_read_row(s, Batch, "AL-1", party="p-a", role="producer")
        assert not may_read_row(s, Batch, "AL-1", party="p-b", role="producer")
        assert not may_read_row(s, Batch, "AL-1", party="p-a", role="buyer")
        assert may_read_row(s, Shipment, "S1", party="p-buyer", role="buyer")
        assert not may_read_row(s, Shipment, "S1", party="p-buyer", role="producer")
        assert may_read_row(s, Facility, "f-b", party="p-cert", role="certifier")
        assert not may_read_row(s, Certificate, cert, party="p-b", role="producer")
        assert not may_read_row(s, Declaration, "nope", party="p-op", role="operator")
    eng.dispose()
