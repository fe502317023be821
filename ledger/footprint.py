"""The footprint engine: cradle-to-gate kg CO2e of a batch and of a shipment (DESIGN §5).

Per batch, in kg CO2e (ISO 14067 / GB/T 24067 style), on two bases computed side by side:

- ``upstream`` = Σ inputs: an upstream batch of this ledger at its own per-tonne footprint
  (market basis uses its market figure, location basis its location figure) × tonnes; a
  purchased material at its library factor (kg CO2e/t) × tonnes; a supplier PCF (PACT) at
  kg CO2e/kg × 1000 × tonnes. Factor and PCF inputs are the same on both bases.
- ``direct`` = Σ fuels × combustion factors (CO2 + CH4 × GWP + N2O × GWP) + Σ process gases ×
  GWP (AR6 by default, AR5 on request).
- ``electricity``, location-based: metered MWh × the average factor of the facility's grid,
  most local first (province, then grid region, then country; a fallback is disclosed). In the
  ``lca_power`` family no provincial or regional factor is published, so it is the national one.
- ``electricity``, market-based: uncovered MWh (metered − green) × a residual-like factor +
  Σ green MWh × the technology's factor. ``ghg_co2_grid``: the national factor excluding
  market-traded non-fossil power, **never the provincial average** (FACTS §1: Yunnan's is low
  because of hydro whose attributes others may claim); green MWh carry 0 kg CO2 (Scope 2
  market-based convention). ``lca_power``: no residual is published, so the national average is
  used for the uncovered MWh and disclosed as a fallback; green MWh use
  ``lca_power_<technology>``.

The two factor families are never mixed in one figure: a batch is priced in one family, and an
upstream batch must have been priced in the same family and GWP set. Grid factors are of the
latest year not after the production year (``period_end.year``), disclosed in ``notes``.
Recycled input enters burden-free (cut-off approach), disclosed in ``notes``.

A shipment's footprint is the tonne-weighted mean of its lines' batches (:func:`shipment_footprint`).

Pure: frozen dataclasses and ``Decimal`` in the 34-digit context of ``ledger.numbers``; the
caller supplies upstream footprints and supplier PCFs through callables, so the engine never
touches storage. Inputs, results and the definitions of by-gas, primary data and recycled
shares: ``footprint_model``; the electricity rules (residual, fallbacks): ``footprint_electricity``.

Two caches keep a shipment over hundreds of batches fast without changing any figure, both
kept with the factor library (``FactorLibrary.derived``) and gone with it: lookups that depend
on the library alone (a region's grid factors, a fuel's combustion factors and GWPs), and the
merge of the factor uses a batch recorded, under a key of those very objects (``_Recorded``).
Both hold immutable values only.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from contextvars import ContextVar
from decimal import Decimal, localcontext

from ledger.errors import InputError, NotFound, RuleViolation
from ledger.factors import GWP_SETS, Factor, FactorLibrary
from ledger.footprint_electricity import ElectricityPrice, price_electricity
from ledger.footprint_model import (
    AGGREGATE,
    BY_GAS_KEYS,
    GAS_KEYS,
    HUNDRED,
    ZERO,
    Basis,
    BatchFacts,
    BatchFootprint,
    FactorUse,
    FuelUse,
    ShipmentFootprint,
    ShipmentLine,
    SupplierFootprint,
)
from ledger.numbers import CONTEXT, TONNES, D, div, s

FAMILIES = ("lca_power", "ghg_co2_grid")
#: longest chain of ledger batches behind one batch (bauxite→alumina→metal→semi is 3)
MAX_TIERS = 20
KG_PER_T = Decimal(1000)
#: technologies a green certificate may carry (GEC scope, FACTS §2; "pv" = solar)
RENEWABLE_TECHNOLOGIES = frozenset({"hydro", "wind", "solar", "pv", "biomass", "geothermal", "ocean"})

_VINTAGE_RE = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
#: batches being computed in this context, outermost first: catches cycles and runaway depth
#: when the ``upstream`` callable itself calls :func:`batch_footprint`.
_IN_PROGRESS: ContextVar[tuple[str, ...]] = ContextVar("greenledger_footprint_in_progress", default=())


def batch_footprint(
    facts: BatchFacts,
    *,
    library: FactorLibrary,
    upstream: Callable[[str], BatchFootprint],
    suppliers: Callable[[str], SupplierFootprint] | None = None,
    family: str = "lca_power",
    gwp_set: str = "AR6",
) -> BatchFootprint:
    """The footprint of one batch (DESIGN §5). ``upstream(batch_id)`` returns the footprint of an
    input batch (computed in the same family and GWP set); ``suppliers(ref)`` a supplier PCF.

    Raises :class:`RuleViolation` (green MWh above metered, tonnes not positive, recycled above
    tonnes, unknown family or GWP set, mixed families, a cycle or more than ``MAX_TIERS`` tiers)
    and :class:`InputError` (unknown factor, unit mismatch...), each naming the field.
    """
    _check_method(family, gwp_set)
    chain = _IN_PROGRESS.get()
    if facts.batch_id in chain:
        raise RuleViolation("footprint.cycle", "a batch is upstream of itself", field="inputs",
                            limit="an acyclic supply chain", got=" -> ".join((*chain, facts.batch_id)))
    if len(chain) >= MAX_TIERS:
        raise RuleViolation("footprint.depth", "too many tiers of upstream batches", field="inputs",
                            limit=MAX_TIERS, got=len(chain) + 1)
    token = _IN_PROGRESS.set((*chain, facts.batch_id))
    try:
        # an upstream batch is computed inside its consumer's context: one copy of CONTEXT will do
        with nullcontext() if chain else localcontext(CONTEXT):
            _validate(facts)
            tally = _Tally(library)
            if facts.inputs:
                _price_inputs(facts, tally, library, upstream, suppliers, family, gwp_set)
            _price_direct(facts, tally, library, gwp_set)
            _add_electricity(tally, price_electricity(facts, library, family))
            if facts.recycled_tonnes > 0:
                tally.note(f"recycled input {s(facts.recycled_tonnes, TONNES)} t enters burden-free (cut-off "
                           "approach, ISO 14067 / GB/T 24067); its remelting is in this batch's fuels "
                           "and electricity")
            if tally.tiers > MAX_TIERS:
                raise RuleViolation("footprint.depth", "too many tiers of upstream batches",
                                    field="inputs", limit=MAX_TIERS, got=tally.tiers)
            green = attested = covered = ZERO
            for g in facts.green:  # the order of sum(): results stay identical to the digit
                green += g.mwh
                covered += g.voucher_covered_mwh
                if g.attested:
                    attested += g.mwh
            return BatchFootprint(
                batch_id=facts.batch_id, product=facts.product, tonnes=facts.tonnes,
                period_start=facts.period_start, period_end=facts.period_end,
                family=family, gwp_set=gwp_set,
                market=Basis(tally.upstream_market, tally.direct, tally.electricity_market),
                location=Basis(tally.upstream_location, tally.direct, tally.electricity_location),
                by_gas_kg_co2e=tally.by_gas,
                electricity_mwh=facts.electricity_mwh,
                green_mwh=green, green_mwh_attested=attested, green_mwh_voucher_covered=covered,
                primary_kg_co2e=tally.primary,
                recycled_tonnes=facts.recycled_tonnes,
                factors=tally.factor_uses(), notes=tuple(tally.notes), tiers=tally.tiers)
    finally:
        _IN_PROGRESS.reset(token)


def shipment_footprint(lines: Sequence[tuple[BatchFootprint, Decimal]]) -> ShipmentFootprint:
    """The footprint of a shipment: per tonne, the tonne-weighted mean of its lines' batches;
    totals for the shipped tonnes. MWh (metered, green, attested, voucher-covered), primary kg
    and recycled tonnes follow each batch pro rata (``shipped / batch tonnes``), so the shipment's
    primary data share is weighted by emissions and its recycled share by tonnes.

    All lines must share one factor family and GWP set (never mixed), and the tonnes shipped from
    a batch in this shipment may not exceed the batch.
    """
    if not lines:
        raise InputError("a shipment needs at least one line", field="lines")
    families = sorted({fp.family for fp, _ in lines})
    if len(families) > 1:
        raise RuleViolation("footprint.family_mix", "a shipment's lines were priced in different factor "
                            "families; price every batch in one family", field="lines",
                            limit="one family", got=families)
    gwp_sets = sorted({fp.gwp_set for fp, _ in lines})
    if len(gwp_sets) > 1:
        raise RuleViolation("footprint.gwp_mix", "a shipment's lines use different GWP sets",
                            field="lines", limit="one GWP set", got=gwp_sets)
    with localcontext(CONTEXT):
        shipped_from: dict[str, Decimal] = {}
        tally = _Tally()
        divide = CONTEXT.divide  # numbers.div, without a call per figure of every line
        # market and location stages, as running sums (the Basis objects are built once)
        stages = [ZERO] * 6
        mwh = green = attested = vouchered = recycled = ZERO
        out_lines: list[ShipmentLine] = []
        for i, (fp, raw_tonnes) in enumerate(lines):
            t = D(raw_tonnes, field=f"lines[{i}].tonnes")
            if t <= 0:
                raise RuleViolation("shipment.tonnes", "shipped tonnes must be positive",
                                    field=f"lines[{i}].tonnes", limit="> 0", got=t)
            shipped_from[fp.batch_id] = shipped_from.get(fp.batch_id, ZERO) + t
            if shipped_from[fp.batch_id] > fp.tonnes:
                raise RuleViolation("shipment.mass_balance", f"more tonnes shipped from {fp.batch_id} "
                                    "than the batch holds", field=f"lines[{i}].tonnes",
                                    limit=fp.tonnes, got=shipped_from[fp.batch_id])
            m, loc, tonnes = fp.market, fp.location, fp.tonnes
            for k, stage in enumerate((m.upstream, m.direct, m.electricity,
                                       loc.upstream, loc.direct, loc.electricity)):
                stages[k] += divide(stage * t, tonnes)
            mwh += divide(fp.electricity_mwh * t, tonnes)
            green += divide(fp.green_mwh * t, tonnes)
            attested += divide(fp.green_mwh_attested * t, tonnes)
            vouchered += divide(fp.green_mwh_voucher_covered * t, tonnes)
            recycled += divide(fp.recycled_tonnes * t, tonnes)
            tally.primary += divide(fp.primary_kg_co2e * t, tonnes)
            by_gas, theirs = tally.by_gas, fp.by_gas_kg_co2e
            for gas in BY_GAS_KEYS:
                by_gas[gas] += divide(theirs.get(gas, ZERO) * t, tonnes)
            tally.merge(fp.factors, fp.notes, prefix=f"[{fp.batch_id}] ")
            out_lines.append(ShipmentLine(fp.batch_id, t))
        return ShipmentFootprint(
            lines=tuple(out_lines), tonnes=sum((ln.tonnes for ln in out_lines), ZERO),
            period_start=min(fp.period_start for fp, _ in lines),
            period_end=max(fp.period_end for fp, _ in lines),
            family=families[0], gwp_set=gwp_sets[0], market=Basis(*stages[:3]), location=Basis(*stages[3:]),
            by_gas_kg_co2e=dict(tally.by_gas), electricity_mwh=mwh, green_mwh=green,
            green_mwh_attested=attested, green_mwh_voucher_covered=vouchered,
            primary_kg_co2e=tally.primary, recycled_tonnes=recycled,
            factors=tally.factor_uses(), notes=tuple(tally.notes))


# -- the parts of a batch ------------------------------------------------------------------


#: a factor (or a recorded use) with its role, or an upstream batch's uses with ``None``
_Event = tuple[Factor | FactorUse, str] | tuple[tuple[FactorUse, ...], None]


class _Tally:
    """Running sums of one computation (private and short-lived, hence mutable). Factors are
    recorded as they are met, as ``(factor or use, role)`` pairs, and merged into one use per
    factor id only when the result is built (:meth:`factor_uses`): a shipment records thousands."""

    __slots__ = ("by_gas", "direct", "electricity_location", "electricity_market", "events", "library",
                 "notes", "primary", "tiers", "upstream_location", "upstream_market")

    def __init__(self, library: FactorLibrary | None = None) -> None:
        self.upstream_market = self.upstream_location = self.direct = ZERO
        self.electricity_market = self.electricity_location = self.primary = ZERO
        self.tiers = 1
        self.by_gas: dict[str, Decimal] = dict.fromkeys(BY_GAS_KEYS, ZERO)
        #: disclosures in order, without repeats (a dict: a shipment merges hundreds of them)
        self.notes: dict[str, None] = {}
        #: factors in the order met, each with the role(s) it was used for; an upstream batch's
        #: resolved uses as one block ``(uses, None)``
        self.events: list[_Event] = []
        #: the library whose factors are used (None for a shipment, which only merges uses)
        self.library = library

    def note(self, text: str) -> None:
        self.notes[text] = None

    def use(self, f: Factor | FactorUse, role: str) -> None:
        """Record a factor (or an already recorded use) under ``role``."""
        self.events.append((f, role))

    def merge(self, uses: tuple[FactorUse, ...], notes: Iterable[str], *, prefix: str) -> None:
        """Record an upstream batch's factor uses (as one block) and its disclosures."""
        self.events.append((uses, None))
        self.notes.update(dict.fromkeys([prefix + n for n in notes]))

    def factor_uses(self) -> tuple[FactorUse, ...]:
        """One use per factor id, in the order first met, its roles in order without repeats."""
        events = tuple(self.events)
        if self.library is None:  # a shipment's uses are merged once: nothing worth remembering
            return _merge(events, None)
        # remembered with the library (and gone with it): batches of one kind merge alike
        merges: dict[_Recorded, tuple[FactorUse, ...]] = self.library.derived(("factor use merges",), dict)
        key = _Recorded(events)
        found = merges.get(key)
        if found is None:
            if len(merges) >= MERGES_KEPT:
                merges.clear()
            found = merges[key] = _merge(events, self.library)
        return found


