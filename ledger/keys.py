"""The log's Ed25519 keys on disk: the operator's checkpoint key and certifiers' cosigning
keys (C2SP signed-note / tlog-cosignature).

Private keys are PKCS#8 PEM encrypted with a passphrase (``cryptography``'s best available
encryption), written with mode 0600 and never printed. Beside each key, ``<name>.vkey`` holds
its public C2SP verifier key string, which is what others are given.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    PrivateFormat,
    load_pem_private_key,
)

from ledger.checkpoint import ALG_COSIGNATURE_V1, ALG_ED25519, Signer, Verifier
from ledger.errors import Conflict, InputError, KeyFileError

ROLES = {"operator": ALG_ED25519, "certifier": ALG_COSIGNATURE_V1}


def _stem(role: str, name: str) -> str:
    if role not in ROLES:
        raise InputError(f"unknown key role {role!r}; allowed: {sorted(ROLES)}", field="role")
    if role == "operator":
        return "operator"
    return "certifier-" + re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def key_path(key_dir: Path, role: str, name: str = "") -> Path:
    return Path(key_dir) / f"{_stem(role, name)}.pem"


def generate(key_dir: Path, role: str, name: str, passphrase: str, *,
             overwrite: bool = False) -> Signer:
    """Create a new key for ``role`` named ``name`` (the log origin, or the certifier's name)."""
    if not passphrase:
        raise KeyFileError("an empty passphrase would leave the private key unprotected",
                           field="passphrase")
    signer = Signer(name, Ed25519PrivateKey.generate(), alg=ROLES[role])
    path = key_path(key_dir, role, name)
    if path.exists() and not overwrite:
        raise Conflict(f"{path} exists; refusing to overwrite a key", field="key")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = signer.private_key.private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(passphrase.encode("utf-8"))
    )
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(f"# greenledger {role} key\n# name: {name}\n".encode())
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    path.with_suffix(".vkey").write_text(signer.verifier.vkey() + "\n", encoding="utf-8")
    return signer


def load(key_dir: Path, role: str, passphrase: str | None, name: str = "") -> Signer:
    path = key_path(key_dir, role, name)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise KeyFileError(
            f"no {role} key at {path}; create one with 'greenledger keys generate'",
            field="key") from exc
    except OSError as exc:
        raise KeyFileError(f"cannot read {path}: {exc.strerror}", field="key") from exc
    m = re.search(rb"^# name: (\S+)$", raw, re.MULTILINE)
    if not m:
        raise KeyFileError(f"{path} is not a greenledger key file (no name line)", field="key")
    if passphrase is None:
        raise KeyFileError("the key is encrypted: set GREENLEDGER_KEY_PASSPHRASE or run "
                           "on a terminal", field="passphrase")
    try:
        key = load_pem_private_key(raw[raw.index(b"-----BEGIN"):], passphrase.encode("utf-8"))
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"cannot open {path}: wrong passphrase or damaged file",
                           field="passphrase") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} does not hold an Ed25519 key", field="key")
    return Signer(m.group(1).decode(), key, alg=ROLES[role])


def load_verifier(key_dir: Path, role: str, name: str = "") -> Verifier:
    path = key_path(key_dir, role, name).with_suffix(".vkey")
    try:
        return Verifier.from_vkey(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise KeyFileError(f"no verifier key at {path}", field="key") from exc
