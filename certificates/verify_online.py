"""The online half of declaration verification: revocation status and log consistency.

Offline, a buyer can prove that the declaration was signed by a trusted issuer and recorded in
the log at a signed checkpoint (DESIGN §6). Two things only the live ledger can say:

* ``online-status`` — ``GET {base}/api/v1/declarations/{id}/status`` →
  ``{"status": "valid" | "revoked", "reason"?: ...}``: the issuer may have revoked it since.
* ``online-consistency`` — ``GET {base}/api/v1/log/checkpoint`` (the current signed note,
  text) and ``GET {base}/api/v1/log/proof/consistency?first=A&second=B`` →
  ``{"proof": [hex, ...]}``: the checkpoint in the declaration must be a prefix of the
  ledger's current tree (RFC 9162 §2.1.4), else the log was rewritten or forked after the
  declaration was issued. The current checkpoint must be signed by the same operator key.

Network trouble (unreachable server, timeout, 5xx, an answer that is not the documented
JSON) is "could not check" (``ok=None``, exit code 2), never "valid"; an answer that
contradicts the declaration is a failure. Responses are read up to a bound (1 MiB).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from ledger.checkpoint import Checkpoint, Verifier, open_checkpoint
from ledger.errors import ProofError, SignatureError
from ledger.verify import verify_consistency

MAX_RESPONSE_BYTES = 1024 * 1024
MAX_PROOF_HASHES = 128


class CouldNotCheck(Exception):
    """The online service did not give a usable answer (reported as ``ok=None``)."""


class OnlineFailure(Exception):
    """The online service answered, and the answer contradicts the declaration."""


@dataclass(frozen=True)
class OnlineCheck:
    """Where and how to ask the ledger. ``base_url`` is the greenledger site, e.g.
    ``https://ledger.example``; ``session`` lets callers set TLS trust, proxies or a test
    adapter."""

    base_url: str
    session: requests.Session | None = None
    timeout: float = 10.0

    @classmethod
    def from_verify_url(cls, verify_url: str, *, session: requests.Session | None = None,
                        timeout: float = 10.0) -> OnlineCheck:
        """The site behind a declaration's QR URL ``{base}/verify/{id}``."""
        parts = urlsplit(verify_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"not an http(s) URL: {verify_url!r}")
        path = parts.path
        cut = path.rfind("/verify/")
        base_path = path[:cut] if cut >= 0 else ""
        return cls(f"{parts.scheme}://{parts.netloc}{base_path}", session, timeout)

    def _get(self, path: str, params: dict[str, Any] | None = None) -> tuple[int, bytes]:
        url = self.base_url.rstrip("/") + path
        session = self.session or requests.Session()
        try:
            with session.get(url, params=params, timeout=self.timeout, stream=True,
                             allow_redirects=True) as response:
                body = bytearray()
                for chunk in response.iter_content(chunk_size=65536):
                    body += chunk
                    if len(body) > MAX_RESPONSE_BYTES:
                        raise CouldNotCheck(f"{path}: answer larger than 1 MiB")
                return response.status_code, bytes(body)
        except requests.RequestException as exc:
            raise CouldNotCheck(f"{url} unreachable: {type(exc).__name__}") from None
        finally:
            if self.session is None:
                session.close()

    def get_json(self, path: str, params: dict[str, Any] | None = None,
                 *, not_found: str | None = None) -> dict[str, Any]:
        status, body = self._get(path, params)
        if status == 404 and not_found is not None:
            raise OnlineFailure(not_found)
        if status != 200:
            raise CouldNotCheck(f"{path}: HTTP {status}")
        try:
            value = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise CouldNotCheck(f"{path}: the answer is not JSON") from None
        if not isinstance(value, dict):
            raise CouldNotCheck(f"{path}: the answer is not a JSON object")
        return value

    def get_text(self, path: str) -> str:
        status, body = self._get(path)
        if status != 200:
            raise CouldNotCheck(f"{path}: HTTP {status}")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise CouldNotCheck(f"{path}: the answer is not UTF-8 text") from None


def check_status(online: OnlineCheck, declaration_id: str) -> str:
    """Detail text if the ledger says the declaration is valid; raises otherwise."""
    try:
        canonical = str(uuid.UUID(declaration_id))
    except (ValueError, TypeError, AttributeError):
        raise OnlineFailure(f"declaration id {declaration_id!r} is not a UUID") from None
    answer = online.get_json(
        f"/api/v1/declarations/{quote(canonical)}/status",
        not_found=f"the ledger does not know declaration {canonical}",
    )
    status = answer.get("status")
    if "id" in answer and answer["id"] != canonical:
        raise OnlineFailure(f"the ledger answered for another declaration ({answer['id']!r})")
    if status == "valid":
        return "the ledger reports the declaration as valid (not revoked)"
    if status == "revoked":
        reason = str(answer.get("reason") or "no reason given")[:300]
        when = answer.get("revoked_at") or answer.get("revokedAt")
        return_text = f"revoked: {reason}" + (f" (at {when})" if isinstance(when, str) else "")
        raise OnlineFailure(return_text)
    if status == "superseded":
        # a correction replaces it: the figures the buyer holds are no longer the issuer's
        newer = str(answer.get("superseded_by") or "a later declaration")[:80]
        raise OnlineFailure(f"superseded by {newer}: ask the issuer for the corrected declaration")
    raise CouldNotCheck(f"the ledger answered an unknown status {str(status)[:40]!r}")


def _hashes(value: Any) -> list[bytes]:
    if not isinstance(value, list) or len(value) > MAX_PROOF_HASHES:
        raise CouldNotCheck("the consistency proof is not a list of at most 128 hashes")
    try:
        out = [bytes.fromhex(h) for h in value]
    except (TypeError, ValueError):
        raise CouldNotCheck("the consistency proof holds a non-hex hash") from None
    return out


def check_consistency(online: OnlineCheck, declared: Checkpoint, operator: Verifier) -> str:
    """Detail text if ``declared`` is a prefix of the ledger's current tree; raises otherwise."""
    note = online.get_text("/api/v1/log/checkpoint")
    try:
        current = open_checkpoint(note, operator)
    except SignatureError as exc:
        raise OnlineFailure(f"the ledger's current checkpoint is not signed by the operator "
                            f"key that signed the declaration's: {exc}") from None
    first, second = declared.size, current.size
    if second < first:
        raise OnlineFailure(
            f"the ledger's current tree (size {second}) is smaller than the declaration's "
            f"checkpoint (size {first}): the log was rolled back or forked")
    proof: list[bytes] = []
    if first not in (0, second):
        answer = online.get_json("/api/v1/log/proof/consistency",
                                 {"first": first, "second": second})
        proof = _hashes(answer.get("proof"))
    try:
        verify_consistency(first, second, declared.root, current.root, proof)
    except ProofError as exc:
        raise OnlineFailure(f"the declaration's checkpoint (size {first}) is not consistent "
                            f"with the ledger's current one (size {second}): {exc}") from None
    return (f"checkpoint of size {first} is consistent with the ledger's current checkpoint "
            f"of size {second}")