#: merges of factor uses remembered per library before it starts afresh
MERGES_KEPT = 4096


class _Recorded:
    """The factors a computation recorded, as a key compared by identity: batches of the same
    kind record the very same factor objects (the library's, and their upstream batches' merged
    uses), and hashing frozen dataclasses by value costs more than merging them. The key holds
    the objects, so their ids cannot be reused while it is remembered."""

    __slots__ = ("_hash", "_key", "events")

    def __init__(self, events: tuple[_Event, ...]) -> None:
        self.events = events
        self._key = (*[id(f) for f, _ in events], *[role for _, role in events])
        self._hash = hash(self._key)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Recorded) and self._key == other._key


def _merge(events: tuple[_Event, ...], library: FactorLibrary | None) -> tuple[FactorUse, ...]:
    merged: dict[str, tuple[Factor | FactorUse, dict[str, None]]] = {}

    def add(f: Factor | FactorUse, role: str) -> None:
        entry = merged.get(f.factor_id)
        if entry is None:
            merged[f.factor_id] = (f, dict.fromkeys(_roles(role)))
        elif role not in entry[1]:
            entry[1].update(dict.fromkeys(_roles(role)))

    for what, role in events:
        if role is None:
            for u in what:  # type: ignore[union-attr]
                add(u, u.used_for)
        else:
            add(what, role)  # type: ignore[arg-type]
    out = []
    for f, roles in merged.values():
        used_for = "; ".join(roles)
        if isinstance(f, FactorUse):
            out.append(f if f.used_for == used_for else dataclasses.replace(f, used_for=used_for))
        elif library is not None:
            out.append(library.use(f, used_for))
        else:
            out.append(FactorUse(f.factor_id, f.name, f.value, f.unit, f.source, f.year, used_for, f.status))
    return tuple(out)


