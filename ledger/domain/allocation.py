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

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import object_session
from sqlmodel import Session

from ledger.domain import fields as f
from ledger.domain.parties import require_actor
from ledger.domain.rules import Rules
from ledger.domain.serials import parse_range
from ledger.domain.tables import Allocation, Batch, Certificate, Facility, Party
from ledger.encoding import Entry
from ledger.errors import Conflict, NotFound, RuleViolation

# The applier reads and writes with Core statements on the session's connection: an
# allocation is the hot path (issue 3: ≤ 2 ms against a million registered ranges) and ORM
# loading, identity map and unit of work cost more than the rules themselves. ORM instances
# of the rows it updates that another applier of the same transaction holds are expired.
_CERTIFICATE = select(
    Certificate.certificate_id, Certificate.owner, Certificate.registry_name.label("registry_name"),
    Certificate.block, Certificate.first, Certificate.last, Certificate.first_no,
    Certificate.last_no, Certificate.status, Certificate.expires_month,
    Certificate.generation_month, Certificate.country,
).where(Certificate.certificate_id == bindparam("cid"))
_BATCH = select(
    Batch.batch_id, Batch.owner, Batch.electricity_kwh, Batch.allocated_kwh, Batch.period_end,
    Facility.country,
).join(Facility, Facility.facility_id == Batch.facility, isouter=True).where(
    Batch.batch_id == bindparam("batch"))
_PARTY = select(Party.party_id).where(Party.party_id == bindparam("party"))
_ALLOCATION = select(Allocation.allocation_id).where(Allocation.allocation_id == bindparam("aid"))
#: an earlier allocation of the certificate overlapping [lo, hi] (no code allocated twice)
_CLASH = select(Allocation.first, Allocation.last, Allocation.batch_id).where(
    Allocation.certificate_id == bindparam("cid"), Allocation.first_no <= bindparam("hi"),
    Allocation.last_no >= bindparam("lo")).limit(1)
_ADD_TO_CERTIFICATE = update(Certificate).where(
    Certificate.certificate_id == bindparam("cid")).values(
    allocated_kwh=Certificate.allocated_kwh + bindparam("add_kwh"), seq=bindparam("at_seq"))
_ADD_TO_BATCH = update(Batch).where(Batch.batch_id == bindparam("batch")).values(
    allocated_kwh=Batch.allocated_kwh + bindparam("add_kwh"), seq=bindparam("at_seq"))
_INSERT = insert(Allocation)


def apply_allocation_recorded(rules: Rules, session: Session, entry: Entry) -> None:
    b = entry.body
    execute = session.connection().execute
    aid = f.ident(b, "allocation", max_len=80)
    cid = f.text(b, "certificate", max_len=80)
    cert = execute(_CERTIFICATE, {"cid": cid}).first()
    if cert is None:
        raise NotFound(f"no certificate {cid!r}", field="certificate")
    require_actor(session, entry, cert.owner, field="certificate")
    batch_id = f.ident(b, "batch")
    batch = execute(_BATCH, {"batch": batch_id}).first()
    if batch is None:
        raise NotFound(f"no batch {batch_id!r}", field="batch")
    if batch.owner != cert.owner:
        raise RuleViolation("allocation.owner", "a certificate is retired for its owner's own "
                            "consumption", field="batch", limit=cert.owner, got=batch.owner)
    beneficiary = f.ident(b, "beneficiary")
    if execute(_PARTY, {"party": beneficiary}).first() is None:
        raise NotFound(f"no party {beneficiary!r}", field="beneficiary")
    if execute(_ALLOCATION, {"aid": aid}).first() is not None:
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
    clash = execute(_CLASH, {"cid": cid, "lo": rng.first_no, "hi": rng.last_no}).first()
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
    assert batch.country is not None, "a batch's facility exists (batch.registered checks it)"
    if cert.country != batch.country:
        raise RuleViolation("allocation.market-boundary", "certificate and consumption must be "
                            "in the same country grid", field="certificate",
                            limit=batch.country, got=cert.country)
    execute(_ADD_TO_CERTIFICATE, {"cid": cid, "add_kwh": kwh, "at_seq": entry.seq})
    execute(_ADD_TO_BATCH, {"batch": batch_id, "add_kwh": kwh, "at_seq": entry.seq})
    execute(_INSERT, {"allocation_id": aid, "certificate_id": cid, "first_no": rng.first_no,
                      "last_no": rng.last_no, "first": b["first"], "last": b["last"], "kwh": kwh,
                      "batch_id": batch_id, "beneficiary": beneficiary, "seq": entry.seq})
    _expire(session, Certificate, cid)
    _expire(session, Batch, batch_id)


def _expire(session: Session, model: type, key: str) -> None:
    """Forget an ORM instance of a row this applier updated behind the identity map."""
    held = session.identity_map.get(session.identity_key(model, key))  # type: ignore[arg-type]
    if held is not None and object_session(held) is session:
        session.expire(held)
