"""``greenledger init`` and ``greenledger demo``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from api.cli import Failed, fail_on_error
from api.cli.context import Context, current
from ledger import keys
from ledger.config import load_settings
from ledger.domain.full_audit import full_audit
from ledger.errors import InputError
from ledger.log import sign_checkpoint

DEMO_PASSPHRASE = "greenledger-demo"  # noqa: S105 - only for the throw-away demo home


def initialise(ctx: Context) -> str:
    """Create the schema (Alembic) and the operator key if missing; return its vkey."""
    ctx.settings.home.mkdir(parents=True, exist_ok=True)
    ctx.migrate()
    if not keys.key_path(ctx.settings.key_dir, "operator").exists():
        keys.generate(ctx.settings.key_dir, "operator", ctx.settings.origin,
                      ctx.passphrase(confirm=True))
    return ctx.operator_verifier().vkey()


@click.command("init")
@fail_on_error
def init() -> None:
    """Create the database schema and the operator key; print the operator's verifier key."""
    click.echo(initialise(current()))


@click.command("demo")
@click.option("--no-serve", is_flag=True, help="Stop after issuing and verifying.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("greenledger-demo"), show_default=True,
              help="The demo's own home: ledger, keys and declarations (recreated each run).")
@fail_on_error
def demo(no_serve: bool, out: Path) -> None:
    """Load the sample scenario into a fresh ledger, sign a checkpoint and audit it."""
    env = load_settings()
    out = out.resolve()
    settings = env.with_(home=out, key_dir=out / "keys",
                         database_url=f"sqlite:///{out / 'ledger.db'}")
    explicit_db = "GREENLEDGER_DATABASE_URL" in os.environ
    if explicit_db:
        settings = settings.with_(database_url=env.database_url)
    if settings.key_passphrase is None:
        settings = settings.with_(key_passphrase=DEMO_PASSPHRASE)
        click.echo(f"demo: keys protected with the demo passphrase {DEMO_PASSPHRASE!r}",
                   err=True)
    out.mkdir(parents=True, exist_ok=True)
    if not explicit_db:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{out / 'ledger.db'}{suffix}").unlink(missing_ok=True)
    ctx = Context(settings)
    ctx.migrate()
    if ctx.log.size():
        raise InputError(f"{settings.database_url} already holds entries; the demo needs a "
                         "fresh ledger", field="GREENLEDGER_DATABASE_URL")
    if not keys.key_path(ctx.settings.key_dir, "operator").exists():
        keys.generate(ctx.settings.key_dir, "operator", ctx.settings.origin,
                      ctx.passphrase())
    from api.cli.demo_scenario import load_scenario

    count = load_scenario(ctx, out)
    click.echo(f"demo: {count} entries of the sample scenario appended to "
               f"{settings.database_url}")
    issue_and_verify_all(ctx, out / "declarations")
    row = sign_checkpoint(ctx.log, ctx.operator_signer())
    click.echo("demo: latest checkpoint:")
    click.echo(row.note, nl=False)
    report = full_audit(ctx.engine, ctx.operator_verifiers())
    click.echo(f"demo: audit {'clean' if report.clean else 'FAILED'}: {report.size} entries, "
               f"{report.checkpoints} checkpoints, root {report.root.hex()}, projections replayed")
    for finding in report.findings:
        click.echo(finding.line(), err=True)
    if not report.clean:
        raise Failed()
    click.echo(f"demo: to explore it: export GREENLEDGER_HOME={out} "
               f"GREENLEDGER_DATABASE_URL={settings.database_url} "
               f"GREENLEDGER_KEY_PASSPHRASE={settings.key_passphrase}")
    if not no_serve:
        serve_demo(ctx)


DEMO_KEYS = (("p-operator", "operator"), ("p-smelter", "producer"), ("p-eu-importer", "buyer"),
             ("p-buyer-gd", "buyer"), ("p-certifier", "certifier"))


def serve_demo(ctx: Context) -> None:
    """Create sign-in keys for the demo's parties, print them, and serve the site."""
    from urllib.parse import urlsplit

    from sqlmodel import Session

    from api.cli.service_cmd import run_server
    from ledger import access

    with Session(ctx.engine) as session:
        made = [(party, role, access.create_api_key(session, party, role))
                for party, role in DEMO_KEYS]
        session.commit()
    click.echo("demo: sign-in keys (API keys; PACT client id/secret beside them):")
    for party, role, key in made:
        click.echo(f"  {role:9} {party:15} {key.api_key}   client_id={key.client_id} "
                   f"client_secret={key.client_secret}")
    base = urlsplit(ctx.settings.public_base_url)
    run_server(ctx.settings, base.hostname or "127.0.0.1", base.port or 8000)


def issue_and_verify_all(ctx: Context, folder: Path) -> None:
    """Issue every sample shipment's declaration (demo issuer certificates on first use) and
    verify each PDF offline, as a buyer would, against the issuers' CAs and the log key."""
    from cryptography import x509
    from sqlalchemy import select
    from sqlmodel import Session

    from certificates.issuing import issue_declaration, issuer_dir
    from certificates.verify import verify_declaration
    from ledger.domain.tables import Shipment

    folder.mkdir(parents=True, exist_ok=True)
    with Session(ctx.engine) as s:
        shipments = [(r.shipment_id, r.seller) for r in s.scalars(
            select(Shipment).order_by(Shipment.date, Shipment.shipment_id))]
    operator = [ctx.operator_verifier()]
    bad = 0
    with click.progressbar(shipments, label="demo: issuing declarations", file=sys.stderr) as bar:
        for shipment_id, seller in bar:
            issued = issue_declaration(ctx.engine, ctx.settings, shipment_id, actor=seller,
                                       create_demo_issuer=True)
            path = folder / f"{shipment_id}.pdf"
            path.write_bytes(issued.pdf)
            roots = x509.load_pem_x509_certificates(
                (issuer_dir(ctx.settings, seller) / "ca-cert.pem").read_bytes())
            report = verify_declaration(issued.pdf, trust_roots=roots, operator_keys=operator)
            if not report.valid:
                bad += 1
                click.echo(f"demo: {path}: INVALID: {report.failed}", err=True)
    click.echo(f"demo: {len(shipments)} declarations issued into {folder}, "
               f"{len(shipments) - bad} verified valid offline")
    if bad:
        raise Failed()


def register(main: click.Group) -> None:
    main.add_command(init)
    main.add_command(demo)
