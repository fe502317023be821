"""Green-electricity share (issue #11.1), by worked examples with their arithmetic written out,
against the footprint's own figures, on the sample scenario, and one property: a GEC counted in
one facility's share is never counted in another's."""

from __future__ import annotations

import contextlib
import itertools
import random
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import Session

from ledger.domain.footprints import Footprints
from ledger.domain.rules import Rules
from ledger.domain.tables import Allocation, Batch, Certificate
from ledger.errors import GreenledgerError, NotFound, RuleViolation
from ledger.factors import FactorLibrary
from ledger.reports.green_share import green_share
from ledger.reports.periods import Period
from ledger.reports.targets import load_targets
from ledger.store.engine import make_engine
from ledger.store.migrate import upgrade
from tests.ledger.test_reports_world import (
    HYDRO,
    OLD_SOLAR,
    SOLAR,
    WIND,
    allocation,
    assert_valid,
    batch,
    cert_id,
    certificate,
    facility,
    gec,
    new_log,
    scenario,
)

YEAR = Period.of_year(2025)


def half_covered_world(engine):
    """Smelter f-a, March 2025: one batch metering 1,300 MWh.

    - hydro GEC 2025-03, codes 1..1000, non-tradable (existing hydro): 500 allocated to the batch,
      500 left in inventory;
    - wind GEC 2025-02, codes 1..150, tradable: all 150 allocated, attested by the certifier;
    - solar GEC 2023-01, 200 MWh: expired after 2024-12 (valid 2 years), so it cannot be
      allocated and stays in inventory;
    - a traceability voucher of the Kunming exchange for March naming hydro codes 1..500.
    """
    log = new_log(engine)
    log.append_many([
        ("facility.registered", "p-a", facility("f-a", "p-a")),
        ("certificate.registered", "p-a", certificate(HYDRO, "2025-03", 1, 1000, technology="hydro")),
        ("certificate.registered", "p-a", certificate(WIND, "2025-02", 1, 150, technology="wind")),
        ("certificate.registered", "p-a", certificate(OLD_SOLAR, "2023-01", 1, 200, technology="solar")),
        ("batch.registered", "p-a", batch("AL-1")),
        ("voucher.registered", "p-a", {
            "issuer": "昆明电力交易中心 KMPX", "number": "V-2025-03", "facility": "f-a",
            "period_start": "2025-03", "period_end": "2025-03", "mwh": "500.000", "technology": "hydro",
            "certificate_first": gec(HYDRO, "2025-03", 1), "certificate_last": gec(HYDRO, "2025-03", 500),
            "evidence_sha256": "cd" * 32}),
        ("allocation.recorded", "p-a", allocation("A-hydro", HYDRO, "2025-03", 1, 1, 500, "AL-1")),
        ("allocation.recorded", "p-a", allocation("A-wind", WIND, "2025-02", 1, 1, 150, "AL-1")),
        ("certificate.attested", "p-cert", {"certificate": cert_id(WIND, "2025-02", 1),
                                            "evidence_sha256": "ab" * 32}),
    ])
    return log


