"""``greenledger pact``: PACT partners and pulling suppliers' footprints (issue #10 part 2).

- ``pact supplier add --name N --url URL --client-id ID [--client-secret S] [--party P]
  [--ca-file PEM] [--replace]`` registers a supplier's PACT host and the client credentials it
  issued us (the secret is asked for, hidden, when not given; it is stored encrypted in
  ``<key dir>/pact/peers.json``, mode 0600, and never printed). ``--party`` is the local party
  the footprints are recorded for (default: the ledger's operator party).
- ``pact customer add ...`` the same for a customer host this ledger answers
  ``RequestCreatedEvent`` to.
- ``pact supplier|customer list [--json]`` and ``remove NAME``.
- ``pact pull --supplier N [--product-id URN ...] [--id UUID ...] [--limit N] [--json]`` pulls
  and records; prints what was recorded, unchanged, invalid. Exit 0, or 1 when a footprint was
  invalid or missing, 2 when the supplier could not be used.
- ``pact recorded [--json]``: the supplier footprints in the ledger (latest versions).
- ``pact tls --out DIR --host NAME ...``: a self-signed certificate for a demo HTTPS host.
"""

from __future__ import annotations

import json

import click
from sqlalchemy import select
from sqlmodel import Session

from api.cli import Failed, fail_on_error
from api.cli.context import current
from api.pact.tls import make_self_signed
from certificates.pact_client_peers import PeerStore, make_peer
from certificates.pact_client_pull import pull
from ledger.domain.suppliers import SupplierFootprintRow


@click.group("pact")
def pact_group() -> None:
    """PACT v3: partners' hosts and suppliers' footprints."""


def _peer_commands(kind: str) -> click.Group:
    @click.group(kind, help=f"PACT hosts of {kind}s and the credentials they issued us.")
    def group() -> None:
        pass

    @group.command("add")
    @click.option("--name", required=True, help="A short name, e.g. alumina-supplier.")
    @click.option("--url", required=True, help="The PACT base URL, https://host[:port][/path].")
    @click.option("--client-id", required=True)
    @click.option("--client-secret", prompt=True, hide_input=True,
                  help="Asked for (hidden) when not given.")
    @click.option("--party", help="The local party footprints are recorded for "
                  "(default: the operator party).")
    @click.option("--ca-file", type=click.Path(dir_okay=False, exists=True),
                  help="PEM certificates to trust for this host (a self-signed demo host).")
    @click.option("--replace", is_flag=True, help="Replace a peer of the same name.")
    @fail_on_error
    def add(name: str, url: str, client_id: str, client_secret: str, party: str | None,
            ca_file: str | None, replace: bool) -> None:
        ctx = current()
        peer = make_peer(name=name, url=url, client_id=client_id, client_secret=client_secret,
                         kind=kind, party=party, ca_file=ca_file)
        PeerStore(ctx.settings.key_dir).add(peer, replace=replace)
        click.echo(f"{kind} {peer.name} registered: {peer.url} (client id {peer.client_id})")

    @group.command("list")
    @click.option("--json", "as_json", is_flag=True)
    @fail_on_error
    def list_(as_json: bool) -> None:
        rows = [p.summary() for p in PeerStore(current().settings.key_dir).peers() if p.kind == kind]
        if as_json:
            click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
            return
        for r in rows:
            click.echo(f"{r['name']}  {r['url']}  client {r['client_id']}  party "
                       f"{r['party'] or '(operator)'}")

    @group.command("remove")
    @click.argument("name")
    @fail_on_error
    def remove(name: str) -> None:
        store = PeerStore(current().settings.key_dir)
        store.get(name, kind=kind)
        store.remove(name)
        click.echo(f"{kind} {name} removed")

    return group


@pact_group.command("pull")
@click.option("--supplier", required=True, help="A registered supplier's name.")
@click.option("--product-id", "product_ids", multiple=True, help="Only footprints of this product "
              "id (repeatable).")
@click.option("--id", "ids", multiple=True, help="Exactly this footprint id (repeatable).")
@click.option("--limit", type=click.IntRange(1, 1000), help="Page size asked of the supplier.")
@click.option("--json", "as_json", is_flag=True)
@fail_on_error
def pull_cmd(supplier: str, product_ids: tuple[str, ...], ids: tuple[str, ...], limit: int | None,
             as_json: bool) -> None:
    """Pull a supplier's footprints and record them in the ledger."""
    ctx = current()
    peer = PeerStore(ctx.settings.key_dir).get(supplier, kind="supplier")
    report = pull(ctx.engine, peer, product_ids=product_ids, ids=ids, limit=limit)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        for r in report.recorded:
            click.echo(f"recorded {r['footprint']} version {r['version']} at seq {r['seq']} "
                       f"(sha256 {r['payload_sha256']})")
        for fid in report.unchanged:
            click.echo(f"unchanged {fid}")
        for bad in report.invalid:
            click.echo(f"invalid {bad['footprint']}: {'; '.join(bad['problems'][:3])}", err=True)
        for fid in report.missing:
            click.echo(f"missing {fid} (the supplier answered 404)", err=True)
        click.echo(f"{peer.name}: {report.seen} seen, {len(report.recorded)} recorded, "
                   f"{len(report.unchanged)} unchanged, {len(report.invalid)} invalid")
    if report.invalid or report.missing:
        raise Failed()


@pact_group.command("recorded")
@click.option("--json", "as_json", is_flag=True)
@fail_on_error
def recorded(as_json: bool) -> None:
    """Suppliers' footprints recorded in the ledger (latest version of each)."""
    ctx = current()
    latest: dict[tuple[str, str], SupplierFootprintRow] = {}
    with Session(ctx.engine) as s:
        for row in s.scalars(select(SupplierFootprintRow).order_by(SupplierFootprintRow.seq)):
            latest[(row.supplier, row.footprint_id)] = row
    rows = [{"ref": f"{r.supplier}:{r.footprint_id}", "version": r.version, "status": r.status,
             "pcf_kg_co2e": r.pcf_kg_co2e, "declared_unit": f"{r.declared_unit_amount} "
             f"{r.declared_unit}", "product_ids": json.loads(r.product_ids), "seq": r.seq,
             "payload_sha256": r.payload_sha256} for r in latest.values()]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for r in rows:
        click.echo(f"{r['ref']}  v{r['version']} {r['status']}  {r['pcf_kg_co2e']} kg CO2e per "
                   f"{r['declared_unit']}  seq {r['seq']}")


@pact_group.command("tls")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False))
@click.option("--host", "hosts", multiple=True, default=("127.0.0.1", "localhost"),
              show_default=True, help="Host name or IP address to certify (repeatable).")
def tls_cmd(out: str, hosts: tuple[str, ...]) -> None:
    """Write a self-signed certificate and key for a demo HTTPS host; print their paths."""
    cert, key = make_self_signed(out, list(hosts))
    click.echo(json.dumps({"cert": str(cert), "key": str(key)}))


pact_group.add_command(_peer_commands("supplier"))
pact_group.add_command(_peer_commands("customer"))


def register(main: click.Group) -> None:
    main.add_command(pact_group)
