"""Shared, session-scoped declarations: issuing is the slow part, so it happens once.

``world`` holds a demo CA and issuer (in a temporary directory), a second, untrusted CA and
issuer, a small in-memory log with a signed checkpoint, and two signed declarations of two
shipments (A, the realistic Yunnan aluminium one, and B, a smaller one), all real PDFs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from certificates.issuer import IssuerIdentity, create_demo_ca_and_issuer
from certificates.verify import Report, verify_declaration
from ledger.checkpoint import Verifier
from tests.certificates.sample import Issued, MemoryLog, issue, sample_content, seeded_log

PASSPHRASE = "correct horse battery staple"
B_ID = "9a0b6c2d-1e3f-4a5b-8c7d-6e5f4a3b2c1d"


@dataclass(frozen=True)
class World:
    issuer_dir: Path
    identity: IssuerIdentity
    stranger: IssuerIdentity  # another CA, not trusted
    log: MemoryLog
    a: Issued
    b: Issued

    @property
    def trust_roots(self) -> list:
        return [self.identity.chain[-1]]

    @property
    def operator(self) -> Verifier:
        return self.log.signer.verifier

    def verify(self, pdf: bytes, **kwargs: object) -> Report:
        kwargs.setdefault("trust_roots", self.trust_roots)
        kwargs.setdefault("operator_keys", [self.operator])
        return verify_declaration(pdf, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    issuer_dir = tmp_path_factory.mktemp("issuer")
    identity = create_demo_ca_and_issuer(
        issuer_dir, issuer_name="云南文山铝业 声明签发 Declaration issuer",
        organisation="Yunnan Wenshan Aluminium", passphrase=PASSPHRASE)
    stranger = create_demo_ca_and_issuer(
        tmp_path_factory.mktemp("stranger"), issuer_name="云南文山铝业 声明签发 Declaration issuer",
        organisation="Yunnan Wenshan Aluminium", passphrase="other")
    log = seeded_log()
    a = issue(sample_content(), log, identity)
    b_content = sample_content(
        declaration_id=B_ID, shipment_id="SHP-2024-0502-07", shipment_date=date(2024, 5, 2),
        tonnes=Decimal("310.500"), green_mwh=Decimal("3800.000"),
        green_mwh_attested=Decimal("3800.000"), green_mwh_voucher_covered=Decimal("3500.000"),
        electricity_mwh=Decimal("4207.275"), certificates=sample_content().certificates[:4],
        verify_url=f"https://greenledger.example/verify/{B_ID}")
    b = issue(replace(b_content), log, identity)
    return World(issuer_dir, identity, stranger, log, a, b)


@pytest.fixture(scope="session")
def signed_pdf(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "declaration.pdf"
    path.write_bytes(world.a.pdf)
    return path