def test_a_facility_half_covered_with_an_expired_and_a_non_tradable_certificate(engine):
    log = half_covered_world(engine)
    with pytest.raises(RuleViolation) as refused:  # the rules already refuse the expired GEC
        log.append("allocation.recorded", "p-a", allocation("A-old", OLD_SOLAR, "2023-01", 1, 1, 200, "AL-1"))
    assert refused.value.rule == "allocation.expired"

    with Session(engine) as s:
        report = green_share(s, period=YEAR, targets=load_targets())
    data = report.to_json()
    assert_valid(data, "green_share_report.schema.json")
    (fa,) = data["facilities"]
    # counted = 500 (hydro, non-tradable) + 150 (wind, tradable) = 650 MWh of 1,300 metered: 50 %
    assert (fa["electricity_mwh"], fa["green_mwh"], fa["green_share_percent"]) == \
        ("1300.000", "650.000", "50.00")
    assert fa["gec_mwh"] == "650.000" and fa["gec_share_percent"] == "50.00"
    assert fa["by_technology"] == {"hydro": "500.000", "wind": "150.000"}
    assert fa["by_tradable"] == {"non_tradable": "500.000", "tradable": "150.000"}
    assert fa["by_vintage"] == {"2025-02": "150.000", "2025-03": "500.000"}
    assert fa["by_registry"] == {"CN-GEC": "650.000"}
    # the voucher names hydro codes 1..500, exactly the hydro allocation: 500 covered, the wind
    # GEC bought without electricity is certificate only: 650 - 500 = 150
    assert (fa["voucher_mwh"], fa["voucher_covered_mwh"], fa["certificate_only_mwh"]) == \
        ("500.000", "500.000", "150.000")
    assert fa["attested_mwh"] == "150.000"
    assert fa["allocated_not_counted"] == {}
    assert [m["month"] for m in fa["months"]] == ["2025-03"]
    # inventory, not counted: hydro 1000 - 500 = 500 available; the 2023 solar 200 MWh expired
    inventory = data["inventory_not_counted"]
    assert inventory["by_reason"] == {"available": "500.000", "expired": "200.000",
                                      "vintage_outside_year": "0.000", "cancelled": "0.000"}
    expired = [x for x in inventory["lines"] if x["reason"] == "expired"]
    assert expired == [{"holder": "p-a", "reason": "expired", "registry": "CN-GEC", "technology": "solar",
                        "tradable": True, "vintage": "2023-01", "expires_month": "2024-12",
                        "certificates": 1, "mwh": "200.000"}]
    targets = {t["target_id"]: t for t in fa["targets"]}
    # GEC full coverage (our [U] reading of 全覆盖): 100 - 50 = 50 points, 1,300 - 650 = 650 MWh short
    full = targets["yn_gec_full_coverage"]
    assert (full["gap_percentage_points"], full["gap_mwh"], full["met"]) == ("50.00", "650.000", False)
    # Yunnan aluminium 70 % [U], counted in GECs: 70 - 50 = 20 points; 0.70 x 1,300 - 650 = 260 MWh
    yunnan = targets["cn_al_green_power_yunnan"]
    assert (yunnan["gap_percentage_points"], yunnan["gap_mwh"], yunnan["status"]) == \
        ("20.00", "260.000", "[U]")
    # national peaking plan, aluminium renewable share >= 25 % [C]: met, 25 points above
    peaking = targets["cn_al_renewable_share_2025"]
    assert (peaking["met"], peaking["gap_percentage_points"], peaking["status"]) == (True, "-25.00", "[C]")

    # the same figures as the footprint of the batch (same voucher rule)
    with Session(engine) as s:
        fp = Footprints(s, FactorLibrary.load()).batch("AL-1").to_json()
    assert (fp["green_mwh"], fp["green_mwh_voucher_covered"], fp["green_share_percent"]) == \
        (fa["green_mwh"], fa["voucher_covered_mwh"], fa["green_share_percent"])


def test_an_allocation_outside_the_report_year_is_reported_but_not_counted(engine):
    """A ledger configured with a one-year vintage window accepts a 2024-12 GEC for a January 2025
    batch; the plan's shares are per calendar year, so by default the report does not count it."""
    log = new_log(engine, Rules(vintage_window_years=1))
    log.append_many([
        ("facility.registered", "p-a", facility("f-a", "p-a")),
        ("certificate.registered", "p-a", certificate(SOLAR, "2024-12", 1, 100, technology="solar")),
        ("batch.registered", "p-a", batch("AL-1", month="2025-01", mwh="400.000")),
        ("allocation.recorded", "p-a", allocation("A1", SOLAR, "2024-12", 1, 1, 100, "AL-1")),
    ])
    with Session(engine) as s:
        strict = green_share(s, period=YEAR).to_json()["facilities"][0]
        window = green_share(s, period=YEAR, vintage_window_years=1).to_json()["facilities"][0]
    assert (strict["green_mwh"], strict["green_share_percent"]) == ("0.000", "0.00")
    assert strict["allocated_not_counted"] == {"vintage_outside_year": "100.000"}
    # with the ledger's own window: 100 / 400 = 25 %
    assert (window["green_mwh"], window["green_share_percent"], window["allocated_not_counted"]) == \
        ("100.000", "25.00", {})


def _coverage_world(engine, vouchers):
    log = new_log(engine)
    log.append_many([
        ("facility.registered", "p-a", facility("f-a", "p-a")),
        ("certificate.registered", "p-a", certificate(HYDRO, "2025-03", 1, 1000, technology="hydro")),
        ("certificate.registered", "p-a", certificate(WIND, "2025-03", 1, 400, technology="wind")),
        ("batch.registered", "p-a", batch("AL-1", mwh="1300.000")),
        ("batch.registered", "p-a", batch("AL-2", mwh="700.000")),
        ("allocation.recorded", "p-a", allocation("A1", HYDRO, "2025-03", 1, 1, 300, "AL-1")),
        ("allocation.recorded", "p-a", allocation("A2", HYDRO, "2025-03", 1, 301, 600, "AL-2")),
        ("allocation.recorded", "p-a", allocation("A3", WIND, "2025-03", 1, 1, 400, "AL-1")),
        *[("voucher.registered", "p-a", v) for v in vouchers],
    ])


