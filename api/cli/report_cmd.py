"""``greenledger report``: the Yunnan plan's own targets (issue #11) — green-electricity share,
energy-efficiency levels, recycled content — and the export for the provincial product
life-cycle carbon database.

    greenledger report green-share|efficiency|recycled [--facility ID] [--year Y] [--month M] [--json]
    greenledger report export --period year|quarter|month --year Y --out FILE.csv|FILE.json

``--year`` defaults to the latest production year in the ledger. Reports read the projections
(exit 0; 2 for an unknown facility or bad option). The export first runs the same audit as
``greenledger audit`` (chain, tree, checkpoints, witnesses, replay, key rotation) and refuses with
exit 1, printing the findings, unless it is clean. The figures come from ``ledger/reports/``; this
module only prints them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, select
from sqlmodel import Session

from api.cli import Failed, fail_on_error
from api.cli.context import Context, current
from ledger.domain.full_audit import audit_inputs
from ledger.domain.tables import Batch
from ledger.errors import InputError
from ledger.factors import FactorLibrary
from ledger.reports.efficiency import efficiency
from ledger.reports.green_share import green_share
from ledger.reports.periods import KINDS, Period
from ledger.reports.provincial_export import LedgerNotClean, audited_export
from ledger.reports.recycled import recycled

FAMILIES = ("lca_power", "ghg_co2_grid")


def _latest_year(ctx: Context) -> int:
    with Session(ctx.engine) as s:
        last = s.scalar(select(func.max(Batch.period_end)))
    if last is None:
        raise InputError("the ledger holds no batches yet; give --year", field="year")
    return int(last[:4])


def _period(ctx: Context, year: int | None, month: int | None) -> Period:
    if month is not None and not 1 <= month <= 12:
        raise InputError(f"a month is 1-12, got {month}", field="month")
    return Period.of_year(year if year is not None else _latest_year(ctx), month)


def _echo_json(data: dict[str, Any]) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _targets(targets: list[dict[str, Any]], indent: str = "  ") -> None:
    for t in targets:
        if t["value_percent"] is None:
            head = f"target {t['target_id']} ({t['op']}) {t['status']}"
        else:
            head = f"target {t['target_id']} {t['op']} {t['value_percent']} % {t['status']}"
        if t["met"] is None:
            tail = "reference only" if t["compare"] == "reference" else "nothing to compare"
        else:
            tail = (f"{'met' if t['met'] else 'NOT met'}, gap {t['gap_percentage_points']} pp"
                    + (f" ({t['gap_mwh']} MWh)" if t.get("gap_mwh") is not None else ""))
        click.echo(f"{indent}{head}: achieved {t['achieved_percent'] or '-'} %, {tail}")


def _mwh_items(items: dict[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in items.items()) or "-"


common = [
    click.option("--facility", help="One facility (default: every facility with batches in the period)."),
    click.option("--year", type=int, help="Default: the latest production year in the ledger."),
    click.option("--month", type=int, help="A month of the year (1-12) instead of the whole year."),
    click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (schema in "
                 "sample_data/schemas/)."),
]


def with_common(func: Any) -> Any:
    for option in reversed(common):
        func = option(func)
    return func


@click.group("report")
def report_group() -> None:
    """Reports on the Yunnan plan's targets, and the provincial footprint export."""


@report_group.command("green-share")
@with_common
@click.option("--vintage-window", type=int, default=0, show_default=True,
              help="Earlier vintage years that may count (0: the report's year only).")
