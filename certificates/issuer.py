"""The issuer's signing identity: an ECDSA P-256 key, its certificate and the chain above it.

One identity signs both halves of a declaration (DESIGN §6): the PAdES signature of the PDF
and the detached JWS (ES256) over the JSON payload, so that payload and PDF name the same
issuer. The key is **ECDSA P-256** on purpose: pyHanko can sign with Ed25519, but poppler's
``pdfsig`` rejects it (measured here), and JOSE ``ES256`` is defined on P-256 only
(RFC 7518 §3.4).

For the embedded demo, :func:`create_demo_ca_and_issuer` makes a throw-away root CA and an
issuer certificate for document signing (key usage digitalSignature + nonRepudiation, the
pair PAdES validators such as pyHanko expect; extended key usage id-kp-documentSigning from
RFC 9336 plus emailProtection, which NSS — and so poppler — looks for on signer
certificates). The CA's private key is not kept: the demo never issues a second certificate.
In production :func:`load_external` takes an existing key and the chain a real CA issued.

Files (``issuer-key.pem`` is PKCS#8, encrypted with the passphrase, mode 0600):
``issuer-key.pem``, ``issuer-cert.pem``, ``ca-cert.pem``. Failures to read them raise
:class:`~ledger.errors.KeyFileError` with a one-line reason; key material is never printed.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from ledger.errors import KeyFileError

KEY_FILE = "issuer-key.pem"
CERT_FILE = "issuer-cert.pem"
CA_FILE = "ca-cert.pem"

#: id-kp-documentSigning (RFC 9336 §3)
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")

_ISSUER_VALIDITY = dt.timedelta(days=730)
_CA_VALIDITY = dt.timedelta(days=3650)


@dataclass(frozen=True)
class IssuerIdentity:
    """A P-256 private key, its certificate, and the certificates above it (leaf excluded,
    nearest issuer first, root last)."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    chain: tuple[x509.Certificate, ...]

    def __repr__(self) -> str:  # never print key material
        subject = self.cert.subject.rfc4514_string()
        return f"IssuerIdentity(subject={subject!r}, chain={len(self.chain)} certificate(s))"

    @property
    def subject_name(self) -> str:
        """The signer's common name, for the PDF signature's /Name."""
        names = self.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else self.cert.subject.rfc4514_string()


def _passphrase_bytes(passphrase: str | bytes) -> bytes:
    return passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase


def _fit(text: str, limit: int = 64) -> str:
    """RFC 5280 upper bound ub-common-name / ub-organization-name is 64; cryptography counts
    UTF-8 bytes, and a bilingual name (3 bytes per Chinese character) easily exceeds it."""
    data = text.strip().encode("utf-8")[:limit]
    return data.decode("utf-8", errors="ignore").strip()


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _fit(organisation)),
            x509.NameAttribute(NameOID.COMMON_NAME, _fit(common_name)),
        ]
    )


def _key_usage(*, signer: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signer,
        content_commitment=signer,  # nonRepudiation
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signer,
        crl_sign=not signer,
        encipher_only=False,
        decipher_only=False,
    )


def make_ca(
    common_name: str, organisation: str, *, now: dt.datetime | None = None
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A self-signed P-256 root CA (CA:TRUE, keyCertSign + cRLSign)."""
    now = now or dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name, organisation)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signer=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_issuer_certificate(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    *,
    issuer_name: str,
    organisation: str,
    now: dt.datetime | None = None,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A fresh P-256 key and its document-signing certificate (2 years) signed by the CA."""
    now = now or dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(issuer_name, organisation))
        .issuer_name(ca_cert.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _ISSUER_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signer=True), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def create_demo_ca_and_issuer(
    directory: str | os.PathLike[str],
    *,
    issuer_name: str,
    organisation: str,
    passphrase: str | bytes,
) -> IssuerIdentity:
    """Make a demo root CA and an issuer certificate under it, write them to ``directory``."""
    if not passphrase:
        raise KeyFileError("an issuer key needs a non-empty passphrase", field="passphrase")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = make_ca(f"Demo root CA {organisation}", organisation)
    key, cert = make_issuer_certificate(
        ca_key, ca_cert, issuer_name=issuer_name, organisation=organisation
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(_passphrase_bytes(passphrase)),
    )
    key_path = folder / KEY_FILE
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_pem)
    os.chmod(key_path, 0o600)  # an existing file keeps its mode through O_TRUNC
    (folder / CERT_FILE).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / CA_FILE).write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    return IssuerIdentity(key, cert, (ca_cert,))


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def _load_key(data: bytes, path: Path, passphrase: str | bytes | None) -> ec.EllipticCurvePrivateKey:
    secret = _passphrase_bytes(passphrase) if passphrase else None
    try:
        key = serialization.load_pem_private_key(data, password=secret)
    except TypeError:
        # cryptography: a password was given for an unencrypted key or vice versa
        reason = "is encrypted: a passphrase is needed" if secret is None else "is not encrypted"
        raise KeyFileError(f"issuer key {path} {reason}") from None
    except ValueError:
        raise KeyFileError(
            f"cannot open issuer key {path}: wrong passphrase or not a PEM private key"
        ) from None
    except Exception:  # unsupported algorithm and the like
        raise KeyFileError(f"cannot open issuer key {path}: unsupported key format") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise KeyFileError(
            f"issuer key {path} must be ECDSA P-256 (ES256 and pdfsig need it)"
        )
    return key


def _load_certs(data: bytes, path: Path) -> list[x509.Certificate]:
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise KeyFileError(f"{path} holds no readable PEM certificate") from None
    return certs


def _same_key(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> bool:
    return cert.public_key() == key.public_key()


def _order_chain(
    leaf: x509.Certificate, others: Sequence[x509.Certificate]
) -> tuple[x509.Certificate, ...]:
    """Order ``others`` from the leaf's issuer upwards; certificates off the path go last."""
    remaining = [c for c in others if c != leaf]
    ordered: list[x509.Certificate] = []
    current = leaf
    while True:
        parent = next((c for c in remaining if c.subject == current.issuer), None)
        if parent is None or current.subject == current.issuer:
            break
        ordered.append(parent)
        remaining.remove(parent)
        current = parent
    return (*ordered, *remaining)


def load_issuer(directory: str | os.PathLike[str], passphrase: str | bytes) -> IssuerIdentity:
    """Load the identity written by :func:`create_demo_ca_and_issuer`."""
    folder = Path(directory)
    identity = load_external(folder / KEY_FILE, folder / CERT_FILE, passphrase)
    ca_path = folder / CA_FILE
    cas = _load_certs(_read(ca_path, "CA certificate"), ca_path)
    return IssuerIdentity(identity.key, identity.cert, _order_chain(identity.cert, [
        *identity.chain, *(c for c in cas if c not in identity.chain)]))


def load_external(
    key_path: str | os.PathLike[str],
    chain_path: str | os.PathLike[str],
    passphrase: str | bytes | None,
) -> IssuerIdentity:
    """Load an existing P-256 key and a PEM file with its certificate and the chain above it.

    The certificate whose public key matches the key is the leaf, wherever it is in the file;
    the others are ordered from its issuer up to the root.
    """
    kpath, cpath = Path(key_path), Path(chain_path)
    key = _load_key(_read(kpath, "issuer key"), kpath, passphrase)
    certs = _load_certs(_read(cpath, "certificate chain"), cpath)
    leaf = next((c for c in certs if _same_key(c, key)), None)
    if leaf is None:
        raise KeyFileError(f"no certificate in {cpath} matches the key in {kpath}")
    return IssuerIdentity(key, leaf, _order_chain(leaf, certs))
