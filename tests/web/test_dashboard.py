"""The producer dashboard: who may see it, only the signed-in producer's own rows, the
inventory arithmetic (expired apart from left) and the footprint chart."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from sqlmodel import Session, select

from api.web.dashboard import inventory
from ledger.domain.tables import Batch, Certificate, Declaration, Facility, Shipment
from ledger.store.engine import make_engine

OTHER_PRODUCERS = ("p-copper", "p-refinery", "p-zinc")


def test_the_dashboard_needs_a_producer_key(client, signed_in):
    answer = client.get("/dashboard")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login?next=/dashboard")
    for holder in ("buyer", "certifier", "operator", "smelter-buyer"):
        answer = signed_in(holder).get("/dashboard")
        assert answer.status_code == 302 and "needs=producer" in answer.headers["Location"], holder


def _other_producers_ids(web_world) -> set[str]:
    engine = make_engine(web_world.settings.database_url)
    ids: set[str] = {web_world.api.copper_declaration}
    with Session(engine) as session:
        for p in OTHER_PRODUCERS:
            ids |= set(session.scalars(select(Batch.batch_id).where(Batch.owner == p)))
            ids |= set(session.scalars(select(Certificate.certificate_id).where(Certificate.owner == p)))
            ids |= set(session.scalars(select(Facility.facility_id).where(Facility.owner == p)))
            ids |= set(session.scalars(select(Shipment.shipment_id).where(Shipment.seller == p)))
            ids |= set(session.scalars(select(Declaration.declaration_id).where(Declaration.issuer == p)))
    engine.dispose()
    return ids


def test_only_the_producers_own_data_is_on_its_dashboard(signed_in, web_world):
    html = signed_in("producer").get("/dashboard").get_data(as_text=True)
    for mine in ("AL-2025-01", "AL-2025-12", web_world.eu_declaration, web_world.api.declaration,
                 web_world.revoked_declaration, "澜沧江示例水电站"):
        assert mine in html, mine
    leaked = sorted(i for i in _other_producers_ids(web_world) if i in html)
    assert leaked == [], leaked
    assert len(_other_producers_ids(web_world)) > 40  # the check checks something
    for party in (*OTHER_PRODUCERS, "p-buyer-cable", "p-buyer-galv"):
        assert party not in html, party
    copper = signed_in("copper").get("/dashboard").get_data(as_text=True)
    assert "CU-2025-07" in copper and "AL-2025-01" not in copper
    assert web_world.eu_declaration not in copper


def test_the_chart_is_an_svg_with_a_market_and_a_location_bar_per_batch(signed_in):
    html = signed_in("producer").get("/dashboard").get_data(as_text=True)
    svg = re.search(r"<svg[^>]*class=\"bars\".*?</svg>", html, re.S).group(0)
    assert len(re.findall(r'<rect class="bar s0"', svg)) == 12
    assert len(re.findall(r'<rect class="bar s1"', svg)) == 12
    assert "style=" not in svg  # the CSP allows no inline style
    assert "市场法" in html and "位置法" in html


def test_market_based_per_tonne_is_what_the_footprint_engine_says(signed_in, web_world):
    from ledger.domain.footprints import Footprints
    from ledger.factors import FactorLibrary

    html = signed_in("producer").get("/dashboard?lang=en").get_data(as_text=True)
    row = re.search(r'data-batch="AL-2025-03">(.*?)</tr>', html, re.S).group(1)
    engine = make_engine(web_world.settings.database_url)
    with Session(engine) as session:
        fp = Footprints(session, FactorLibrary.load()).batch("AL-2025-03")
    engine.dispose()
    assert f'class="market">{fp.market_per_tonne.total.quantize(Decimal("0.1")):,}<' in row


def _cert(kwh: int, allocated: int, cancelled: int, expires: str, plant: str = "P",
          tech: str = "hydro") -> Certificate:
    return Certificate(certificate_id="x", registry_name="CN-GEC", block="b", first="1", last="2",
                       first_no=1, last_no=2, kwh=kwh, allocated_kwh=allocated,
                       cancelled_kwh=cancelled, technology=tech, plant=plant,
                       plant_province="CN-YN", country="CN", generation_month="2024-11",
                       expires_month=expires, tradable=False, transfers=0, owner="p",
                       evidence_ref="r", evidence_sha256="0" * 64, status="active", seq=1)


def test_unused_mwh_of_expired_certificates_are_not_left():
    rows = inventory([_cert(10_000, 4_000, 0, "2026-10"), _cert(5_000, 1_000, 0, "2026-11"),
                      _cert(3_000, 1_000, 2_000, "2025-01"), _cert(7_000, 0, 0, "2027-01", tech="wind")],
                     date(2026, 11, 26))
    hydro, wind = rows
    assert (hydro.certificates, hydro.total_mwh, hydro.allocated_mwh, hydro.cancelled_mwh) == (3, 18, 6, 2)
    assert (hydro.left_mwh, hydro.expired_mwh) == (4, 6)  # 2026-10 is past; 2026-11 is still valid
    assert (wind.left_mwh, wind.expired_mwh) == (7, 0)


def test_the_dashboard_charts_every_report_of_the_plan(signed_in):
    """Issue 11: a chart per report (green share, efficiency, recycled), in both languages,
    with the figures of ledger.reports (smelter 2025: 13,227 kWh/t against 13,000)."""
    zh = signed_in("producer").get("/dashboard").get_data(as_text=True)
    en = signed_in("producer").get("/dashboard?lang=en").get_data(as_text=True)
    for chart in ("green-chart-1", "efficiency-chart-1", "recycled-chart-1"):
        assert f'id="{chart}"' in zh and f'id="{chart}"' in en
    assert "能效水平" in zh and "Energy efficiency" in en
    assert "13,227 kWh/t" in en and "benchmark 13,000" in en
    assert "Recycled input 1,520.000 t" in en and "mass balance holds" in en