def _voucher(number, mwh, a=None, b=None):
    v = {"issuer": "KMPX", "number": number, "facility": "f-a", "period_start": "2025-03",
         "period_end": "2025-03", "mwh": mwh, "technology": "hydro", "evidence_sha256": ""}
    if a is not None:
        v.update(certificate_first=gec(HYDRO, "2025-03", a), certificate_last=gec(HYDRO, "2025-03", b))
    return v


@pytest.mark.parametrize("vouchers, covered", [
    # codes 201..400 cut across both hydro allocations (1..300 and 301..600): 100 + 100 = 200
    ([_voucher("V1", "200.000", 201, 400)], "200.000"),
    # two vouchers naming the same codes never cover an allocation twice: capped at 300 + 300
    ([_voucher("V1", "1000.000", 1, 1000), _voucher("V2", "500.000", 1, 500)], "600.000"),
    # a voucher without codes covers the green MWh pro rata: 350 / (700 + 300) of each batch's
    # 700 and 300 green MWh = 245 + 105 = 350
    ([_voucher("V3", "350.000")], "350.000"),
    # codes first (hydro 1..300 fully, 301..600 not), then 200 loose MWh over the 1,000 green
    # MWh of the month: AL-1 300 + (700 - 300) x 0.2 = 380, AL-2 0 + 300 x 0.2 = 60; 440
    ([_voucher("V1", "300.000", 1, 300), _voucher("V4", "200.000")], "440.000"),
])
def test_voucher_coverage_equals_the_footprints(engine, vouchers, covered):
    _coverage_world(engine, vouchers)
    with Session(engine) as s:
        fa = green_share(s, period=YEAR).to_json()["facilities"][0]
        fps = Footprints(s, FactorLibrary.load())
        per_batch = sum(fps.batch(b).green_mwh_voucher_covered for b in ("AL-1", "AL-2"))
    assert fa["green_mwh"] == "1000.000"
    assert fa["voucher_covered_mwh"] == covered
    assert Decimal(fa["voucher_covered_mwh"]) == per_batch.quantize(Decimal("0.001"))


def test_the_sample_year_matches_the_scenario_and_the_footprints(engine):
    scenario(engine)
    with Session(engine) as s:
        data = green_share(s, period=YEAR).to_json()
        fps = Footprints(s, FactorLibrary.load())
        batches = list(s.scalars(select(Batch)))
        per_facility: dict[str, list[Decimal]] = {}
        for b in batches:
            fp = fps.batch(b.batch_id)
            acc = per_facility.setdefault(b.facility, [Decimal(0)] * 3)
            acc[0] += fp.electricity_mwh
            acc[1] += fp.green_mwh
            acc[2] += fp.green_mwh_voucher_covered
        march = green_share(s, period=Period.of_year(2025, 3), facility="f-smelter").to_json()
    assert_valid(data, "green_share_report.schema.json")
    got = {f["facility_id"]: f for f in data["facilities"]}
    # sample_data/README.md: allocated MWh / metered MWh per facility
    assert {k: v["green_share_percent"] for k, v in got.items()} == {
        "f-copper": "37.53", "f-refinery": "32.30", "f-smelter": "76.58", "f-zinc": "47.18"}
    smelter = got["f-smelter"]
    # 1,509,208 allocated of 1,970,852 metered; vouchers cover the 1,384,073 hydro MWh;
    # 125,135 are certificate only
    assert (smelter["green_mwh"], smelter["voucher_covered_mwh"], smelter["certificate_only_mwh"]) == \
        ("1509208.000", "1384073.000", "125135.000")
    for fid, (mwh, green, covered) in per_facility.items():
        assert (got[fid]["electricity_mwh"], got[fid]["green_mwh"], got[fid]["voucher_covered_mwh"]) == \
            tuple(str(x.quantize(Decimal("0.001"))) for x in (mwh, green, covered)), fid
    # the 2024 GECs stay in inventory (README: unallocated smelter 91,015, copper 35,050 MWh)
    held: dict[str, Decimal] = {}
    for line in data["inventory_not_counted"]["lines"]:
        held[line["holder"]] = held.get(line["holder"], Decimal(0)) + Decimal(line["mwh"])
    assert held == {"p-smelter": Decimal("91015"), "p-copper": Decimal("35050"), "p-zinc": Decimal("7540"),
                    "p-refinery": Decimal("2560")}
    # March, the dry month, is covered 50 %
    (m,) = march["facilities"]
    assert (m["green_share_percent"], [x["month"] for x in m["months"]]) == ("50.00", ["2025-03"])


def test_an_unknown_facility_is_not_found(engine):
    new_log(engine)
    with Session(engine) as s, pytest.raises(NotFound):
        green_share(s, period=YEAR, facility="f-none")


