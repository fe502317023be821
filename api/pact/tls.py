"""A self-signed TLS certificate for the demo's HTTPS (PACT hosts serve HTTPS only).

``make_self_signed(directory, hostnames)`` writes ``pact-tls-cert.pem`` and
``pact-tls-key.pem`` (ECDSA P-256, key mode 0600) into ``directory`` and returns their paths.
The certificate names every host name and IP address given in its subjectAltName, is valid for
one year, and is its own CA (``CA:TRUE``, keyCertSign) so that clients can trust exactly it:
``requests.get(url, verify=cert_path)``, ``curl --cacert cert_path``. An existing pair is kept
while it covers the same names and has more than a week to run. Production uses a real
certificate (``greenledger serve --tls-cert/--tls-key``, gunicorn ``--certfile/--keyfile``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CERT_NAME = "pact-tls-cert.pem"
KEY_NAME = "pact-tls-key.pem"


def _names(hostnames: Sequence[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for name in hostnames:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            out.append(x509.DNSName(name))
    return out


def _reusable(cert_path: Path, key_path: Path, names: list[x509.GeneralName]) -> bool:
    if not (cert_path.is_file() and key_path.is_file()):
        return False
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return False
    week = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
    return set(san) == set(names) and cert.not_valid_after_utc > week


def make_self_signed(directory: Path | str, hostnames: Sequence[str]) -> tuple[Path, Path]:
    """Write (or keep) a self-signed certificate for ``hostnames``; return (cert, key) paths."""
    if not hostnames:
        raise ValueError("name at least one host name or IP address")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / CERT_NAME, folder / KEY_NAME
    names = _names(hostnames)
    if _reusable(cert_path, key_path, names):
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0]),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "greenledger demo")])
    now = dt.datetime.now(dt.UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=False,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    os.chmod(key_path, 0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path
