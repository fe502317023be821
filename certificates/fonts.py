"""The CJK font that declarations are printed in, embedded in the PDF.

A declaration is bilingual (DESIGN §6), so its PDF must show Chinese on any reader. The
Adobe CID font ``STSong-Light`` that reportlab offers out of the box is *not embedded*: a
reader without an Asian font pack renders it as boxes (measured here). So we embed a subset
of a TrueType CJK font instead: WenQuanYi Micro Hei, which the set-up installs (Debian
package ``fonts-wqy-microhei``). reportlab's ``TTFont(..., subfontIndex=0)`` on the ``.ttc``
collection embeds only the glyphs used, with a ToUnicode map, so the text also extracts
(pypdf, ``pdftotext``, PDFium in :mod:`certificates.pdf_text`) — which the verifier relies on to
compare printed figures.

If the font file is absent we fall back to ``STSong-Light`` and warn loudly: the PDF is still
valid and signed, but its Chinese may not display everywhere. Registration happens once per
process.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

log = logging.getLogger(__name__)

EMBEDDED_FONT = "WQYMicroHei"
FALLBACK_FONT = "STSong-Light"

#: Where Debian/Ubuntu (fonts-wqy-microhei) and a few other systems put the file.
FONT_PATHS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc"),
    Path("/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc"),
    Path("/usr/local/share/fonts/wqy-microhei.ttc"),
)


@dataclass(frozen=True)
class RegisteredFont:
    name: str  # the reportlab font name to use in styles
    embedded: bool  # False: STSong-Light fallback, not embedded
    path: Path | None


_registered: RegisteredFont | None = None


def find_font_file(candidates: tuple[Path, ...] = FONT_PATHS) -> Path | None:
    return next((p for p in candidates if p.is_file()), None)


def cjk_font(candidates: tuple[Path, ...] = FONT_PATHS) -> RegisteredFont:
    """Register (once) and return the CJK font: embedded WQY Micro Hei, else STSong-Light."""
    global _registered
    if _registered is not None:
        return _registered
    path = find_font_file(candidates)
    if path is not None:
        try:
            pdfmetrics.registerFont(TTFont(EMBEDDED_FONT, str(path), subfontIndex=0))
            _registered = RegisteredFont(EMBEDDED_FONT, True, path)
            return _registered
        except Exception as exc:  # a damaged or unexpected font file
            log.warning("cannot load CJK font %s: %s", path, exc)
    message = (
        "CJK TrueType font wqy-microhei.ttc not found (install Debian package "
        "fonts-wqy-microhei); falling back to the non-embedded STSong-Light: Chinese text will "
        "render as boxes where the reader lacks a CJK font"
    )
    warnings.warn(message, RuntimeWarning, stacklevel=2)
    log.warning(message)
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
    _registered = RegisteredFont(FALLBACK_FONT, False, None)
    return _registered
