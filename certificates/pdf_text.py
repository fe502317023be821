"""The text a PDF's pages display, for the verifier's ``printed-figures`` check.

PDFium (the PDF engine of Chromium, through pypdfium2) opens the file as a viewer does: the
latest revision, so text added or changed by an incremental update is read as changed, and
every content stream and form of a page, each string decoded through its font (``ToUnicode``
map, else the font's encoding). It is fuzzed continuously (OSS-Fuzz) and reads a declaration's
page in ~2 ms, where pypdf's ``extract_text`` took ~15 ms, most of the verifier's time.

Like any text extraction it does not judge visibility: text drawn invisible, clipped away or
covered still counts as displayed. The check only ever looks for the payload's figures, so
text the page does not really show can make a figure look printed; that is why the signature
over the whole file is a separate check, and the figures check is a cross-check of the
issuer's own rendering, not the integrity check.

PDFium is not thread-safe and pypdfium2 leaves serialization to its callers: every use goes
through :func:`document`, which holds one process-wide lock (the web verifies uploads on
several threads).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pypdfium2 as pdfium

_LOCK = threading.Lock()


class PdfTextError(Exception):
    """The file cannot be opened as a PDF (or a page cannot be read)."""


@contextmanager
def document(data: bytes) -> Iterator[pdfium.PdfDocument]:
    """``data`` opened for reading text, under the process-wide PDFium lock."""
    with _LOCK:
        try:
            doc = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise PdfTextError(f"PDFium cannot open the file: {exc}") from None
        try:
            yield doc
        finally:
            doc.close()


def page_text(doc: pdfium.PdfDocument, index: int) -> str:
    """The text page ``index`` (0-based) displays, in content order."""
    try:
        page = doc[index]
        try:
            textpage = page.get_textpage()
            try:
                return str(textpage.get_text_range())
            finally:
                textpage.close()
        finally:
            page.close()
    except pdfium.PdfiumError as exc:
        raise PdfTextError(f"PDFium cannot read page {index + 1}: {exc}") from None
