"""Small parts: supplier-footprint units and rules, access tokens, the demo certificate,
the filters' date parsing."""

from __future__ import annotations

import ssl
from decimal import Decimal

import pytest
from cryptography import x509

from api.pact import tokens
from api.pact.filters import FilterError, criteria, facets, matches, parse_time
from api.pact.tls import make_self_signed
from ledger.domain.suppliers import SupplierFootprintRow, kg_co2e_per_kg, plain_decimal
from ledger.errors import InputError


def row(unit: str, amount: str = "1", mass: str = "1", pcf: str = "2.5") -> SupplierFootprintRow:
    return SupplierFootprintRow(supplier="s", footprint_id="f", version=1, product_ids="[]",
                                pcf_kg_co2e=pcf, declared_unit=unit, declared_unit_amount=amount,
                                product_mass_kg=mass, status="Active", payload_sha256="0" * 64,
                                source="https://s", actor="p", seq=1)


def test_per_kilogram_conversion():
    assert kg_co2e_per_kg(row("kilogram")) == Decimal("2.5")
    assert kg_co2e_per_kg(row("kilogram", amount="1000", mass="1000", pcf="2500")) == Decimal("2.5")
    assert kg_co2e_per_kg(row("liter", amount="12.5", mass="10", pcf="2")) == Decimal("0.2")
    assert kg_co2e_per_kg(row("piece", amount="1", mass="80", pcf="160")) == Decimal("2")
    with pytest.raises(InputError, match="kilowatt hour"):
        kg_co2e_per_kg(row("kilowatt hour", mass="0"))
    with pytest.raises(InputError, match="without a product mass"):
        kg_co2e_per_kg(row("liter", mass="0"))


def test_plain_decimals():
    assert plain_decimal("+007.50", field="x") == "7.50"
    assert plain_decimal("-0.0", field="x") == "0.0"
    for bad in ("1e3", "NaN", "", 1.5, "0x10"):
        with pytest.raises(InputError):
            plain_decimal(bad, field="x")
    with pytest.raises(InputError):
        plain_decimal("0", field="x", positive=True)


def test_tokens_expire_and_refuse_tampering():
    key = b"k" * 32
    token = tokens.issue(key, key_id="abc", party="p", role="buyer", ttl=10, now=1000)
    assert tokens.verify(key, token, now=1005).party == "p"
    with pytest.raises(tokens.TokenExpired):
        tokens.verify(key, token, now=1010)
    with pytest.raises(tokens.TokenInvalid):
        tokens.verify(b"x" * 32, token, now=1005)
    head, _payload, sig = token.split(".")
    forged = tokens.issue(b"x" * 32, key_id="abc", party="other", role="operator", ttl=10,
                          now=1000).split(".")[1]
    with pytest.raises(tokens.TokenInvalid):
        tokens.verify(key, f"{head}.{forged}.{sig}", now=1005)
    for junk in ("", "a.b", "a.b.c", "x" * 3000):
        with pytest.raises(tokens.TokenInvalid):
            tokens.verify(key, junk, now=1005)


def test_token_secret_file_is_private(tmp_path):
    tokens.forget_secrets()
    first = tokens.secret(tmp_path / "keys")
    assert (tmp_path / "keys" / tokens.KEY_FILE_NAME).stat().st_mode & 0o777 == 0o600
    tokens.forget_secrets()
    assert tokens.secret(tmp_path / "keys") == first and len(first) == 32


def test_self_signed_certificate(tmp_path):
    cert, key = make_self_signed(tmp_path, ["127.0.0.1", "pact.local"])
    assert key.stat().st_mode & 0o777 == 0o600
    parsed = x509.load_pem_x509_certificate(cert.read_bytes())
    san = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["pact.local"]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    again = make_self_signed(tmp_path, ["127.0.0.1", "pact.local"])
    assert again == (cert, key) and cert.read_bytes() == again[0].read_bytes()


def test_date_parsing_and_facets():
    assert parse_time("2025-01-31T00:00:00.000Z", "t") == parse_time("2025-01-31", "t")
    assert parse_time("2025-01-31T08:00:00+08:00", "t") == parse_time("2025-01-31T00:00:00Z", "t")
    assert parse_time("2025-01-31T00:00:00.123456789Z", "t").microsecond == 123456
    for bad in ("31/01/2025", "2025-13-01", "soon"):
        with pytest.raises(FilterError):
            parse_time(bad, "t")
    doc = {"productIds": ["urn:A:1"], "companyIds": ["urn:c:1"], "pcf": {
        "geographyRegionOrSubregion": "Eastern Asia", "referencePeriodEnd": "2024-02-29T00:00:00Z"}}
    f = facets(doc)
    assert f.valid_to.isoformat().startswith("2027-02-28")
    assert matches(criteria([("geography", "eastern asia")]), f, "Active")
    assert not matches(criteria([("geography", "CN")]), f, "Active")
    assert matches(criteria([("productId", ["urn:a:1", "urn:b:2"])]), f, "Active")
    assert not matches(criteria([("status", "deprecated")]), f, "Active")


def test_cli_tls_and_customer_peers(tmp_path, monkeypatch):
    import json

    from click.testing import CliRunner

    from api.cli import main
    from certificates.pact_client_peers import PeerStore

    monkeypatch.setenv("GREENLEDGER_HOME", str(tmp_path))
    monkeypatch.setenv("GREENLEDGER_KEY_DIR", str(tmp_path / "keys"))
    runner = CliRunner()
    made = runner.invoke(main, ["pact", "tls", "--out", str(tmp_path / "tls"), "--host", "127.0.0.1"])
    assert made.exit_code == 0, made.output
    paths = json.loads(made.output)
    added = runner.invoke(main, ["pact", "customer", "add", "--name", "buyer-tool", "--url",
                                 "https://buyer.example/pact/", "--client-id", "cid"],
                          input="the-secret\n")
    assert added.exit_code == 0, added.output
    assert "the-secret" not in added.output.replace("Client secret: ", "")
    peer = PeerStore(tmp_path / "keys").match_source("//buyer.example/pact/3/events")
    assert peer is not None and peer.kind == "customer" and peer.client_secret == "the-secret"
    assert repr(peer).count("the-secret") == 0
    refused = runner.invoke(main, ["pact", "supplier", "add", "--name", "x", "--url",
                                   "http://plain.example", "--client-id", "a", "--client-secret", "b"])
    assert refused.exit_code == 2 and "https" in refused.output
    assert runner.invoke(main, ["pact", "customer", "remove", "buyer-tool"]).exit_code == 0
    assert PeerStore(tmp_path / "keys").peers() == []
    assert paths["cert"].endswith(".pem")
