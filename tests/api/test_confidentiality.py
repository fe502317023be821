"""No data of one party reaches another (DESIGN §7): list filters, item look-ups (404), error
texts, and entry contents in ``/log/entries``. Assertions are on concrete values: p-copper's
key never sees p-smelter's batch, certificate, shipment or allocation ids, nor its volumes."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlmodel import Session

from ledger.domain.fields import from_milli
from ledger.domain.tables import Allocation, Batch, Certificate, Shipment
from ledger.store.engine import make_engine
from ledger.store.tables import LogEntry
from tests.api.conftest import World

COLLECTIONS = ("facilities", "certificates", "vouchers", "batches", "allocations", "shipments",
               "declarations")


def everything(client, world: World, who: str | None, path: str) -> list[dict]:
    """Every page of a collection (or of /log/entries), following `next`."""
    pages, url = [], path
    while url:
        response = client.get(url, headers=world.headers(who))
        assert response.status_code == 200, response.get_data(as_text=True)
        pages.append(response.get_json())
        url = pages[-1].get("next")
    return pages


def smelter_secrets(world: World) -> set[str]:
    """Ids and volumes of p-smelter's records that p-copper's records never mention."""
    engine = make_engine(world.settings.database_url)
    with Session(engine) as s:
        batches = list(s.scalars(select(Batch).where(Batch.owner == "p-smelter")))
        found = {b.batch_id for b in batches}
        found |= {from_milli(b.kg) for b in batches} | {from_milli(b.electricity_kwh)
                                                         for b in batches}
        found |= {c.certificate_id for c in s.scalars(
            select(Certificate).where(Certificate.owner == "p-smelter"))}
        found |= {x.shipment_id for x in s.scalars(
            select(Shipment).where(Shipment.seller == "p-smelter"))}
        found |= {a.allocation_id for a in s.scalars(
            select(Allocation).where(Allocation.beneficiary == "p-smelter"))}
        copper = " ".join(
            [json.dumps(b.model_dump()) for b in s.scalars(select(Batch).where(
                Batch.owner == "p-copper"))]
            + [e for (e,) in s.execute(select(LogEntry.entry).where(
                LogEntry.entry.contains("p-copper")))])
    engine.dispose()
    found |= {"f-smelter", world.declaration}
    return {value for value in found if value not in copper}


def test_a_producer_never_sees_another_producers_records(client, world: World):
    secrets = smelter_secrets(world)
    assert {"AL-2025-03", "f-smelter", "SH-AL-GD-2025-01", "12250.000"} <= secrets
    texts = []
    for name in COLLECTIONS:
        for page in everything(client, world, "copper", f"/api/v1/{name}?limit=500"):
            texts.append(json.dumps(page, ensure_ascii=False))
            owners = {item.get("owner") or item.get("seller") or item.get("issuer")
                      for item in page["items"] if name not in ("vouchers", "allocations")}
            assert owners <= {"p-copper"}, (name, owners)
    for page in everything(client, world, "copper", "/api/v1/log/entries?start=0"):
        texts.append(json.dumps(page, ensure_ascii=False))
    blob = "\n".join(texts)
    leaked = sorted(s for s in secrets if s in blob)
    assert leaked == []
    assert "CU-2025-07" in blob  # its own batches are there


def test_items_of_others_are_404_like_missing_ones(client, world: World):
    nobody = "00000000-0000-4000-8000-000000000000"
    pairs = [(p, p + "X") for p in (
        "batches/AL-2025-03", "facilities/f-smelter", "shipments/SH-AL-GD-2025-01",
        f"declarations/{world.declaration}", "certificates/CN-GEC:31200808265308017202501000000001",
        "allocations/AL-2025-01:31200808265308017202501000000001")]
    pairs.append((f"declarations/{world.declaration}.pdf", f"declarations/{nobody}.pdf"))
    for path, absent in pairs:
        hidden = client.get(f"/api/v1/{path}", headers=world.headers("copper"))
        missing = client.get(f"/api/v1/{absent}", headers=world.headers("copper"))
        assert hidden.status_code == missing.status_code == 404, path
        assert hidden.get_json().keys() == missing.get_json().keys()
        assert "p-smelter" not in hidden.get_data(as_text=True)


def test_a_buyer_sees_only_its_own_shipments_and_declarations(client, world: World):
    shipments = everything(client, world, "buyer", "/api/v1/shipments?limit=500")[0]["items"]
    assert sorted(s["id"] for s in shipments) == ["SH-AL-GD-2025-01", "SH-AL-GD-2025-02"]
    declarations = everything(client, world, "buyer", "/api/v1/declarations")[0]["items"]
    assert [d["id"] for d in declarations] == [world.declaration]
    for name in ("facilities", "certificates", "vouchers", "batches", "allocations"):
        assert everything(client, world, "buyer", f"/api/v1/{name}")[0]["items"] == []
    other = client.get("/api/v1/shipments/SH-AL-EU-2025-01", headers=world.headers("buyer"))
    assert other.status_code == 404
    # the same party acting as a buyer sees what it bought, not what it produced
    bought = everything(client, world, "smelter-buyer", "/api/v1/shipments?limit=500")[0]
    assert {s["seller"] for s in bought["items"]} == {"p-refinery"}


@pytest.mark.parametrize("who, party", [("buyer", "p-buyer-gd"), ("copper", "p-copper"),
                                        ("cable", "p-buyer-cable")])
def test_log_entries_carry_content_only_for_entries_naming_the_caller(client, world: World,
                                                                      who, party):
    pages = everything(client, world, who, "/api/v1/log/entries?start=0")
    entries = [e for page in pages for e in page["entries"]]
    assert len(entries) == pages[0]["size"]
    readable = [e for e in entries if "entry" in e]
    assert readable and all(party in e["entry"] for e in readable)
    hidden = [e for e in entries if "entry" not in e]
    assert all(set(e) == {"seq", "leaf_hash", "chain_hash"} for e in hidden)
    engine = make_engine(world.settings.database_url)
    with Session(engine) as s:
        naming = set(s.scalars(select(LogEntry.seq).where(LogEntry.entry.contains(f'"{party}"'))))
    engine.dispose()
    assert {e["seq"] for e in readable} == naming


def test_without_a_key_entries_are_hashes_only(client, world: World):
    for page in everything(client, world, None, "/api/v1/log/entries?start=0"):
        for entry in page["entries"]:
            assert set(entry) == {"seq", "leaf_hash", "chain_hash"}


def test_operator_and_certifier_read_every_entry(client, world: World):
    for who in ("operator", "certifier"):
        pages = everything(client, world, who, "/api/v1/log/entries?start=0")
        assert all("entry" in e for page in pages for e in page["entries"])


def post(app, world: World, who: str, path: str, body: dict) -> tuple[int, dict, str]:
    response = app.test_client().post(f"/api/v1/{path}", json=body, headers=world.headers(who))
    return response.status_code, response.get_json(), response.get_data(as_text=True)


def test_refusals_never_tell_another_partys_data(fresh, world: World):
    smelter_first = "31200808265308017202501000000001"
    overlap = {"registry": "CN-GEC", "first": "31200808265308017202501000000100",
               "last": "31200808265308017202501000000200", "mwh": "101.000",
               "technology": "hydro", "plant": "copper's own plant name", "plant_province": "CN-YN",
               "country": "CN", "generation_month": "2025-01", "tradable": False,
               "evidence": {"ref": "X", "sha256": "ab" * 32}}
    status, body, text = post(fresh, world, "copper", "certificates", overlap)
    assert status == 422 and body["rule"] == "certificate.unique-serial"
    assert body["field"] == "first" and "limit" not in body and "got" not in body
    assert smelter_first not in text and "seq" not in body["detail"]

    plant = {**overlap, "registry": "I-REC", "first": "XX-01", "last": "XX-10", "mwh": "10.000",
             "plant": "澜沧江示例水电站 Lancang Example Hydropower Station",
             "generation_month": "2024-11"}
    status, body, text = post(fresh, world, "copper", "certificates", plant)
    assert status == 422 and body["rule"] == "certificate.one-registry"
    assert "CN-GEC" not in text

    refusals = [
        ("shipments", {"shipment": "SH-X", "buyer": "p-buyer-cable", "date": "2025-12-01",
                       "destination_country": "CN", "lines": [{"batch": "AL-2025-07",
                                                               "tonnes": "1.000"}]},
         "lines[0].batch"),
        ("allocations", {"allocation": "A-X", "certificate": f"CN-GEC:{smelter_first}",
                         "first": smelter_first, "last": smelter_first, "mwh": "1.000",
                         "batch": "CU-2025-07"}, "certificate"),
        ("vouchers", {"issuer": "X", "number": "1", "facility": "f-smelter",
                      "period_start": "2025-01", "period_end": "2025-01", "mwh": "1.000",
                      "technology": "hydro"}, "facility"),
        ("batches", {"batch": "CU-X", "lot": "CU-X", "facility": "f-copper", "product": "cathode",
                     "metal": "Cu", "cn_code": "7403", "tonnes": "1.000",
                     "period_start": "2025-12-01", "period_end": "2025-12-31",
                     "electricity_mwh": "1.000",
                     "inputs": [{"kind": "batch", "ref": "AL-2025-07", "tonnes": "1.000"}]},
         "inputs[0].ref"),
        (f"certificates/CN-GEC:{smelter_first}/transfer", {"to": "p-copper"}, "certificate_id"),
        (f"certificates/CN-GEC:{smelter_first}/cancel", {"reason": "x"}, "certificate_id"),
        ("declarations", {"shipment": "SH-AL-GD-2025-01"}, "shipment"),
        (f"declarations/{world.declaration}/revoke", {"reason": "x"}, "declaration_id"),
    ]
    for path, request_body, field in refusals:
        status, body, text = post(fresh, world, "copper", path, request_body)
        assert (status, body["field"]) == (404, field), (path, text)
        assert "p-smelter" not in text and "belongs" not in text

    status, body, text = post(fresh, world, "copper", "facilities",
                              {"facility": "f-x", "owner": "p-smelter", "name": "x",
                               "province": "CN-YN", "grid_region": "CN-SOUTH", "country": "CN",
                               "process": "x"})
    assert status == 403 and "p-smelter" not in body["detail"]


def test_refusals_about_the_callers_own_records_keep_their_detail(fresh, world: World):
    status, body, _ = post(fresh, world, "producer", "shipments",
                           {"shipment": "SH-BIG", "buyer": "p-buyer-gd", "date": "2025-12-30",
                            "destination_country": "CN",
                            "lines": [{"batch": "AL-2025-03", "tonnes": "9999.000"}]})
    assert status == 422 and body["rule"] == "shipment.mass-balance"
    assert body["field"] == "lines[0].tonnes"
    assert body["limit"] == "6250.000" and body["got"] == "9999.000"
