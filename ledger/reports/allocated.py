"""Allocated certificate MWh, grouped at the grain the green-share report needs, and the rule
whether they count (issue #11.1; DESIGN §4, FACTS §2).

Whether an allocation counts, which vouchers cover it and which month it belongs to depend only
on the certificate and on the facility and months of its batch; so the report never reads
allocation rows one by one. One ``GROUP BY`` over allocation ⋈ batch — keyed certificate first,
which sorts fastest — sums the kWh per (certificate, facility, start month, end month), and the
certificate's attributes are joined onto those few grouped rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlmodel import Session

from ledger.domain.tables import Allocation, Batch, Certificate
from ledger.reports.periods import Period

TA = Allocation.__table__  # type: ignore[attr-defined]
TB = Batch.__table__  # type: ignore[attr-defined]
TC = Certificate.__table__  # type: ignore[attr-defined]
A, B, C = TA.c, TB.c, TC.c

COUNTED = "counted"
NOT_COUNTED_REASONS = ("expired", "generated_after_consumption", "vintage_outside_year")


@dataclass(frozen=True)
class AllocatedGroup:
    """Allocated kWh of one certificate to one facility's batches that started in ``start`` and
    ended in ``end`` (months): the finest grain the report needs. Whether an allocation counts,
    which vouchers cover it and its month depend on nothing finer."""

    facility: str
    start: str
    end: str
    certificate_id: str
    registry: str
    block: str
    first_no: int
    last_no: int
    technology: str
    tradable: bool
    vintage: str
    expires_month: str
    attested: bool
    kwh: int

    @property
    def signature(self) -> tuple[str, str, str]:
        return (self.facility, self.start, self.end)


def reason(vintage: str, expires_month: str, consumption_month: str, year: int, window: int) -> str:
    """Why allocated MWh do (``counted``) or do not count for consumption in a month of ``year``."""
    if expires_month < consumption_month:
        return "expired"
    if vintage > consumption_month:
        return "generated_after_consumption"
    if not year - window <= int(vintage[:4]) <= year:
        return "vintage_outside_year"
    return COUNTED


def in_period(period: Period, facility: str | None) -> list[ColumnElement[bool]]:
    where = [B.period_end >= period.first_day, B.period_end < period.after_last_day]
    if facility is not None:
        where.append(B.facility == facility)
    return where


def allocated_groups(session: Session, period: Period, facility: str | None) -> list[AllocatedGroup]:
    """One GROUP BY over allocation ⋈ batch (certificate first in the key: it sorts fastest),
    then the certificate's attributes joined onto the few grouped rows."""
    start, end = func.substr(B.period_start, 1, 7), func.substr(B.period_end, 1, 7)
    inner = (select(A.certificate_id.label("cid"), end.label("end"), start.label("start"),
                    B.facility.label("facility"), func.sum(A.kwh).label("kwh"))
             .select_from(TB).join(TA, A.batch_id == B.batch_id)
             .where(*in_period(period, facility))
             .group_by(A.certificate_id, end, start, B.facility)).subquery("g")
    query = select(inner.c.facility, inner.c.start, inner.c.end, inner.c.cid, C.registry, C.block,
                   C.first_no, C.last_no, C.technology, C.tradable, C.generation_month, C.expires_month,
                   C.attested_by.is_not(None), inner.c.kwh).join(TC, C.certificate_id == inner.c.cid)
    return [AllocatedGroup(f, s, e, cid, reg, blk, int(a), int(b), tech, bool(tr), gen, exp, bool(att),
                           int(k))
            for f, s, e, cid, reg, blk, a, b, tech, tr, gen, exp, att, k in session.execute(query)]