def test_a_facility_without_batches_has_no_share_rather_than_zero(engine):
    log = new_log(engine)
    log.append("facility.registered", "p-a", facility("f-a", "p-a"))
    with Session(engine) as s:
        (fa,) = green_share(s, period=YEAR, facility="f-a").to_json()["facilities"]
    assert (fa["electricity_mwh"], fa["green_share_percent"]) == ("0.000", None)
    assert all(t["met"] is None for t in fa["targets"])


# -- property: no double counting across facilities ------------------------------------------

CERTS = [("p-a", HYDRO, "2025-03", 1, 800, "hydro"), ("p-a", WIND, "2025-05", 1, 600, "wind"),
         ("p-b", SOLAR, "2025-04", 1, 700, "solar"), ("p-a", SOLAR, "2025-06", 1, 300, "solar")]
FACILITIES = [("f-a1", "p-a"), ("f-a2", "p-a"), ("f-b", "p-b")]
BATCHES = [(f"{fid}-{m}", fid, m) for fid, _ in FACILITIES for m in ("2025-06", "2025-09")]


def _property_world(engine):
    log = new_log(engine, None, "p-b")
    log.append_many(
        [("facility.registered", owner, facility(fid, owner)) for fid, owner in FACILITIES]
        + [("certificate.registered", owner, certificate(block, month, a, b, technology=tech, owner=owner))
           for owner, block, month, a, b, tech in CERTS]
        + [("batch.registered", dict(FACILITIES)[fid], batch(bid, fid, month=m, mwh="500.000"))
           for bid, fid, m in BATCHES])
    return log


def _random_operation(rng: random.Random, n: int):
    owner, block, month, first, last, _ = rng.choice(CERTS)
    if rng.random() < 0.1:  # a transfer (refused once partly used, or if not tradable)
        return "certificate.transferred", owner, {"certificate": cert_id(block, month, first),
                                                  "to": "p-b" if owner == "p-a" else "p-a"}
    a = rng.randint(first, last)
    b = min(last, a + rng.randint(0, 250))
    bid, fid, _ = rng.choice(BATCHES)
    actor = owner if rng.random() < 0.85 else rng.choice(["p-a", "p-b"])  # sometimes an impostor
    body = allocation(f"A{n}", block, month, first, a, b, bid, beneficiary=dict(FACILITIES)[fid])
    return "allocation.recorded", actor, body


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32), steps=st.integers(5, 40))
def test_a_gec_counted_in_one_facility_is_never_counted_in_another(sqlite_url, seed, steps):
    engine = make_engine(sqlite_url.replace("ledger.db", f"p{seed}-{steps}.db"))
    upgrade(engine)
    log = _property_world(engine)
    rng = random.Random(seed)
    for n in range(steps):
        with contextlib.suppress(GreenledgerError):  # a refusal is what must happen to a double claim
            log.append(*_random_operation(rng, n))
    with Session(engine) as s:
        reports = {fid: green_share(s, period=YEAR, facility=fid, by_certificate=True)
                   .to_json()["facilities"][0] for fid, _ in FACILITIES}
        everyone = green_share(s, period=YEAR).to_json()
        certs = {c.certificate_id: c for c in s.scalars(select(Certificate))}
        facility_of = {b.batch_id: b.facility for b in s.scalars(select(Batch))}
        allocs = list(s.scalars(select(Allocation)))
    # each facility counts exactly the allocations to its own batches, certificate by certificate
    for fid, rep in reports.items():
        mine: dict[str, int] = {}
        for a in allocs:
            if facility_of[a.batch_id] == fid:
                mine[a.certificate_id] = mine.get(a.certificate_id, 0) + a.kwh
        assert {k: Decimal(v) * 1000 for k, v in rep["by_certificate"].items()} == \
            {k: Decimal(v) for k, v in mine.items()}
    # ... and the codes behind two facilities' counts never meet
    for (f1, _), (f2, _) in itertools.combinations(FACILITIES, 2):
        for a1, a2 in itertools.product(allocs, allocs):
            if facility_of[a1.batch_id] == f1 and facility_of[a2.batch_id] == f2 \
                    and a1.certificate_id == a2.certificate_id:
                assert a1.last_no < a2.first_no or a2.last_no < a1.first_no, "a code counted twice"
    # so a certificate's MWh counted across all facilities never exceed the certificate
    for cid, cert in certs.items():
        counted = sum(Decimal(rep["by_certificate"].get(cid, "0")) for rep in reports.values())
        assert counted * 1000 <= cert.kwh
    # and the shares add up: the all-facility total is the sum of the per-facility counts
    assert Decimal(everyone["totals"]["green_mwh"]) == sum(Decimal(r["green_mwh"]) for r in reports.values())
    engine.dispose()
