"""The EU CBAM rules the communication export applies, each with its source, and the default
values of ``sample_data/cbam_defaults.csv``.

What an installation sends its importer (the summary "Communication with reporting declarants"
of the EU communication template for installations) depends on a handful of rules: which goods
and gases are covered, which emissions count in the definitive period, which inputs are
relevant precursors, which GWP values convert PFCs, which electricity factor prices indirect
emissions. They are written here once, as data with a source and the status mark of
``FACTS.md`` (**[C]** confirmed, **[U]** unconfirmed: read from a secondary transcription or
inferred), so that the export can print them next to the figures they produced and a reviewer
can check each against the Official Journal.

Pure: standard library and ``Decimal``; no database.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ledger.errors import InputError
from ledger.numbers import D

DEFAULTS_PATH = Path(__file__).resolve().parents[1] / "sample_data" / "cbam_defaults.csv"
SCHEMA_PATH = Path(__file__).resolve().parents[1] / "sample_data" / "schemas" / "cbam-communication-v1.json"
SCHEMA_ID = "https://greenledger.example/schemas/cbam-communication-v1.json"

#: EU-27 member states, ISO 3166-1 alpha-2 (Greece is GR in ISO, EL in EU documents: both accepted)
EU27 = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "EL", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
})
#: CN headings of aluminium goods in Annex I to Regulation (EU) 2023/956 (7615 is not covered)
ALUMINIUM_HEADINGS = frozenset({"7601", *(str(h) for h in range(7603, 7615)), "7616"})
SCOPE_TEXT = "7601, 7603–7614, 7616 (not 7615)"
#: greenhouse gases of aluminium in Annex I to Regulation (EU) 2023/956
CBAM_GASES = ("CO2", "CF4", "C2F6")
PFC_GASES = ("CF4", "C2F6")
#: the GWP set CBAM prescribes (IPCC AR5 values: CF4 6 630, C2F6 11 100)
CBAM_GWP_SET = "AR5"
#: first year of the definitive period (FACTS.md §5)
DEFINITIVE_FROM = 2026

REG_956 = "Regulation (EU) 2023/956 of 10 May 2023 establishing a carbon border adjustment mechanism"
IR_2547 = ("Commission Implementing Regulation (EU) 2025/2547 of 10 December 2025 (methods for the "
           "calculation of embedded emissions, definitive period), OJ L 2025/2547, 22.12.2025")
IR_1773 = ("Commission Implementing Regulation (EU) 2023/1773 of 17 August 2023 (reporting during the "
           "transitional period)")
IR_2621 = "Commission Implementing Regulation (EU) 2025/2621 of 16 December 2025 (CBAM default values)"


@dataclass(frozen=True)
class Rule:
    """One rule the export applies: what it says, where it comes from, how sure we are."""

    rule_id: str
    statement: str
    source: str
    status: str

    def to_json(self) -> dict[str, str]:
        return {"rule_id": self.rule_id, "statement": self.statement, "source": self.source,
                "status": self.status}


RULES: tuple[Rule, ...] = (
    Rule("scope.goods",
         f"Aluminium goods covered: CN {SCOPE_TEXT}; greenhouse gases CO2 and perfluorocarbons (CF4, "
         "C2F6). CH4 and N2O of fuel combustion are not CBAM gases for aluminium and are left out.",
         f"{REG_956}, Annex I", "[C]"),
    Rule("scope.destination",
         "The communication serves an importer into the customs territory of the Union: the shipment's "
         "destination must be an EU-27 member state.",
         f"{REG_956}, Art. 2(1)", "[U]"),
    Rule("obligation.direct_only",
         "Definitive period (from 2026): for aluminium only direct embedded emissions are counted; "
         "indirect emissions are still reported in the communication, for information.",
         f"{REG_956}, Art. 7(1) and Annex II (goods for which only direct emissions are taken into "
         "account); FACTS.md §5", "[C]"),
    Rule("direct.boundary",
         "Direct emissions of primary (electrolytic) smelting: CO2 from electrode/anode consumption, "
         "from any fuels (drying, pre-heating, cell heating, casting) and flue gas treatment, plus PFC "
         "emissions from anode effects. Taken as the batch's recorded fuels (CO2 only) and process "
         "emissions (CO2, CF4, C2F6).",
         f"{IR_2547}, Annex I §3.17.2.1 (read from a verbatim third-party transcription)", "[U]"),
    Rule("precursors.unwrought",
         "Unwrought aluminium (7601) from primary smelting has no relevant precursor: alumina (CN 2818) "
         "is not a good listed in Annex I to Regulation (EU) 2023/956, so neither it nor its refinery's "
         "emissions enter the CBAM figure. In secondary melting, unwrought aluminium from other sources "
         "that is added is treated like a precursor.",
         f"{REG_956}, Annex I; {IR_1773}, Annex II (relevant precursors per aggregated goods category); "
         f"{IR_2547}, Annex I §3.17.2.2", "[U]"),
    Rule("precursors.products",
         "Aluminium products (7603–7614, 7616): the embedded emissions of unwrought aluminium and of "
         "aluminium products used as inputs are added (SEE = attributed emissions / activity level + "
         "Σ m_i × SEE_i, direct and indirect separately); a precursor originating in the Union counts "
         "zero. Only ledger batches with a covered CN code are precursors; purchased materials priced "
         "by library factors are not CBAM goods here.",
         f"{IR_1773}, Annex II; {IR_2547}, Annex I §3.18 and Annex III point B (equations 59–63)", "[U]"),
    Rule("precursors.scrap",
         "Scrap enters another production process with zero embedded emissions.",
         f"{IR_2547}, Annex II point F", "[U]"),
    Rule("gwp.ar5",
         "PFCs are converted with the GWP values the CBAM methodology lists: CF4 6 630 and C2F6 11 100 "
         "t CO2e/t (IPCC AR5), not AR6 (7 380 / 12 400) which the product footprints use by default.",
         f"{IR_2547}, Annex II point B.7.3 (equation 26) and point G, Table 6; same values in "
         f"{IR_1773}, Annex VIII", "[U]"),
    Rule("indirect.factor",
         "Indirect emissions = electricity consumed × emission factor. The default is the average "
         "emission factor of the grid of the country of production; an actual factor is allowed only "
         "with a direct technical link to the generator or a power purchase agreement meeting the "
         "conditions. The Commission's published country factor is not in the factor library, so the "
         "official MEE/NBS national average grid CO2 factor of China (publicly available, latest year "
         "not after production) is used; the provincial (Yunnan) average is not the country factor.",
         f"{REG_956}, Annex IV points 1(f), 4.3, 5 and 6; EC CBAM Q&A (transitional period: IEA-based "
         "5-year country average, or another publicly available country grid factor)", "[U]"),
    Rule("indirect.certificates",
         "Green electricity certificates (GEC) and green-power consumption vouchers are not accepted to "
         "lower CBAM indirect emissions; they are listed for information only.",
         f"{REG_956}, Annex IV points 5 and 6 (actual factor only via direct link or PPA); FACTS.md §5 "
         "(GECs do not lower the aluminium CBAM figure [C])", "[U]"),
    Rule("qualifying.aluminium",
         "Qualifying parameters of unwrought aluminium and aluminium products: tonnes of scrap used per "
         "tonne of product; % of that scrap that is pre-consumer scrap; if elements other than "
         "aluminium exceed 1 % in total, their total percentage.",
         f"{IR_2547}, Annex IV §2 (read from a verbatim third-party transcription)", "[U]"),
    Rule("defaults.markup",
         "Default values carry a mark-up by year of import: +10 % 2026, +20 % 2027, +30 % from 2028; "
         "a year outside the table is clamped to its first or last year (a 2025 shipment date is "
         "compared at the 2026 mark-up, assuming release for free circulation in the definitive "
         "period).",
         f"{IR_2621}; sample_data/cbam_defaults.csv; FACTS.md §5", "[U]"),
)


def rule(rule_id: str) -> Rule:
    for r in RULES:
        if r.rule_id == rule_id:
            return r
    raise KeyError(rule_id)


def heading(cn_code: str) -> str:
    """The 4-digit CN heading of an 8-digit code (``76011000`` -> ``7601``)."""
    return re.sub(r"\s", "", cn_code)[:4]


def is_covered(cn_code: str) -> bool:
    """Whether ``cn_code`` is an aluminium good covered by CBAM."""
    return heading(cn_code) in ALUMINIUM_HEADINGS


def goods_category(cn_code: str) -> str:
    """CBAM aggregated goods category of an aluminium CN code."""
    return "Unwrought aluminium" if heading(cn_code) == "7601" else "Aluminium products"


# -- default values ----------------------------------------------------------------------------

DEFAULT_COLUMNS = ("cn_code", "description", "country", "direct_t_co2e_per_t", "indirect_t_co2e_per_t")
_MARKUP_RE = re.compile(r"^markup_([0-9]{4})$")


@dataclass(frozen=True)
class DefaultValue:
    """One row of ``cbam_defaults.csv``: default specific emissions before mark-up, and the
    mark-up fractions by year (``0.10`` = +10 %)."""

    cn_heading: str
    description: str
    country: str
    direct_t_co2e_per_t: Decimal
    indirect_t_co2e_per_t: Decimal | None
    markups: dict[int, Decimal]
    source: str
    status: str

    def year_applied(self, year: int) -> int:
        """``year`` clamped to the table's range of mark-up years."""
        return min(max(year, min(self.markups)), max(self.markups))


