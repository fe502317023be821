"""The printed declaration: a one- or two-page bilingual (Chinese/English) A4 PDF.

What it shows (DESIGN §6): issuer, buyer, product, shipment, reference period, facilities;
the footprint — market-based (headline) and location-based, per tonne and for the shipment —
with the factor family and GWP set; the upstream/direct/electricity breakdown as a table and
a bar chart; the green electricity behind it (attested or not, covered by traceability
vouchers or "certificate only"); the certificates and vouchers used; the factors with their
sources; recycled and primary-data shares; disclosures; the ledger reference; and a QR code to
the online verification page with its URL printed beside it.

Why this way:

* The six headline figures are printed *verbatim* from :func:`certificates.figures.printed_figures`
  of the signed payload, each on its own line, so the verifier can find the very same strings
  in the PDF's text (one definition for both sides).
* Chinese is set in an embedded subset of a TrueType CJK font (:mod:`certificates.fonts`), so
  it displays on any reader and its text extracts.
* Everything a user supplied is XML-escaped before it reaches reportlab's paragraph markup.
* The PDF carries no attachment and no signature yet: reportlab has no attachment API, so
  :mod:`certificates.pades` embeds the payload and signs in one pyHanko revision.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from PIL import Image
from reportlab import rl_config
from reportlab.graphics.barcode import qrencoder
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from certificates.content import Breakdown, DeclarationContent
from certificates.figures import format_decimal, ledger_part, printed_figures
from certificates.fonts import cjk_font
from ledger.errors import InputError

MAX_CERTIFICATE_ROWS = 15
SHOWN_WHEN_TRUNCATED = 12
GREEN = colors.HexColor("#1b5e20")
LIGHT = colors.HexColor("#e8f5e9")
GRID = colors.HexColor("#9e9e9e")
FAMILY_NAMES = {
    "lca-power-footprint": "电力碳足迹因子（生命周期）Power carbon-footprint factors, life cycle "
    "(ISO 14067 / GB/T 24067)",
    "ghg-co2-grid": "电网二氧化碳排放因子 GHG Protocol CO2 grid factors (Scope 2)",
}
_WIDTH = A4[0] - 30 * mm


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=8, leading=10.5)
    return {
        "title": ParagraphStyle("title", base, fontSize=15, leading=19, textColor=GREEN),
        "sub": ParagraphStyle("sub", base, fontSize=8, textColor=colors.HexColor("#424242")),
        "h": ParagraphStyle("h", base, fontSize=10, leading=13, textColor=GREEN,
                            spaceBefore=5, spaceAfter=2),
        "body": base,
        "cell": ParagraphStyle("cell", base, fontSize=7.5, leading=9.5),
        "figure": ParagraphStyle("figure", base, fontSize=9.5, leading=13),
        "headline": ParagraphStyle("headline", base, fontSize=11, leading=15, textColor=GREEN),
        "small": ParagraphStyle("small", base, fontSize=6.5, leading=8.5),
        "tiny": ParagraphStyle("tiny", base, fontSize=6, leading=7.2),
    }


def _t(text: object) -> str:
    return escape(str(text))


def _n(value: Decimal, places: int = 3) -> str:
    return format_decimal(value, places)


def _yes(flag: bool) -> str:
    return "是 yes" if flag else "否 no"


def _table(rows: list[list[Any]], widths: list[float], font: str, *, header: bool = True,
           align_right_from: int | None = None) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
    style = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (0, 0), (-1, -1), 7.5),
        ("GRID", (0, 0), (-1, -1), 0.3, GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), LIGHT))
    if align_right_from is not None:
        style.append(("ALIGN", (align_right_from, 0), (-1, -1), "RIGHT"))
    table.setStyle(TableStyle(style))
    return table


class QrCode(Flowable):
    """A QR code of ``value`` (reportlab's encoder, error correction M) drawn as a 1-bit
    image, one pixel per module. reportlab's ``QrCodeWidget`` draws one rectangle per module
    (hundreds of path operators), which made the page slow to render and, worse, slow to
    extract text from when verifying."""

    def __init__(self, value: str, size: float, border: int = 4) -> None:
        super().__init__()
        code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
        code.addData(value)
        code.make()
        count = code.getModuleCount()
        side = count + 2 * border
        image = Image.new("1", (side, side), 1)
        for r in range(count):
            for c in range(count):
                if code.isDark(r, c):
                    image.putpixel((c + border, r + border), 0)
        self.image = ImageReader(image)
        self.width = self.height = size

    def draw(self) -> None:
        self.canv.drawImage(self.image, 0, 0, self.width, self.height)


def _chart(market: Breakdown, location: Breakdown, font: str) -> Drawing:
    drawing = Drawing(_WIDTH * 0.48, 52 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y = 32, 18
    chart.width, chart.height = _WIDTH * 0.48 - 40, 52 * mm - 40
    parts = ("upstream", "direct", "electricity")
    # floats only for drawing bar heights; every printed figure comes from the Decimals
    chart.data = [
        [float(getattr(market, p)) for p in parts],
        [float(getattr(location, p)) for p in parts],
    ]
    chart.categoryAxis.categoryNames = ["上游 Upstream", "直接 Direct", "电力 Electricity"]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 6.5
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labelTextFormat = lambda v: f"{v:,.0f}"
    chart.bars[0].fillColor = GREEN
    chart.bars[1].fillColor = colors.HexColor("#90a4ae")
    chart.barSpacing = 1
    drawing.add(chart)
    legend = Legend()
    legend.fontName, legend.fontSize = font, 7
    legend.x, legend.y = 40, 52 * mm - 6
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.dx = legend.dy = 6
    legend.deltax = 90
    legend.colorNamePairs = [(GREEN, "基于市场 Market"), (colors.HexColor("#90a4ae"),
                                                         "基于位置 Location")]
    drawing.add(legend)
    drawing.add(String(2, 52 * mm - 16, "kg CO2e/t", fontName=font, fontSize=6.5))
    return drawing


def _parties(c: DeclarationContent, st: dict[str, ParagraphStyle]) -> list[list[Any]]:
    def who(p: Any) -> Paragraph:
        uscc = f"<br/>统一社会信用代码 USCC {_t(p.uscc)}" if p.uscc else ""
        return Paragraph(f"{_t(p.name)}{uscc}", st["cell"])

    period = f"{c.period_start.isoformat()} – {c.period_end.isoformat()}"
    geo = c.geography_subdivision or c.geography_country
    return [
        ["签发方 Issuer", who(c.issuer)],
        ["买方 Buyer", who(c.buyer)],
        ["产品 Product", Paragraph(
            f"{_t(c.product.name)}<br/>牌号 Grade {_t(c.product.grade)} · "
            f"CN 编码 CN code {_t(c.product.cn_code)}", st["cell"])],
        ["发运 Shipment", Paragraph(
            f"{_t(c.shipment_id)} · {c.shipment_date.isoformat()} · {_n(c.tonnes)} t · "
            f"目的地 destination {_t(c.destination_country)}", st["cell"])],
        ["核算期 Reference period", Paragraph(f"{period} · 地区 geography {_t(geo)}",
                                              st["cell"])],
        ["生产设施 Facilities", Paragraph("<br/>".join(_t(f) for f in c.facility_names) or "—",
                                          st["cell"])],
    ]


def _breakdown_table(c: DeclarationContent, font: str) -> Table:
    rows: list[list[Any]] = [["kg CO2e/t", "基于市场 Market", "基于位置 Location"]]
    for zh_en, part in (("上游 Upstream", "upstream"), ("直接 Direct", "direct"),
                        ("电力 Electricity", "electricity")):
        rows.append([zh_en, _n(getattr(c.market, part), 1), _n(getattr(c.location, part), 1)])
    rows.append(["合计 Total", _n(c.market.total, 1), _n(c.location.total, 1)])
    rows.append(["其中化石 of which fossil", _n(c.fossil_kg_per_tonne, 1), "—"])
    for gas, value in sorted(c.by_gas_kg_per_tonne.items()):
        rows.append([f"  {gas}", _n(value, 1), ""])
    return _table(rows, [_WIDTH * 0.2, _WIDTH * 0.14, _WIDTH * 0.14], font, align_right_from=1)


def _green(c: DeclarationContent, st: dict[str, ParagraphStyle]) -> Table:
    share = c.green_mwh * 100 / c.electricity_mwh if c.electricity_mwh else Decimal(0)
    rows = [
        ["计量用电 Metered electricity", f"{_n(c.electricity_mwh)} MWh"],
        ["绿色电力 Green electricity", f"{_n(c.green_mwh)} MWh ({_n(share, 1)} %)"],
        ["经核证机构核验 Attested by a certifier", f"{_n(c.green_mwh_attested)} MWh"],
        ["未核验 Not attested", f"{_n(c.green_mwh - c.green_mwh_attested)} MWh"],
        ["有绿电溯源凭证 Covered by traceability vouchers",
         f"{_n(c.green_mwh_voucher_covered)} MWh"],
        ["仅凭绿证 Certificate only", f"{_n(c.green_mwh - c.green_mwh_voucher_covered)} MWh"],
    ]
    return _table(rows, [_WIDTH * 0.4, _WIDTH * 0.2], st["cell"].fontName, header=False,
                  align_right_from=1)


def _certificates(c: DeclarationContent, st: dict[str, ParagraphStyle]) -> list[Any]:
    font = st["cell"].fontName
    certs = list(c.certificates)
    if not certs:
        return [Paragraph("无 None", st["body"])]
    shown = certs if len(certs) <= MAX_CERTIFICATE_ROWS else certs[:SHOWN_WHEN_TRUNCATED]
    rows: list[list[Any]] = [[Paragraph(h, st["small"]) for h in (
        "登记处<br/>Registry", "起 First – 止 Last", "MWh", "技术<br/>Technology", "电站 Plant",
        "年月<br/>Vintage", "核验<br/>Attested")]]
    for x in shown:
        rows.append([x.registry, Paragraph(f"{_t(x.first)}<br/>{_t(x.last)}", st["small"]),
                     _n(x.mwh), x.technology, Paragraph(_t(x.plant), st["small"]), x.vintage,
                     _yes(x.attested)])
    total = sum((x.mwh for x in certs), Decimal(0))
    if len(shown) < len(certs):
        rest = len(certs) - len(shown)
        rows.append([Paragraph(f"…… 另有 {rest} 条，见附件 declaration.json … and {rest} more, "
                               "see attachment declaration.json", st["small"]),
                     "", "", "", "", "", ""])
    rows.append([f"合计 Total ({len(certs)})", "", _n(total), "", "", "", ""])
    widths = [0.09, 0.33, 0.1, 0.09, 0.23, 0.08, 0.08]
    table = _table(rows, [w * _WIDTH for w in widths], font)
    extra = [("ALIGN", (2, 0), (2, -1), "RIGHT"), ("SPAN", (0, -1), (1, -1))]
    if len(shown) < len(certs):
        extra.append(("SPAN", (0, -2), (-1, -2)))
    table.setStyle(TableStyle(extra))
    return [table]


def _vouchers(c: DeclarationContent, st: dict[str, ParagraphStyle]) -> list[Any]:
    if not c.vouchers:
        return [Paragraph("无 None — green MWh without a voucher are \"certificate only\"",
                          st["body"])]
    rows: list[list[Any]] = [["签发机构 Issuer", "凭证号 Number", "期间 Period", "MWh"]]
    rows += [[Paragraph(_t(v.issuer), st["small"]), v.number, v.period, _n(v.mwh)]
             for v in c.vouchers]
    widths = [0.42, 0.25, 0.18, 0.15]
    return [_table(rows, [w * _WIDTH for w in widths], st["cell"].fontName, align_right_from=3)]


#: sources are cut on the page (DESIGN §6 asks for one or two pages); the attached payload
#: (declaration.json) carries each in full
_SOURCE_CHARS = 64


def _short(text: str, limit: int = _SOURCE_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _factors(c: DeclarationContent, st: dict[str, ParagraphStyle]) -> list[Any]:
    rows: list[list[Any]] = [["因子 Factor", "数值 Value", "单位 Unit",
                              "来源 Source (full text in declaration.json)", "年 Year"]]
    rows += [[Paragraph(_t(f.name), st["tiny"]), format(f.value, "f"), f.unit,
              Paragraph(_t(_short(f.source)), st["tiny"]), str(f.year or "—")]
             for f in c.factors]
    widths = [0.3, 0.1, 0.13, 0.4, 0.07]
    return [_table(rows, [w * _WIDTH for w in widths], st["cell"].fontName)]


def _ledger(payload: dict[str, Any], st: dict[str, ParagraphStyle]) -> list[Any]:
    part = ledger_part(payload)
    if part is None:
        return [Paragraph("尚未记入账本 Not yet recorded in the ledger", st["body"])]
    checkpoint = str(part.get("checkpoint", ""))
    origin = checkpoint.split("\n", 1)[0]
    text = (f"账本序号 Entry seq {_t(part.get('seq'))} · 检查点大小 checkpoint size "
            f"{_t(part.get('treeSize'))} · 日志 log {_t(origin)}<br/>"
            f"叶哈希 Leaf hash (SHA-256) {_t(part.get('leafHash'))}")
    return [Paragraph(text, st["small"])]


def _on_page(font: str, declaration_id: str):
    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 6.5)
        canvas.setFillColor(colors.HexColor("#616161"))
        canvas.drawString(15 * mm, 9 * mm, f"greenledger · {declaration_id}")
        canvas.drawRightString(A4[0] - 15 * mm, 9 * mm, f"第 {doc.page} 页 Page {doc.page}")
        canvas.restoreState()

    return draw


def render_declaration(content: DeclarationContent, payload: dict[str, Any]) -> bytes:
    """The unsigned PDF of a declaration. ``payload`` is the PACT ProductFootprint built from
    the same ``content``; its headline figures and ledger reference are printed from it."""
    c = content
    if payload.get("id") != c.declaration_id:
        raise InputError("payload id differs from the declaration id", field="payload.id")
    font = cjk_font().name
    st = _styles(font)
    figures = printed_figures(payload)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=13 * mm,
        bottomMargin=14 * mm, title=f"Green Product Carbon Footprint Declaration {c.declaration_id}",
        author=c.issuer.name, subject=f"{c.product.name} · {c.shipment_id}",
        creator="greenledger", lang="zh-CN",
    )
    story: list[Any] = [
        Paragraph("绿色产品碳足迹声明 Green Product Carbon Footprint Declaration", st["title"]),
        Paragraph(f"声明编号 Declaration {_t(c.declaration_id)} · 签发 issued "
                  f"{c.created.strftime('%Y-%m-%d %H:%M UTC')} · 状态 status {_t(c.status)}"
                  + (f" · 取代 supersedes {_t(', '.join(c.preceding_ids))}"
                     if c.preceding_ids else ""), st["sub"]),
        Spacer(1, 3 * mm),
    ]
    qr_cell = [QrCode(c.verify_url, 30 * mm), Paragraph(f"扫码在线验证 Scan to verify online<br/>"
                                            f"{_t(c.verify_url)}", st["small"])]
    head = Table([[_table(_parties(c, st), [_WIDTH * 0.2, _WIDTH * 0.52], font, header=False),
                   qr_cell]], colWidths=[_WIDTH * 0.74, _WIDTH * 0.26])
    head.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                              ("LEFTPADDING", (0, 0), (0, 0), 0)]))
    story.append(head)

    story.append(Paragraph("碳足迹（从摇篮到大门）Carbon footprint, cradle to gate", st["h"]))
    lines = [[Paragraph(_t(figures["market_per_tonne"]), st["headline"])]]
    lines += [[Paragraph(_t(figures[k]), st["figure"])]
              for k in ("location_per_tonne", "market_total", "location_total", "tonnes",
                        "green_mwh")]
    box = Table(lines, colWidths=[_WIDTH])
    box.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), LIGHT),
                             ("BOX", (0, 0), (-1, -1), 0.6, GREEN),
                             ("TOPPADDING", (0, 0), (-1, -1), 1),
                             ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    story.append(box)
    family = FAMILY_NAMES.get(c.factor_family, c.factor_family)
    story.append(Paragraph(
        f"电力因子类别 Power factor family: {_t(family)} [{_t(c.factor_family)}] · "
        f"全球增温潜势 GWP: IPCC {_t(c.gwp_set)} · 基于市场为主要数值，基于位置并列 "
        "Market-based is the headline; location-based is shown beside it.", st["small"]))

    story.append(Paragraph("分项 Breakdown", st["h"]))
    split = Table([[_breakdown_table(c, font), _chart(c.market, c.location, font)]],
                  colWidths=[_WIDTH * 0.5, _WIDTH * 0.5])
    split.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (0, 0), 0)]))
    story.append(split)

    story.append(KeepTogether([Paragraph("绿色电力 Green electricity", st["h"]),
                               _green(c, st)]))
    # the ledger reference sits on page 1, by the figures it proves: page 2 grows with the
    # certificates and factors of the shipment (DESIGN §6: one or two pages)
    story.append(KeepTogether([Paragraph("账本记录 Ledger reference", st["h"]),
                               *_ledger(payload, st), Paragraph(
        "本声明的机器可读数据（PACT v3 ProductFootprint）及其 JWS 签名作为附件嵌入，并以 PAdES "
        "电子签名签署。The machine-readable payload (PACT v3 ProductFootprint, "
        "declaration.json) and its detached JWS (declaration.jws) are attached; the file is "
        "PAdES-signed by the issuer. Verify: greenledger verify FILE.pdf", st["tiny"])]))
    story.append(PageBreak())
    story.append(Paragraph("绿证 Green-power certificates retired to the shipped batches 已注销至所发运批次",
                           st["h"]))
    story += _certificates(c, st)
    story.append(Paragraph("绿电溯源凭证 Traceability vouchers", st["h"]))
    story += _vouchers(c, st)
    story.append(Paragraph("所用因子 Factors used", st["h"]))
    story += _factors(c, st)
    story.append(Paragraph("数据质量、系统边界与说明 Data quality, boundary and disclosures", st["h"]))
    story.append(Paragraph(
        f"再生料比例 Recycled input share: {_n(c.recycled_share, 2)} % · "
        f"初级数据比例 Primary data share: {_n(c.primary_data_share, 2)} %", st["body"]))
    story.append(Paragraph(_t(c.boundary), st["small"]))
    for note in c.notes:
        story.append(Paragraph("• " + _t(note), st["tiny"]))
    on_page = _on_page(font, c.declaration_id)
    # Flate only, no ASCII85 layer: smaller file, and faster text extraction when verifying
    saved, rl_config.useA85 = rl_config.useA85, 0
    try:
        doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    finally:
        rl_config.useA85 = saved
    return buffer.getvalue()
