"""``greenledger log``, ``checkpoint`` and ``audit``: reading, proving and checking the log."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from api.cli import Failed, fail_on_error
from api.cli.context import current
from ledger import audit as auditing
from ledger import checkpoint as notes
from ledger import keys, verify
from ledger.checkpoint import Verifier
from ledger.domain.full_audit import full_audit
from ledger.errors import GreenledgerError, InputError
from ledger.log import sign_checkpoint, store_cosigned


@click.group("log")
def log_group() -> None:
    """Entries and proofs."""


@log_group.command("entries")
@click.option("--start", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--end", type=click.IntRange(min=0), help="Exclusive end (default: log size).")
@fail_on_error
def entries(start: int, end: int | None) -> None:
    """One JSON object per line: seq, kind, leaf_hash, chain_hash, entry (canonical text)."""
    log = current().log
    for row in log.entries(start, end):
        click.echo(json.dumps({"seq": row.seq, "kind": row.kind,
                               "leaf_hash": bytes(row.leaf_hash).hex(),
                               "chain_hash": bytes(row.chain_hash).hex(),
                               "entry": row.entry}, ensure_ascii=False))


@log_group.command("proof")
@click.option("--seq", type=click.IntRange(min=0), required=True)
@click.option("--size", type=click.IntRange(min=1), help="Tree size (default: current).")
@fail_on_error
def proof(seq: int, size: int | None) -> None:
    """Inclusion proof of entry SEQ in the tree of SIZE entries, checked before printing."""
    log = current().log
    size = size or log.size()
    path = log.inclusion_proof(seq, size)
    leaf = bytes(log.entry(seq).leaf_hash)
    root = log.root(size)
    verify.verify_inclusion(seq, size, leaf, path, root)
    click.echo(json.dumps({"seq": seq, "size": size, "leaf_hash": leaf.hex(),
                           "root": root.hex(), "proof": [p.hex() for p in path]}))


@log_group.command("consistency")
@click.option("--from", "first", type=click.IntRange(min=1), required=True)
@click.option("--to", "second", type=click.IntRange(min=1), help="Default: current size.")
@fail_on_error
def consistency(first: int, second: int | None) -> None:
    """Consistency proof between tree sizes FROM and TO, checked before printing."""
    log = current().log
    second = second or log.size()
    path = log.consistency_proof(first, second)
    r1, r2 = log.root(first), log.root(second)
    verify.verify_consistency(first, second, r1, r2, path)
    click.echo(json.dumps({"first": first, "second": second, "first_root": r1.hex(),
                           "second_root": r2.hex(), "proof": [p.hex() for p in path]}))


@click.group("checkpoint")
def checkpoint_group() -> None:
    """Signed tree heads (C2SP tlog-checkpoint) and certifiers' cosignatures."""


@checkpoint_group.command("sign")
@fail_on_error
def sign() -> None:
    """Sign the current tree head with the operator key and print the note."""
    ctx = current()
    row = sign_checkpoint(ctx.log, ctx.operator_signer())
    click.echo(row.note, nl=False)


@checkpoint_group.command("show")
@click.option("--size", type=click.IntRange(min=0), help="A stored checkpoint's size.")
@fail_on_error
def show(size: int | None) -> None:
    """Print the latest (or the given) signed checkpoint note, verbatim."""
    log = current().log
    row = log.checkpoint_at(size) if size is not None else log.latest_checkpoint()
    if row is None:
        raise InputError("no checkpoint has been signed yet; run 'greenledger checkpoint sign'",
                         field="checkpoint")
    click.echo(row.note, nl=False)


def _witness_file(home: Path, name: str) -> Path:
    return home / "witness" / (name.replace("/", "_") + ".checkpoint")


@checkpoint_group.command("cosign")
@click.option("--name", required=True, help="The certifier's key name.")
@fail_on_error
def cosign(name: str) -> None:
    """Audit the log up to the latest checkpoint and, only if clean, cosign it.

    The certifier's last cosigned checkpoint (kept outside the database, in
    GREENLEDGER_HOME/witness/) must still match: the log may only have grown.
    """
    ctx = current()
    row = ctx.log.latest_checkpoint()
    if row is None:
        raise InputError("no checkpoint to cosign", field="checkpoint")
    signer = keys.load(ctx.settings.key_dir, "certifier", ctx.passphrase(), name)
    state = _witness_file(ctx.settings.home, name)
    witnessed = [state.read_text(encoding="utf-8")] if state.exists() else []
    report = full_audit(ctx.engine, ctx.operator_verifiers(), witnessed=witnessed)
    if not report.clean:
        _print_findings(report)
        click.echo(f"not cosigned: the audit found {len(report.findings)} problem(s)", err=True)
        raise Failed()
    note = notes.cosign(row.note, signer, int(time.time()))
    store_cosigned(ctx.log, row.size, note)
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(note, encoding="utf-8")
    click.echo(note, nl=False)


def _print_findings(report: auditing.AuditReport) -> None:
    for finding in report.findings:
        click.echo(finding.line(), err=True)
    for rule, more in report.suppressed.items():
        click.echo(f"{rule}: {more} more not shown", err=True)


@click.command("audit")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--trust-vkey", "vkeys", multiple=True, type=click.Path(dir_okay=False),
              help="Operator verifier key file(s) to trust instead of the key directory's.")
@click.option("--witness", "witness_files", multiple=True,
              type=click.Path(dir_okay=False, exists=True),
              help="Checkpoint note(s) saved earlier; the log must still match them.")
@fail_on_error
def audit_command(as_json: bool, vkeys: tuple[str, ...], witness_files: tuple[str, ...]) -> None:
    """Recompute chain, tree and checkpoints; exit 0 clean, 1 findings."""
    ctx = current()
    try:
        trusted = ([Verifier.from_vkey(Path(p).read_text(encoding="utf-8")) for p in vkeys]
                   or ctx.operator_verifiers())
    except OSError as exc:
        raise InputError(f"cannot read verifier key: {exc}", field="trust-vkey") from exc
    witnessed = ([Path(p).read_text(encoding="utf-8") for p in witness_files]
                 or ctx.witnessed_checkpoints())
    bar = None
    if sys.stderr.isatty() and not as_json:
        bar = click.progressbar(length=max(ctx.log.size(), 1), label="auditing", file=sys.stderr)
        bar.__enter__()

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.update(done - bar.pos)

    try:
        report = full_audit(ctx.engine, trusted, witnessed=witnessed, progress=progress)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        _print_findings(report)
        verdict = "clean" if report.clean else f"{len(report.findings)} finding(s)"
        click.echo(f"audit: {verdict}; {report.size} entries, root {report.root.hex()}, "
                   f"{report.checkpoints} checkpoint(s), {report.witnessed} witnessed")
    if not report.clean:
        raise Failed()


def register(main: click.Group) -> None:
    main.add_command(log_group)
    main.add_command(checkpoint_group)
    main.add_command(audit_command)


__all__ = ["GreenledgerError", "register"]
