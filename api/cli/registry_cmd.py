"""``greenledger import`` and ``greenledger parties``: putting the registry into the log."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from sqlalchemy import select
from sqlmodel import Session

from api.cli import Failed, fail_on_error
from api.cli.context import current
from ledger.domain.tables import Party
from ledger.importing import COLUMNS, ImportRefused, import_rows, read_rows

IMPORTABLE = ("certificates", "vouchers", "batches", "allocations", "shipments", "parties",
              "facilities")


@click.command("import")
@click.argument("kind", type=click.Choice(IMPORTABLE))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--party", help="Act as this party (default: the owner named in each row).")
@fail_on_error
def import_command(kind: str, file: Path, party: str | None) -> None:
    """Import a CSV file: all rows or none.

    Exit 0: every row taken; 1: rows refused (each with its line and reason; nothing was
    written); 2: unreadable input. Columns: see the README.
    """
    ctx = current()
    ctx.migrate()
    rows = read_rows(kind, file)
    with click.progressbar(length=len(rows), label=f"importing {kind}", file=sys.stderr,
                           show_pos=True) as bar:
        try:
            report = import_rows(ctx.log, kind, rows, actor=party,
                                 progress=lambda n: bar.update(n - bar.pos))
        except ImportRefused as exc:
            for line, reason in exc.refused:
                click.echo(f"{file}:{line}: {reason}", err=True)
            click.echo(f"import: {len(exc.refused)} of {len(rows)} row(s) refused; nothing was "
                       "written", err=True)
            raise Failed() from exc
    click.echo(f"import: {report.taken} {kind} taken (seq {report.first_seq}..{report.last_seq})")


@click.group("parties")
def parties_group() -> None:
    """Parties of the ledger."""


@parties_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@fail_on_error
def parties_list(as_json: bool) -> None:
    """Id, name and roles of each party."""
    ctx = current()
    with Session(ctx.engine) as s:
        rows = list(s.scalars(select(Party).order_by(Party.party_id)))
    if as_json:
        click.echo(json.dumps([{"id": p.party_id, "name": p.name, "roles": p.roles.split("|")}
                               for p in rows], ensure_ascii=False, indent=2))
        return
    for p in rows:
        click.echo(f"{p.party_id}\t{p.roles.replace('|', ',')}\t{p.name}")


def register(main: click.Group) -> None:
    main.add_command(import_command)
    main.add_command(parties_group)


__all__ = ["COLUMNS", "register"]
