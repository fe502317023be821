"""``greenledger keys rotate`` (the log operator's key, ledger/domain/log_keys.py) and
``greenledger backup`` (ledger/store/backup.py): keeping the ledger over time."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from api.cli import fail_on_error
from api.cli.context import current
from ledger import keys
from ledger.log import sign_checkpoint


@click.command("rotate")
@click.option("--reason", required=True, help="Why the key is replaced (e.g. scheduled, compromised).")
@fail_on_error
def rotate(reason: str) -> None:
    """Announce a new operator key in the log, sign with the old key a checkpoint covering the
    announcement, revoke the old key in the log, and sign with the new key. The old private
    key is destroyed; its verifier key is kept in keys/retired/ to check old checkpoints."""
    ctx = current()
    passphrase = ctx.passphrase()
    old = keys.load(ctx.settings.key_dir, "operator", passphrase)
    staging = ctx.settings.key_dir / "rotation"
    if staging.exists():
        shutil.rmtree(staging)
    new = keys.generate(staging, "operator", old.name, passphrase)
    ctx.log.append("key.activated", _operator_party(ctx), {"vkey": new.verifier.vkey()})
    sign_checkpoint(ctx.log, old)  # the old, trusted key vouches for the announcement
    ctx.log.append("key.revoked", _operator_party(ctx), {"vkey": old.verifier.vkey(),
                                                         "reason": reason})
    retired = ctx.settings.key_dir / "retired"
    retired.mkdir(parents=True, exist_ok=True)
    (retired / f"operator-{old.verifier.key_id.hex()}.vkey").write_text(
        old.verifier.vkey() + "\n", encoding="utf-8")
    for suffix in (".pem", ".vkey"):
        (staging / f"operator{suffix}").replace(ctx.settings.key_dir / f"operator{suffix}")
    shutil.rmtree(staging)
    row = sign_checkpoint(ctx.log, new)
    click.echo(f"operator key rotated: {new.verifier.vkey()} (old key {old.verifier.key_id.hex()} "
               f"revoked); checkpoint {row.size} signed with the new key")


def _operator_party(ctx) -> str:  # type: ignore[no-untyped-def]
    from sqlalchemy import select
    from sqlmodel import Session

    from ledger.domain.tables import Party

    with Session(ctx.engine) as s:
        for p in s.scalars(select(Party)):
            if "operator" in p.roles.split("|"):
                return p.party_id
    raise click.UsageError("no operator party in the ledger")


def register(main: click.Group) -> None:
    group = main.commands["keys"]
    assert isinstance(group, click.Group)
    group.add_command(rotate)
    main.add_command(backup)


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@fail_on_error
def backup(target: Path) -> None:
    """Copy the SQLite ledger to TARGET while it runs (online backup); then audit the copy and
    prove it a prefix of the live log. For PostgreSQL use pg_dump (README)."""
    from ledger import audit
    from ledger.domain import domain_log
    from ledger.domain.replay import replay_check
    from ledger.store.backup import backup_sqlite, check_prefix
    from ledger.store.engine import make_engine

    ctx = current()
    size = backup_sqlite(ctx.engine, target)
    copy = make_engine(f"sqlite:///{target.resolve()}")
    report = audit.audit(copy, operator_keys=ctx.operator_verifiers(),
                         extra_checks=[replay_check()])
    first, second = check_prefix(domain_log(copy), ctx.log)
    verdict = "audits clean" if report.clean else f"{len(report.findings)} audit finding(s)"
    click.echo(f"backup of {size} entries written to {target}; it {verdict} and is a prefix of "
               f"the live log ({first} of {second} entries, consistency proof verified)")
