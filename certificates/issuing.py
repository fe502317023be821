"""Issuing and revoking declarations (DESIGN §6): from a shipment in the ledger to a signed
PDF whose payload carries a proof that is valid from the moment it is issued.

Issuing is one transaction holding the log's write lock: compute the shipment's footprint,
build the PACT payload core, append ``declaration.issued`` with its hash, sign a checkpoint
of the tree that now includes it, take the inclusion proof, finish the payload with that
proof, sign it (detached JWS), render and PAdES-sign the PDF, store the document, commit.
A crash at any point leaves either all of it or none of it. Rendering inside the lock costs
~60-100 ms of other appenders' time per declaration; declarations are rare next to the
registry's appends, and atomicity is worth it.

Each producer signs with its own issuer certificate (``<key dir>/issuers/<party>/``); the
demo creates a throw-away CA and certificate per producer on first use.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from cryptography import x509
from sqlalchemy import Engine, select
from sqlmodel import Session

from certificates import content as c
from certificates.issuer import CERT_FILE, IssuerIdentity, create_demo_ca_and_issuer, load_issuer
from certificates.jws import sign_detached
from certificates.pact import build_product_footprint, ledger_section, payload_core
from certificates.pades import sign_pdf
from certificates.pdf import render_declaration
from ledger import encoding, keys
from ledger.config import Settings
from ledger.domain import domain_log
from ledger.domain.footprints import Footprints
from ledger.domain.rules import Rules
from ledger.domain.tables import (
    Allocation,
    Batch,
    Certificate,
    Declaration,
    Facility,
    Party,
    Shipment,
    ShipmentLine,
    Voucher,
)
from ledger.errors import KeyFileError, NotFound, RuleViolation
from ledger.factors import FactorLibrary
from ledger.footprint_model import Basis, ShipmentFootprint
from ledger.store.documents import DeclarationDocument

FAMILY_LABELS = {"lca_power": "lca-power-footprint", "ghg_co2_grid": "ghg-co2-grid"}
BOUNDARY = ("Cradle-to-gate (ISO 14067 / GB/T 24067-2024): raw material extraction and "
            "purchased inputs, on-site fuels and process emissions (anode CO2, PFCs), and "
            "purchased electricity up to the factory gate. Excluded: downstream transport, use "
            "and end of life, capital goods, packaging. 从摇篮到大门，不含下游运输、使用与报废。")


@dataclass(frozen=True)
class IssuedDeclaration:
    declaration_id: str
    seq: int
    checkpoint_size: int
    pdf: bytes
    payload: dict
    jws: str
    leaf_hash: str = ""


def issuer_dir(settings: Settings, party_id: str) -> Path:
    return settings.key_dir / "issuers" / party_id


def retire_issuer(settings: Settings, party_id: str) -> Path | None:
    """Move a producer's current issuer key and certificates to ``retired/<time>/``: the
    certificates stay trusted for the declarations they signed; the private key is deleted."""
    folder = issuer_dir(settings, party_id)
    if not (folder / CERT_FILE).exists():
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / "retired" / stamp
    target.mkdir(parents=True)
    for name in (CERT_FILE, "ca-cert.pem"):
        if (folder / name).exists():
            (folder / name).replace(target / name)
    (folder / "issuer-key.pem").unlink(missing_ok=True)
    return target


def issuer_root_files(settings: Settings) -> list[Path]:
    """The CA certificate files of every producer of this ledger, current and retired: what
    the ledger's own verifiers (the CLI's default trust, the web pages) trust."""
    base = settings.key_dir / "issuers"
    return sorted([*base.glob("*/ca-cert.pem"), *base.glob("*/retired/*/ca-cert.pem")])


def trusted_issuer_roots(settings: Settings) -> list[x509.Certificate]:
    roots: list[x509.Certificate] = []
    for path in issuer_root_files(settings):
        roots += x509.load_pem_x509_certificates(path.read_bytes())
    return roots


def issuer_identity(settings: Settings, party: Party, *, create_demo: bool = False) -> IssuerIdentity:
    """The producer's signing identity; with ``create_demo``, make a demo CA and
    certificate if the producer has none yet."""
    folder = issuer_dir(settings, party.party_id)
    if not (folder / CERT_FILE).exists():
        if not create_demo:
            raise KeyFileError(f"{party.party_id} has no issuer certificate; create one with "
                               f"'greenledger keys issuer create --party {party.party_id}'",
                               field="issuer")
        if not settings.key_passphrase:
            raise KeyFileError("set GREENLEDGER_KEY_PASSPHRASE to protect the issuer key",
                               field="passphrase")
        return create_demo_ca_and_issuer(folder, issuer_name=party.name,
                                         organisation=party.name,
                                         passphrase=settings.key_passphrase)
    return load_issuer(folder, settings.key_passphrase)


def _https(base: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(("https", parts.netloc, parts.path.rstrip("/"), "", ""))


def _breakdown(b: Basis) -> c.Breakdown:
    return c.Breakdown(upstream=b.upstream, direct=b.direct, electricity=b.electricity)


def _party(row: Party) -> c.Party:
    return c.Party(party_id=row.party_id, name=row.name, uscc=row.uscc)


def condensed_notes(notes: tuple[str, ...]) -> list[str]:
    """The footprint's disclosures once each: without the ``[batch]`` prefixes of the tiers
    they came from and without per-batch MWh amounts (those stay in ``footprint --json``)."""
    out: list[str] = []
    for note in notes:
        text = re.sub(r"^(\[[^\]]+\]\s*)+", "", note)
        text = re.sub(r"\s+for [0-9.,]+ (uncovered )?MWh$", "", text)
        if text not in out:
            out.append(text)
    return out


def build_content(session: Session, fp: ShipmentFootprint, shipment: Shipment, settings: Settings,
                  *, declaration_id: str, created: datetime,
                  preceding: tuple[str, ...] = ()) -> c.DeclarationContent:
    lines = list(session.scalars(select(ShipmentLine).where(
        ShipmentLine.shipment_id == shipment.shipment_id).order_by(ShipmentLine.batch_id)))
    batches = [session.get(Batch, ln.batch_id) for ln in lines]
    products = {(b.cn_code, b.grade) for b in batches if b}
    if len(products) != 1:
        raise RuleViolation("declaration.one-product", "a declaration covers one product; the "
                            "shipment mixes several", field="shipment", limit=1, got=len(products))
    first = batches[0]
    assert first is not None
    facilities = [session.get(Facility, b.facility) for b in batches if b]
    names = tuple(sorted({f.name for f in facilities if f}))
    allocs = list(session.scalars(select(Allocation).where(
        Allocation.batch_id.in_([ln.batch_id for ln in lines])).order_by(Allocation.seq)))
    certs = {x.certificate_id: x for x in session.scalars(select(Certificate).where(
        Certificate.certificate_id.in_({a.certificate_id for a in allocs})))}
    used = tuple(
        c.CertificateUsed(registry=certs[a.certificate_id].registry_name, first=a.first, last=a.last,
                          mwh=Decimal(a.kwh) / 1000, technology=certs[a.certificate_id].technology,
                          plant=certs[a.certificate_id].plant,
                          vintage=certs[a.certificate_id].generation_month,
                          attested=certs[a.certificate_id].attested_by is not None,
                          tradable=certs[a.certificate_id].tradable)
        for a in allocs)
    months = {b.period_start[:7] for b in batches if b} | {b.period_end[:7] for b in batches if b}
    vouchers = tuple(
        c.VoucherUsed(issuer=v.issuer, number=v.number, mwh=Decimal(v.kwh) / 1000,
                      period=f"{v.period_start}..{v.period_end}")
        for v in session.scalars(select(Voucher).where(
            Voucher.facility.in_({b.facility for b in batches if b})).order_by(Voucher.period_start))
        if v.period_start <= max(months) and v.period_end >= min(months))
    factors = tuple(c.Factor(name=f.name, value=f.value, unit=f.unit, source=f.source, year=f.year)
                    for f in fp.factors)
    per_t = fp.market_per_tonne
    by_gas = {gas: v / fp.tonnes for gas, v in fp.by_gas_kg_co2e.items()}
    shipped = sum((Decimal(ln.kg) for ln in lines), Decimal(0))
    produced = sum((Decimal(b.kg) for b in batches if b), Decimal(0))
    notes = condensed_notes(fp.notes)
    if shipped < produced:
        notes.append(f"Green MWh are the shipped share ({shipped / 1000} t of {produced / 1000} t "
                     "produced) of the certificates retired to these batches.")
    base = settings.public_base_url
    return c.DeclarationContent(
        declaration_id=declaration_id, created=created,
        issuer=_party(session.get(Party, shipment.seller)),  # type: ignore[arg-type]
        buyer=_party(session.get(Party, shipment.buyer)),  # type: ignore[arg-type]
        product=c.Product(name=first.product, description=f"{first.product}, {first.grade}, "
                          f"CN {first.cn_code}", metal=first.metal, grade=first.grade,
                          cn_code=first.cn_code,
                          product_id=f"{first.metal}-{first.grade}".split(" ")[0].lower()),
        shipment_id=shipment.shipment_id, shipment_date=datetime.fromisoformat(shipment.date).date(),
        destination_country=shipment.destination_country, tonnes=fp.tonnes,
        period_start=fp.period_start, period_end=fp.period_end,
        geography_country=facilities[0].country if facilities[0] else "CN",
        geography_subdivision=facilities[0].province if facilities[0] else None,
        facility_names=names, market=_breakdown(per_t), location=_breakdown(fp.location_per_tonne),
        fossil_kg_per_tonne=per_t.total, factor_family=FAMILY_LABELS[fp.family],
        gwp_set=fp.gwp_set, electricity_mwh=fp.electricity_mwh, green_mwh=fp.green_mwh,
        green_mwh_attested=fp.green_mwh_attested,
        green_mwh_voucher_covered=fp.green_mwh_voucher_covered,
        primary_data_share=fp.primary_data_share, recycled_share=fp.recycled_share,
        certificates=used, vouchers=vouchers, factors=factors, by_gas_kg_per_tonne=by_gas,
        boundary=BOUNDARY, verify_url=f"{base}/verify/{declaration_id}",
        preceding_ids=preceding, notes=tuple(notes))


def issue_declaration(engine: Engine, settings: Settings, shipment_id: str, *, actor: str,
                      supersedes: str | None = None, family: str = "lca_power",
                      gwp_set: str = "AR6", create_demo_issuer: bool = False,
                      library: FactorLibrary | None = None,
                      guard: Callable[[Session], None] | None = None,
                      record: Callable[[Session, IssuedDeclaration], None] | None = None,
                      ) -> IssuedDeclaration:
    """Issue the declaration of ``shipment_id`` for its seller (``actor`` must be the seller
    or the operator). See the module docstring for the steps and their atomicity.

    ``guard(session)`` runs first, under the log's write lock (the API replays an earlier
    response of the same Idempotency-Key there, by raising); ``record(session, issued)`` runs
    last, in the same transaction (the API stores the response there), so a retried request
    can never issue twice."""
    operator = keys.load(settings.key_dir, "operator", settings.key_passphrase)
    library = library or FactorLibrary.load()
    log = domain_log(engine, Rules())
    declaration_id = str(uuid.uuid4())
    created = datetime.now(UTC).replace(microsecond=0)
    with log.writer() as w:
        s = w.session
        if guard is not None:
            guard(s)
        shipment = s.get(Shipment, shipment_id)
        if shipment is None:
            raise NotFound(f"no shipment {shipment_id!r}", field="shipment")
        seller = s.get(Party, shipment.seller)
        assert seller is not None
        identity = issuer_identity(settings, seller, create_demo=create_demo_issuer)
        fp = Footprints(s, library, family=family, gwp_set=gwp_set).shipment(shipment_id)
        content = build_content(s, fp, shipment, settings, declaration_id=declaration_id,
                                created=created, preceding=(supersedes,) if supersedes else ())
        schema_url = f"{_https(settings.public_base_url)}/schemas/greenledger-declaration-v1.json"
        core = build_product_footprint(content, extension_schema_url=schema_url, ledger=None)
        body = {"declaration": declaration_id, "shipment": shipment_id, "buyer": shipment.buyer,
                "payload_sha256": hashlib.sha256(encoding.canonical_bytes(core)).hexdigest()}
        if supersedes:
            body["supersedes"] = supersedes
        done = w.append("declaration.issued", actor, body)
        cp = w.sign_checkpoint(operator, settings.origin)
        proof = w.inclusion_proof(done.seq)
        binding = c.LedgerBinding(seq=done.seq, entry=done.entry, leaf_hash=done.leaf_hash.hex(),
                                  tree_size=cp.size, inclusion_proof=tuple(p.hex() for p in proof),
                                  checkpoint=cp.note)
        payload = build_product_footprint(content, extension_schema_url=schema_url,
                                          ledger=ledger_section(binding))
        assert payload_core(payload) == core
        jws = sign_detached(payload, identity)
        pdf = sign_pdf(render_declaration(content, payload), payload, jws, identity,
                       reason="Green product carbon footprint declaration 绿色产品碳足迹声明",
                       location=content.geography_subdivision or content.geography_country)
        s.add(DeclarationDocument(declaration_id=declaration_id, pdf=pdf,
                                  payload=encoding.canonical_bytes(payload).decode("utf-8"), jws=jws,
                                  created_at=encoding.now()))
        s.flush()
        issued = IssuedDeclaration(declaration_id, done.seq, cp.size, pdf, payload, jws,
                                   done.leaf_hash.hex())
        if record is not None:
            record(s, issued)
    return issued


def revoke_declaration(engine: Engine, settings: Settings, declaration_id: str, *, actor: str,
                       reason: str) -> int:
    """Append a revocation; returns its seq. The status endpoint reports it at once."""
    log = domain_log(engine, Rules())
    return log.append("declaration.revoked", actor,
                      {"declaration": declaration_id, "reason": reason}).seq


def declaration_pdf(engine: Engine, declaration_id: str) -> bytes:
    with Session(engine) as s:
        row = s.get(DeclarationDocument, declaration_id)
        if row is None:
            raise NotFound(f"no declaration {declaration_id!r}", field="declaration")
        return bytes(row.pdf)


def declarations_of_shipment(engine: Engine, shipment_id: str) -> list[Declaration]:
    with Session(engine) as s:
        return list(s.scalars(select(Declaration).where(Declaration.shipment_id == shipment_id)
                              .order_by(Declaration.issued_seq)))
