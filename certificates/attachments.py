"""Read a PDF's embedded files from one revision, defensively.

The verifier reads ``declaration.json`` and ``declaration.jws`` from the revision the
signature covers (pyHanko's historical resolver), so that what it checks is what was signed.
The ``/EmbeddedFiles`` name tree (ISO 32000-2 §7.9.6) may be flat (``/Names``) or have
``/Kids``; on hostile input its depth and size are bounded, a name that appears twice is
refused (two different "declaration.json" would make the check ambiguous), and decoded
sizes are bounded (pyHanko also applies its decode limits for untrusted input).
"""

from __future__ import annotations

from typing import Any

from pyhanko.pdf_utils import generic

MAX_ATTACHMENT_BYTES = 8 * 1024 * 1024
_MAX_DEPTH = 8
_MAX_FILES = 1000


class AttachmentError(Exception):
    """The attachments cannot be read as expected; the message says why."""


def _deref(obj: Any) -> Any:
    return obj.get_object() if isinstance(obj, generic.IndirectObject) else obj  # type: ignore[no-untyped-call]


def embedded_files(root: Any) -> dict[str, Any]:
    """Name -> file specification of every embedded file under the catalog ``root``."""
    try:
        tree = root["/Names"]["/EmbeddedFiles"]
    except KeyError:
        raise AttachmentError("no attachments") from None
    files: dict[str, Any] = {}

    def walk(node: Any, depth: int) -> None:
        node = _deref(node)
        if depth > _MAX_DEPTH or len(files) > _MAX_FILES:
            raise AttachmentError("the attachment name tree is too deep or too large")
        names = _deref(node["/Names"]) if "/Names" in node else []
        for i in range(0, len(names) - 1, 2):
            key = str(_deref(names[i]))
            if key in files:
                raise AttachmentError(f"attachment {key!r} appears twice")
            files[key] = names[i + 1]
        for kid in _deref(node["/Kids"]) if "/Kids" in node else []:
            walk(kid, depth + 1)

    walk(tree, 0)
    return files


def attachment_bytes(files: dict[str, Any], name: str) -> bytes:
    """The decoded content of embedded file ``name``."""
    spec = files.get(name)
    if spec is None:
        raise AttachmentError(f"{name} is not attached")
    ef = _deref(_deref(spec)["/EF"])
    stream = _deref(ef["/UF"] if "/UF" in ef else ef["/F"])
    data = stream.data
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise AttachmentError(f"{name} is larger than 8 MB")
    return bytes(data)
