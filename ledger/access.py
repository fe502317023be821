"""Who may call the API: per-party API keys, certifiers' cosigning keys, idempotency records.

These tables are *operational*, not log entries: they say who may talk to the service, not
what happened in the ledger, so they are neither hashed into the log nor replayed by the
audit (DESIGN §7 "Auth").

- **API keys** (``api_key``). The plaintext is ``gl_<key_id>_<secret>``: ``key_id`` (12 hex
  characters) is public and finds the row, ``secret`` (64 hex characters, 256 random bits)
  is checked against a salted scrypt hash with :func:`hmac.compare_digest`. Each key acts for
  one party in one of that party's roles. A PACT client id and secret are issued with the key
  (for the OAuth2 client-credentials flow of ``/auth/token``), hashed the same way.
  A secret of 256 random bits needs no slow hash to resist guessing; scrypt only makes a
  stolen table useless without more work. Successful verifications are remembered in process
  memory (an HMAC under a per-process random key, never the secret) so that a busy client
  does not pay ~50 ms of scrypt per request; revocation is read from the row every time.
- **Cosigners** (``cosigner``): a certifier's C2SP ``cosignature/v1`` verifier key, so the
  service can check a cosigned checkpoint the certifier posts.
- **Idempotency** (``idempotency``): the first response to a write with an
  ``Idempotency-Key``, per party, so that a retried request never appends twice.

No Flask here: the API and the CLI both call these functions with a session they own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Column, Integer, String, Text, select, update
from sqlalchemy.exc import OperationalError
from sqlmodel import Field, Session, SQLModel, col

from ledger import encoding
from ledger.checkpoint import ALG_COSIGNATURE_V1, Verifier
from ledger.domain.parties import has_role, party, require_role
from ledger.domain.rules import ROLES
from ledger.errors import Conflict, InputError, NotFound

KEY_PREFIX = "gl_"
CLIENT_PREFIX = "glc_"
_KEY_RE = re.compile(r"^gl_([0-9a-f]{12})_([0-9a-f]{64})$")
#: scrypt cost (RFC 7914): N=2^14, r=8, p=1, ~50 ms and 16 MiB here
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
#: last_used_at is written at most once per this interval and key (a write per request would
#: compete with appends for the database's write lock)
TOUCH_INTERVAL = timedelta(seconds=60)


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"
    key_id: str = Field(primary_key=True, max_length=12)
    party: str = Field(index=True, max_length=64)
    role: str = Field(max_length=16)
    secret_hash: str = Field(max_length=200)
    client_id: str = Field(unique=True, max_length=40)
    client_secret_hash: str = Field(max_length=200)
    created_at: str = Field(max_length=32)
    revoked_at: str | None = Field(default=None, max_length=32)
    last_used_at: str | None = Field(default=None, max_length=32)


class Cosigner(SQLModel, table=True):
    __tablename__ = "cosigner"
    name: str = Field(primary_key=True, max_length=200)
    party: str = Field(index=True, max_length=64)
    vkey: str = Field(max_length=400)
    added_at: str = Field(max_length=32)


class Idempotency(SQLModel, table=True):
    __tablename__ = "idempotency"
    party: str = Field(primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=200)
    method: str = Field(max_length=8)
    path: str = Field(max_length=500)
    request_hash: str = Field(max_length=64)
    status: int = Field(sa_column=Column(Integer, nullable=False))
    response_body: str = Field(sa_column=Column(Text, nullable=False))
    content_type: str = Field(max_length=100)
    location: str | None = Field(default=None, sa_column=Column(String(500), nullable=True))
    created_at: str = Field(max_length=32)


@dataclass(frozen=True)
class ApiPrincipal:
    """The caller behind a valid API key."""

    party: str
    role: str
    key_id: str


class NewApiKey(NamedTuple):
    """The plaintexts of a new key, shown once and never stored."""

    api_key: str
    client_id: str
    client_secret: str

    @property
    def key_id(self) -> str:
        return self.api_key[len(KEY_PREFIX):len(KEY_PREFIX) + 12]

    def __repr__(self) -> str:  # never print secrets
        return f"NewApiKey(key_id={self.key_id!r}, client_id={self.client_id!r})"


# --- hashing ------------------------------------------------------------------------------

def hash_secret(secret: str) -> str:
    """``scrypt$N$r$p$<salt b64>$<hash b64>`` of a secret."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode("ascii"), salt=salt, n=SCRYPT_N, r=SCRYPT_R,
                            p=SCRYPT_P, dklen=32)
    return "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P),
                     base64.b64encode(salt).decode("ascii"),
                     base64.b64encode(digest).decode("ascii")])


