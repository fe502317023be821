"""The printed declaration: content, embedded CJK font, figures shared with the verifier."""

from __future__ import annotations

import io
import subprocess
import warnings
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from certificates import fonts
from certificates.figures import (
    FIGURES,
    format_decimal,
    greenledger_data,
    missing_figures,
    printed_figures,
    squeeze,
)
from certificates.pact import build_product_footprint
from certificates.pdf import render_declaration
from ledger.errors import InputError
from tests.certificates.conftest import World
from tests.certificates.sample import SCHEMA_URL, sample_content

TITLE = "绿色产品碳足迹声明"


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=30).stdout


def _text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize(("value", "places", "expected"), [
    (Decimal("5640.42125"), 3, "5,640.421"),
    (Decimal("5640.4215"), 3, "5,640.422"),  # half-even
    (Decimal("5640.4225"), 3, "5,640.422"),
    (Decimal("1234567"), 3, "1,234,567.000"),
    (Decimal("-0.0001"), 3, "0.000"),  # never "-0.000"
    (Decimal("0.5"), 0, "0"),
])
def test_format_decimal_is_fixed_point_with_separators(value, places, expected):
    assert format_decimal(value, places) == expected


def test_printed_figures_come_from_the_payload(world: World):
    figures = printed_figures(world.a.payload)
    assert set(figures) == set(FIGURES)
    assert figures["market_per_tonne"].endswith(": 5,458.109 kg CO2e/t")
    assert figures["location_per_tonne"].endswith(": 12,311.485 kg CO2e/t")
    # per kg in the payload x 1250 t = t CO2e, rounded once
    assert figures["market_total"].endswith(": 6,822.636 t CO2e")
    assert figures["tonnes"].endswith(": 1,250.000 t")
    assert figures["green_mwh"].endswith(": 15,200.000 MWh")


def test_printed_figures_refuse_a_malformed_payload(world: World):
    with pytest.raises(InputError):
        printed_figures({"extensions": []})
    broken = {"extensions": [{"data": {"marketBased": {"total": 4.2}}}]}
    with pytest.raises(InputError):
        printed_figures(broken)
    with pytest.raises(InputError):
        greenledger_data("not a dict")


def test_every_printed_figure_is_extracted_by_pypdf_and_pdftotext(world: World,
                                                                   signed_pdf: Path):
    assert missing_figures(world.a.payload, _text(world.a.pdf)) == []
    poppler = _run("pdftotext", "-layout", str(signed_pdf), "-")
    assert missing_figures(world.a.payload, poppler) == []
    assert squeeze(printed_figures(world.b.payload)["tonnes"]) not in squeeze(poppler)


def test_the_cjk_font_is_embedded_as_a_subset_and_the_title_extracts(signed_pdf: Path):
    listing = _run("pdffonts", str(signed_pdf)).splitlines()[2:]
    cjk = [line for line in listing if "WenQuanYi" in line]
    assert cjk, listing
    for line in cjk:
        name, *_, emb, sub, uni, _obj, _gen = line.split()
        assert "+" in name and (emb, sub, uni) == ("yes", "yes", "yes")
    assert TITLE in _run("pdftotext", str(signed_pdf), "-")


def test_first_page_renders(signed_pdf: Path, tmp_path: Path):
    _run("pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(signed_pdf),
         str(tmp_path / "page"))
    (png,) = tmp_path.glob("page*.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    info = _run("pdfinfo", str(signed_pdf))
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert 1 <= pages <= 2
    assert "A4" in info


def test_the_page_carries_the_whole_declaration(world: World):
    text = squeeze(_text(world.a.unsigned_pdf))
    c = world.a.content
    for expected in [
        TITLE, "GreenProductCarbonFootprintDeclaration", c.issuer.name, c.buyer.name,
        c.product.grade, c.product.cn_code, c.shipment_id, "2024-04-17", "DE",
        "2024-03-01", "2024-03-31", "Wenshanpotline1", "lca-power-footprint", "AR6",
        "上游Upstream", "直接Direct", "电力Electricity", "16,937.500MWh", "12,000.000MWh",
        "3,200.000MWh", "14,000.000MWh", "1,200.000MWh", "CN-GEC", c.certificates[0].first,
        c.certificates[0].last, "and4more,seeattachment",
        "KMPX-2024-03-000871", "0.5777", "MEE/NBS/NEA", "3.20%", "78.50%",
        "Entryseq3", "checkpointsize6", world.a.payload["extensions"][0]["data"]["ledger"][
            "leafHash"], c.verify_url, "Noprovincialresidualmixexists",
    ]:
        assert squeeze(expected) in text, expected
    # certificates beyond the first 12 are in the attachment only
    assert c.certificates[12].first not in text


def test_up_to_fifteen_certificates_are_all_listed(world: World):
    content = world.b.content  # four certificates
    text = squeeze(_text(world.b.unsigned_pdf))
    assert all(x.first in text for x in content.certificates)
    assert "more,seeattachment" not in text


def test_markup_in_user_text_is_printed_not_interpreted():
    content = sample_content(boundary="Cradle to gate <b>&amp; <unclosed", notes=("a < b",))
    payload = build_product_footprint(content, extension_schema_url=SCHEMA_URL, ledger=None)
    text = _text(render_declaration(content, payload))
    assert "<b>&amp; <unclosed" in text and "a < b" in text
    assert "Notyetrecordedintheledger" in squeeze(text)


def test_payload_of_another_declaration_is_refused(world: World):
    with pytest.raises(InputError):
        render_declaration(world.a.content, world.b.payload)


def test_missing_cjk_font_falls_back_to_stsong_with_a_warning(monkeypatch):
    monkeypatch.setattr(fonts, "_registered", None)
    with pytest.warns(RuntimeWarning, match="fonts-wqy-microhei"):
        font = fonts.cjk_font((Path("/nonexistent/wqy-microhei.ttc"),))
    assert font.name == fonts.FALLBACK_FONT and not font.embedded
    monkeypatch.setattr(fonts, "_registered", None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fonts.cjk_font().embedded


def test_rendering_the_same_content_with_more_notes_still_fits_two_pages(world: World):
    content = replace(world.a.content, notes=tuple(f"Disclosure {i}: " + "x " * 40
                                                   for i in range(6)))
    pdf = render_declaration(content, world.a.payload)
    assert len(PdfReader(io.BytesIO(pdf)).pages) <= 2
