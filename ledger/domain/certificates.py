"""Green-power certificates and traceability vouchers (DESIGN §4, FACTS §2–3).

Rules enforced here, inside the append transaction, and re-checked by the audit's replay:
- a serial of a registry exists once in the whole ledger, whoever registers it: a range that
  overlaps any registered range of the same registry and block is refused (one indexed
  look-up: the nearest range starting at or before the new range's end);
- one plant-month is claimed through one registry only (GEC or I-REC, never both);
- GEC: 1 certificate = 1 MWh, so MWh must equal the number of codes; valid 2 years from the
  month of generation; a tradable GEC may be transferred once, a non-tradable one never;
- a certificate leaves the inventory when cancelled; it is never reusable;
- only a certifier attests a certificate's evidence (the platform's transaction record).
Vouchers are evidence of consumption; their number is unique per issuer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from ledger.domain import fields as f
from ledger.domain.parties import party, require_actor, require_role
from ledger.domain.rules import GEC_VALID_MONTHS, TECHNOLOGIES
from ledger.domain.serials import _IREC, REGISTRIES, SerialRange, parse_range
from ledger.domain.tables import Certificate, Facility, PlantMonth, Voucher
from ledger.encoding import Entry
from ledger.errors import Conflict, InputError, NotFound, RuleViolation


def certificate_id(registry: str, first: str) -> str:
    return f"{registry}:{first}"


def get_certificate(session: Session, cid: str, *, field: str = "certificate") -> Certificate:
    row = session.get(Certificate, cid)
    if row is None:
        raise NotFound(f"no certificate {cid!r}", field=field)
    return row


def overlapping(session: Session, registry: str, block: str, first_no: int,
                last_no: int) -> Certificate | None:
    """The registered range overlapping [first_no, last_no], if any. Registered ranges never
    overlap each other, so the one starting last at or before ``last_no`` is the only
    candidate."""
    row = session.scalars(
        select(Certificate)
        .where(Certificate.registry_name == registry, Certificate.block == block,
               Certificate.first_no <= last_no)
        .order_by(Certificate.first_no.desc()).limit(1)
    ).first()
    return row if row is not None and row.last_no >= first_no else None


@dataclass(frozen=True)
class ParsedCertificate:
    """A ``certificate.registered`` body, checked for everything that needs no database."""

    registry: str
    rng: SerialRange
    kwh: int
    owner: str
    technology: str
    generation: str
    plant: str
    row: dict[str, Any]  # the Certificate columns, less seq

    @property
    def certificate_id(self) -> str:
        return self.row["certificate_id"]


def parse_certificate(b: dict[str, Any]) -> ParsedCertificate:
    registry = f.choice(b, "registry", REGISTRIES)
    rng = parse_range(registry, f.text(b, "first", max_len=64), f.text(b, "last", max_len=64))
    kwh = f.milli(b, "mwh")
    if kwh != rng.count * 1000:
        raise RuleViolation("certificate.mwh", "1 certificate = 1 MWh: MWh must equal the "
                            "number of codes in the range", field="mwh",
                            limit=f"{rng.count}.000", got=b["mwh"])
    owner = f.ident(b, "owner")
    technology = f.choice(b, "technology", TECHNOLOGIES)
    generation = f.month(b, "generation_month")
    plant = f.text(b, "plant")
    evidence = b.get("evidence")
    if not isinstance(evidence, dict):
        raise InputError("evidence {ref, sha256} of the platform's record is required",
                         field="evidence")
    row = dict(
        certificate_id=certificate_id(registry, b["first"]), registry_name=registry,
        block=rng.block, first=b["first"], last=b["last"], first_no=rng.first_no,
        last_no=rng.last_no, kwh=kwh, allocated_kwh=0, cancelled_kwh=0, technology=technology,
        plant=plant, plant_province=f.text(b, "plant_province", max_len=16),
        country=f.country(b, "country"), generation_month=generation,
        expires_month=f.add_months(generation, GEC_VALID_MONTHS - 1),
        tradable=f.boolean(b, "tradable"), transfers=0, owner=owner,
        evidence_ref=f.text(evidence, "ref", prefix="evidence."),
        evidence_sha256=f.sha256_hex(evidence, "sha256", prefix="evidence."),
        attested_by=None, status="active")
    return ParsedCertificate(registry, rng, kwh, owner, technology, generation, plant, row)


#: the bulk import's precompiled checks (certificate_checker); the patterns are the field
#: readers' and serials', so that a value passes there if it passes here
_IREC_CODE = _IREC.match
_IDENT = f._ID.match
_MONTH = f._MONTH.match
_COUNTRY = f._COUNTRY.match
_SHA256 = f._HEX64.match
#: a CN-GEC range's first and last codes (one 17-character project part) and the evidence's
#: SHA-256, joined by \x1f, which no part may contain
_GEC_RANGE = re.compile(r"([0-9A-Z]{17})([0-9]{15})\x1f\1([0-9]{15})\x1f[0-9a-f]{64}").fullmatch
#: MWh with at most three decimals and 18 integer digits: a subset of what fields.milli
#: takes, small enough that the arithmetic below is exact
_MWH = re.compile(r"(0|[1-9][0-9]{0,17})(?:\.([0-9]{1,3}))?").fullmatch
_TECHNOLOGIES = frozenset(TECHNOLOGIES)
#: values remembered per checker (a file repeats few owners, months, countries, amounts)
_REMEMBER = 4096

CheckFast = Callable[[str, str, str, str, str, str, str, str, str, str, str, str],
                     "tuple[str, int, int, int, str] | None"]


def certificate_checker() -> CheckFast:
    """A function of a ``certificate.registered`` body's string fields (registry, first,
    last, mwh, technology, plant, plant_province, country, generation_month, owner,
    evidence_ref, evidence_sha256; ``tradable`` a boolean) that returns ``(block, first_no,
    last_no, kwh, expires_month)`` when the body certainly passes :func:`parse_certificate`,
    which then finds the same values, and ``None`` when it might not: the caller then asks
    :func:`parse_certificate`, which says why (or takes it after all).

    The bulk import calls it a million times per file: the same checks, precompiled, with
    no error messages built, remembering the values of the fields that repeat.
    ``tests/ledger/domain/test_bulk_fast.py`` compares it with parse_certificate."""
    owners: set[str] = set()
    countries: set[str] = set()
    months: dict[str, str] = {}  # generation month -> expires month
    amounts: dict[str, int] = {}  # mwh -> kwh

    def check(registry: str, first: str, last: str, mwh: str, technology: str, plant: str,
              plant_province: str, country: str, generation_month: str, owner: str,
              evidence_ref: str, evidence_sha256: str) -> tuple[str, int, int, int, str] | None:
        if registry == "CN-GEC":
            m = _GEC_RANGE(f"{first}\x1f{last}\x1f{evidence_sha256}")
            if m is None:
                return None
            block, a, b = m.groups()
        elif registry == "I-REC":
            ma = _IREC_CODE(first) if len(first) <= 64 else None
            mb = _IREC_CODE(last) if len(last) <= 64 else None
            if ma is None or mb is None or len(evidence_sha256) > 64 or not _SHA256(evidence_sha256):
                return None
            block, a = ma.group("block", "n")
            block2, b = mb.group("block", "n")
            if block2 != block or len(b) != len(a):
                return None
        else:
            return None
        first_no, last_no = int(a), int(b)
        kwh = amounts.get(mwh)
        if kwh is None:
            m = _MWH(mwh)
            if m is None:
                return None
            decimals = m.group(2)
            kwh = int(m.group(1)) * 1000 + (int(decimals.ljust(3, "0")) if decimals else 0)
            if len(amounts) < _REMEMBER:
                amounts[mwh] = kwh
        if last_no < first_no or kwh != (last_no - first_no + 1) * 1000:
            return None
        expires = months.get(generation_month)
        if expires is None:
            if len(generation_month) > 7 or not _MONTH(generation_month):
                return None
            expires = f.add_months(generation_month, GEC_VALID_MONTHS - 1)
            if len(months) < _REMEMBER:
                months[generation_month] = expires
        if owner not in owners:
            if len(owner) > 64 or not _IDENT(owner):
                return None
            if len(owners) < _REMEMBER:
                owners.add(owner)
        if country not in countries:
            if len(country) > 40 or not _COUNTRY(country):
                return None
            if len(countries) < _REMEMBER:
                countries.add(country)
        if (technology not in _TECHNOLOGIES or not plant or len(plant) > 200
                or not plant_province or len(plant_province) > 16
                or not evidence_ref or len(evidence_ref) > 200):
            return None
        return block, first_no, last_no, kwh, expires

    return check


def overlap_violation(new: ParsedCertificate, first: str, last: str, where: str) -> RuleViolation:
    return RuleViolation("certificate.unique-serial", f"codes {new.row['first']}..{new.row['last']} "
                         f"overlap {first}..{last}, already registered", field="first",
                         limit="serials not yet registered", got=where)


def registry_violation(new: ParsedCertificate, registered: str) -> RuleViolation:
    return RuleViolation("certificate.one-registry", f"{new.plant} {new.generation} is already "
                         f"claimed through {registered}; a plant-month is claimed through one "
                         "registry only", field="registry", limit=registered, got=new.registry)


def apply_certificate_registered(session: Session, entry: Entry) -> None:
    new = parse_certificate(entry.body)
    require_role(session, new.owner, "producer", field="owner")
    require_actor(session, entry, new.owner, field="owner")
    clash = overlapping(session, new.registry, new.rng.block, new.rng.first_no, new.rng.last_no)
    if clash is not None:
        raise overlap_violation(new, clash.first, clash.last,
                                f"{clash.certificate_id} (seq {clash.seq})")
    claim = session.get(PlantMonth, (new.plant, new.generation))
    if claim is not None and claim.registry_name != new.registry:
        raise registry_violation(new, claim.registry_name)
    if claim is None:
        session.add(PlantMonth(plant=new.plant, month=new.generation, registry_name=new.registry,
                               seq=entry.seq))
    if session.get(Certificate, new.certificate_id) is not None:
        raise Conflict(f"certificate {new.certificate_id} is already registered", field="first")
    session.add(Certificate(**new.row, seq=entry.seq))


def apply_certificate_transferred(session: Session, entry: Entry) -> None:
    b = entry.body
    cert = get_certificate(session, f.text(b, "certificate", max_len=80))
    to = f.ident(b, "to")
    require_role(session, to, "producer", field="to")
    require_actor(session, entry, cert.owner, field="certificate")
    if not cert.tradable:
        raise RuleViolation("certificate.not-tradable", "this certificate is not tradable "
                            "(existing hydro GECs are not)", field="certificate",
                            limit="tradable", got="non-tradable")
    if cert.transfers >= 1:
        raise RuleViolation("certificate.traded-once", "a tradable GEC may be traded once",
                            field="certificate", limit=1, got=cert.transfers + 1)
    if cert.allocated_kwh or cert.cancelled_kwh:
        raise RuleViolation("certificate.partly-used", "a certificate with allocated or "
                            "cancelled MWh cannot be transferred", field="certificate")
    cert.owner, cert.transfers, cert.seq = to, cert.transfers + 1, entry.seq
    session.add(cert)


def apply_certificate_cancelled(session: Session, entry: Entry) -> None:
    b = entry.body
    cert = get_certificate(session, f.text(b, "certificate", max_len=80))
    require_actor(session, entry, cert.owner, field="certificate")
    f.text(b, "reason")
    if cert.status == "cancelled":
        raise RuleViolation("certificate.cancelled", "already cancelled", field="certificate")
    cert.cancelled_kwh = cert.kwh - cert.allocated_kwh
    cert.status, cert.seq = "cancelled", entry.seq
    session.add(cert)


def apply_certificate_attested(session: Session, entry: Entry) -> None:
    b = entry.body
    cert = get_certificate(session, f.text(b, "certificate", max_len=80))
    require_role(session, entry.actor, "certifier", field="actor")
    if f.sha256_hex(b, "evidence_sha256") != cert.evidence_sha256:
        raise RuleViolation("certificate.evidence", "the attested evidence hash differs from "
                            "the registered one", field="evidence_sha256",
                            limit=cert.evidence_sha256, got=b["evidence_sha256"])
    cert.attested_by, cert.seq = entry.actor, entry.seq
    session.add(cert)


def apply_voucher_registered(session: Session, entry: Entry) -> None:
    b = entry.body
    issuer, number = f.text(b, "issuer"), f.text(b, "number", max_len=80)
    facility = session.get(Facility, f.ident(b, "facility"))
    if facility is None:
        raise NotFound(f"no facility {b['facility']!r}", field="facility")
    require_actor(session, entry, facility.owner, field="facility")
    start, end = f.month(b, "period_start"), f.month(b, "period_end")
    if end < start:
        raise InputError(f"period_end {end} is before period_start {start}", field="period_end")
    vid = f"{issuer}:{number}"
    if session.get(Voucher, vid) is not None:
        raise RuleViolation("voucher.unique-number", f"voucher {number} of {issuer} is already "
                            "registered", field="number")
    party(session, facility.owner)
    session.add(Voucher(
        voucher_id=vid, issuer=issuer, number=number, facility=facility.facility_id,
        period_start=start, period_end=end, kwh=f.milli(b, "mwh"),
        technology=f.choice(b, "technology", TECHNOLOGIES),
        certificate_first=f.text(b, "certificate_first", max_len=64, optional=True) or None,
        certificate_last=f.text(b, "certificate_last", max_len=64, optional=True) or None,
        evidence_sha256=f.sha256_hex(b, "evidence_sha256", optional=True), seq=entry.seq))
