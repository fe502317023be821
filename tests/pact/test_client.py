"""The PACT client against a second greenledger acting as the supplier (its own SQLite ledger
and declarations, HTTPS on loopback): two pages, a token that expires mid-pull, a 500 answered
once; the pulled payloads hashed into the log; a batch priced with them; PublishedEvent."""

from __future__ import annotations

import hashlib
import json
import time
from decimal import Decimal

import pytest
import rfc8785
from click.testing import CliRunner
from sqlalchemy import select
from sqlmodel import Session

from api.cli import main
from api.pact import LIFETIME_CONFIG
from certificates.issuing import revoke_declaration
from certificates.pact_client import PactClient, PactClientError, next_link
from certificates.pact_client_peers import PeerStore, make_peer, normalize_url
from certificates.pact_client_pull import pull
from ledger import keys
from ledger.domain import domain_log
from ledger.domain.footprints import Footprints
from ledger.domain.full_audit import full_audit
from ledger.domain.suppliers import SupplierFootprintDocument, SupplierFootprintRow
from ledger.factors import FactorLibrary
from ledger.store.engine import make_engine
from ledger.store.tables import LogEntry
from tests.pact.conftest import add_credentials, get_token, pact_app, wait_for


class Faults:
    """WSGI middleware: the first ListFootprints call answers 500; the first call for a second
    page waits until the (1-second) token has expired."""

    def __init__(self, app, *, expire_after: float) -> None:
        self.app, self.expire_after = app, expire_after
        self.list_calls = 0
        self.slept = False
        self.statuses: list[tuple[str, str]] = []

    def __call__(self, environ, start_response):
        path, query = environ["PATH_INFO"], environ.get("QUERY_STRING", "")

        def recording(status, headers, exc_info=None):
            self.statuses.append((path, status.split()[0]))
            return start_response(status, headers, exc_info)

        if path == "/3/footprints":
            self.list_calls += 1
            if self.list_calls == 1:
                recording("500 INTERNAL SERVER ERROR", [("Content-Type", "application/json")])
                return [b'{"code":"InternalError","message":"injected"}']
            if "cursor=" in query and not self.slept:
                self.slept = True
                time.sleep(self.expire_after)
        return self.app(environ, recording)


@pytest.fixture
def supplier(pact_world, servers, tmp_path):
    settings = pact_world.copy(tmp_path / "supplier")
    app = pact_app(settings, **{LIFETIME_CONFIG: 3})  # margin for a loaded CI machine
    faults = Faults(app, expire_after=3.2)
    return settings, servers.start(faults), faults


@pytest.fixture
def consumer(pact_world, tmp_path):
    return pact_world.copy(tmp_path / "consumer")


def peer_for(pact_world, url, cert, name="alu"):
    buyer = pact_world.creds["buyer"]  # the supplier issued p-buyer-gd these credentials
    return make_peer(name=name, url=url, client_id=buyer.client_id,
                     client_secret=buyer.client_secret, party="p-smelter", ca_file=cert)


def fast_client(peer):
    return PactClient.for_peer(peer, backoff=0.01, sleep=lambda s: None)


def recorded_entries(settings):
    engine = make_engine(settings.database_url)
    with Session(engine) as s:
        rows = [json.loads(e) for e in s.scalars(select(LogEntry.entry).where(
            LogEntry.kind == "supplier_footprint.recorded").order_by(LogEntry.seq))]
        docs = {d.payload_sha256: d.payload for d in s.scalars(select(SupplierFootprintDocument))}
    engine.dispose()
    return rows, docs


def test_pull_two_pages_through_a_500_and_a_token_expiry(pact_world, supplier, consumer, cert):
    _supplier_settings, url, faults = supplier
    peer = peer_for(pact_world, url, cert)
    engine = make_engine(consumer.database_url)
    report = pull(engine, peer, limit=1, client=fast_client(peer))
    engine.dispose()
    expected = {pact_world.declarations["smelter"], pact_world.declarations["smelter2"]}
    assert {r["footprint"] for r in report.recorded} == expected
    assert report.invalid == [] and report.unchanged == []
    statuses = [s for p, s in faults.statuses if p == "/3/footprints"]
    assert "500" in statuses and "401" in statuses  # both faults happened and were survived
    assert statuses.count("200") == 2  # two pages
    entries, docs = recorded_entries(consumer)
    assert len(entries) == 2
    for entry in entries:
        body = entry["body"]
        assert entry["actor"] == "p-smelter" and body["supplier"] == "alu"
        payload = json.loads(docs[body["payload_sha256"]])
        assert hashlib.sha256(rfc8785.dumps(payload)).hexdigest() == body["payload_sha256"]
        assert payload["id"] == body["footprint"]
        assert body["pcf_excluding_biogenic_uptake_kg_co2e"] == payload["pcf"]["pcfExcludingBiogenicUptake"]
        assert body["declared_unit"] == "kilogram"
        assert body["primary_data_share"] == payload["pcf"]["primaryDataShare"]
        assert body["product_ids"] == payload["productIds"]


