"""``greenledger footprint``, ``declare`` and ``verify``: figures, signed declarations and
their verification (DESIGN §5, §6, §9)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import click
from cryptography import x509
from sqlmodel import Session

from api.cli import Failed, fail_on_error
from api.cli.context import Context, current
from certificates.issuing import (
    issue_declaration,
    issuer_dir,
    issuer_root_files,
    retire_issuer,
    revoke_declaration,
)
from ledger import keys
from ledger.checkpoint import Verifier
from ledger.domain.footprints import Footprints
from ledger.errors import InputError
from ledger.factors import FactorLibrary

FAMILIES = ("lca_power", "ghg_co2_grid")


def _print_figures(data: dict, label: str) -> None:
    m, loc = data["market_per_tonne"], data["location_per_tonne"]
    click.echo(f"{label}: {data['tonnes']} t, family {data['family']}, GWP {data['gwp_set']}")
    click.echo(f"  market-based   {m['total_kg_co2e_per_t']:>12} kg CO2e/t  (upstream "
               f"{m['upstream_kg_co2e_per_t']}, direct {m['direct_kg_co2e_per_t']}, electricity "
               f"{m['electricity_kg_co2e_per_t']})")
    click.echo(f"  location-based {loc['total_kg_co2e_per_t']:>12} kg CO2e/t  (upstream "
               f"{loc['upstream_kg_co2e_per_t']}, direct {loc['direct_kg_co2e_per_t']}, electricity "
               f"{loc['electricity_kg_co2e_per_t']})")
    click.echo(f"  electricity {data['electricity_mwh']} MWh, green {data['green_mwh']} MWh "
               f"({data['green_share_percent']} %), voucher-covered "
               f"{data['green_mwh_voucher_covered']} MWh, attested {data['green_mwh_attested']} MWh")
    click.echo(f"  primary data {data['primary_data_share_percent']} %, recycled "
               f"{data['recycled_share_percent']} %")
    for f in data["factors"]:
        click.echo(f"  factor {f['factor_id']} = {f['value']} {f['unit']} ({f['source']}, "
                   f"{f['year'] or 'undated'})")
    for note in data["notes"]:
        click.echo(f"  note: {note}")


@click.command("footprint")
@click.argument("what", type=click.Choice(["batch", "shipment"]))
@click.argument("ident")
@click.option("--json", "as_json", is_flag=True)
@click.option("--family", type=click.Choice(FAMILIES), default="lca_power", show_default=True,
              help="Electricity factor family: life-cycle (ISO 14067) or CO2 grid (Scope 2).")
@click.option("--gwp", type=click.Choice(["AR6", "AR5"]), default="AR6", show_default=True)
@fail_on_error
def footprint(what: str, ident: str, as_json: bool, family: str, gwp: str) -> None:
    """Cradle-to-gate footprint of a batch or a shipment, with its breakdown and sources."""
    ctx = current()
    with Session(ctx.engine) as s:
        fp = Footprints(s, FactorLibrary.load(), family=family, gwp_set=gwp)
        data = (fp.batch(ident) if what == "batch" else fp.shipment(ident)).to_json()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        _print_figures(data, f"{what} {ident}")


def _seller(ctx: Context, shipment_id: str) -> str:
    from ledger.domain.tables import Shipment

    with Session(ctx.engine) as s:
        row = s.get(Shipment, shipment_id)
        if row is None:
            raise InputError(f"no shipment {shipment_id!r}", field="shipment")
        return row.seller


class DeclareGroup(click.Group):
    """``declare SHIPMENT`` issues; ``declare revoke ID`` revokes."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["issue", *args]
        return super().parse_args(ctx, args)


@click.group("declare", cls=DeclareGroup)
def declare_group() -> None:
    """Issue (``declare SHIPMENT``) or revoke (``declare revoke ID``) a declaration."""


@declare_group.command("issue")
@click.argument("shipment")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Directory for the signed PDF.")
@click.option("--supersedes", help="The declaration this one corrects.")
@click.option("--family", type=click.Choice(FAMILIES), default="lca_power", show_default=True)
@click.option("--gwp", type=click.Choice(["AR6", "AR5"]), default="AR6", show_default=True)
@click.option("--as", "actor", help="Acting party (default: the shipment's seller).")
@fail_on_error
def declare(shipment: str, out: Path, supersedes: str | None, family: str, gwp: str,
            actor: str | None) -> None:
    """Issue the signed declaration of SHIPMENT and write its PDF."""
    ctx = current()
    settings = ctx.settings.with_(key_passphrase=ctx.passphrase())
    issued = issue_declaration(ctx.engine, settings, shipment, actor=actor or _seller(ctx, shipment),
                               supersedes=supersedes, family=family, gwp_set=gwp)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"declaration-{shipment}-{issued.declaration_id}.pdf"
    path.write_bytes(issued.pdf)
    click.echo(f"declaration {issued.declaration_id} for {shipment}: entry seq {issued.seq}, "
               f"checkpoint size {issued.checkpoint_size}, written to {path}")


@declare_group.command("revoke")
@click.argument("declaration_id")
@click.option("--reason", required=True)
@click.option("--as", "actor", required=True, help="The issuer (or the operator).")
@fail_on_error
def revoke(declaration_id: str, reason: str, actor: str) -> None:
    """Revoke a declaration; online verification reports it at once."""
    ctx = current()
    seq = revoke_declaration(ctx.engine, ctx.settings, declaration_id, actor=actor, reason=reason)
    click.echo(f"declaration {declaration_id} revoked (entry seq {seq})")