def check_secret(secret: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(secret.encode("ascii"), salt=base64.b64decode(salt), n=int(n),
                             r=int(r), p=int(p), dklen=32)
    except (ValueError, UnicodeEncodeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


class _VerifiedCache:
    """Secrets already verified by this process, as HMACs under a process-random key."""

    def __init__(self, size: int = 4096) -> None:
        self._key = secrets.token_bytes(32)
        self._size = size
        self._seen: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def _mac(self, stored: str, secret: str) -> bytes:
        return hmac.new(self._key, f"{stored}\n{secret}".encode(), hashlib.sha256).digest()

    def check(self, stored: str, secret: str) -> bool:
        mac = self._mac(stored, secret)
        with self._lock:
            known = self._seen.get(stored)
        if known is not None and hmac.compare_digest(known, mac):
            return True
        if not check_secret(secret, stored):
            return False
        with self._lock:
            if len(self._seen) >= self._size:
                self._seen.clear()
            self._seen[stored] = mac
        return True


_verified = _VerifiedCache()


# --- API keys -----------------------------------------------------------------------------

def create_api_key(session: Session, party_id: str, role: str) -> NewApiKey:
    """A new key for ``party_id`` acting as ``role`` (one of the party's roles).

    Returns the plaintexts, which are shown once and never stored: unpack as
    ``api_key, client_id, client_secret = create_api_key(...)``. The caller commits.
    """
    if role not in ROLES:
        raise InputError(f"role must be one of {', '.join(ROLES)}; got {role!r}", field="role")
    row = party(session, party_id, field="party")
    if not has_role(row, role):
        raise InputError(f"{party_id} is not a {role} (its roles: {row.roles.replace('|', ', ')})",
                         field="role")
    while True:
        key_id = secrets.token_hex(6)
        if session.get(ApiKey, key_id) is None:
            break
    secret = secrets.token_hex(32)
    client_id = CLIENT_PREFIX + secrets.token_hex(12)
    client_secret = secrets.token_urlsafe(32)
    session.add(ApiKey(key_id=key_id, party=party_id, role=role, secret_hash=hash_secret(secret),
                       client_id=client_id, client_secret_hash=hash_secret(client_secret),
                       created_at=encoding.now()))
    session.flush()
    return NewApiKey(f"{KEY_PREFIX}{key_id}_{secret}", client_id, client_secret)


def parse_api_key(presented: str) -> tuple[str, str] | None:
    """``(key_id, secret)`` of a well-formed key, else None."""
    m = _KEY_RE.match(presented or "")
    return (m.group(1), m.group(2)) if m else None


def authenticate(session: Session, presented: str) -> ApiPrincipal | None:
    """The principal of a valid, unrevoked key, else None. Updates ``last_used_at`` (at most
    once a minute, best effort: a busy database never fails a request for it)."""
    parsed = parse_api_key(presented)
    if parsed is None:
        return None
    key_id, secret = parsed
    row = session.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None:
        return None
    if not _verified.check(row.secret_hash, secret):
        return None
    principal = ApiPrincipal(row.party, row.role, row.key_id)
    _touch(session, row)
    return principal


def authenticate_client(session: Session, client_id: str, client_secret: str) -> ApiPrincipal | None:
    """The principal of a PACT OAuth2 client (client-credentials grant), else None."""
    row = session.scalars(select(ApiKey).where(col(ApiKey.client_id) == client_id)).first()
    if row is None or row.revoked_at is not None:
        return None
    if not _verified.check(row.client_secret_hash, client_secret):
        return None
    principal = ApiPrincipal(row.party, row.role, row.key_id)
    _touch(session, row)
    return principal


def _touch(session: Session, row: ApiKey) -> None:
    now = datetime.now(UTC)
    cutoff = encoding.format_time(now - TOUCH_INTERVAL)
    if row.last_used_at is not None and row.last_used_at > cutoff:
        return
    try:
        session.execute(update(ApiKey).where(col(ApiKey.key_id) == row.key_id)
                        .values(last_used_at=encoding.format_time(now)))
    except OperationalError:
        session.rollback()  # the database is busy with appends; the stamp can wait


def revoke_api_key(session: Session, key_id: str) -> ApiKey:
    """Revoke a key (idempotent: revoking twice keeps the first time). The caller commits."""
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"no API key {key_id!r}", field="key_id")
    if row.revoked_at is None:
        row.revoked_at = encoding.now()
        session.add(row)
        session.flush()
    return row


def list_api_keys(session: Session, party_id: str | None = None) -> list[ApiKey]:
    """Every key (or a party's), oldest first. Rows hold hashes only, never secrets."""
    q = select(ApiKey).order_by(ApiKey.created_at, ApiKey.key_id)
    if party_id is not None:
        q = q.where(col(ApiKey.party) == party_id)
    return list(session.scalars(q))


# --- cosigners ----------------------------------------------------------------------------

def add_cosigner(session: Session, party_id: str, vkey: str) -> Cosigner:
    """Register a certifier's ``cosignature/v1`` verifier key. The caller commits."""
    require_role(session, party_id, "certifier", field="party")
    verifier = Verifier.from_vkey(vkey)
    if verifier.alg != ALG_COSIGNATURE_V1:
        raise InputError("a certifier cosigns with a cosignature/v1 (0x04) key, not an "
                         "Ed25519 (0x01) note key", field="vkey")
    existing = session.get(Cosigner, verifier.name)
    if existing is not None:
        raise Conflict(f"a cosigner named {verifier.name!r} is already registered", field="vkey")
    row = Cosigner(name=verifier.name, party=party_id, vkey=verifier.vkey(),
                   added_at=encoding.now())
    session.add(row)
    session.flush()
    return row


def cosigners(session: Session, party_id: str | None = None) -> list[Cosigner]:
    q = select(Cosigner).order_by(Cosigner.name)
    if party_id is not None:
        q = q.where(col(Cosigner.party) == party_id)
    return list(session.scalars(q))


def cosigner_verifiers(session: Session, party_id: str | None = None) -> list[Verifier]:
    return [Verifier.from_vkey(row.vkey) for row in cosigners(session, party_id)]


# --- idempotency --------------------------------------------------------------------------

def find_idempotent(session: Session, party_id: str, key: str) -> Idempotency | None:
    return session.get(Idempotency, (party_id, key))


def record_idempotent(session: Session, *, party: str, key: str, method: str, path: str,
                      request_hash: str, status: int, response_body: str, content_type: str,
                      location: str | None = None) -> Idempotency:
    """Keep a write's first response. The caller commits (ideally with the write itself)."""
    row = Idempotency(party=party, key=key, method=method, path=path, request_hash=request_hash,
                      status=status, response_body=response_body, content_type=content_type,
                      location=location, created_at=encoding.now())
    session.add(row)
    session.flush()
    return row


def prune_idempotent(session: Session, older_than: timedelta) -> int:
    """Forget idempotency records older than ``older_than``; returns how many."""
    cutoff = encoding.format_time(datetime.now(UTC) - older_than)
    rows = list(session.scalars(select(Idempotency).where(col(Idempotency.created_at) < cutoff)))
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)