def test_repull_is_unchanged_and_a_changed_footprint_is_a_new_version(pact_world, supplier,
                                                                      consumer, cert):
    supplier_settings, url, _ = supplier
    peer = peer_for(pact_world, url, cert)
    engine = make_engine(consumer.database_url)
    pull(engine, peer, client=fast_client(peer))
    again = pull(engine, peer, client=fast_client(peer))
    assert again.recorded == [] and len(again.unchanged) == 2
    did = pact_world.declarations["smelter2"]
    supplier_engine = make_engine(supplier_settings.database_url)
    revoke_declaration(supplier_engine, supplier_settings, did, actor="p-smelter", reason="recalc")
    supplier_engine.dispose()
    third = pull(engine, peer, client=fast_client(peer))
    assert [r["footprint"] for r in third.recorded] == [did]
    with Session(engine) as s:
        versions = list(s.scalars(select(SupplierFootprintRow).where(
            SupplierFootprintRow.footprint_id == did).order_by(SupplierFootprintRow.version)))
    assert [(v.version, v.status) for v in versions] == [(1, "Active"), (2, "Deprecated")]
    assert versions[0].payload_sha256 != versions[1].payload_sha256
    # the log explains every row: a full audit of the consumer ledger is clean
    report = full_audit(engine, [keys.load_verifier(consumer.key_dir, "operator")])
    assert report.clean, report.findings
    engine.dispose()


def test_a_batch_with_a_pact_input_is_priced_from_the_pulled_footprint(pact_world, supplier,
                                                                       consumer, cert):
    _, url, _ = supplier
    peer = peer_for(pact_world, url, cert)
    engine = make_engine(consumer.database_url)
    pull(engine, peer, client=fast_client(peer))
    did = pact_world.declarations["smelter"]
    with Session(engine) as s:
        row = s.scalars(select(SupplierFootprintRow).where(
            SupplierFootprintRow.footprint_id == did)).one()
    log = domain_log(engine)
    log.append("batch.registered", "p-smelter", {
        "batch": "AL-PACT-1", "lot": "AL-PACT-1", "facility": "f-smelter", "metal": "Al",
        "grade": "Al99.70 (GB/T 1196-2023)", "cn_code": "76011000",
        "product": "primary aluminium ingot 重熔用铝锭", "tonnes": "1", "electricity_mwh": "1",
        "period_start": "2025-06-01", "period_end": "2025-06-30", "fuels": [],
        "process_emissions": [], "recycled": {"origin": "", "tonnes": "0"},
        "inputs": [{"kind": "pact", "ref": f"alu:{did}", "tonnes": "2"}]})
    log.append("batch.registered", "p-smelter", {
        "batch": "AL-PACT-2", "lot": "AL-PACT-2", "facility": "f-smelter", "metal": "Al",
        "grade": "Al99.70 (GB/T 1196-2023)", "cn_code": "76011000",
        "product": "primary aluminium ingot 重熔用铝锭", "tonnes": "1", "electricity_mwh": "1",
        "period_start": "2025-06-01", "period_end": "2025-06-30", "fuels": [],
        "process_emissions": [], "recycled": {"origin": "", "tonnes": "0"},
        "inputs": [{"kind": "pact", "ref": did.upper(), "tonnes": "0.5"}]})
    with Session(engine) as s:
        fps = Footprints(s, FactorLibrary.load())
        one, two = fps.batch("AL-PACT-1"), fps.batch("AL-PACT-2")
    engine.dispose()
    pcf = Decimal(row.pcf_kg_co2e)
    assert one.market.upstream == pcf * 2 * 1000
    assert one.location.upstream == pcf * 2 * 1000
    assert two.market.upstream == pcf * Decimal("0.5") * 1000
    assert any(f.factor_id == f"pact:alu:{did}" and row.payload_sha256 in f.source
               for f in one.factors)
    assert one.primary_kg_co2e == pcf * 2 * 1000 * Decimal(row.primary_data_share) / 100