@click.option("--certificates", "by_certificate", is_flag=True, help="Also list MWh counted per certificate.")
@fail_on_error
def green_share_command(facility: str | None, year: int | None, month: int | None, as_json: bool,
                        vintage_window: int, by_certificate: bool) -> None:
    """Green-electricity share: GEC MWh allocated to the period's consumption, by technology,
    tradability and vintage, voucher coverage, and the gap to each target."""
    ctx = current()
    if vintage_window < 0:
        raise InputError("must be >= 0", field="vintage-window")
    period = _period(ctx, year, month)
    with Session(ctx.engine) as s:
        data = green_share(s, period=period, facility=facility, vintage_window_years=vintage_window,
                           by_certificate=by_certificate).to_json()
    if as_json:
        _echo_json(data)
        return
    if not data["facilities"]:
        click.echo(f"green share {period.label}: no batches ended in the period")
    for f in data["facilities"]:
        click.echo(f"{f['facility_id']} {f['name']} ({', '.join(f['metals']) or '-'}), {period.label}: "
                   f"{f['electricity_mwh']} MWh metered, {f['green_mwh']} MWh green counted = "
                   f"{f['green_share_percent'] or '-'} % (GEC {f['gec_share_percent'] or '-'} %)")
        click.echo(f"  voucher-covered {f['voucher_covered_mwh']} MWh, certificate only "
                   f"{f['certificate_only_mwh']} MWh, vouchers registered {f['voucher_mwh']} MWh, attested "
                   f"{f['attested_mwh']} MWh")
        click.echo(f"  by technology: {_mwh_items(f['by_technology'])}")
        click.echo(f"  by tradability: {_mwh_items(f['by_tradable'])}")
        click.echo(f"  by vintage: {_mwh_items(f['by_vintage'])}")
        if f["allocated_not_counted"]:
            click.echo(f"  allocated but not counted: {_mwh_items(f['allocated_not_counted'])}")
        if len(f["months"]) > 1:
            for m in f["months"]:
                click.echo(f"    {m['month']}  {m['electricity_mwh']:>14} MWh  green {m['green_mwh']:>14}  "
                           f"{m['green_share_percent'] or '-':>6} %")
        for cid, value in (f.get("by_certificate") or {}).items():
            click.echo(f"    certificate {cid}: {value} MWh")
        _targets(f["targets"])
    inventory = data["inventory_not_counted"]
    click.echo(f"inventory held, not counted (MWh): {_mwh_items(inventory['by_reason'])}")
    for line in inventory["lines"]:
        click.echo(f"  {line['holder']} {line['reason']}: {line['mwh']} MWh {line['registry']} "
                   f"{line['technology']} {'tradable' if line['tradable'] else 'non-tradable'} vintage "
                   f"{line['vintage']} (valid to {line['expires_month']})")


@report_group.command("efficiency")
@with_common
@fail_on_error
def efficiency_command(facility: str | None, year: int | None, month: int | None, as_json: bool) -> None:
    """Energy-efficiency levels: kWh per tonne against the benchmark and baseline levels, and the
    share of output at benchmark or better."""
    ctx = current()
    period = _period(ctx, year, month)
    with Session(ctx.engine) as s:
        data = efficiency(s, period=period, facility=facility).to_json()
    if as_json:
        _echo_json(data)
        return
    if not data["facilities"]:
        click.echo(f"efficiency {period.label}: no batches ended in the period")
    for f in data["facilities"]:
        head = f"{f['facility_id']} {f['name']} {f['metal']}, {period.label}: {f['tonnes']} t, " \
               f"{f['electricity_kwh_per_t'] or '-'} kWh/t metered"
        click.echo(head)
        b = f["benchmark"]
        if not f["comparable"]:
            click.echo(f"  not comparable: {f['missing']}")
            if b is not None:
                click.echo(f"  benchmark {b['benchmark_value']} / baseline {b['baseline_value']} {b['unit']} "
                           f"{b['status']} ({b['source']})")
        else:
            click.echo(f"  {f['compared_kwh_per_t']} kWh/t per {f['basis']}: {f['level']} (benchmark "
                       f"{b['benchmark_value']}, baseline {b['baseline_value']} {b['unit']} {b['status']})")
            share = f["share_benchmark_or_better_percent"] or "-"
            click.echo(f"  at benchmark or better: {share} % of tonnes "
                       f"({_mwh_items(f['tonnes_by_level'] or {})})")
            for batch in f["batches"]:
                intensity = batch["compared_kwh_per_t"] or "-"
                click.echo(f"    {batch['batch_id']} {batch['month']} {intensity:>12} kWh/t  "
                           f"{batch['level'] or '-'}")
        _targets(f["targets"])


