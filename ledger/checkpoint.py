"""Checkpoints (signed tree heads) as C2SP signed notes, and certifiers' cosignatures.

Formats, byte for byte:
- C2SP ``tlog-checkpoint``: the body is ``<origin>\\n<size>\\n<base64 root>\\n`` (optional
  extension lines follow; greenledger writes none and refuses none).
- C2SP ``signed-note``: note = body + ``\\n`` + signature lines
  ``— <name> <base64(key_id || signature)>\\n``. For Ed25519 (type 0x01) the key id is the
  first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key) and the signature covers the
  body. A verifier key string is ``<name>+<hex key id>+<base64(0x01 || public key)>``.
- C2SP ``tlog-cosignature`` (``cosignature/v1``, type 0x04): the key id uses 0x04, the
  signature is 8-byte big-endian UNIX time || Ed25519 signature over
  ``cosignature/v1\\ntime <t>\\n`` + body.

A certifier's cosignature means "audited clean up to this size" (DESIGN §3.1): this module
only makes and checks the bytes; the audit that must come first lives in ``audit.py``.
Crypto is ``cryptography``'s Ed25519; nothing here is hand-rolled beyond the framing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.errors import InputError, SignatureError

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
EM_DASH = "\u2014"
_NAME_RE = re.compile(r"^[^\s+]+$")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode("ascii")]
        return "\n".join([*lines, *self.extensions]) + "\n"


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, alg: int, public_raw: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([alg]) + public_raw).digest()[:4]


def _check_name(name: str) -> None:
    if not name or not _NAME_RE.match(name):
        raise InputError(f"key name {name!r} must be non-empty, without spaces or '+'",
                         field="name")


@dataclass(frozen=True)
class Verifier:
    """A public key that checks signature lines of one name (operator or certifier)."""

    name: str
    alg: int
    public_key: Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.alg, _raw_public(self.public_key))

    def vkey(self) -> str:
        blob = bytes([self.alg]) + _raw_public(self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(blob).decode('ascii')}"

    @classmethod
    def from_vkey(cls, vkey: str) -> Verifier:
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise InputError("verifier key must be <name>+<hex key id>+<base64 key>",
                             field="vkey")
        name, hex_id, b64 = parts
        _check_name(name)
        try:
            blob = base64.b64decode(b64, validate=True)
            want_id = bytes.fromhex(hex_id)
        except (binascii.Error, ValueError) as exc:
            raise InputError(f"verifier key is not well encoded: {exc}", field="vkey") from exc
        if len(blob) != 33 or blob[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
            raise InputError("verifier key must be an Ed25519 (0x01) or cosignature/v1 (0x04) "
                             "key of 32 bytes", field="vkey")
        verifier = cls(name, blob[0], Ed25519PublicKey.from_public_bytes(blob[1:]))
        if verifier.key_id != want_id or len(want_id) != 4:
            raise InputError("verifier key id does not match its name and key", field="vkey")
        return verifier


@dataclass(frozen=True)
class Signer:
    name: str
    private_key: Ed25519PrivateKey
    alg: int = ALG_ED25519

    def __post_init__(self) -> None:
        _check_name(self.name)

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.alg, self.private_key.public_key())

    def __repr__(self) -> str:  # never print key material
        return f"Signer(name={self.name!r}, alg={self.alg})"


def _sig_line(name: str, kid: bytes, sig: bytes) -> str:
    return f"{EM_DASH} {name} {base64.b64encode(kid + sig).decode('ascii')}\n"


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    """The signed note text of ``checkpoint`` with the operator's signature."""
    if signer.alg != ALG_ED25519:
        raise InputError("the operator signs with an Ed25519 (0x01) key", field="key")
    body = checkpoint.body()
    sig = signer.private_key.sign(body.encode("utf-8"))
    return body + "\n" + _sig_line(signer.name, signer.verifier.key_id, sig)