def _verify_url(data: bytes) -> str:
    from pyhanko.pdf_utils.reader import PdfFileReader

    from certificates.attachments import attachment_bytes, embedded_files
    from certificates.figures import greenledger_data

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    payload = json.loads(attachment_bytes(embedded_files(reader.root), "declaration.json"))
    return str(greenledger_data(payload)["verifyUrl"])


@click.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--trust", "trust", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Trusted issuer CA or certificate (PEM). Default: the issuers of this ledger.")
@click.option("--log-key", "log_keys", multiple=True,
              help="The log operator's C2SP verifier key (string or file). Default: this ledger's.")
@click.option("--online", is_flag=True, help="Also ask the server named by the QR code.")
@click.option("--server", help="With --online: this server instead of the QR code's.")
@click.option("--json", "as_json", is_flag=True)
def verify(file: Path, trust: tuple[Path, ...], log_keys: tuple[str, ...], online: bool,
           server: str | None, as_json: bool) -> None:
    """Verify a declaration PDF, check by check. Exit 0 valid, 1 invalid, 2 could not check."""
    from certificates.verify import verify_declaration
    from certificates.verify_online import OnlineCheck

    ctx = current()
    try:
        data = file.read_bytes()
    except OSError as exc:
        click.echo(f"greenledger: error: cannot read {file}: {exc.strerror}", err=True)
        sys.exit(2)
    roots = []
    for path in trust or issuer_root_files(ctx.settings):
        try:
            roots += x509.load_pem_x509_certificates(path.read_bytes())
        except (OSError, ValueError) as exc:
            click.echo(f"greenledger: error: --trust {path}: not a PEM certificate ({exc})", err=True)
            sys.exit(2)
    operators = []
    try:
        for value in log_keys:
            text = Path(value).read_text(encoding="utf-8") if Path(value).is_file() else value
            operators.append(Verifier.from_vkey(text))
        if not log_keys and keys.key_path(ctx.settings.key_dir, "operator").with_suffix(".vkey").exists():
            operators.append(keys.load_verifier(ctx.settings.key_dir, "operator"))
    except Exception as exc:
        click.echo(f"greenledger: error: --log-key: {exc}", err=True)
        sys.exit(2)
    check = None
    if online:
        try:
            check = OnlineCheck(server.rstrip("/")) if server else OnlineCheck.from_verify_url(
                _verify_url(data))
        except Exception as exc:
            click.echo(f"greenledger: error: no verification URL in the file ({exc}); use "
                       "--server", err=True)
            sys.exit(2)
    report = verify_declaration(data, trust_roots=roots, operator_keys=operators, online=check)
    if as_json:
        click.echo(report.to_json())
    else:
        for c in report.checks:
            mark = {True: "pass", False: "FAIL", None: "skip"}[c.ok]
            click.echo(f"{mark:4}  {c.name:20} {c.detail}")
        verdict = {0: "valid", 1: "INVALID", 2: "could not check"}[report.exit_code]
        click.echo(f"{file}: {verdict}")
    if report.exit_code:
        raise Failed() if report.exit_code == 1 else click.exceptions.Exit(2)


@click.group("issuer")
def issuer_group() -> None:
    """Producers' signing certificates for declarations."""


@issuer_group.command("create")
@click.option("--party", required=True)
@click.option("--rotate", is_flag=True, help="Replace the current one; it moves to retired/ and "
              "stays trusted for the declarations it signed (its private key is deleted).")
@fail_on_error
def issuer_create(party: str, rotate: bool) -> None:
    """Create a demo CA and an issuer certificate (ECDSA P-256) for PARTY; print the CA (PEM)."""
    from certificates.issuing import issuer_identity
    from ledger.domain.tables import Party

    ctx = current()
    settings = ctx.settings.with_(key_passphrase=ctx.passphrase(confirm=True))
    with Session(ctx.engine) as s:
        row = s.get(Party, party)
    if row is None:
        raise InputError(f"no party {party!r}", field="party")
    if (issuer_dir(settings, party) / "issuer-cert.pem").exists():
        if not rotate:
            raise InputError(f"{party} already has an issuer certificate; use --rotate to "
                             "replace it", field="party")
        retire_issuer(settings, party)
    issuer_identity(settings, row, create_demo=True)
    click.echo((issuer_dir(settings, party) / "ca-cert.pem").read_text(encoding="ascii"), nl=False)


@issuer_group.command("import")
@click.option("--party", required=True)
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--chain", "chain_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@fail_on_error
def issuer_import(party: str, key_path: Path, chain_path: Path) -> None:
    """Use an existing P-256 key and certificate chain (from a real CA) for PARTY."""
    import shutil

    from certificates.issuer import CERT_FILE, KEY_FILE, load_external

    ctx = current()
    passphrase = ctx.passphrase()
    load_external(key_path, chain_path, passphrase)  # refuses a wrong key, chain or passphrase
    retire_issuer(ctx.settings, party)  # the old certificate keeps verifying what it signed
    folder = issuer_dir(ctx.settings, party)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(key_path, folder / KEY_FILE)
    (folder / KEY_FILE).chmod(0o600)
    shutil.copyfile(chain_path, folder / CERT_FILE)
    click.echo(f"issuer certificate of {party} imported into {folder}")


def register(main: click.Group) -> None:
    main.add_command(footprint)
    main.add_command(declare_group)
    main.add_command(verify)
    keys_group = main.commands["keys"]
    assert isinstance(keys_group, click.Group)
    keys_group.add_command(issuer_group)
