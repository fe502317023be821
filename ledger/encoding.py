"""Canonical entry bytes, leaf hashes and the hash chain (DESIGN §3.1, exact bytes).

An entry is the JSON object
``{"v":1,"seq":N,"kind":K,"at":T,"actor":A,"nonce":R,"body":{...}}`` and its bytes are its
RFC 8785 (JCS) canonical form. ``leaf_hash = SHA-256(0x00 || bytes)`` (RFC 9162 §2.1.1) and
``chain_hash[n] = SHA-256(chain_hash[n-1] || leaf_hash[n])`` with 32 zero bytes before seq 0.

Bodies carry quantities as decimal strings, never JSON numbers with a fraction: a float has
no single canonical decimal form across languages, and a binary float is not the meter's
reading. The only JSON numbers allowed anywhere in an entry are integers within ±(2^53 − 1),
the range where RFC 8785's ECMAScript number form and Python's ``int`` agree.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785

from ledger.errors import InputError

VERSION = 1
ZERO_HASH = bytes(32)
MAX_SAFE_INT = 2**53 - 1

_KIND_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_AT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
_NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")
_ENTRY_KEYS = {"v", "seq", "kind", "at", "actor", "nonce", "body"}


@dataclass(frozen=True)
class Entry:
    seq: int
    kind: str
    at: str
    actor: str
    nonce: str
    body: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "v": VERSION,
            "seq": self.seq,
            "kind": self.kind,
            "at": self.at,
            "actor": self.actor,
            "nonce": self.nonce,
            "body": self.body,
        }

    def canonical(self) -> bytes:
        return canonical_bytes(self.as_json())


def leaf_hash(entry_bytes: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry_bytes).digest()


def chain_hash(previous: bytes, leaf: bytes) -> bytes:
    return hashlib.sha256(previous + leaf).digest()


def new_nonce() -> str:
    """16 random bytes, unpadded base64url: a published leaf hash reveals nothing about a
    guessable entry."""
    return base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode("ascii")


#: the last two characters of an unpadded base64url of 16 bytes, by the last byte
_LAST_BYTE = [base64.urlsafe_b64encode(bytes([b]))[:2].decode("ascii") for b in range(256)]


def new_nonces(n: int) -> list[str]:
    """``n`` nonces as :func:`new_nonce` makes them (16 random bytes, unpadded base64url),
    encoded at once: the first 15 bytes of each are 20 characters of their own (15 is a
    multiple of 3), the last byte the two characters of ``_LAST_BYTE``."""
    heads = base64.urlsafe_b64encode(os.urandom(15 * n)).decode("ascii")
    return [heads[20 * i:20 * i + 20] + _LAST_BYTE[b] for i, b in enumerate(os.urandom(n))]


class Clock:
    """:func:`now` for many entries in a row: the same strings, with the date and time of
    day formatted once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self) -> str:
        second, micro = divmod(time.time_ns() // 1000, 1_000_000)
        if second != self._second:
            # "YYYY-MM-DDTHH:MM:SS", as now() writes it
            self._prefix = datetime.fromtimestamp(second, UTC).isoformat()[:19] + "."
            self._second = second
        return f"{self._prefix}{micro:06d}Z"


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds and ``Z``."""
    if moment.tzinfo is None:
        raise InputError("timestamp must be timezone-aware", field="at")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now() -> str:
    # isoformat of an aware UTC time ends in "+00:00"; RFC 3339 with Z is the same instant
    return datetime.now(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def _check_json(value: Any) -> bool:
    """Refuse what has no single canonical form (floats, integers beyond ±(2^53-1), non-JSON
    types); return whether every object key is ASCII (see :func:`canonical_bytes`). One
    iterative walk: bulk imports call it once per entry."""
    ascii_keys = True
    stack: list[tuple[Any, str]] = [(value, "entry")]
    while stack:
        item, path = stack.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is dict:
            for key, child in item.items():
                if type(key) is not str:
                    raise InputError("object keys must be strings", field=path)
                if ascii_keys and not key.isascii():
                    ascii_keys = False
                if type(child) is not str:
                    stack.append((child, f"{path}.{key}"))
        elif kind is list or kind is tuple:
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(item)
                         if type(child) is not str)
        elif kind is int:
            if abs(item) > MAX_SAFE_INT:
                raise InputError(f"integer {item} is outside ±(2^53-1)", field=path)
        elif isinstance(item, float):
            raise InputError(
                "binary floats are not allowed in entries; write quantities as decimal strings",
                field=path)
        else:
            raise InputError(f"{kind.__name__} is not a JSON value", field=path)
    return ascii_keys


def canonical_bytes(obj: dict[str, Any]) -> bytes:
    """RFC 8785 bytes of a JSON object, refusing floats and unsafe integers.

    Once floats and unsafe integers are refused, what is left (strings, integers within
    ±(2^53-1), booleans, null, arrays, objects) serializes under RFC 8785 exactly as the C
    ``json`` encoder writes it with sorted keys, no spaces and raw UTF-8: both escape only
    ``"``, ``\\`` and control characters, with the same short forms and lower-case
    ``\\u00xx``. Only the key order can differ (RFC 8785 sorts by UTF-16 code units, Python
    by code points), and only for non-ASCII keys; those objects go through ``rfc8785``.
    ``tests/ledger/test_encoding.py`` checks the equivalence on generated JSON.
    """
    if _check_json(obj):
        try:
            return json.dumps(obj, ensure_ascii=False, sort_keys=True,
                              separators=(",", ":")).encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate: not valid Unicode text
            raise InputError(f"text is not valid Unicode: {exc.reason}", field="entry") from exc
    return rfc8785.dumps(obj)


def entry_bytes(seq: int, kind: str, at: str, actor: str, nonce: str, body: bytes) -> bytes:
    """The canonical bytes of an entry around already canonical ``body`` bytes.

    RFC 8785 orders the envelope's keys actor, at, body, kind, nonce, seq, v; assembling the
    bytes saves re-encoding a body that a bulk import's worker process already encoded.
    Equal to ``canonical_bytes`` of the whole entry (tested on generated entries)."""
    head = json.dumps(actor, ensure_ascii=False)
    return (f'{{"actor":{head},"at":"{at}","body":'.encode() + body
            + f',"kind":"{kind}","nonce":"{nonce}","seq":{seq},"v":{VERSION}}}'.encode())


def validate_entry_shape(obj: Any) -> Entry:
    """Check the envelope of an entry (not its body's domain meaning) and return it."""
    if not isinstance(obj, dict):
        raise InputError("an entry must be a JSON object", field="entry")
    keys = set(obj)
    if keys != _ENTRY_KEYS:
        missing = sorted(_ENTRY_KEYS - keys)
        extra = sorted(keys - _ENTRY_KEYS)
        raise InputError(f"entry keys wrong: missing {missing}, unexpected {extra}", field="entry")
    if obj["v"] != VERSION or isinstance(obj["v"], bool):
        raise InputError(f"unsupported version {obj['v']!r}; allowed: 1", field="v")
    seq = obj["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise InputError(f"seq must be an integer >= 0, got {seq!r}", field="seq")
    if not isinstance(obj["kind"], str) or not _KIND_RE.match(obj["kind"]):
        raise InputError(
            f"kind must look like 'certificate.registered', got {obj['kind']!r}", field="kind"
        )
    if not isinstance(obj["at"], str) or not _AT_RE.match(obj["at"]):
        raise InputError(
            f"at must be RFC 3339 UTC with microseconds and Z, got {obj['at']!r}", field="at"
        )
    if not isinstance(obj["actor"], str) or not obj["actor"]:
        raise InputError("actor must be a non-empty party id", field="actor")
    if not isinstance(obj["nonce"], str) or not _NONCE_RE.match(obj["nonce"]):
        raise InputError("nonce must be 16 bytes as unpadded base64url", field="nonce")
    if not isinstance(obj["body"], dict):
        raise InputError("body must be a JSON object", field="body")
    return Entry(obj["seq"], obj["kind"], obj["at"], obj["actor"], obj["nonce"], obj["body"])


def parse_entry(data: bytes | str) -> Entry:
    """Parse entry bytes and insist that they are already canonical (RFC 8785).

    Non-canonical input (other key order, spaces, escaped non-ASCII, duplicate keys...) is
    refused: the same entry must have exactly one byte form, or leaf hashes stop meaning
    anything.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        obj = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"not valid UTF-8 JSON: {exc}", field="entry") from exc
    entry = validate_entry_shape(obj)
    if canonical_bytes(obj) != raw:
        raise InputError("entry bytes are not in RFC 8785 canonical form", field="entry")
    return entry


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise InputError(f"duplicate key {key!r}", field="entry")
        out[key] = value
    return out
