"""Verify a declaration PDF: every check by name, a verdict, an exit code; never an exception.

DESIGN §6 (verification) and §9 (``greenledger verify FILE.pdf [--trust CERT] [--online]
[--json]``: exit 0 valid, 1 invalid, 2 could not check). The checks, in order:

``pdf-readable``        a PDF at all: header, cross-reference tables, not encrypted, ≤ 20 MB.
``signature-intact``    exactly one PAdES signature; its digest and signature value verify
                        (pyHanko) **and it covers the entire file**. ``pdfsig`` still says
                        "Signature is Valid" after an appended incremental update (DESIGN §6
                        lessons), so coverage ``ENTIRE_FILE`` is required: anything appended
                        after signing — a new page content, a replaced attachment — fails here.
``signer-trusted``      the signer's certificate chains to one of ``trust_roots``
                        (pyhanko-certvalidator, no fetching) with a signing key usage.
``attachment-present``  ``declaration.json`` and ``declaration.jws`` in the *signed* revision.
``payload-signature``   the detached JWS verifies over the JCS bytes of the attached payload
                        and its ``x5c`` leaf is the certificate that signed the PDF.
``printed-figures``     each line of :func:`certificates.figures.printed_figures` of the payload
                        appears in the text the PDF's pages display, latest revision
                        (PDFium, :mod:`certificates.pdf_text`; whitespace ignored).
``ledger-entry``        the payload's ledger entry is canonical, hashes to the stated leaf
                        hash, is a ``declaration.issued`` entry naming this declaration and the
                        SHA-256 of the JCS bytes of :func:`certificates.pact.payload_core`.
``inclusion-proof``     the checkpoint is signed by an operator key, and the RFC 9162 inclusion
                        proof leads from the leaf at ``seq`` to its root (both in
                        :mod:`certificates.verify_ledger`).
``online-status``, ``online-consistency``  with ``online`` only; see
                        :mod:`certificates.verify_online`.

Each check is ``ok=True`` (passed), ``False`` (failed: invalid) or ``None`` (could not check:
no trust roots or operator keys configured, server unreachable, or skipped because what it
needs failed earlier). The report is valid only when every check passed. Hostile input is
expected: each check catches everything and reports a one-line reason.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from pyhanko.keys.internal import translate_pyca_cryptography_cert_to_asn1
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from certificates import pdf_text
from certificates.attachments import AttachmentError, attachment_bytes, embedded_files
from certificates.figures import FIGURES, ledger_part, missing_figures
from certificates.jws import verify_detached
from certificates.pades import JWS_NAME, PAYLOAD_NAME
from certificates.verify_ledger import LedgerCheckFailed, check_entry, check_inclusion
from certificates.verify_online import (
    CouldNotCheck,
    OnlineCheck,
    OnlineFailure,
    check_consistency,
    check_status,
)
from ledger.checkpoint import Checkpoint, Verifier
from ledger.errors import GreenledgerError

__all__ = ["Check", "OnlineCheck", "Report", "verify_declaration"]

MAX_PDF_BYTES = 20 * 1024 * 1024
MAX_PAGES = 10
_SIGNING_USAGE = KeyUsageConstraints(
    key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False
)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # True passed, False failed, None could not check
    detail: str


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    declaration_id: str | None = None
    signer: str | None = None  # subject of the PDF signer's certificate

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(c.ok is True for c in self.checks)

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if c.ok is False]

    @property
    def exit_code(self) -> int:
        """0 valid, 1 invalid (some check failed), 2 could not check (none failed)."""
        if self.valid:
            return 0
        return 1 if self.failed else 2

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "exit_code": self.exit_code,
            "declaration": self.declaration_id,
            "signer": self.signer,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


class _Fail(Exception):
    """A check failed; the message is the reason."""


class _Skip(Exception):
    """A check could not be made; the message says why."""


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, GreenledgerError | _Fail | _Skip | OnlineFailure | CouldNotCheck
                  | LedgerCheckFailed):
        return text[:300] or type(exc).__name__
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _subject(cert: Any) -> str:
    """RFC 4514 subject of an asn1crypto certificate (as pyHanko returns them)."""
    try:
        return x509.load_der_x509_certificate(cert.dump()).subject.rfc4514_string()
    except Exception:
        return "an unreadable certificate"


class _Roots(threading.local):
    """Trust roots in pyHanko's (asn1crypto) form, per thread: asn1crypto parses lazily, so
    its objects are not shared between threads."""

    def __init__(self) -> None:
        self.converted: dict[x509.Certificate, Any] = {}


_ROOTS = _Roots()


def _asn1_root(cert: x509.Certificate) -> Any:
    """``cert`` in pyHanko's form, converted once (per thread). A validation context hashes
    each root's name, prepared per RFC 4518 (slow for CJK names), and asn1crypto keeps that
    on the parsed object, so the context is cheap to build again for each file."""
    converted = _ROOTS.converted
    if cert not in converted:
        if len(converted) >= 64:
            converted.clear()
        converted[cert] = translate_pyca_cryptography_cert_to_asn1(cert)
    return converted[cert]


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature):
        return False


def _who(cert: x509.Certificate) -> str:
    return f"{cert.subject.rfc4514_string()}, serial {cert.serial_number:x}"


class _Verification:
    """One run over one file; each ``_check_*`` method returns its detail or raises."""

    def __init__(self, data: Any, trust_roots: list[x509.Certificate],
                 operator_keys: list[Verifier], online: OnlineCheck | None) -> None:
        self.data = data
        self.trust_roots = list(trust_roots)
        self.operator_keys = list(operator_keys)
        self.online = online
        self.report = Report()
        self.reader: PdfFileReader | None = None
        self.signature: Any = None  # pyhanko EmbeddedPdfSignature
        self.status: Any = None  # pyhanko PdfSignatureStatus
        self.payload: dict[str, Any] | None = None
        self.jws: str | None = None
        self.ledger: dict[str, Any] | None = None
        self.checkpoint: Checkpoint | None = None
        self.operator: Verifier | None = None

    def run(self) -> Report:
        has_pdf = ("a readable PDF", lambda: self.reader is not None)
        has_signature = ("the signature", lambda: self.signature is not None)
        has_payload = ("the attached payload", lambda: self.payload is not None)
        steps: list[tuple[str, Callable[[], str], tuple[str, Callable[[], bool]]]] = [
            ("pdf-readable", self._check_readable, ("", lambda: True)),
            ("signature-intact", self._check_intact, has_pdf),
            ("signer-trusted", self._check_trusted,
             ("the signature's validation", lambda: self.status is not None)),
            ("attachment-present", self._check_attachments, has_signature),
            ("payload-signature", self._check_payload_signature, has_payload),
            ("printed-figures", self._check_figures, has_payload),
            ("ledger-entry", self._check_entry, has_payload),
            ("inclusion-proof", self._check_inclusion, has_payload),
        ]
        if self.online is not None:
            steps += [
                ("online-status", self._check_online_status, has_payload),
                ("online-consistency", self._check_online_consistency,
                 ("a verified checkpoint", lambda: self.checkpoint is not None)),
            ]
        for name, fn, needs in steps:
            self.report.checks.append(self._run(name, fn, needs))
        return self.report

    @staticmethod
    def _run(name: str, fn: Callable[[], str], needs: tuple[str, Callable[[], bool]]) -> Check:
        what, ready = needs
        if not ready():
            return Check(name, None, f"not checked: needs {what}")
        try:
            return Check(name, True, fn())
        except (_Skip, CouldNotCheck) as exc:
            return Check(name, None, _one_line(exc))
        except Exception as exc:  # hostile input: report, never raise
            log.debug("check %s failed", name, exc_info=True)
            return Check(name, False, _one_line(exc))

    # --- the PDF and its signature ----------------------------------------------------------

    def _check_readable(self) -> str:
        data = self.data
        if not isinstance(data, bytes | bytearray | memoryview):
            raise _Fail("input is not bytes")
        data = self.data = bytes(data)
        if not data:
            raise _Fail("empty file")
        if len(data) > MAX_PDF_BYTES:
            raise _Fail(f"refused: {len(data)} bytes is larger than 20 MB")
        if b"%PDF-" not in data[:1024]:
            raise _Fail("not a PDF: no %PDF- header")
        try:
            reader = PdfFileReader(io.BytesIO(data), strict=True)
            reader.root  # noqa: B018 - resolve the catalog now, not in a later check
        except Exception as exc:
            raise _Fail(f"not a readable PDF: {_one_line(exc)}") from None
        if reader.encrypted:
            raise _Fail("the PDF is encrypted; declarations never are")
        self.reader = reader
        return f"PDF {len(data)} bytes, {reader.xrefs.total_revisions} revision(s)"

    def _check_intact(self) -> str:
        assert self.reader is not None
        signatures = self.reader.embedded_signatures
        if len(signatures) != 1:
            raise _Fail(f"expected exactly one signature, found {len(signatures)}")
        signature = signatures[0]
        if signature.sig_object_type != "/Sig":
            raise _Fail("the signature is a document timestamp, not a PAdES signature")
        self.signature = signature
        self.report.signer = _subject(signature.signer_cert)
        context = ValidationContext(
            trust_roots=[_asn1_root(c) for c in self.trust_roots],
            allow_fetching=False,
        )
        self.status = status = validate_pdf_signature(
            signature, signer_validation_context=context, key_usage_settings=_SIGNING_USAGE,
            skip_diff=True,
        )
        if not status.intact:
            raise _Fail("the signed bytes were changed: their digest does not match")
        if not status.valid:
            raise _Fail("the signature value does not verify")
        if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
            level = status.coverage.name if status.coverage is not None else "unknown"
            raise _Fail(f"the signature does not cover the whole file ({level}): something was "
                        "added after signing")
        self._check_contents_string(signature)
        return (f"{status.pkcs7_signature_mechanism} / {status.md_algorithm} signature intact, "
                "covers the entire file")

    def _check_contents_string(self, signature: Any) -> None:
        """The one unsigned stretch of a PAdES file is the /Contents hex string: the DER
        signature, then zero padding that parsers ignore, and hex digits read the same in
        either case. Insist that the stretch is exactly the signature's hex (one case) and
        zeros, so the file is exactly the signed bytes plus the signature (fuzzing found a
        flipped padding byte, and a hex digit flipped to the other case, accepted otherwise)."""
        _, start, end, _ = (int(x) for x in signature.byte_range)
        gap = self.data[start:end]
        content = bytes(signature.pkcs7_content)
        der = content[:_der_length(content)]
        zeros = b"0" * (len(gap) - 2 - 2 * len(der))
        expected = {b"<" + der.hex().upper().encode() + zeros + b">",
                    b"<" + der.hex().encode() + zeros + b">"}
        if gap not in expected:
            raise _Fail("the /Contents string holding the signature was altered after signing "
                        "(it is not exactly the signature's hex and zero padding)")

    def _check_trusted(self) -> str:
        status = self.status
        if not self.trust_roots:
            raise _Skip("no trust roots configured (--trust CERT)")
        if status.revoked:
            raise _Fail("the signer's certificate is revoked")
        if status.validation_path is None or status.trust_problem_indic is not None:
            problem = status.trust_problem_indic
            reason = problem.name if problem is not None else "no path to a trusted root"
            raise _Fail(f"{self.report.signer} does not chain to a trusted root ({reason})")
        self._check_carried(status.validation_path)
        root = status.validation_path[0]
        return f"{self.report.signer} chains to {_subject(root)}"

    def _check_carried(self, path: Any) -> None:
        """The CMS certificate set is not covered by the signature, and validation uses only
        the certificates of the path it builds (to a trust root, which may be the issuer's own
        certificate): a carried copy of the CA could be altered unnoticed (found by fuzzing).
        So each carried certificate is on the validated path byte for byte, or its signature
        verifies under the key of a certificate on the path or carried (itself, if self-issued)."""
        der = serialization.Encoding.DER
        on_path = {c.dump() for c in path.iter_certs(include_root=True)}
        carried = [x509.load_der_x509_certificate(c.chosen.dump())
                   for c in self.signature.signed_data["certificates"] or ()]
        pool = carried + [x509.load_der_x509_certificate(d) for d in on_path]
        for cert in carried:
            if cert.public_bytes(der) in on_path:
                continue
            if not any(_issued_by(cert, issuer) for issuer in pool):
                raise _Fail(f"the signature carries a certificate whose own signature does not "
                            f"verify ({_who(cert)}): altered or foreign")

    # --- the attachments ----------------------------------------------------------------------

    def _check_attachments(self) -> str:
        assert self.reader is not None
        signed = self.reader.get_historical_resolver(self.signature.signed_revision)
        try:
            files = embedded_files(signed.root)
            raw_payload = attachment_bytes(files, PAYLOAD_NAME)
            raw_jws = attachment_bytes(files, JWS_NAME)
        except AttachmentError as exc:
            raise _Fail(f"in the signed revision: {exc}") from None
        try:
            payload = json.loads(raw_payload.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
        except (UnicodeDecodeError, ValueError) as exc:
            raise _Fail(f"{PAYLOAD_NAME} is not JSON: {_one_line(exc)}") from None
        if not isinstance(payload, dict):
            raise _Fail(f"{PAYLOAD_NAME} is not a JSON object")
        try:
            jws = raw_jws.decode("ascii").strip()
        except UnicodeDecodeError:
            raise _Fail(f"{JWS_NAME} is not ASCII text") from None
        self.payload, self.jws = payload, jws
        declaration_id = payload.get("id")
        self.report.declaration_id = declaration_id if isinstance(declaration_id, str) else None
        return f"{PAYLOAD_NAME} ({len(raw_payload)} bytes) and {JWS_NAME} in the signed revision"

    def _check_payload_signature(self) -> str:
        assert self.payload is not None and self.jws is not None
        leaf = verify_detached(self.payload, self.jws)
        pdf_signer = self.signature.signer_cert.dump()
        if leaf.public_bytes(serialization.Encoding.DER) != pdf_signer:
            raise _Fail(f"the payload is signed by another certificate ({_who(leaf)}) than the "
                        f"PDF ({_who(x509.load_der_x509_certificate(pdf_signer))})")
        return "ES256 JWS over the JCS payload verifies, by the PDF's signer"

    def _check_figures(self) -> str:
        assert self.payload is not None
        with pdf_text.document(self.data) as doc:
            if len(doc) > MAX_PAGES:
                raise _Fail(f"more than {MAX_PAGES} pages")
            # The renderer prints the figures on page 1; read further pages only if needed.
            text, missing = "", list(FIGURES)
            for index in range(len(doc)):
                text += "\n" + pdf_text.page_text(doc, index)
                missing = missing_figures(self.payload, text)
                if not missing:
                    return f"the payload's {len(FIGURES)} headline figures are printed"
        raise _Fail("not printed as in the payload: " + ", ".join(missing))

    # --- the ledger ---------------------------------------------------------------------------

    def _ledger(self) -> dict[str, Any]:
        if self.ledger is None:
            part = ledger_part(self.payload)
            if part is None:
                raise _Fail("the payload carries no ledger binding")
            self.ledger = part
        return self.ledger

    def _check_entry(self) -> str:
        assert self.payload is not None
        return check_entry(self.payload, self._ledger())

    def _check_inclusion(self) -> str:
        ledger = self._ledger()
        if not self.operator_keys:
            raise _Skip("no operator key configured to check the checkpoint")
        inclusion = check_inclusion(ledger, self.operator_keys)
        self.checkpoint, self.operator = inclusion.checkpoint, inclusion.operator
        return (f"leaf {inclusion.seq} is in the tree of size {inclusion.checkpoint.size} "
                f"signed by {inclusion.operator.name}")

    # --- online ---------------------------------------------------------------------------------

    def _check_online_status(self) -> str:
        assert self.online is not None and self.payload is not None
        return check_status(self.online, self.payload.get("id"))  # type: ignore[arg-type]

    def _check_online_consistency(self) -> str:
        assert self.online is not None and self.checkpoint is not None
        assert self.operator is not None
        return check_consistency(self.online, self.checkpoint, self.operator)


def _der_length(der: bytes) -> int:
    """Length of the DER value at the start of ``der`` (tag, length octets and content)."""
    if len(der) < 2:
        raise _Fail("the signature is empty")
    first = der[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4 or len(der) < 2 + count:
        raise _Fail("the signature is not DER")
    return 2 + count + int.from_bytes(der[2:2 + count], "big")


def verify_declaration(
    pdf_bytes: bytes,
    *,
    trust_roots: list[x509.Certificate],
    operator_keys: list[Verifier],
    online: OnlineCheck | None = None,
) -> Report:
    """Run every check on ``pdf_bytes`` and return the :class:`Report`; never raises on bad
    input."""
    try:
        return _Verification(pdf_bytes, trust_roots, operator_keys, online).run()
    except Exception as exc:  # a bug here must still not turn into "valid"
        log.exception("verification crashed")
        return Report([Check("pdf-readable", False, f"verification crashed: {_one_line(exc)}")])
