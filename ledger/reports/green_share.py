"""Green-electricity share per facility and period (issue #11.1; DESIGN §4, FACTS §2).

What counts, and why:

- **Consumption** is the metered electricity of the facility's batches that ended in the period
  (``periods``): the ledger meters electricity per batch and nowhere else.
- **Green MWh counted** are certificate MWh *allocated* to those batches (an allocation retires a
  sub-range of a certificate to a batch, never reusable: DESIGN §4). A certificate therefore
  counts only where its codes were retired, for one batch of one facility, once. Held but
  unallocated MWh never count; cancelled MWh (``certificate.cancelled``: removed from the
  inventory without being tied to consumption) never count.
- An allocation counts only if it still passes the allocation rules *for the consumption
  month* (the month the batch ended): the certificate had not expired before it
  (``expires_month`` ≥ that month), was not generated after it, and its vintage falls in the
  report's year (``vintage_window_years`` earlier years may be allowed, default 0: the plan's
  shares are per calendar year even if a ledger is configured with a wider allocation window).
  The allocation rules already refuse most of these; anything else is reported under
  ``allocated_not_counted`` with its reason rather than silently added.
- ``green_share_percent`` counts allocated certificates of every registry; ``gec_share_percent``
  counts ``CN-GEC`` only, because the aluminium consumption-share rule counts in GECs
  (发改办能源〔2025〕669号). Each target says which one it compares (``targets.csv``).
- **Voucher coverage** is computed exactly as the footprint computes it per batch
  (``ledger/domain/footprints.py``): a voucher that lists codes covers the allocated codes
  inside its range; a voucher without codes covers the rest pro rata; what no voucher covers is
  "certificate only". Summed over the batches, it equals the footprints' voucher-covered MWh.
- **Inventory, not counted**: the unallocated MWh of certificates held by the owners of the
  reported facilities (certificates belong to a party, not to a facility), generated up to
  the period's end, by reason: ``available`` (could still be allocated), ``expired`` (validity
  ended before the period's last month), ``vintage_outside_year``, and ``cancelled`` MWh.

Performance: the figures come from SQL aggregation (``allocated``: one ``GROUP BY`` over
allocation ⋈ batch, the certificate joined onto the grouped rows), never a Python loop over
allocation rows; Python merges the grouped rows and applies the voucher rule
(``voucher_coverage``). Read-only: no commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlmodel import Session, col

from ledger.domain.tables import Facility, Voucher
from ledger.errors import NotFound
from ledger.numbers import div
from ledger.reports.allocated import COUNTED, AllocatedGroup, B, C, allocated_groups, in_period, reason
from ledger.reports.labels import labels_for
from ledger.reports.periods import Period
from ledger.reports.quantities import HUNDRED, mwh, pct_text, percent
from ledger.reports.targets import Target, applicable, load_targets
from ledger.reports.voucher_coverage import voucher_coverage

INVENTORY_REASONS = ("available", "expired", "vintage_outside_year", "cancelled")

NOTES = (
    "Consumption: metered electricity of the batches that ended in the period.",
    "Counted: certificate MWh allocated (retired) to those batches, once each; held, unallocated "
    "or cancelled MWh never count.",
    "An allocation counts only if the certificate was valid in the consumption month and its "
    "vintage is in the report's year.",
    "gec_share counts CN-GEC only (the aluminium consumption-share rule counts in GECs); "
    "green_share counts every registry.",
    "Voucher coverage is computed as the footprint computes it; the rest is certificate only.",
)


# -- figures ----------------------------------------------------------------------------------


@dataclass
class Figures:
    """Green-share figures of one facility-month, a facility or the total (kWh; exact ints except
    the voucher-covered part, which the pro-rata share makes a Decimal)."""

    electricity_kwh: int = 0
    batches: int = 0
    counted_kwh: int = 0
    gec_kwh: int = 0
    attested_kwh: int = 0
    voucher_kwh: int = 0
    covered_kwh: Decimal = Decimal(0)

    def add(self, other: Figures) -> None:
        self.electricity_kwh += other.electricity_kwh
        self.batches += other.batches
        self.counted_kwh += other.counted_kwh
        self.gec_kwh += other.gec_kwh
        self.attested_kwh += other.attested_kwh
        self.voucher_kwh += other.voucher_kwh
        self.covered_kwh += other.covered_kwh

    @property
    def green_share(self) -> Decimal | None:
        return percent(self.counted_kwh, self.electricity_kwh)

    @property
    def gec_share(self) -> Decimal | None:
        return percent(self.gec_kwh, self.electricity_kwh)

    def share_for(self, target: Target) -> Decimal | None:
        return self.gec_share if target.instrument == "CN-GEC" else self.green_share

    def to_json(self) -> dict[str, Any]:
        return {
            "batches": self.batches,
            "electricity_mwh": mwh(self.electricity_kwh),
            "green_mwh": mwh(self.counted_kwh),
            "gec_mwh": mwh(self.gec_kwh),
            "green_share_percent": pct_text(self.green_share),
            "gec_share_percent": pct_text(self.gec_share),
            "attested_mwh": mwh(self.attested_kwh),
            "voucher_mwh": mwh(self.voucher_kwh),
            "voucher_covered_mwh": mwh(self.covered_kwh),
            "certificate_only_mwh": mwh(self.counted_kwh - self.covered_kwh),
        }


def _target_json(target: Target, fig: Figures) -> dict[str, Any]:
    out = target.evaluate(fig.share_for(target))
    gap_kwh = None
    if out["met"] is not None and target.value is not None:
        counted = fig.gec_kwh if target.instrument == "CN-GEC" else fig.counted_kwh
        gap_kwh = max(Decimal(0), div(target.value * fig.electricity_kwh, HUNDRED) - counted)
    out["gap_mwh"] = None if gap_kwh is None else mwh(gap_kwh)
    return out


@dataclass
class FacilityGreenShare:
    facility_id: str
    name: str
    owner: str
    metals: tuple[str, ...]
    figures: Figures
    months: dict[str, Figures]
    by_technology: dict[str, int]
    by_tradable: dict[str, int]
    by_vintage: dict[str, int]
    by_registry: dict[str, int]
    not_counted: dict[str, int]
    targets: tuple[Target, ...]
    by_certificate: dict[str, int] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "facility_id": self.facility_id, "name": self.name, "owner": self.owner,
            "metals": list(self.metals), **self.figures.to_json(),
            "by_technology": {k: mwh(v) for k, v in sorted(self.by_technology.items())},
            "by_tradable": {k: mwh(v) for k, v in sorted(self.by_tradable.items())},
            "by_vintage": {k: mwh(v) for k, v in sorted(self.by_vintage.items())},
            "by_registry": {k: mwh(v) for k, v in sorted(self.by_registry.items())},
            "allocated_not_counted": {k: mwh(v) for k, v in sorted(self.not_counted.items())},
            "months": [{"month": m, **f.to_json()} for m, f in sorted(self.months.items())],
            "targets": [_target_json(t, self.figures) for t in self.targets],
        }
        if self.by_certificate is not None:
            out["by_certificate"] = {k: mwh(v) for k, v in sorted(self.by_certificate.items())}
        return out


@dataclass(frozen=True)
class InventoryLine:
    """Unallocated (or cancelled) MWh of certificates held by ``holder``, not counted."""

    holder: str
    reason: str
    registry: str
    technology: str
    tradable: bool
    vintage: str
    expires_month: str
    certificates: int
    kwh: int

    def to_json(self) -> dict[str, Any]:
        return {"holder": self.holder, "reason": self.reason, "registry": self.registry,
                "technology": self.technology, "tradable": self.tradable, "vintage": self.vintage,
                "expires_month": self.expires_month, "certificates": self.certificates,
                "mwh": mwh(self.kwh)}


@dataclass
class GreenShareReport:
    period: Period
    vintage_window_years: int
    facilities: list[FacilityGreenShare]
    inventory: list[InventoryLine]
    totals: Figures
    total_targets: tuple[Target, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        inventory_total: dict[str, int] = defaultdict(int)
        for line in self.inventory:
            inventory_total[line.reason] += line.kwh
        return {
            "report": "green_share",
            "period": self.period.to_json(),
            "vintage_window_years": self.vintage_window_years,
            "facilities": [f.to_json() for f in self.facilities],
            "totals": {**self.totals.to_json(),
                       "targets": [_target_json(t, self.totals) for t in self.total_targets]},
            "inventory_not_counted": {
                "by_reason": {r: mwh(inventory_total.get(r, 0)) for r in INVENTORY_REASONS},
                "lines": [line.to_json() for line in self.inventory]},
            "notes": list(NOTES),
            "labels": labels_for("green_share"),
        }


# -- inventory ----------------------------------------------------------------------------------


def _inventory(session: Session, period: Period, owners: Iterable[str], window: int) -> list[InventoryLine]:
    remaining = C.kwh - C.allocated_kwh - C.cancelled_kwh
    vintage_year = func.substr(C.generation_month, 1, 4)
    why = case(
        (C.expires_month < period.last_month, literal("expired")),
        (vintage_year < f"{period.year - window:04d}", literal("vintage_outside_year")),
        (vintage_year > f"{period.year:04d}", literal("vintage_outside_year")),
        else_=literal("available"))
    cols = (C.owner, C.registry, C.technology, C.tradable, C.generation_month, C.expires_month)
    held = [C.owner.in_(sorted(owners)), C.generation_month <= period.last_month]
    base = select(*cols, why.label("reason"), func.count(), func.sum(remaining)) \
        .where(*held, remaining > 0).group_by(*cols, why)
    cancelled = select(*cols, func.count(), func.sum(C.cancelled_kwh)) \
        .where(*held, C.cancelled_kwh > 0).group_by(*cols)
    lines = [InventoryLine(o, r, reg, tech, bool(tr), gen, exp, int(n), int(k))
             for o, reg, tech, tr, gen, exp, r, n, k in session.execute(base)]
    lines += [InventoryLine(o, "cancelled", reg, tech, bool(tr), gen, exp, int(n), int(k))
              for o, reg, tech, tr, gen, exp, n, k in session.execute(cancelled)]
    order = {r: i for i, r in enumerate(INVENTORY_REASONS)}
    return sorted(lines, key=lambda x: (x.holder, order[x.reason], x.vintage, x.registry, x.technology))


# -- the report -------------------------------------------------------------------------------


def green_share(session: Session, *, period: Period, facility: str | None = None,
                targets: Sequence[Target] | None = None, vintage_window_years: int = 0,
                by_certificate: bool = False) -> GreenShareReport:
    """The green-electricity share of each facility with batches in ``period`` (or of
    ``facility`` alone), with monthly figures, breakdowns, voucher coverage, the inventory
    that does not count and the gap to each applicable target."""
    if facility is not None and session.get(Facility, facility) is None:
        raise NotFound(f"no facility {facility!r}", field="facility")
    targets = load_targets() if targets is None else targets
    start, end = func.substr(B.period_start, 1, 7), func.substr(B.period_end, 1, 7)

    months: dict[str, dict[str, Figures]] = defaultdict(dict)
    metals: dict[str, set[str]] = defaultdict(set)
    earliest = period.first_month
    for fac, s_month, e_month, metal, kwh, n in session.execute(
            select(B.facility, start, end, B.metal, func.sum(B.electricity_kwh), func.count())
            .where(*in_period(period, facility)).group_by(B.facility, start, end, B.metal)):
        fig = months[fac].setdefault(e_month, Figures())
        fig.electricity_kwh += int(kwh or 0)
        fig.batches += int(n)
        metals[fac].add(metal)
        earliest = min(earliest, s_month)
    if facility is not None:
        months.setdefault(facility, {})

    groups = allocated_groups(session, period, facility)
    counted: list[AllocatedGroup] = []
    breakdowns: dict[str, dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int)))
    for g in groups:
        bd = breakdowns[g.facility]
        why = reason(g.vintage, g.expires_month, g.end, period.year, vintage_window_years)
        if why != COUNTED:
            bd["not_counted"][why] += g.kwh
            continue
        counted.append(g)
        fig = months[g.facility].setdefault(g.end, Figures())
        fig.counted_kwh += g.kwh
        fig.attested_kwh += g.kwh if g.attested else 0
        fig.gec_kwh += g.kwh if g.registry == "CN-GEC" else 0
        bd["technology"][g.technology] += g.kwh
        bd["tradable"]["tradable" if g.tradable else "non_tradable"] += g.kwh
        bd["vintage"][g.vintage] += g.kwh
        bd["registry"][g.registry] += g.kwh
        bd["certificate"][g.certificate_id] += g.kwh

    vouchers = list(session.scalars(select(Voucher).where(
        col(Voucher.facility).in_(sorted(months)), col(Voucher.period_end) >= earliest,
        col(Voucher.period_start) <= period.last_month)))
    for (fac, _s, e_month), kwh in voucher_coverage(session, period, facility, counted, vouchers).items():
        months[fac].setdefault(e_month, Figures()).covered_kwh += kwh
    for v in vouchers:
        if period.first_month <= v.period_end <= period.last_month:
            months[v.facility].setdefault(v.period_end, Figures()).voucher_kwh += v.kwh

    rows = {f.facility_id: f for f in session.scalars(
        select(Facility).where(col(Facility.facility_id).in_(sorted(months))))}
    out: list[FacilityGreenShare] = []
    totals = Figures()
    for fac in sorted(months):
        total = Figures()
        for fig in months[fac].values():
            total.add(fig)
        totals.add(total)
        bd = breakdowns[fac]
        out.append(FacilityGreenShare(
            facility_id=fac, name=rows[fac].name, owner=rows[fac].owner, metals=tuple(sorted(metals[fac])),
            figures=total, months=months[fac], by_technology=dict(bd["technology"]),
            by_tradable=dict(bd["tradable"]), by_vintage=dict(bd["vintage"]),
            by_registry=dict(bd["registry"]), not_counted=dict(bd["not_counted"]),
            targets=applicable(targets, "green_share", metals[fac], period.year),
            by_certificate=dict(bd["certificate"]) if by_certificate else None))
    owners = {r.owner for r in rows.values()}
    return GreenShareReport(
        period=period, vintage_window_years=vintage_window_years, facilities=out,
        inventory=_inventory(session, period, owners, vintage_window_years), totals=totals,
        total_targets=tuple(t for t in applicable(targets, "green_share", ("*",), period.year)
                            if "*" in t.metals))
