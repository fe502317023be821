"""PACT access tokens (OAuth2 client credentials, RFC 6749 §4.4; Bearer use, RFC 6750).

Design: a stateless, short-lived JWT (RFC 7519) signed with HMAC-SHA256 (JWS ``HS256``) under a
per-install secret, ``<key dir>/pact-token.key`` (32 random bytes, mode 0600, made on first use
with ``O_EXCL`` so that concurrent workers agree on one). Claims: ``sub`` (the API key id the
client credentials belong to), ``party``, ``role``, ``iat``, ``exp`` (default lifetime
:data:`DEFAULT_TTL`, app config ``GREENLEDGER_PACT_TOKEN_TTL``) and a random ``jti``.

Why: any worker of any process that shares the key directory checks a token with one HMAC and
no database write; nothing secret is stored (the token is not kept at all). Revoking the API
key revokes its tokens at once: every request also reads the key's row (one primary-key read)
and refuses a revoked key. Deleting the secret file ends every outstanding token.
The token says only who it is for; what it may see is decided per request by
:mod:`ledger.domain.visibility`, exactly as for the JSON API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

KEY_FILE_NAME = "pact-token.key"
DEFAULT_TTL = 3600
_HEADER = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
_cache: dict[Path, bytes] = {}
_lock = threading.Lock()


class TokenInvalid(Exception):
    pass


class TokenExpired(Exception):
    pass


@dataclass(frozen=True)
class Claims:
    key_id: str
    party: str
    role: str
    expires: int


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _unb64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def secret(key_dir: Path) -> bytes:
    """The install's token secret, created (0600) on first use. Published with a hard link
    from a complete temporary file, so a concurrent worker never reads a partial one."""
    path = key_dir / KEY_FILE_NAME
    with _lock:
        known = _cache.get(path)
        if known is not None:
            return known
        if not path.exists():
            key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            tmp = key_dir / f".{KEY_FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(secrets.token_bytes(32))
                    out.flush()
                    os.fsync(out.fileno())
                os.link(tmp, path)
            except FileExistsError:
                pass  # another worker published first: use its secret
            finally:
                tmp.unlink(missing_ok=True)
        value = path.read_bytes()
        if len(value) < 32:
            raise TokenInvalid(f"{path} holds no usable secret")
        _cache[path] = value
        return value


def forget_secrets() -> None:
    """Drop the in-process copies (tests that delete or replace the file)."""
    with _lock:
        _cache.clear()


def issue(key: bytes, *, key_id: str, party: str, role: str, ttl: int,
          now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    claims = {"sub": key_id, "party": party, "role": role, "iat": issued, "exp": issued + ttl,
              "jti": secrets.token_urlsafe(12)}
    payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    signing_input = _HEADER + b"." + payload
    signature = _b64(hmac.new(key, signing_input, hashlib.sha256).digest())
    return (signing_input + b"." + signature).decode("ascii")


def verify(key: bytes, token: str, *, now: float | None = None) -> Claims:
    """The claims of a token signed with ``key``; raises TokenInvalid or TokenExpired."""
    parts = token.split(".")
    if len(parts) != 3 or len(token) > 2000:
        raise TokenInvalid("not a greenledger PACT access token")
    try:
        header, payload, signature = (p.encode("ascii") for p in parts)
        expected = _b64(hmac.new(key, header + b"." + payload, hashlib.sha256).digest())
        if header != _HEADER or not hmac.compare_digest(signature, expected):
            raise TokenInvalid("the access token's signature does not verify")
        claims = json.loads(_unb64(parts[1]))
        key_id, party, role, exp = claims["sub"], claims["party"], claims["role"], claims["exp"]
    except (UnicodeEncodeError, ValueError, KeyError, TypeError) as exc:
        raise TokenInvalid("the access token is malformed") from exc
    if not (isinstance(key_id, str) and isinstance(party, str) and isinstance(role, str)
            and isinstance(exp, int)):
        raise TokenInvalid("the access token is malformed")
    if (now if now is not None else time.time()) >= exp:
        raise TokenExpired("the access token has expired")
    return Claims(key_id, party, role, exp)
