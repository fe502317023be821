"""The text pages display, as the verifier reads it (PDFium): the same text as pypdf (without
its layout), from content streams and forms, through each font's encoding, in the latest
revision; and a file it cannot open fails instead of passing."""

from __future__ import annotations

import io
import zlib

import pytest
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont

from certificates import fonts
from certificates import pdf as pdf_module
from certificates.figures import missing_figures, squeeze
from certificates.pact import build_product_footprint
from certificates.pdf_text import PdfTextError, document, page_text
from tests.certificates.conftest import World
from tests.certificates.sample import SCHEMA_URL, sample_content

HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
def _pdf(content: bytes, resources: bytes = b"<< /Font << /F1 4 0 R >> >>",
         *objects: bytes) -> bytes:
    """A one-page PDF: 1 catalog, 2 pages, 3 the page, 4 Helvetica, 5 its content (Flate),
    then ``objects`` as 6, 7, ..."""
    compressed = zlib.compress(content)
    bodies = [b"<< /Type /Catalog /Pages 2 0 R >>",
              b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
              b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 5 0 R "
              b"/Resources " + resources + b" >>",
              HELVETICA,
              b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(compressed)
              + compressed + b"\nendstream", *objects]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(bodies, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(bodies) + 1,
                                                                               xref)
    return bytes(out)


def _stream(data: bytes, entries: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n" % (len(data), entries) + data + b"\nendstream"


def _text(pdf: bytes) -> list[str]:
    with document(pdf) as doc:
        return [page_text(doc, i) for i in range(len(doc))]


def _shown(content: bytes, resources: bytes = b"<< /Font << /F1 4 0 R >> >>",
           *objects: bytes) -> str:
    """What the page of a one-page PDF shows, whitespace removed."""
    return squeeze(_text(_pdf(content, resources, *objects))[0])


def test_declarations_read_as_pypdf_reads_them_without_its_layout(world: World):
    for pdf in (world.a.pdf, world.b.pdf):
        pages = [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]
        assert [squeeze(t) for t in _text(pdf)] == [squeeze(t) for t in pages]


def test_the_stsong_fallback_font_reads_too(monkeypatch):
    pdfmetrics.registerFont(UnicodeCIDFont(fonts.FALLBACK_FONT))
    monkeypatch.setattr(pdf_module, "cjk_font",
                        lambda: fonts.RegisteredFont(fonts.FALLBACK_FONT, False, None))
    content = sample_content()
    payload = build_product_footprint(content, extension_schema_url=SCHEMA_URL, ledger=None)
    text = "\n".join(_text(pdf_module.render_declaration(content, payload)))
    assert missing_figures(payload, text) == [] and "绿色产品碳足迹声明" in text


def test_strings_are_unescaped_and_decoded_by_their_font():
    content = (b"BT /F1 12 Tf 10 100 Td (Hello \\(world\\) \\101\\102\\60) Tj "
               b"0 -20 Td <48 65 6C6C6F> Tj 0 -20 Td [(A) -120 (B)] TJ 0 -20 Td (n\\351e) Tj ET")
    assert _shown(content) == "Hello(world)AB0HelloABnée"


def test_forms_are_read_where_they_are_drawn():
    form = _stream(b"BT /F1 9 Tf 0 5 Td (in the form) Tj ET",
                   b"/Type /XObject /Subtype /Form /BBox [0 0 200 200] "
                   b"/Resources << /Font << /F1 4 0 R >> >>")
    resources = b"<< /Font << /F1 4 0 R >> /XObject << /Fm 6 0 R >> >>"
    shown = _shown(b"BT /F1 9 Tf 10 150 Td (before) Tj ET q 1 0 0 1 10 100 cm /Fm Do Q "
                   b"BT /F1 9 Tf 10 50 Td (after) Tj ET", resources, form)
    assert shown == "beforeintheformafter"


def test_the_latest_revision_is_read():
    """An incremental update that replaces the page's content changes what the page shows."""
    original = _pdf(b"BT /F1 12 Tf 10 100 Td (1250.000 kg) Tj ET")
    assert _shown(b"BT /F1 12 Tf 10 100 Td (1250.000 kg) Tj ET") == "1250.000kg"
    changed = b"BT /F1 12 Tf 10 100 Td (125.000 kg) Tj ET"
    start = len(original)
    update = (b"5 0 obj\n" + _stream(changed) + b"\nendobj\n")
    xref = start + len(update)
    prev = int(original.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    update += (b"xref\n0 1\n0000000000 65535 f \n5 1\n%010d 00000 n \n" % start
               + b"trailer\n<< /Size 6 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
               % (prev, xref))
    assert squeeze(_text(original + update)[0]) == "125.000kg"


@pytest.mark.parametrize("data", [b"", b"%PDF-1.7\n", b"not a pdf at all", bytes(range(256)) * 8])
def test_what_cannot_be_opened_fails(data: bytes):
    with pytest.raises(PdfTextError, match="cannot open"):
        _text(data)
