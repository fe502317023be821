"""Recycled content and its mass balance (issue #11.3), by a worked example with its arithmetic,
against the shipment footprint, and with a projection edited behind the log's back."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text
from sqlmodel import Session

from ledger import audit
from ledger.domain.footprints import Footprints
from ledger.domain.replay import replay_check
from ledger.factors import FactorLibrary
from ledger.reports.periods import Period
from ledger.reports.recycled import recycled
from tests.ledger.test_reports_world import assert_valid, batch, facility, new_log, scenario

YEAR = Period.of_year(2025)


def shipment(sid: str, lines: list[tuple[str, str]], day: str = "2025-04-10") -> dict:
    return {"shipment": sid, "seller": "p-a", "buyer": "p-buyer", "date": day, "destination_country": "CN",
            "lines": [{"batch": b, "tonnes": t} for b, t in lines]}


def partly_recycled_world(engine):
    """AL-R: 100 t of ingot cast with 5 t of post-consumer scrap (5 %); AL-P: 50 t, no scrap.
    S1 ships 40 t of AL-R and 10 t of AL-P; S2 ships 30 t of AL-R."""
    log = new_log(engine)
    log.append_many([
        ("facility.registered", "p-a", facility("f-a", "p-a")),
        ("batch.registered", "p-a", batch("AL-R", month="2025-03", tonnes="100.000", recycled="5.000",
                                          origin="post-consumer scrap, Guangdong")),
        ("batch.registered", "p-a", batch("AL-P", month="2025-03", tonnes="50.000")),
        ("shipment.recorded", "p-a", shipment("S1", [("AL-R", "40.000"), ("AL-P", "10.000")])),
        ("shipment.recorded", "p-a", shipment("S2", [("AL-R", "30.000")], day="2025-05-02")),
    ])
    return log


def test_a_shipment_of_partly_recycled_metal(engine):
    partly_recycled_world(engine)
    with Session(engine) as s:
        data = recycled(s, period=YEAR).to_json()
        s1 = Footprints(s, FactorLibrary.load()).shipment("S1").to_json()
    assert_valid(data, "recycled_report.schema.json")
    (fa,) = data["facilities"]
    # recycled in 5 t of 150 t produced = 3.33 %
    assert (fa["tonnes"], fa["recycled_tonnes"], fa["recycled_share_percent"]) == ("150.000", "5.000", "3.33")
    assert fa["by_origin"] == {"post-consumer scrap, Guangdong": "5.000"}
    # S1: 40 t x 5/100 = 2 t from AL-R + 10 t x 0/50 = 0 from AL-P: 2 t of 50 t = 4.00 %
    # S2: 30 t x 5/100 = 1.5 t of 30 t = 5.00 %
    claims = {c["shipment_id"]: c for c in fa["shipments"]}
    s1_claim = claims["S1"]
    assert (s1_claim["tonnes"], s1_claim["recycled_tonnes"], s1_claim["recycled_share_percent"]) == \
        ("50.000", "2.000", "4.00")
    assert (claims["S2"]["recycled_tonnes"], claims["S2"]["recycled_share_percent"]) == ("1.500", "5.00")
    # mass balance: claimed 2 + 1.5 = 3.5 t <= 5 t recycled in; 1.5 t not yet claimed (30 t unshipped)
    assert (fa["shipped_tonnes"], fa["claimed_recycled_tonnes"], fa["unclaimed_recycled_tonnes"]) == \
        ("80.000", "3.500", "1.500")
    assert fa["mass_balance_holds"] is True and fa["mass_balance_violations"] == []
    # the shipment footprint carries the same recycled tonnes
    assert (s1["recycled_tonnes"], s1["recycled_share_percent"]) == ("2.000", "4.00")


def test_a_third_of_a_tonne_is_exact_until_presented(engine):
    """3 t with 1 t scrap, 1 t shipped: claims 1/3 t, presented 0.333; the rest 2/3 t, 0.667."""
    log = new_log(engine)
    log.append_many([
        ("facility.registered", "p-a", facility("f-a", "p-a")),
        ("batch.registered", "p-a", batch("AL-3", tonnes="3.000", mwh="39.000", recycled="1.000")),
        ("shipment.recorded", "p-a", shipment("S3", [("AL-3", "1.000")])),
    ])
    with Session(engine) as s:
        fa = recycled(s, period=YEAR).to_json()["facilities"][0]
    assert (fa["claimed_recycled_tonnes"], fa["unclaimed_recycled_tonnes"], fa["mass_balance_holds"]) == \
        ("0.333", "0.667", True)


def test_an_edited_shipment_line_breaks_the_mass_balance_and_the_audit_names_it(engine):
    partly_recycled_world(engine)
    with engine.begin() as conn:  # behind the log's back: 90 t more shipped from AL-R
        conn.execute(text("UPDATE shipment_line SET kg = 120000 "
                          "WHERE shipment_id = 'S1' AND batch_id = 'AL-R'"))
    with Session(engine) as s:
        fa = recycled(s, period=YEAR).to_json()["facilities"][0]
    # AL-R now "ships" 120 + 30 = 150 t of 100 t: claims 7.5 t of 5 t recycled
    assert fa["claimed_recycled_tonnes"] == "7.500"
    assert fa["mass_balance_holds"] is False
    assert fa["mass_balance_violations"] == ["AL-R: shipped 150.000 t of 100.000 t produced"]
    report = audit.audit(engine, operator_keys=[], extra_checks=[replay_check()], workers=1)
    assert any(f.rule == "projection.differs" and f.table == "shipment_line" for f in report.findings)


def test_the_sample_year_claims_what_the_declared_shipment_footprint_carries(engine):
    scenario(engine)
    with Session(engine) as s:
        data = recycled(s, period=YEAR).to_json()
        fp = Footprints(s, FactorLibrary.load()).shipment("SH-AL-GD-2025-02")
    assert_valid(data, "recycled_report.schema.json")
    smelter = next(f for f in data["facilities"] if f["facility_id"] == "f-smelter")
    # June, September, December batches: 380 + 500 + 640 = 1,520 t of scrap (sample_data/README.md)
    assert (smelter["recycled_tonnes"], smelter["mass_balance_holds"]) == ("1520.000", True)
    claim = next(c for c in smelter["shipments"] if c["shipment_id"] == "SH-AL-GD-2025-02")
    assert Decimal(claim["recycled_tonnes"]) == fp.recycled_tonnes.quantize(Decimal("0.001"))
    assert data["totals"]["claimed_recycled_tonnes"] == smelter["claimed_recycled_tonnes"]
