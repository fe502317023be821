"""Allocation: retiring a sub-range of a certificate to a batch (DESIGN §4).

Rules, each refused with the field and the limit:
- only the certificate's owner allocates it, for an existing beneficiary;
- the sub-range lies inside the certificate and overlaps no earlier allocation of it (so no
  MWh is ever allocated twice), and the certificate is neither cancelled nor expired;
- MWh allocated to a batch never exceed its metered electricity;
- the vintage (month of generation) falls in the batch's production year (or the configured
  window), and never after the batch's production ended;
- market boundary: the certificate's country grid is the facility's.
Voucher coverage is not a refusal: green MWh beyond the facility's vouchers for the period
are reported as "certificate only" by the footprint.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from ledger.domain import fields as f
from ledger.domain.certificates import get_certificate
from ledger.domain.parties import party, require_actor
from ledger.domain.production import get_batch
from ledger.domain.rules import Rules
from ledger.domain.serials import parse_range
from ledger.domain.tables import Allocation, Facility
from ledger.encoding import Entry
from ledger.errors import Conflict, RuleViolation


def apply_allocation_recorded(rules: Rules, session: Session, entry: Entry) -> None:
    b = entry.body
    aid = f.ident(b, "allocation", max_len=80)
    cert = get_certificate(session, f.text(b, "certificate", max_len=80))
    require_actor(session, entry, cert.owner, field="certificate")
    batch = get_batch(session, f.ident(b, "batch"))
    if batch.owner != cert.owner:
        raise RuleViolation("allocation.owner", "a certificate is retired for its owner's own "
                            "consumption", field="batch", limit=cert.owner, got=batch.owner)
    beneficiary = f.ident(b, "beneficiary")
    party(session, beneficiary, field="beneficiary")
    if session.get(Allocation, aid) is not None:
        raise Conflict(f"allocation {aid} is already recorded", field="allocation")
    rng = parse_range(cert.registry_name, f.text(b, "first", max_len=64), f.text(b, "last", max_len=64))
    kwh = f.milli(b, "mwh")
    if kwh != rng.count * 1000:
        raise RuleViolation("allocation.mwh", "MWh must equal the number of codes (1 per MWh)",
                            field="mwh", limit=f"{rng.count}.000", got=b["mwh"])
    if rng.block != cert.block or rng.first_no < cert.first_no or rng.last_no > cert.last_no:
        raise RuleViolation("allocation.within-certificate", "the codes lie outside the "
                            "certificate", field="first", limit=f"{cert.first}..{cert.last}",
                            got=f"{b['first']}..{b['last']}")
    if cert.status != "active":
        raise RuleViolation("allocation.cancelled", "the certificate is cancelled",
                            field="certificate", limit="active", got=cert.status)
    if entry.at[:7] > cert.expires_month:
        raise RuleViolation("allocation.expired", f"the certificate expired after "
                            f"{cert.expires_month} (valid 2 years from generation)",
                            field="certificate", limit=cert.expires_month, got=entry.at[:7])
    clash = session.scalars(
        select(Allocation).where(Allocation.certificate_id == cert.certificate_id,
                                 Allocation.first_no <= rng.last_no,
                                 Allocation.last_no >= rng.first_no).limit(1)).first()
    if clash is not None:
        raise RuleViolation("allocation.double-count", f"codes {clash.first}..{clash.last} "
                            f"were already allocated to {clash.batch_id}", field="first",
                            limit="codes not yet allocated", got=f"{b['first']}..{b['last']}")
    if batch.allocated_kwh + kwh > batch.electricity_kwh:
        raise RuleViolation("allocation.metered", f"{batch.batch_id} metered "
                            f"{f.from_milli(batch.electricity_kwh)} MWh and has "
                            f"{f.from_milli(batch.allocated_kwh)} MWh allocated", field="mwh",
                            limit=f.from_milli(batch.electricity_kwh - batch.allocated_kwh),
                            got=b["mwh"])
    year = int(batch.period_end[:4])
    vintage = cert.generation_month
    if not year - rules.vintage_window_years <= int(vintage[:4]) <= year:
        low = year - rules.vintage_window_years
        raise RuleViolation("allocation.vintage", "the certificate's vintage is outside the "
                            "batch's production year", field="certificate",
                            limit=f"{low}..{year}" if low != year else str(year), got=vintage)
    if vintage > batch.period_end[:7]:
        raise RuleViolation("allocation.vintage", "generated after the batch was produced",
                            field="certificate", limit=batch.period_end[:7], got=vintage)
    facility = session.get(Facility, batch.facility)
    assert facility is not None
    if cert.country != facility.country:
        raise RuleViolation("allocation.market-boundary", "certificate and consumption must be "
                            "in the same country grid", field="certificate",
                            limit=facility.country, got=cert.country)
    cert.allocated_kwh += kwh
    cert.seq = entry.seq
    batch.allocated_kwh += kwh
    batch.seq = entry.seq
    session.add_all([cert, batch, Allocation(
        allocation_id=aid, certificate_id=cert.certificate_id, first_no=rng.first_no,
        last_no=rng.last_no, first=b["first"], last=b["last"], kwh=kwh,
        batch_id=batch.batch_id, beneficiary=beneficiary, seq=entry.seq)])
