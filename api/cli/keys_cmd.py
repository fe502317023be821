"""``greenledger keys``: the log's Ed25519 keys (operator, certifiers)."""

from __future__ import annotations

import click

from api.cli import fail_on_error
from api.cli.context import current
from ledger import keys


@click.group("keys")
def keys_group() -> None:
    """Create and show signing keys."""


@keys_group.command("generate")
@click.option("--role", type=click.Choice(sorted(keys.ROLES)), default="operator",
              show_default=True)
@click.option("--name", help="Key name: the log origin (operator, default from "
              "GREENLEDGER_LOG_ORIGIN) or the certifier's name, e.g. certifier.example/audit-1")
@click.option("--force", is_flag=True, help="Replace an existing key (rotation).")
@fail_on_error
def generate(role: str, name: str | None, force: bool) -> None:
    """Create a key (PKCS#8, passphrase-encrypted, mode 0600); print its verifier key."""
    ctx = current()
    if role == "certifier" and not name:
        raise click.UsageError("a certifier key needs --name")
    signer = keys.generate(ctx.settings.key_dir, role, name or ctx.settings.origin,
                           ctx.passphrase(confirm=True), overwrite=force)
    click.echo(signer.verifier.vkey())


@keys_group.command("show")
@click.option("--role", type=click.Choice(sorted(keys.ROLES)), default="operator",
              show_default=True)
@click.option("--name", default="", help="The certifier's name (with --role certifier).")
@fail_on_error
def show(role: str, name: str) -> None:
    """Print the public C2SP verifier key (and the issuer certificate, when there is one)."""
    ctx = current()
    click.echo(keys.load_verifier(ctx.settings.key_dir, role, name).vkey())
    if role == "operator":  # each producer's declaration issuer certificate, and its CA
        for folder in sorted((ctx.settings.key_dir / "issuers").glob("*")):
            for file in ("issuer-cert.pem", "ca-cert.pem"):
                if (folder / file).exists():
                    click.echo(f"# {folder.name} {file}")
                    click.echo((folder / file).read_text(encoding="ascii"), nl=False)


def register(main: click.Group) -> None:
    main.add_command(keys_group)