@functools.lru_cache(maxsize=256)
def _roles(used_for: str) -> tuple[str, ...]:
    """``"a; b"`` -> ``("a", "b")``: the roles of a recorded use (a handful of distinct strings)."""
    return tuple(used_for.split("; "))


def _check_method(family: str, gwp_set: str) -> None:
    if family not in FAMILIES:
        raise RuleViolation("footprint.family", "unknown electricity factor family", field="family",
                            limit=" | ".join(FAMILIES), got=family)
    if gwp_set not in GWP_SETS:
        raise RuleViolation("footprint.gwp_set", "unknown GWP set", field="gwp_set",
                            limit=" | ".join(GWP_SETS), got=gwp_set)


def _validate(facts: BatchFacts) -> None:
    if facts.tonnes <= 0:
        raise RuleViolation("footprint.tonnes", "a batch must produce a positive quantity",
                            field="tonnes", limit="> 0", got=facts.tonnes)
    if facts.period_end < facts.period_start:
        raise InputError(f"period ends ({facts.period_end}) before it starts ({facts.period_start})",
                         field="period_end")
    if facts.electricity_mwh < 0:
        raise InputError("metered electricity cannot be negative", field="electricity_mwh")
    if not 0 <= facts.recycled_tonnes <= facts.tonnes:
        raise RuleViolation("footprint.recycled", "recycled input must be between 0 and the batch's "
                            "tonnes", field="recycled_tonnes", limit=facts.tonnes, got=facts.recycled_tonnes)
    for i, fuel in enumerate(facts.fuels):
        if fuel.amount < 0:
            raise InputError("fuel amount cannot be negative", field=f"fuels[{i}].amount")
    for i, pe in enumerate(facts.process_emissions):
        if pe.kg < 0:
            raise InputError("process emission cannot be negative", field=f"process_emissions[{i}].kg")
    for i, inp in enumerate(facts.inputs):
        if inp.amount < 0:
            raise InputError("input amount cannot be negative", field=f"inputs[{i}].amount")
        if inp.unit != "t":
            raise InputError(f"input amounts are in t, got {inp.unit!r}", field=f"inputs[{i}].unit")
    for i, g in enumerate(facts.green):
        if g.mwh <= 0:
            raise InputError("green MWh must be positive", field=f"green[{i}].mwh")
        if not 0 <= g.voucher_covered_mwh <= g.mwh:
            raise RuleViolation("footprint.voucher_covered", "voucher-covered MWh must lie between 0 "
                                "and the allocation's MWh", field=f"green[{i}].voucher_covered_mwh",
                                limit=g.mwh, got=g.voucher_covered_mwh)
        if not _VINTAGE_RE.match(g.vintage):
            raise InputError(f"vintage must be YYYY-MM, got {g.vintage!r}", field=f"green[{i}].vintage")
        if g.technology.strip().lower() not in RENEWABLE_TECHNOLOGIES:
            raise InputError(f"not a renewable technology: {g.technology!r}", field=f"green[{i}].technology")
    green = sum((g.mwh for g in facts.green), ZERO)
    if green > facts.electricity_mwh:
        raise RuleViolation("footprint.green_mwh", "green MWh allocated exceed the batch's metered "
                            "electricity", field="green", limit=facts.electricity_mwh, got=green)


