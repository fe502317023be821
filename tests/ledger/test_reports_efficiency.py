"""Energy-efficiency levels (issue #11.2) against sample_data/efficiency_benchmarks.csv, by worked
examples with their arithmetic written out, and on the sample scenario."""

from __future__ import annotations

from sqlmodel import Session

from ledger.reports.efficiency import BENCHMARK_OF_METAL, benchmark_for, efficiency, load_benchmarks
from ledger.reports.periods import Period
from ledger.reports.targets import load_targets
from tests.ledger.test_reports_world import assert_valid, batch, facility, new_log, scenario

YEAR = Period.of_year(2025)


def test_a_batch_better_than_the_benchmark_and_one_worse_than_the_baseline(engine):
    """Electrolytic aluminium: benchmark 13,000 and baseline 13,350 kWh/t Al (NDRC 2023 list).

    - AL-GOOD: 100 t, no scrap, 1,290 MWh: 1,290,000 / 100 = 12,900 kWh/t <= 13,000: benchmark or better;
    - AL-POOR: 100 t of which 10 t remelted scrap, 1,206 MWh: per *primary* tonne
      1,206,000 / (100 - 10) = 13,400 kWh/t > 13,350: worse than the baseline. Per output tonne it
      would read 12,060 and look better than the benchmark: scrap is not electrolysed.
    Facility: 2,496,000 kWh / 190 primary t = 13,136.842 kWh/t (between); at benchmark or better
    100 of 190 primary t = 52.63 %, 7.37 points short of the plan's 60 %.
    """
    log = new_log(engine)
    log.append_many([
        ("facility.registered", "p-a", facility("f-a", "p-a")),
        ("batch.registered", "p-a", batch("AL-GOOD", month="2025-04", tonnes="100.000", mwh="1290.000")),
        ("batch.registered", "p-a", batch("AL-POOR", month="2025-05", tonnes="100.000", mwh="1206.000",
                                          recycled="10.000", origin="post-consumer scrap")),
    ])
    with Session(engine) as s:
        data = efficiency(s, period=YEAR, targets=load_targets()).to_json()
    assert_valid(data, "efficiency_report.schema.json")
    (fa,) = data["facilities"]
    good, poor = fa["batches"]
    assert (good["batch_id"], good["compared_kwh_per_t"], good["level"]) == ("AL-GOOD", "12900.000",
                                                                             "benchmark_or_better")
    assert (poor["batch_id"], poor["compared_kwh_per_t"], poor["level"]) == ("AL-POOR", "13400.000",
                                                                             "below_baseline")
    assert poor["electricity_kwh_per_t"] == "12060.000"
    assert fa["benchmark"]["benchmark_value"] == "13000" and fa["benchmark"]["baseline_value"] == "13350"
    assert fa["basis"] == "primary tonnes (output - recycled)"
    assert (fa["compared_kwh_per_t"], fa["level"]) == ("13136.842", "between")
    assert fa["tonnes_by_level"] == {"benchmark_or_better": "100.000", "between": "0.000",
                                     "below_baseline": "90.000"}
    assert fa["share_benchmark_or_better_percent"] == "52.63"
    (target,) = fa["targets"]
    assert (target["target_id"], target["gap_percentage_points"], target["met"]) == \
        ("yn_al_efficiency_benchmark_share", "7.37", False)
    # the MIIT new-capacity requirement and the 2015 average are shown as references
    assert {(r["benchmark_value"], r["baseline_value"], r["status"]) for r in fa["references"]} == {
        ("13000", None, "[C]"), (None, "12875", "[C]")}


def test_zinc_and_lead_are_reported_with_what_is_missing_never_a_conversion(engine):
    log = new_log(engine)
    log.append_many([
        ("facility.registered", "p-a", facility("f-zn", "p-a", "zinc electrolysis")),
        ("facility.registered", "p-a", facility("f-pb", "p-a", "lead smelting")),
        # 3,920 MWh for 1,000 t: 3,920 kWh/t metered, but the benchmark is kgce/t
        ("batch.registered", "p-a", batch("ZN-1", "f-zn", metal="Zn", tonnes="1000.000", mwh="3920.000",
                                          cn_code="79011100")),
        ("batch.registered", "p-a", batch("PB-1", "f-pb", metal="Pb", tonnes="500.000", mwh="200.000",
                                          cn_code="78011000")),
    ])
    with Session(engine) as s:
        data = efficiency(s, period=YEAR).to_json()
    assert_valid(data, "efficiency_report.schema.json")
    got = {f["metal"]: f for f in data["facilities"]}
    zn = got["Zn"]
    assert (zn["comparable"], zn["electricity_kwh_per_t"], zn["compared_kwh_per_t"], zn["level"],
            zn["share_benchmark_or_better_percent"]) == (False, "3920.000", None, None, None)
    assert "kgce/t" in zn["missing"] and "GB/T 2589" in zn["missing"]
    assert zn["benchmark"]["unit"] == "kgce/t Zn"  # shown for reference, with its source
    assert [t["met"] for t in zn["targets"]] == [None]  # the 30 % target cannot be judged yet
    pb = got["Pb"]
    assert (pb["comparable"], pb["benchmark"]) == (False, None)
    assert "no benchmark row for metal 'Pb'" in pb["missing"]


def test_every_mapped_metal_finds_its_benchmark_row():
    rows = load_benchmarks()
    for metal in BENCHMARK_OF_METAL:
        main, _ = benchmark_for(metal, rows)
        assert main is not None and main.source and main.status in ("[C]", "[U]"), metal
    assert benchmark_for("Al", rows)[0].unit == "kWh/t Al"


def test_the_sample_smelter_is_between_benchmark_and_baseline_every_month(engine):
    scenario(engine)
    with Session(engine) as s:
        data = efficiency(s, period=YEAR).to_json()
    assert_valid(data, "efficiency_report.schema.json")
    smelter = next(f for f in data["facilities"] if f["facility_id"] == "f-smelter")
    # 13.18-13.30 MWh per tonne of primary metal (sample_data/README.md); June: 164,875 MWh for
    # 12,880 t of which 380 t scrap: 164,875,000 / 12,500 = 13,190 kWh/t
    june = next(b for b in smelter["batches"] if b["month"] == "2025-06")
    assert june["compared_kwh_per_t"] == "13190.000"
    assert {b["level"] for b in smelter["batches"]} == {"between"}
    assert smelter["share_benchmark_or_better_percent"] == "0.00"
    assert {f["metal"]: f["comparable"] for f in data["facilities"]} == {
        "Al": True, "Al2O3": False, "Cu": False, "Zn": False}
