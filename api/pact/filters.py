"""The eight ListFootprints / RequestCreatedEvent criteria and how a footprint matches them.

Spec: PACT Tech Specs 3.0.3, ``spec/v3/openapi.yaml`` — ``paths./3/footprints.get``
(§Filtering: values of one criterion are OR-ed, different criteria AND-ed) and
``components.parameters`` (each criterion; "The match must be case-insensitive"), the same
criteria as ``RequestCreatedEvent.data``; ``spec/v3/index.md`` §Validity Period.

As implemented (all text comparisons case-insensitive, exact otherwise):

- ``productId``: one of the footprint's ``productIds``;
- ``companyId``: one of its ``companyIds``;
- ``classification``: one of its ``productClassifications``;
- ``geography``: its ``pcf.geographyRegionOrSubregion``, ``pcf.geographyCountry`` or
  ``pcf.geographyCountrySubdivision``, or the country of its subdivision ("within": a footprint
  for ``CN-YN`` is within ``CN``). A country is not mapped to its UN M49 region;
- ``validOn``: start <= validOn <= end of the validity period (inclusive both ends, as the
  parameter's description says);
- ``validAfter``: start > validAfter;  ``validBefore``: end < validBefore;
  the validity period is ``validityPeriodStart``/``validityPeriodEnd`` when given, else
  ``referencePeriodEnd`` to ``referencePeriodEnd`` + 3 years (§Validity Period);
- ``status``: ``Active`` or ``Deprecated``; any other value matches nothing.

Values nobody has give an empty list (200), never an error. A date that is not RFC 3339
(``YYYY-MM-DDTHH:MM:SS[.frac](Z|±hh:mm)``; a bare ``YYYY-MM-DD`` is taken as midnight UTC) is a
BadRequest. Query parameter names are matched case-insensitively too (the spec's own example
writes ``productid`` and ``validon``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

TEXT_FILTERS = ("productId", "companyId", "geography", "classification", "status")
TIME_FILTERS = ("validOn", "validAfter", "validBefore")
FILTERS = TEXT_FILTERS + TIME_FILTERS
_BY_LOWER = {name.lower(): name for name in FILTERS}
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[Tt ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?"
                       r"(Z|z|[+-]\d{2}:?\d{2})?)?$", re.ASCII)
MAX_VALUES = 100


class FilterError(ValueError):
    pass


def parse_time(text: str, name: str) -> datetime:
    m = _DATETIME.match(text.strip())
    if not m:
        raise FilterError(f"{name} must be an RFC 3339 date-time such as 2025-01-01T00:00:00Z, "
                          f"got {text!r}")
    day, clock, frac, zone = m.groups()
    value = f"{day}T{clock or '00:00:00'}{(frac or '')[:7]}"
    if zone and zone not in ("Z", "z"):
        value += zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise FilterError(f"{name}: not a valid date-time: {text!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Criteria:
    """Parsed criteria: lower-cased text values and UTC instants, per filter."""

    text: Mapping[str, frozenset[str]]
    times: Mapping[str, tuple[datetime, ...]]

    @property
    def empty(self) -> bool:
        return not self.text and not self.times


def _values(name: str, raw: Any) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    if not items or len(items) > MAX_VALUES or not all(isinstance(v, str) for v in items):
        raise FilterError(f"{name} must be a string or a list of 1-{MAX_VALUES} strings")
    return items


def criteria(pairs: Iterable[tuple[str, Any]]) -> Criteria:
    """Criteria from ``(name, value)`` pairs: query arguments (repeated names OR-ed) or an
    event's ``data`` members (a string or a list of strings). Unknown names are ignored."""
    text: dict[str, set[str]] = {}
    times: dict[str, list[datetime]] = {}
    for key, raw in pairs:
        name = _BY_LOWER.get(key.lower())
        if name is None:
            continue
        for value in _values(name, raw):
            if name in TIME_FILTERS:
                times.setdefault(name, []).append(parse_time(value, name))
            else:
                text.setdefault(name, set()).add(value.strip().lower())
    return Criteria({k: frozenset(v) for k, v in text.items()},
                    {k: tuple(v) for k, v in times.items()})


@dataclass(frozen=True)
class Facets:
    """What the criteria look at in one footprint (lower-cased)."""

    product_ids: frozenset[str]
    company_ids: frozenset[str]
    classifications: frozenset[str]
    geographies: frozenset[str]
    valid_from: datetime
    valid_to: datetime


def _lower_set(values: Any) -> frozenset[str]:
    if not isinstance(values, list):
        return frozenset()
    return frozenset(v.strip().lower() for v in values if isinstance(v, str))


def _add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


def facets(doc: Mapping[str, Any]) -> Facets:
    """The facets of a ProductFootprint (a valid one; missing parts match nothing)."""
    pcf = doc.get("pcf") if isinstance(doc.get("pcf"), dict) else {}
    geo = set()
    for key in ("geographyRegionOrSubregion", "geographyCountry", "geographyCountrySubdivision"):
        value = pcf.get(key)
        if isinstance(value, str) and value:
            geo.add(value.strip().lower())
            if key == "geographyCountrySubdivision" and "-" in value:
                geo.add(value.split("-", 1)[0].strip().lower())
    ref_end = pcf.get("referencePeriodEnd")
    start_text = doc.get("validityPeriodStart") or ref_end
    end_text = doc.get("validityPeriodEnd")
    try:
        start = parse_time(start_text, "validityPeriodStart")
        end = (parse_time(end_text, "validityPeriodEnd") if end_text
               else _add_years(parse_time(ref_end, "referencePeriodEnd"), 3))
    except (FilterError, TypeError, AttributeError):
        start = end = datetime.min.replace(tzinfo=UTC)  # no validity: never matches a date
    return Facets(_lower_set(doc.get("productIds")), _lower_set(doc.get("companyIds")),
                  _lower_set(doc.get("productClassifications")), frozenset(geo), start, end)


def matches(c: Criteria, f: Facets, status: str) -> bool:
    """Whether a footprint with facets ``f`` and ``status`` meets every criterion."""
    for name, wanted in c.text.items():
        if name == "productId":
            have = f.product_ids
        elif name == "companyId":
            have = f.company_ids
        elif name == "classification":
            have = f.classifications
        elif name == "geography":
            have = f.geographies
        else:
            have = frozenset((status.lower(),))
        if wanted.isdisjoint(have):
            return False
    for name, moments in c.times.items():
        if name == "validOn":
            ok = any(f.valid_from <= t <= f.valid_to for t in moments)
        elif name == "validAfter":
            ok = any(f.valid_from > t for t in moments)
        else:
            ok = any(f.valid_to < t for t in moments)
        if not ok:
            return False
    return True
