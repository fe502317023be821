"""``greenledger cbam export SHIPMENT --out FILE.xlsx|FILE.json``: the EU CBAM communication an
aluminium installation sends its importer (DESIGN §7, :mod:`certificates.cbam`).

Exit 0 written; 2 refused (a destination outside the EU, a CN code CBAM does not cover, goods
that are not aluminium, an unknown shipment, an output name that is neither ``.xlsx`` nor
``.json``), with the reason and the field on stderr. Nothing is written when it refuses.
"""

from __future__ import annotations

from pathlib import Path

import click
from sqlmodel import Session

from api.cli import fail_on_error
from api.cli.context import current
from ledger.errors import InputError
from ledger.factors import FactorLibrary

FORMATS = (".xlsx", ".json")


@click.group("cbam")
def cbam_group() -> None:
    """EU CBAM: the installation's communication to its importer."""


@cbam_group.command("export")
@click.argument("shipment")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output file: .xlsx (communication template layout) or .json (schema "
                   "cbam-communication-v1).")
@click.option("--year", type=int, default=None,
              help="Year of the default values' mark-up (default: the shipment date's year, clamped "
                   "to the table's years).")
@fail_on_error
def export(shipment: str, out: Path, year: int | None) -> None:
    """Write the CBAM communication of SHIPMENT (aluminium goods to an EU member state)."""
    from certificates.cbam import cbam_communication, write_json, write_xlsx

    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"--out must end in {' or '.join(FORMATS)}, got {out.name!r}", field="out")
    ctx = current()
    with Session(ctx.engine) as s:
        doc = cbam_communication(s, shipment, library=FactorLibrary.load(), year=year)
    try:
        (write_xlsx if suffix == ".xlsx" else write_json)(doc, out)
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror}", field="out") from exc
    for g, d in zip(doc["goods"], doc["defaults_comparison"], strict=True):
        line = (f"CN {g['cn_code']}: {g['tonnes']} t, direct {g['specific_direct_t_co2e_per_t']} t CO2e/t "
                f"(counted), indirect {g['specific_indirect_t_co2e_per_t']} t CO2e/t (reported)")
        if d["default_direct_with_markup_t_co2e_per_t"] is not None:
            line += (f"; default {d['default_direct_with_markup_t_co2e_per_t']} t CO2e/t "
                     f"({d['markup_year_applied']} mark-up), difference {d['difference_t_co2e']} t CO2e "
                     f"({d['difference_percent']} %)")
        click.echo(line)
    click.echo(f"CBAM communication for {shipment} written to {out}")


def register(main: click.Group) -> None:
    main.add_command(cbam_group)
