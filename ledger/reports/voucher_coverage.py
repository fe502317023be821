"""Voucher coverage of allocated green MWh, exactly as the footprint computes it batch by batch
(``ledger/domain/footprints.py``; DESIGN §4), but on grouped rows (``allocated``).

A traceability voucher (绿电溯源凭证) of the batch's facility whose months overlap the batch's:
- if it lists certificate codes, it covers the allocated codes inside its range — per allocation at
  most its own MWh, however many vouchers name the same codes. Where a voucher's range contains
  the whole certificate, every allocation of that certificate is covered in full and no
  allocation row is read; only a voucher cutting across a certificate sends that certificate's
  allocations to an SQL overlap sum;
- if it lists no codes, it covers the green MWh not covered by codes pro rata: voucher MWh /
  green MWh of the facility's batches in the vouchers' months, at most all of them.
What no voucher covers is "certificate only".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, literal, select, union_all
from sqlmodel import Session

from ledger.domain.serials import REGISTRIES, parse_serial
from ledger.domain.tables import Voucher
from ledger.errors import GreenledgerError
from ledger.reports.allocated import TA, TB, TC, A, AllocatedGroup, B, C, in_period
from ledger.reports.periods import Period, months_between


@dataclass(frozen=True)
class _CodedVoucher:
    facility: str
    registry: str
    block: str
    first_no: int
    last_no: int
    first_month: str
    last_month: str


def _coded(v: Voucher) -> _CodedVoucher | None:
    """The code range of a voucher that lists codes, read as the footprint reads it."""
    first, last = v.certificate_first or "", v.certificate_last or ""
    for registry in REGISTRIES:
        try:
            block, a, _ = parse_serial(registry, first, field="certificate_first")
            block2, b, _ = parse_serial(registry, last, field="certificate_last")
        except GreenledgerError:
            continue
        if block == block2:
            return _CodedVoucher(v.facility, registry, block, a, b, v.period_start, v.period_end)
    return None


def _least(x: Any, y: Any) -> Any:
    return case((x < y, x), else_=y)


def _greatest(x: Any, y: Any) -> Any:
    return case((x > y, x), else_=y)


def _partial_coverage(session: Session, period: Period, facility: str | None,
                      certificate_ids: set[str], coded: Sequence[_CodedVoucher],
                      ) -> dict[tuple[str, str, str, str], int]:
    """Where a voucher's codes cover only part of a certificate, the footprint's per-allocation
    rule, in SQL: min(codes inside the vouchers × 1000, the allocation's kWh), summed per group."""
    rows = [select(literal(v.facility).label("facility"), literal(v.registry).label("registry"),
                   literal(v.block).label("block"), literal(v.first_no).label("first_no"),
                   literal(v.last_no).label("last_no"), literal(v.first_month).label("first_month"),
                   literal(v.last_month).label("last_month")) for v in coded]
    vr = (rows[0] if len(rows) == 1 else union_all(*rows)).cte("voucher_ranges")
    start, end = func.substr(B.period_start, 1, 7), func.substr(B.period_end, 1, 7)
    overlap = _least(vr.c.last_no, A.last_no) - _greatest(vr.c.first_no, A.first_no) + 1
    per_allocation = (
        select(A.certificate_id.label("cid"), end.label("end"), start.label("start"),
               B.facility.label("facility"), A.kwh.label("kwh"), func.sum(overlap).label("codes"))
        .select_from(TA).join(TB, B.batch_id == A.batch_id)
        .join(TC, C.certificate_id == A.certificate_id)
        .join(vr, and_(vr.c.registry == C.registry, vr.c.block == C.block, vr.c.facility == B.facility,
                       A.first_no <= vr.c.last_no, A.last_no >= vr.c.first_no,
                       start <= vr.c.last_month, end >= vr.c.first_month))
        .where(*in_period(period, facility), A.certificate_id.in_(sorted(certificate_ids)))
        .group_by(A.allocation_id, A.certificate_id, end, start, B.facility, A.kwh)).subquery()
    p = per_allocation.c
    query = select(p.facility, p.start, p.end, p.cid, func.sum(_least(p.codes * 1000, p.kwh))) \
        .group_by(p.facility, p.start, p.end, p.cid)
    return {(f, s, e, cid): int(k or 0) for f, s, e, cid, k in session.execute(query)}


def voucher_coverage(session: Session, period: Period, facility: str | None,
                     counted: Sequence[AllocatedGroup], vouchers: Sequence[Voucher],
                     ) -> dict[tuple[str, str, str], Decimal]:
    """Voucher-covered kWh per (facility, start month, end month), as the footprint computes it
    batch by batch (``ledger/domain/footprints.py``): codes listed by a voucher cover the
    allocated codes inside its range; vouchers without codes cover the rest pro rata."""
    coded = [c for v in vouchers if v.certificate_first and v.certificate_last
             for c in [_coded(v)] if c is not None]
    loose = [v for v in vouchers if not (v.certificate_first and v.certificate_last)]
    by_block: dict[tuple[str, str, str], list[_CodedVoucher]] = defaultdict(list)
    for v in coded:
        by_block[(v.facility, v.registry, v.block)].append(v)
    coded_kwh: dict[tuple[str, str, str], int] = defaultdict(int)
    partial: set[tuple[str, str, str, str]] = set()
    for g in counted:
        relation = "none"
        for v in by_block.get((g.facility, g.registry, g.block), ()):
            if v.first_month > g.end or v.last_month < g.start:
                continue  # the voucher's months miss the batches'
            if v.last_no < g.first_no or v.first_no > g.last_no:
                continue
            if v.first_no <= g.first_no and g.last_no <= v.last_no:
                relation = "full"  # every allocated code of the certificate is inside
                break
            relation = "partial"
        if relation == "full":
            coded_kwh[g.signature] += g.kwh
        elif relation == "partial":
            partial.add((*g.signature, g.certificate_id))
    if partial:
        detail = _partial_coverage(session, period, facility, {key[3] for key in partial}, coded)
        for key, kwh in detail.items():
            if key in partial:
                coded_kwh[key[:3]] += kwh
    covered: dict[tuple[str, str, str], Decimal] = {k: Decimal(v) for k, v in coded_kwh.items()}
    if not loose:
        return covered
    counted_kwh: dict[tuple[str, str, str], int] = defaultdict(int)
    for g in counted:
        counted_kwh[g.signature] += g.kwh
    pools: dict[str, list[tuple[set[str], int]]] = defaultdict(list)
    for lv in loose:
        pools[lv.facility].append((set(months_between(lv.period_start, lv.period_end)), lv.kwh))
    lo, hi = min(lv.period_start for lv in loose), max(lv.period_end for lv in loose)
    start, end = func.substr(B.period_start, 1, 7), func.substr(B.period_end, 1, 7)
    peers: dict[str, list[tuple[set[str], int]]] = defaultdict(list)
    for fac, s_month, e_month, allocated in session.execute(
            select(B.facility, start, end, func.sum(B.allocated_kwh))
            .where(B.facility.in_(sorted(pools)), end >= lo, start <= hi).group_by(B.facility, start, end)):
        peers[fac].append((set(months_between(s_month, e_month)), int(allocated or 0)))
    for sig, kwh in counted_kwh.items():
        fac, s_month, e_month = sig
        months = set(months_between(s_month, e_month))
        mine = [(vm, vk) for vm, vk in pools.get(fac, ()) if vm & months]
        if not mine:
            continue
        loose_months = set().union(*(vm for vm, _ in mine))
        peer_green = sum(pk for pm, pk in peers[fac] if pm & loose_months) or 1
        share = min(Decimal(1), Decimal(sum(vk for _, vk in mine)) / Decimal(peer_green))
        covered[sig] = covered.get(sig, Decimal(0)) + (kwh - coded_kwh.get(sig, 0)) * share
    return covered
