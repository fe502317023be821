"""A realistic, fictitious Yunnan aluminium declaration for the certificate tests.

``sample_content`` is a shipment of primary aluminium from a hydro-powered smelter in
Wenshan; ``issue`` runs the whole issuing path the way the server will: PACT payload without
ledger part -> ``declaration.issued`` entry over the SHA-256 of its JCS bytes -> a small
in-memory log (RFC 9162 tree, pure functions) with a checkpoint signed by a test Ed25519
operator key -> payload with the ledger binding -> PDF -> detached JWS -> PAdES.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from certificates.content import (
    Breakdown,
    CertificateUsed,
    DeclarationContent,
    Factor,
    LedgerBinding,
    Party,
    Product,
    VoucherUsed,
)
from certificates.issuer import IssuerIdentity
from certificates.jws import sign_detached
from certificates.pact import build_product_footprint, ledger_section, payload_core
from certificates.pades import sign_pdf
from certificates.pdf import render_declaration
from ledger.checkpoint import Checkpoint, Signer, sign_checkpoint
from ledger.encoding import Entry, leaf_hash
from ledger.merkle import consistency_proof, inclusion_proof, root_from_leaf_hashes

ORIGIN = "greenledger.example/log"
SCHEMA_URL = "https://greenledger.example/schemas/declaration-extension/v1.json"
BASE_URL = "https://greenledger.example"
OPERATOR_SEED = bytes(range(32))


def operator_signer(seed: bytes = OPERATOR_SEED) -> Signer:
    return Signer(ORIGIN, Ed25519PrivateKey.from_private_bytes(seed))


def _cert(i: int, mwh: str, *, attested: bool = True) -> CertificateUsed:
    project = "GEC53262023HYD0A"[:16] + str(i % 10)  # 17 characters
    return CertificateUsed(
        registry="CN-GEC",
        first=f"{project}2024030000{i:04d}1",
        last=f"{project}2024030000{i:04d}9",
        mwh=Decimal(mwh),
        technology="hydro",
        plant=f"文山盘龙河水电站 Panlong River hydro {i}",
        vintage="2024-03",
        attested=attested,
        tradable=False,
    )


def sample_content(**changes: Any) -> DeclarationContent:
    content = DeclarationContent(
        declaration_id="4f1c2a9e-6b3d-4c1e-9a57-2d8e0f3b7c11",
        created=datetime(2024, 4, 18, 6, 30, tzinfo=UTC),
        issuer=Party("p-wsal", "云南文山铝业有限公司 Yunnan Wenshan Aluminium Co., Ltd.",
                     "91532600MA6K0XYR8Q"),
        buyer=Party("p-buyer", "苏州绿材金属制品有限公司 Suzhou Greenmat Metal Products"),
        product=Product(
            name="原铝锭 Al99.70 Primary aluminium ingot",
            description="Primary aluminium ingot, 99.70 % Al, 20 kg ingots",
            metal="aluminium", grade="Al99.70", cn_code="76011000", product_id="al-ingot-9970",
        ),
        shipment_id="SHP-2024-0417-01",
        shipment_date=date(2024, 4, 17),
        destination_country="DE",
        tonnes=Decimal("1250.000"),
        period_start=date(2024, 3, 1),
        period_end=date(2024, 3, 31),
        geography_country="CN",
        geography_subdivision="CN-YN",
        facility_names=("文山铝业电解一车间 Wenshan potline 1",
                        "文山氧化铝厂 Wenshan alumina refinery"),
        market=Breakdown(Decimal("2612.400"), Decimal("1871.250"), Decimal("974.459")),
        location=Breakdown(Decimal("2612.400"), Decimal("1871.250"), Decimal("7827.835")),
        fossil_kg_per_tonne=Decimal("4483.650"),
        factor_family="lca-power-footprint",
        gwp_set="AR6",
        electricity_mwh=Decimal("16937.500"),
        green_mwh=Decimal("15200.000"),
        green_mwh_attested=Decimal("12000.000"),
        green_mwh_voucher_covered=Decimal("14000.000"),
        primary_data_share=Decimal("78.50"),
        recycled_share=Decimal("3.20"),
        certificates=tuple(_cert(i, "950.000", attested=i < 13) for i in range(16)),
        vouchers=(VoucherUsed("昆明电力交易中心 Kunming Electric Power Exchange Center",
                              "KMPX-2024-03-000871", Decimal("14000.000"), "2024-03..2024-03"),),
        factors=(
            Factor("水电 电力碳足迹因子 Hydro power carbon footprint", Decimal("0.0141"),
                   "kg CO2e/kWh", "MEE/NBS/NEA 电力碳足迹因子 2024", 2024),
            Factor("全国电力平均 碳足迹因子 National average power carbon footprint",
                   Decimal("0.5777"), "kg CO2e/kWh", "MEE/NBS/NEA 电力碳足迹因子 2024", 2024),
            Factor("氧化铝 Alumina (upstream)", Decimal("1.352"), "kg CO2e/kg",
                   "Supplier PACT footprint", 2024),
        ),
        by_gas_kg_per_tonne={"CO2": Decimal("4320.100"), "CF4": Decimal("118.080"),
                             "C2F6": Decimal("45.470")},
        boundary="Cradle to gate: bauxite mining, alumina refining, anode production, "
        "electrolysis and casting. Excluded: capital goods, transport to the buyer.",
        verify_url=f"{BASE_URL}/verify/4f1c2a9e-6b3d-4c1e-9a57-2d8e0f3b7c11",
        notes=("No provincial residual mix exists: uncovered MWh use the national factor "
               "excluding market-traded non-fossil power (MEE).",),
    )
    return replace(content, **changes)


@dataclass
class MemoryLog:
    """A tiny in-memory log: canonical entries, their leaf hashes, signed checkpoints."""

    signer: Signer = field(default_factory=operator_signer)
    entries: list[bytes] = field(default_factory=list)

    @property
    def leaves(self) -> list[bytes]:
        return [leaf_hash(e) for e in self.entries]

    def append(self, kind: str, body: dict[str, Any], actor: str = "p-wsal") -> int:
        seq = len(self.entries)
        nonce = base64.urlsafe_b64encode(hashlib.sha256(f"n{seq}".encode()).digest()[:16])
        entry = Entry(seq, kind, f"2024-04-18T06:30:{seq:02d}.000000Z", actor,
                      nonce.rstrip(b"=").decode(), body)
        self.entries.append(entry.canonical())
        return seq

    def checkpoint(self, size: int | None = None) -> str:
        size = len(self.entries) if size is None else size
        root = root_from_leaf_hashes(self.leaves[:size])
        return sign_checkpoint(Checkpoint(ORIGIN, size, root), self.signer)

    def binding(self, seq: int, size: int | None = None) -> LedgerBinding:
        size = len(self.entries) if size is None else size
        return LedgerBinding(
            seq=seq,
            entry=self.entries[seq].decode("utf-8"),
            leaf_hash=self.leaves[seq].hex(),
            tree_size=size,
            inclusion_proof=tuple(h.hex() for h in inclusion_proof(self.leaves, seq, size)),
            checkpoint=self.checkpoint(size),
        )

    def consistency(self, first: int, second: int) -> list[str]:
        return [h.hex() for h in consistency_proof(self.leaves, first, second)]


def seeded_log() -> MemoryLog:
    log = MemoryLog()
    log.append("party.registered", {"party": "p-wsal", "name": "云南文山铝业", "roles": ["producer"]},
               actor="op")
    log.append("certificate.registered", {"registry": "CN-GEC", "mwh": "15200.000"})
    log.append("batch.recorded", {"lot": "WS-2403-A", "tonnes": "1300.000"})
    return log


def payload_sha256(payload: dict[str, Any]) -> str:
    return hashlib.sha256(rfc8785.dumps(payload_core(payload))).hexdigest()


@dataclass(frozen=True)
class Issued:
    content: DeclarationContent
    payload: dict[str, Any]
    jws: str
    unsigned_pdf: bytes
    pdf: bytes


def issue(content: DeclarationContent, log: MemoryLog, identity: IssuerIdentity,
          *, extra_entries: int = 2) -> Issued:
    """Record ``content`` in ``log`` and produce its signed PDF."""
    core = build_product_footprint(content, extension_schema_url=SCHEMA_URL, ledger=None)
    seq = log.append("declaration.issued", {
        "declaration": content.declaration_id,
        "payload_sha256": payload_sha256(core),
        "shipment": content.shipment_id,
    })
    for i in range(extra_entries):
        log.append("batch.recorded", {"lot": f"WS-2404-{i}", "tonnes": "10.000"})
    binding = log.binding(seq)
    payload = build_product_footprint(content, extension_schema_url=SCHEMA_URL,
                                      ledger=ledger_section(binding))
    unsigned = render_declaration(content, payload)
    token = sign_detached(payload, identity)
    signed = sign_pdf(unsigned, payload, token, identity, reason="Product carbon footprint "
                      "declaration", location="Wenshan, Yunnan, CN")
    return Issued(content, payload, token, unsigned, signed)