def _price_inputs(facts: BatchFacts, tally: _Tally, library: FactorLibrary,
                  upstream: Callable[[str], BatchFootprint],
                  suppliers: Callable[[str], SupplierFootprint] | None, family: str, gwp_set: str) -> None:
    for i, inp in enumerate(facts.inputs):
        where = f"inputs[{i}]"
        if inp.kind == "batch":
            fp = upstream(inp.ref)
            if fp.batch_id != inp.ref:
                raise InputError(f"upstream returned batch {fp.batch_id!r} for {inp.ref!r}",
                                 field=f"{where}.ref")
            if fp.family != family or fp.gwp_set != gwp_set:
                raise RuleViolation("footprint.family_mix", f"upstream batch {fp.batch_id} was priced in "
                                    "another factor family or GWP set", field=f"{where}.ref",
                                    limit=f"{family} {gwp_set}", got=f"{fp.family} {fp.gwp_set}")
            if inp.amount > fp.tonnes:
                raise RuleViolation("footprint.upstream_tonnes", f"more tonnes of {fp.batch_id} used "
                                    "than the batch produced", field=f"{where}.amount",
                                    limit=fp.tonnes, got=inp.amount)
            amount, tonnes, divide = inp.amount, fp.tonnes, CONTEXT.divide
            tally.upstream_market += divide(fp.market.total * amount, tonnes)
            tally.upstream_location += divide(fp.location.total * amount, tonnes)
            tally.primary += divide(fp.primary_kg_co2e * amount, tonnes)
            by_gas, theirs = tally.by_gas, fp.by_gas_kg_co2e
            for gas in BY_GAS_KEYS:
                by_gas[gas] += divide(theirs.get(gas, ZERO) * amount, tonnes)
            tally.merge(fp.factors, fp.notes, prefix=f"[{fp.batch_id}] ")
            tally.tiers = max(tally.tiers, fp.tiers + 1)
        elif inp.kind == "factor":
            try:
                f = library.material(inp.ref)
            except (NotFound, InputError) as exc:
                raise InputError(exc.message, field=f"{where}.ref") from None
            kg = f.value * inp.amount
            tally.upstream_market += kg
            tally.upstream_location += kg
            tally.by_gas[AGGREGATE] += kg
            tally.use(f, "upstream material")
        else:
            if suppliers is None:
                raise InputError(f"input {inp.ref!r} is a supplier footprint but no supplier source "
                                 "was given", field=f"{where}.ref")
            sf = suppliers(inp.ref)
            if sf.kg_co2e_per_kg < 0 or not 0 <= sf.primary_data_share <= HUNDRED:
                raise InputError(f"supplier footprint {sf.ref!r} out of range", field=f"{where}.ref")
            kg = sf.kg_co2e_per_kg * KG_PER_T * inp.amount
            tally.upstream_market += kg
            tally.upstream_location += kg
            tally.by_gas[AGGREGATE] += kg
            tally.primary += div(kg * sf.primary_data_share, HUNDRED)
            tally.use(FactorUse(f"pact:{sf.ref}", f"supplier product footprint {sf.ref} (PACT)",
                                sf.kg_co2e_per_kg, "kg CO2e/kg", sf.source, None, "upstream supplier PCF"),
                      "upstream supplier PCF")