@report_group.command("recycled")
@with_common
@fail_on_error
def recycled_command(facility: str | None, year: int | None, month: int | None, as_json: bool) -> None:
    """Recycled content: recycled input per facility, its share, and the recycled tonnes shipments
    claim (mass balance: claimed <= recycled in)."""
    ctx = current()
    period = _period(ctx, year, month)
    with Session(ctx.engine) as s:
        data = recycled(s, period=period, facility=facility).to_json()
    if as_json:
        _echo_json(data)
        return
    for f in data["facilities"]:
        click.echo(f"{f['facility_id']} {f['name']}, {period.label}: {f['tonnes']} t produced, recycled in "
                   f"{f['recycled_tonnes']} t = {f['recycled_share_percent'] or '-'} %; claimed in shipments "
                   f"{f['claimed_recycled_tonnes']} t of {f['shipped_tonnes']} t shipped; mass balance "
                   f"{'holds' if f['mass_balance_holds'] else 'BROKEN'}")
        for origin, tonnes in f["by_origin"].items():
            click.echo(f"  from {origin}: {tonnes} t")
        for sh in f["shipments"]:
            if sh["recycled_tonnes"] != "0.000":
                click.echo(f"  shipment {sh['shipment_id']} {sh['date']} to {sh['buyer']}: {sh['tonnes']} t, "
                           f"recycled {sh['recycled_tonnes']} t ({sh['recycled_share_percent']} %)")
        for problem in f["mass_balance_violations"]:
            click.echo(f"  mass balance: {problem}", err=True)
        _targets(f["targets"])
    if not data["totals"]["mass_balance_holds"]:
        raise Failed()


@report_group.command("export")
@click.option("--period", "kind", type=click.Choice(KINDS), default="year", show_default=True)
@click.option("--year", type=int, required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="FILE.csv or FILE.json (schemas in sample_data/schemas/provincial_export*.schema.json).")
@click.option("--family", type=click.Choice(FAMILIES), default="lca_power", show_default=True)
@click.option("--gwp", type=click.Choice(["AR6", "AR5"]), default="AR6", show_default=True)
@fail_on_error
def export_command(kind: str, year: int, out: Path, family: str, gwp: str) -> None:
    """Per product and period, the footprint per tonne with breakdown and sources, for the
    provincial life-cycle carbon database; only from a ledger that audits clean (else exit 1)."""
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise InputError(f"the output file must end in .csv or .json, got {out.name!r}", field="out")
    ctx = current()
    inputs = audit_inputs(ctx.engine, ctx.operator_verifiers())
    try:
        export = audited_export(ctx.engine, FactorLibrary.load(), kind=kind, year=year,
                                operator_keys=inputs.operator_keys,
                                certifier_keys=inputs.certifier_keys,
                                witnessed=ctx.witnessed_checkpoints(),
                                extra_checks=inputs.extra_checks, family=family, gwp_set=gwp)
    except LedgerNotClean as exc:
        for finding in exc.report.findings:
            click.echo(finding.line(), err=True)
        for rule, more in exc.report.suppressed.items():
            click.echo(f"{rule}: {more} more not shown", err=True)
        click.echo(f"export refused: {exc.message}", err=True)
        raise Failed() from exc
    text = export.csv_text() if suffix == ".csv" else export.json_text()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror}", field="out") from exc
    click.echo(f"export: {len(export.rows)} product-period row(s) for {year} by {kind}, {family}/{gwp}, from "
               f"the ledger audited clean at size {export.ledger.size}, root {export.ledger.root}; "
               f"written to {out}")


def register(main: click.Group) -> None:
    main.add_command(report_group)
