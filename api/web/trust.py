"""What the web verifier trusts, and how it asks this ledger the online questions.

Trust is what an offline ``greenledger verify`` on the server would be given: the CA
certificates of this ledger's issuers (``<key dir>/issuers/<party>/ca-cert.pem``) as trust
roots, and the operator's verifier keys, current and retired (pinned in the key directory).

The two online checks of ``greenledger verify --online`` (``online-status``,
``online-consistency``, :mod:`certificates.verify_online`) ask the public JSON API for the
declaration's status, the current checkpoint and a consistency proof. The web verifier *is*
that ledger, so :class:`ThisLedger` answers those same requests in process, through this
app's own endpoints and without a network round trip: an uploaded declaration gets exactly
the verdict a buyer's ``verify --online`` against this site would give, revocation included.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from flask import Flask, current_app

from certificates.issuing import issuer_root_files
from certificates.verify import Report, verify_declaration
from certificates.verify_online import OnlineCheck
from ledger.checkpoint import Verifier
from ledger.config import Settings
from ledger.domain.full_audit import pinned_operator_keys
from ledger.errors import GreenledgerError

log = logging.getLogger("greenledger.web")


def issuer_roots(settings: Settings) -> list[x509.Certificate]:
    """The CA certificate of each issuer of this ledger, current and retired (so declarations
    signed before an issuer rotation still verify); unreadable files are skipped and logged:
    they then fail ``signer-trusted`` rather than the page."""
    roots = []
    for path in issuer_root_files(settings):
        try:
            roots.append(x509.load_pem_x509_certificate(path.read_bytes()))
        except (OSError, ValueError) as exc:
            log.warning("cannot read issuer CA %s: %s", path, exc)
    return roots


def operator_keys(settings: Settings) -> list[Verifier]:
    """The operator's current and retired verifier keys (none if the key directory has none:
    the inclusion check then reports that it could not check)."""
    try:
        return pinned_operator_keys(settings.key_dir)
    except GreenledgerError as exc:
        log.warning("no operator verifier key: %s", exc)
        return []


@dataclass(frozen=True)
class ThisLedger(OnlineCheck):
    """:class:`OnlineCheck` answered by this app's own public endpoints, in process."""

    app: Any = None

    def _get(self, path: str, params: dict[str, Any] | None = None) -> tuple[int, bytes]:
        app: Flask = self.app
        # a fresh application context: the inner request must not share the page's ``g``
        with app.app_context():
            response = app.test_client().get(path, query_string=params or {})
            return response.status_code, response.get_data()


def verify_upload(settings: Settings, pdf: bytes) -> Report:
    """Every offline check and the two online ones, against this ledger."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return verify_declaration(pdf, trust_roots=issuer_roots(settings),
                              operator_keys=operator_keys(settings),
                              online=ThisLedger(settings.public_base_url, app=app))