#: the gases of a fuel's combustion factors, in the order they are priced and disclosed
_COMBUSTION_GASES = ("CO2", "CH4", "N2O")


def _price_direct(facts: BatchFacts, tally: _Tally, library: FactorLibrary, gwp_set: str) -> None:
    direct, primary, by_gas = tally.direct, tally.primary, tally.by_gas
    use, record = tally.events.append, tally.events.extend
    for i, fuel in enumerate(facts.fuels):
        factors = library.derived(("combustion", fuel.fuel, fuel.unit, gwp_set),
                                  _combustion, library, fuel, gwp_set, i)
        for gas, cf, gwp, events in factors:
            kg = fuel.amount * cf.value * gwp.value
            direct += kg
            primary += kg
            by_gas[gas] += kg
            record(events)
    for i, pe in enumerate(facts.process_emissions):
        if pe.gas not in GAS_KEYS:
            raise InputError(f"unknown process gas {pe.gas!r}; one of {', '.join(GAS_KEYS)}",
                             field=f"process_emissions[{i}].gas")
        gwp, event = library.derived(("process gas", pe.gas, gwp_set),
                                     _process_gas, library, pe.gas, gwp_set, i)
        kg = pe.kg * gwp.value
        direct += kg
        primary += kg
        by_gas[pe.gas] += kg
        use(event)
    tally.direct, tally.primary = direct, primary


