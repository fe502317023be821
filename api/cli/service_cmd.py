"""``greenledger serve`` and the keys of the service: ``keys api create|revoke|list`` (per-party
API keys) and ``keys certifier add`` (a certifier's cosigning key) — DESIGN §9.

``keys api create`` prints exactly one JSON object, ``{"api_key", "client_id",
"client_secret"}``: the only time the secrets are shown (only their hashes are stored).
``serve`` runs the API on werkzeug's server for the demo and development; in production run
``gunicorn -w 2 -b 127.0.0.1:8000 'api.app:create_app()'`` (``--certfile``/``--keyfile`` for
TLS) after ``greenledger init``.
"""

from __future__ import annotations

import json
import ssl
import sys
from pathlib import Path

import click
from sqlmodel import Session

from api.cli import fail_on_error
from api.cli.context import current
from ledger import access
from ledger.config import Settings
from ledger.domain.rules import ROLES
from ledger.errors import InputError


@click.group("api")
def api_keys() -> None:
    """API keys of parties (Authorization: Bearer ...)."""


@api_keys.command("create")
@click.option("--party", required=True, help="The party the key acts for.")
@click.option("--role", required=True, type=click.Choice(ROLES),
              help="One of the party's roles; the key acts in this role only.")
@fail_on_error
def api_create(party: str, role: str) -> None:
    """Create a key; print {"api_key", "client_id", "client_secret"} (shown once)."""
    ctx = current()
    ctx.migrate()
    with Session(ctx.engine) as session:
        made = access.create_api_key(session, party, role)
        session.commit()
    click.echo(json.dumps({"api_key": made.api_key, "client_id": made.client_id,
                           "client_secret": made.client_secret}))


@api_keys.command("revoke")
@click.argument("key_id")
@fail_on_error
def api_revoke(key_id: str) -> None:
    """Revoke the key KEY_ID (the 12 hex characters after 'gl_')."""
    ctx = current()
    ctx.migrate()
    with Session(ctx.engine) as session:
        row = access.revoke_api_key(session, key_id)
        session.commit()
        click.echo(f"revoked {row.key_id} ({row.party}, {row.role}) at {row.revoked_at}")


@api_keys.command("list")
@click.option("--party", help="Only this party's keys.")
@click.option("--json", "as_json", is_flag=True)
@fail_on_error
def api_list(party: str | None, as_json: bool) -> None:
    """Every key: id, party, role, client id, created, last used, revoked (never secrets)."""
    ctx = current()
    ctx.migrate()
    with Session(ctx.engine) as session:
        rows = [{"key_id": r.key_id, "party": r.party, "role": r.role, "client_id": r.client_id,
                 "created_at": r.created_at, "last_used_at": r.last_used_at,
                 "revoked_at": r.revoked_at} for r in access.list_api_keys(session, party)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        state = f"revoked {r['revoked_at']}" if r["revoked_at"] else "active"
        click.echo(f"{r['key_id']}  {r['party']:<16} {r['role']:<10} {state:<12} "
                   f"created {r['created_at']}  last used {r['last_used_at'] or 'never'}")


@click.group("certifier")
def certifier_keys() -> None:
    """Certifiers' cosigning keys the service accepts cosignatures from."""


@certifier_keys.command("add")
@click.option("--party", required=True, help="The certifier party.")
@click.option("--vkey", required=True,
              help="Its cosignature/v1 verifier key (name+keyid+base64), or a file holding it.")
@fail_on_error
def certifier_add(party: str, vkey: str) -> None:
    """Register a certifier's cosignature/v1 verifier key."""
    ctx = current()
    ctx.migrate()
    path = Path(vkey)
    if "+" not in vkey and path.is_file():
        vkey = path.read_text(encoding="utf-8").strip()
    with Session(ctx.engine) as session:
        row = access.add_cosigner(session, party, vkey)
        session.commit()
        click.echo(f"cosigner {row.name} registered for {row.party}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--tls-cert", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="PEM certificate (chain) to serve HTTPS; needs --tls-key.")
@click.option("--tls-key", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="PEM private key of --tls-cert.")
@fail_on_error
def serve(host: str, port: int, tls_cert: Path | None, tls_key: Path | None) -> None:
    """Serve the site and the API (werkzeug) until stopped; print its URL."""
    run_server(current().settings, host, port, tls_cert, tls_key)


def run_server(settings: Settings, host: str, port: int, tls_cert: Path | None = None,
               tls_key: Path | None = None) -> None:
    """Serve the site and the API with werkzeug until Ctrl-C (``serve`` and ``demo``)."""
    from werkzeug.serving import make_server

    from api.app import create_app

    if (tls_cert is None) != (tls_key is None):
        raise InputError("--tls-cert and --tls-key go together", field="tls-cert")
    context = None
    if tls_cert is not None and tls_key is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(tls_cert, tls_key)
    app = create_app(settings)
    try:
        server = make_server(host, port, app, threaded=True, ssl_context=context)
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror}", field="port") from exc
    scheme = "https" if context else "http"
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"greenledger: serving on {scheme}://{shown}:{server.server_port} "
               "(site /, API /api/v1, docs /api/v1/docs; Ctrl-C to stop)")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def register(main: click.Group) -> None:
    main.add_command(serve)
    keys_group = main.commands["keys"]
    assert isinstance(keys_group, click.Group)
    keys_group.add_command(api_keys)
    keys_group.add_command(certifier_keys)