def cosignature_message(body: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


@dataclass(frozen=True)
class SignatureLine:
    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class Note:
    body: str
    signatures: tuple[SignatureLine, ...]

    @property
    def text(self) -> str:
        lines = "".join(
            _sig_line(s.name, s.key_id, s.signature) for s in self.signatures
        )
        return self.body + "\n" + lines


def parse_note(text: str) -> Note:
    """Split a signed note into body and signature lines (C2SP signed-note §Format)."""
    if not isinstance(text, str) or not text.endswith("\n"):
        raise SignatureError("a signed note must be text ending in a newline")
    head, sep, sigs = text.rpartition("\n\n")
    if not sep:
        raise SignatureError("a signed note needs a blank line before its signatures")
    body = head + "\n"
    lines = sigs[:-1].split("\n")
    parsed: list[SignatureLine] = []
    for line in lines:
        m = re.fullmatch(f"{EM_DASH} (\\S+) (\\S+)", line)
        if not m:
            raise SignatureError(f"malformed signature line {line!r}")
        try:
            blob = base64.b64decode(m.group(2), validate=True)
        except binascii.Error as exc:
            raise SignatureError("signature line is not base64") from exc
        if len(blob) < 5:
            raise SignatureError("signature line too short")
        parsed.append(SignatureLine(m.group(1), blob[:4], blob[4:]))
    if not parsed:
        raise SignatureError("a signed note needs at least one signature")
    return Note(body, tuple(parsed))


def parse_checkpoint_body(body: str) -> Checkpoint:
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise SignatureError("a checkpoint body has origin, size and root lines")
    origin, size_text, root_text, *ext = lines[:-1]
    if not re.fullmatch(r"0|[1-9][0-9]*", size_text):
        raise SignatureError(f"checkpoint size {size_text!r} is not a decimal integer")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error as exc:
        raise SignatureError("checkpoint root is not base64") from exc
    if len(root) != 32:
        raise SignatureError("checkpoint root must be 32 bytes")
    return Checkpoint(origin, int(size_text), root, tuple(ext))


def open_checkpoint(text: str, operator: Verifier) -> Checkpoint:
    """Verify the operator's signature on a checkpoint note and return the checkpoint.

    Raises :class:`SignatureError` if no valid signature by ``operator`` is present or the
    origin line does not name the operator's log.
    """
    note = parse_note(text)
    checkpoint = parse_checkpoint_body(note.body)
    for line in note.signatures:
        if line.name == operator.name and line.key_id == operator.key_id:
            try:
                operator.public_key.verify(line.signature, note.body.encode("utf-8"))
            except InvalidSignature as exc:
                raise SignatureError(f"the signature of {operator.name} does not verify") from exc
            if checkpoint.origin != operator.name:
                raise SignatureError(
                    f"checkpoint origin {checkpoint.origin!r} is not the operator's "
                    f"log {operator.name!r}"
                )
            return checkpoint
    raise SignatureError(f"no signature by {operator.name} ({operator.key_id.hex()})")


def cosign(text: str, cosigner: Signer, timestamp: int) -> str:
    """Add a ``cosignature/v1`` line to a checkpoint note. The caller must have audited."""
    if cosigner.alg != ALG_COSIGNATURE_V1:
        raise InputError("a cosigner signs with a cosignature/v1 (0x04) key", field="key")
    note = parse_note(text)
    parse_checkpoint_body(note.body)
    sig = cosigner.private_key.sign(cosignature_message(note.body, timestamp))
    line = SignatureLine(cosigner.name, cosigner.verifier.key_id,
                         struct.pack(">Q", timestamp) + sig)
    kept = tuple(s for s in note.signatures
                 if not (s.name == cosigner.name and s.key_id == line.key_id))
    return Note(note.body, (*kept, line)).text


def verify_cosignature(text: str, cosigner: Verifier) -> int:
    """Return the timestamp of ``cosigner``'s valid cosignature on the note, or raise."""
    note = parse_note(text)
    for line in note.signatures:
        if line.name == cosigner.name and line.key_id == cosigner.key_id:
            if len(line.signature) != 8 + 64:
                raise SignatureError("a cosignature is 8 bytes of time and 64 of signature")
            (timestamp,) = struct.unpack(">Q", line.signature[:8])
            try:
                cosigner.public_key.verify(line.signature[8:],
                                           cosignature_message(note.body, timestamp))
            except InvalidSignature as exc:
                raise SignatureError(f"the cosignature of {cosigner.name} does not verify") \
                    from exc
            return timestamp
    raise SignatureError(f"no cosignature by {cosigner.name} ({cosigner.key_id.hex()})")