def _combustion(library: FactorLibrary, fuel: FuelUse, gwp_set: str,
                i: int) -> tuple[tuple[str, Factor, Factor, tuple[_Event, ...]], ...]:
    """Each gas of a fuel's combustion with its factor, its GWP and the two uses to record
    (errors name the ``i``-th fuel)."""
    where = f"fuels[{i}]"
    out = []
    for gas in _COMBUSTION_GASES:
        cf = library.combustion(fuel.fuel, gas, amount_unit=fuel.unit, field=where)
        gwp = _gwp(library, gas, gwp_set, f"{where}.fuel")
        out.append((gas, cf, gwp, ((cf, "direct combustion"), (gwp, f"GWP100 {gwp_set}"))))
    return tuple(out)


def _process_gas(library: FactorLibrary, gas: str, gwp_set: str, i: int) -> tuple[Factor, _Event]:
    """A process gas's GWP and the use to record (errors name the ``i``-th process emission)."""
    gwp = _gwp(library, gas, gwp_set, f"process_emissions[{i}].gas")
    return gwp, (gwp, f"GWP100 {gwp_set}")


def _gwp(library: FactorLibrary, gas: str, gwp_set: str, where: str) -> Factor:
    try:
        return library.gwp(gas, gwp_set)
    except (NotFound, InputError) as exc:
        raise InputError(exc.message, field=where) from None


def _add_electricity(tally: _Tally, price: ElectricityPrice) -> None:
    tally.electricity_location = price.location_kg_co2e
    tally.electricity_market = price.market_kg_co2e
    tally.by_gas[price.gas] += price.market_kg_co2e
    tally.primary += price.primary_kg_co2e
    tally.events.extend(price.uses)
    tally.notes.update(dict.fromkeys(price.notes))