def test_published_event_makes_the_consumer_pull(pact_world, servers, consumer, cert, tmp_path):
    supplier_settings = pact_world.copy(tmp_path / "supplier2")
    supplier_url = servers.start(pact_app(supplier_settings))
    consumer_url = servers.start(pact_app(consumer))
    PeerStore(consumer.key_dir).add(peer_for(pact_world, supplier_url, cert))
    # the supplier holds credentials the consumer issued it, to post events there
    theirs = add_credentials(consumer, {"alu": ("p-smelter", "producer")})["alu"]
    token = get_token(consumer_url, theirs, cert)
    did = pact_world.declarations["smelter"]
    client = PactClient(consumer_url, theirs.client_id, theirs.client_secret, verify=cert)
    client.post_event({"type": "org.wbcsd.pact.ProductFootprint.PublishedEvent.3",
                       "specversion": "1.0", "id": "evt-1",
                       "source": f"//{supplier_url.split('//')[1]}/3/events",
                       "time": "2026-01-01T00:00:00Z", "data": {"pfIds": [did]}})
    assert token
    entries = wait_for(lambda: recorded_entries(consumer)[0])
    assert [e["body"]["footprint"] for e in entries] == [did]


def test_client_refuses_plain_http_and_foreign_next_links():
    with pytest.raises(PactClientError):
        PactClient("http://supplier.example", "id", "secret")
    assert next_link('<https://a.example/3/footprints?cursor=1.2&limit=1>; rel="next"') == \
        "https://a.example/3/footprints?cursor=1.2&limit=1"
    assert next_link('<https://a/x>; rel="prev", <https://a/y>; rel=next') == "https://a/y"
    assert next_link(None) is None
    assert normalize_url("//Host.Example:443/3/events") == "https://host.example"
    assert normalize_url("https://host.example:8443/pact/") == "https://host.example:8443/pact"


def test_bad_credentials_are_reported_without_the_secret(pact_world, supplier, consumer, cert):
    _, url, _ = supplier
    peer = make_peer(name="alu", url=url, client_id="glc_nobody", client_secret="s3cr3t-value",
                     ca_file=cert)
    engine = make_engine(consumer.database_url)
    with pytest.raises(PactClientError) as caught:
        pull(engine, peer, client=fast_client(peer))
    engine.dispose()
    assert "s3cr3t-value" not in str(caught.value) and "refused" in str(caught.value)


def test_cli_supplier_add_list_pull(pact_world, supplier, consumer, cert, monkeypatch):
    _, url, _ = supplier
    monkeypatch.setenv("GREENLEDGER_HOME", str(consumer.home))
    monkeypatch.setenv("GREENLEDGER_DATABASE_URL", consumer.database_url)
    monkeypatch.setenv("GREENLEDGER_KEY_DIR", str(consumer.key_dir))
    buyer = pact_world.creds["buyer"]
    runner = CliRunner()
    done = runner.invoke(main, ["pact", "supplier", "add", "--name", "alu", "--url", url,
                                "--client-id", buyer.client_id, "--client-secret",
                                buyer.client_secret, "--party", "p-smelter", "--ca-file", cert])
    assert done.exit_code == 0, done.output
    assert buyer.client_secret not in done.output
    store = PeerStore(consumer.key_dir)
    assert store.path.stat().st_mode & 0o777 == 0o600
    assert store.key_path.stat().st_mode & 0o777 == 0o600
    assert buyer.client_secret not in store.path.read_text()
    listed = runner.invoke(main, ["pact", "supplier", "list", "--json"])
    assert listed.exit_code == 0 and buyer.client_secret not in listed.output
    assert json.loads(listed.output)[0]["name"] == "alu"
    dup = runner.invoke(main, ["pact", "supplier", "add", "--name", "alu", "--url", url,
                               "--client-id", "x", "--client-secret", "y"])
    assert dup.exit_code == 2
    pulled = runner.invoke(main, ["pact", "pull", "--supplier", "alu", "--limit", "1", "--json"])
    assert pulled.exit_code == 0, pulled.output
    assert len(json.loads(pulled.output)["recorded"]) == 2
    shown = runner.invoke(main, ["pact", "recorded", "--json"])
    assert {r["ref"].split(":", 1)[1] for r in json.loads(shown.output)} == {
        pact_world.declarations["smelter"], pact_world.declarations["smelter2"]}
    assert runner.invoke(main, ["pact", "pull", "--supplier", "nobody"]).exit_code == 2
