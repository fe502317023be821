"""Registered PACT partners: the hosts greenledger pulls from (suppliers) or answers
(customers who send ``RequestCreatedEvent``), with the client credentials they issued us.

Stored in ``<key dir>/pact/peers.json`` (mode 0600, directory 0700), written atomically. The
client secrets are encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256, ``cryptography``)
under ``<key dir>/pact/peers.key`` (0600): a copy of the JSON file alone (a backup, a support
bundle) reveals no secret; someone who can read the whole key directory can, as they can read
every other key there. Secrets never appear in ``repr``, listings or messages.

A peer's ``url`` is its PACT base URL (``https://host[:port][/subpath]``; PACT hosts serve
HTTPS only, so ``http`` is refused). ``party`` is the local party the peer's footprints are
recorded for (the actor of ``supplier_footprint.recorded``). ``ca_file`` optionally names a PEM
file of certificates to trust for this peer instead of the system's (a self-signed demo host).

:func:`normalize_url` is how a CloudEvent's ``source`` (``//host/3/events``,
``https://host/3/events`` or a base URL) is matched to a registered peer: PACT says a host
MUST validate ``source`` before answering, and greenledger only ever sends to, or pulls from,
registered peers.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken

from ledger import encoding
from ledger.errors import Conflict, InputError, KeyFileError, NotFound

KINDS = ("supplier", "customer")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def normalize_url(url: str) -> str:
    """``https://host[:port][/path]`` of a PACT base URL or event source, lower-case host,
    default port dropped, without a trailing ``/3/events`` or ``/``. Raises InputError."""
    text = (url or "").strip()
    if text.startswith("//"):
        text = "https:" + text
    parts = urlsplit(text)
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise InputError(f"a PACT host is reached over https://host...; got {url!r}", field="url")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InputError(f"a PACT base URL has no credentials, query or fragment: {url!r}",
                         field="url")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError as exc:
        raise InputError(f"bad port in {url!r}", field="url") from exc
    netloc = host if port in (None, 443) else f"{host}:{port}"
    path = parts.path.rstrip("/")
    if path.endswith("/3/events"):
        path = path[: -len("/3/events")]
    return f"https://{netloc}{path.rstrip('/')}"


@dataclass(frozen=True)
class Peer:
    name: str
    url: str
    client_id: str
    client_secret: str = field(repr=False)
    kind: str = "supplier"
    party: str | None = None
    ca_file: str | None = None
    added_at: str = ""

    @property
    def verify(self) -> str | bool:
        """``requests``' ``verify``: the peer's CA file, else the system's trust store."""
        return self.ca_file or True

    def summary(self) -> dict[str, str | None]:
        """What may be shown: everything but the secret."""
        return {"name": self.name, "kind": self.kind, "url": self.url,
                "client_id": self.client_id, "party": self.party, "ca_file": self.ca_file,
                "added_at": self.added_at}


def make_peer(*, name: str, url: str, client_id: str, client_secret: str, kind: str = "supplier",
              party: str | None = None, ca_file: str | None = None) -> Peer:
    if not _NAME.match(name or ""):
        raise InputError("1-64 letters, digits and . _ - (starting with a letter or digit)",
                         field="name")
    if kind not in KINDS:
        raise InputError(f"one of {', '.join(KINDS)}", field="kind")
    if not client_id or not client_secret:
        raise InputError("client id and secret are both required", field="client-id")
    if ca_file is not None and not Path(ca_file).is_file():
        raise InputError(f"no such file {ca_file!r}", field="ca-file")
    return Peer(name, normalize_url(url), client_id, client_secret, kind, party,
                str(Path(ca_file).resolve()) if ca_file else None, encoding.now())


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(tmp, 0o600)
    tmp.replace(path)


class PeerStore:
    """The registry file of one key directory."""

    def __init__(self, key_dir: Path) -> None:
        self.folder = key_dir / "pact"
        self.path = self.folder / "peers.json"
        self.key_path = self.folder / "peers.key"

    def _fernet(self, *, create: bool) -> Fernet | None:
        if not self.key_path.exists():
            if not create:
                return None
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "wb") as out:
                    out.write(Fernet.generate_key())
                    out.flush()
                    os.fsync(out.fileno())
        try:
            return Fernet(self.key_path.read_bytes().strip())
        except (OSError, ValueError) as exc:
            raise KeyFileError(f"cannot use {self.key_path}: {exc}", field="pact") from exc

    def _read(self) -> list[dict[str, str | None]]:
        if not self.path.exists():
            return []
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return list(data["peers"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise KeyFileError(f"cannot read {self.path}: {exc}", field="pact") from exc

    def _write(self, rows: list[dict[str, str | None]]) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        body = json.dumps({"version": 1, "peers": rows}, indent=2, ensure_ascii=False)
        _write_private(self.path, body.encode("utf-8") + b"\n")

    def peers(self) -> list[Peer]:
        rows = self._read()
        if not rows:
            return []
        fernet = self._fernet(create=False)
        if fernet is None:
            raise KeyFileError(f"{self.key_path} is missing: the peers' secrets cannot be read",
                               field="pact")
        out = []
        for row in rows:
            try:
                secret = fernet.decrypt(str(row["client_secret"]).encode("ascii")).decode("utf-8")
            except (InvalidToken, KeyError, UnicodeError) as exc:
                raise KeyFileError(f"the secret of PACT peer {row.get('name')!r} does not decrypt "
                                   f"with {self.key_path}", field="pact") from exc
            out.append(Peer(str(row["name"]), str(row["url"]), str(row["client_id"]), secret,
                            str(row.get("kind") or "supplier"), row.get("party"),
                            row.get("ca_file"), str(row.get("added_at") or "")))
        return out

    def get(self, name: str, *, kind: str | None = None) -> Peer:
        for peer in self.peers():
            if peer.name == name and (kind is None or peer.kind == kind):
                return peer
        raise NotFound(f"no PACT {kind or 'peer'} named {name!r} (greenledger pact "
                       f"{kind or 'supplier'} add ...)", field="name")

    def add(self, peer: Peer, *, replace: bool = False) -> None:
        rows = [r for r in self._read() if r.get("name") != peer.name]
        if len(rows) != len(self._read()) and not replace:
            raise Conflict(f"a PACT peer named {peer.name!r} exists (use --replace)", field="name")
        fernet = self._fernet(create=True)
        assert fernet is not None
        rows.append({"name": peer.name, "kind": peer.kind, "url": peer.url,
                     "client_id": peer.client_id,
                     "client_secret": fernet.encrypt(peer.client_secret.encode("utf-8"))
                     .decode("ascii"),
                     "party": peer.party, "ca_file": peer.ca_file, "added_at": peer.added_at})
        self._write(rows)

    def remove(self, name: str) -> None:
        rows = self._read()
        kept = [r for r in rows if r.get("name") != name]
        if len(kept) == len(rows):
            raise NotFound(f"no PACT peer named {name!r}", field="name")
        self._write(kept)

    def match_source(self, source: str, *, kind: str | None = None) -> Peer | None:
        """The registered peer a CloudEvent ``source`` designates, if any."""
        try:
            wanted = normalize_url(source)
        except InputError:
            return None
        for peer in self.peers():
            if normalize_url(peer.url) == wanted and (kind is None or peer.kind == kind):
                return peer
        return None