def load_defaults(path: Path | None = None) -> tuple[DefaultValue, ...]:
    """Read ``cbam_defaults.csv`` (format in ``sample_data/README.md``), refusing a row without a
    source, a value that is not a plain decimal, or a table without mark-up columns."""
    path = path or DEFAULTS_PATH
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
            header = list(rows[0]) if rows else []
    except OSError as exc:
        raise InputError(f"cannot read the CBAM default values {path}: {exc}", field="defaults") from exc
    years = sorted(int(m.group(1)) for c in header if (m := _MARKUP_RE.match(c)))
    missing = [c for c in (*DEFAULT_COLUMNS, "source", "status") if c not in header]
    if missing or not years:
        raise InputError(f"{path.name}: columns {', '.join(missing) or 'markup_<year>'} missing",
                         field="defaults")
    out = []
    for line, row in enumerate(rows, start=2):
        if not row["source"].strip():
            raise InputError(f"{path.name} line {line}: no source", field="source")
        indirect = row["indirect_t_co2e_per_t"].strip()
        out.append(DefaultValue(
            cn_heading=heading(row["cn_code"]), description=row["description"].strip(),
            country=row["country"].strip(),
            direct_t_co2e_per_t=D(row["direct_t_co2e_per_t"], field=f"{path.name} line {line} direct"),
            indirect_t_co2e_per_t=D(indirect, field="indirect") if indirect else None,
            markups={y: D(row[f"markup_{y}"], field=f"{path.name} line {line} markup_{y}") for y in years},
            source=row["source"].strip(), status=row["status"].strip()))
    return tuple(out)


def default_for(defaults: tuple[DefaultValue, ...], cn_code: str, country: str) -> DefaultValue | None:
    """The default value row of ``cn_code``'s heading for the country of origin, if any."""
    for d in defaults:
        if d.cn_heading == heading(cn_code) and d.country == country:
            return d
    return None
