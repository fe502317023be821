"""The world of the multi-host run: a fresh PostgreSQL database, a home with the operator key
and the smelter's issuer certificate, the sample scenario, the contended pool, API keys.

Everything the three servers share lives here: the database URL and the ``GREENLEDGER_*``
environment (home, key directory, passphrase, log origin) they all start with, so they sign
with one operator key and one issuer certificate, as hosts of one deployment would.

The *pool* is what the clients fight over. Time is cut into epochs (10 s by default); each
epoch has a few certificates and batches registered here beforehand, and during an epoch
every client allocates sub-ranges of that epoch's certificates to its batches and ships
tonnes from them. Ranges are drawn at random, so clients really try to allocate codes
another client already holds (``allocation.double-count``), to exceed a batch's metered MWh
(``allocation.metered``) and to ship more than a batch produced (``shipment.mass-balance``).
Moving to fresh items each epoch keeps the contention up for the whole run.
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

SCENARIO = Path(__file__).resolve().parents[1] / "sample_data" / "scenario"
ORIGIN = "greenledger.multihost/log"
PRODUCER = "p-smelter"
FACILITY = "f-smelter"
BUYER = "p-buyer-gd"
PLANT = "多主机示例水电站 Multihost Example Hydropower Station"
#: the 17-character project part of the pool's GEC codes, and of the clients' registrations
POOL_BLOCK = "9MH00000000000001"
REGISTRATION_BLOCK = "9MH00000000000002"
CERTS_PER_EPOCH = 4
CODES_PER_CERT = 1000
BATCHES_PER_EPOCH = 4
BATCH_MWH = 600
BATCH_TONNES = 300


@dataclass
class World:
    """What the servers, the clients and the checker need to know."""

    run_id: str
    admin_url: str
    database: str
    url: str
    home: Path
    passphrase: str
    #: log size after the setup: every later entry is the run's
    setup_size: int
    api_keys: list[str]
    pool: dict[str, Any]
    keep: bool = False
    owns_home: bool = field(default=True, repr=False)

    @property
    def key_dir(self) -> Path:
        return self.home / "keys"

    def env(self) -> dict[str, str]:
        """The ``GREENLEDGER_*`` settings every server starts with."""
        return {"GREENLEDGER_DATABASE_URL": self.url, "GREENLEDGER_HOME": str(self.home),
                "GREENLEDGER_KEY_DIR": str(self.key_dir),
                "GREENLEDGER_KEY_PASSPHRASE": self.passphrase,
                "GREENLEDGER_LOG_ORIGIN": ORIGIN}

    def settings(self):  # type: ignore[no-untyped-def]
        from ledger.config import load_settings

        return load_settings(self.env())


def _psycopg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def create_database(admin_url: str, run_id: str) -> tuple[str, str]:
    """``CREATE DATABASE gl_multihost_<run>`` on the server of ``admin_url``: (name, URL).
    The URL names the run as ``application_name`` so its connections can be found."""
    name = f"gl_multihost_{run_id}"
    admin = create_engine(_psycopg(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    url = make_url(_psycopg(admin_url)).set(database=name)
    url = url.update_query_dict({"application_name": name})
    return name, url.render_as_string(hide_password=False)


def drop_database(admin_url: str, name: str) -> None:
    admin = create_engine(_psycopg(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def month_of_work(today: date | None = None) -> tuple[str, str, str]:
    """The last complete month: (YYYY-MM, first day, last day). The pool's certificates are
    generated and its batches produced in it, so every vintage rule holds."""
    today = today or datetime.now(UTC).date()
    last = today.replace(day=1) - timedelta(days=1)
    return last.strftime("%Y-%m"), last.replace(day=1).isoformat(), last.isoformat()


def gec(block: str, number: int) -> str:
    return f"{block}{number:015d}"


def certificate_body(block: str, first_no: int, count: int, month: str, ref: str) -> dict[str, Any]:
    return {"registry": "CN-GEC", "first": gec(block, first_no),
            "last": gec(block, first_no + count - 1), "mwh": str(count), "technology": "hydro",
            "plant": PLANT, "plant_province": "CN-YN", "country": "CN",
            "generation_month": month, "tradable": False,
            "evidence": {"ref": ref, "sha256": hashlib.sha256(ref.encode()).hexdigest()}}


def batch_body(batch_id: str, lot: str, start: str, end: str, tonnes: int, mwh: int) -> dict[str, Any]:
    return {"batch": batch_id, "lot": lot, "facility": FACILITY,
            "product": "primary aluminium ingot 电解铝锭 Al99.70", "metal": "Al",
            "cn_code": "76011000", "tonnes": str(tonnes), "period_start": start, "period_end": end,
            "electricity_mwh": str(mwh), "fuels": [], "process_emissions": [], "inputs": []}


def make_pool(run_id: str, epochs: int, epoch_seconds: float) -> tuple[dict[str, Any], list[tuple]]:
    """The pool's description for the clients, and the entries that register it."""
    month, start, end = month_of_work()
    items: list[tuple[str, str, dict[str, Any]]] = []
    described = []
    for e in range(epochs):
        certs, batches = [], []
        for c in range(CERTS_PER_EPOCH):
            first_no = (e * CERTS_PER_EPOCH + c) * CODES_PER_CERT + 1
            body = certificate_body(POOL_BLOCK, first_no, CODES_PER_CERT, month,
                                    f"mh-{run_id}-pool-e{e}-c{c}")
            items.append(("certificate.registered", PRODUCER, {**body, "owner": PRODUCER}))
            certs.append({"id": f"CN-GEC:{body['first']}", "block": POOL_BLOCK,
                          "first_no": first_no, "last_no": first_no + CODES_PER_CERT - 1})
        for b in range(BATCHES_PER_EPOCH):
            bid = f"mh-{run_id}-pool-e{e}-b{b}"
            items.append(("batch.registered", PRODUCER,
                          batch_body(bid, bid, start, end, BATCH_TONNES, BATCH_MWH)))
            batches.append({"id": bid})
        described.append({"certificates": certs, "batches": batches})
    pool = {"epoch_seconds": epoch_seconds, "epochs": described, "month": month,
            "period_start": start, "period_end": end, "plant": PLANT,
            "registration_block": REGISTRATION_BLOCK, "facility": FACILITY, "buyer": BUYER}
    return pool, items


def build_world(admin_url: str, *, clients: int, epochs: int, epoch_seconds: float,
                home: Path | None = None, keep: bool = False) -> World:
    """Create the database and the home, load the scenario and the pool, make the keys."""
    from sqlmodel import Session

    from certificates.issuing import issuer_identity
    from ledger import access, keys
    from ledger.domain import domain_log
    from ledger.domain.tables import Party
    from ledger.importing import load_scenario
    from ledger.log import sign_checkpoint
    from ledger.store.engine import make_engine
    from ledger.store.migrate import upgrade

    run_id = uuid.uuid4().hex[:8]
    owns_home = home is None
    home = Path(tempfile.mkdtemp(prefix=f"gl-multihost-{run_id}-")) if home is None else home
    database, url = create_database(admin_url, run_id)
    world = World(run_id, admin_url, database, url, home, secrets.token_urlsafe(16), 0, [], {},
                  keep=keep, owns_home=owns_home)
    try:
        settings = world.settings()
        engine = make_engine(url)
        try:
            upgrade(engine)
            log = domain_log(engine)
            load_scenario(log, SCENARIO)
            signer = keys.generate(world.key_dir, "operator", ORIGIN, world.passphrase)
            with Session(engine) as session:
                smelter = session.get(Party, PRODUCER)
                assert smelter is not None
                issuer_identity(settings, smelter, create_demo=True)
                world.api_keys = [access.create_api_key(session, PRODUCER, "producer").api_key
                                  for _ in range(clients)]
                session.commit()
            world.pool, items = make_pool(run_id, epochs, epoch_seconds)
            log.append_many(items)
            sign_checkpoint(log, signer)
            world.setup_size = log.size()
        finally:
            engine.dispose()
    except BaseException:
        destroy_world(world)
        raise
    return world


def destroy_world(world: World) -> None:
    """Drop the database and remove the home (unless kept for a post-mortem)."""
    if world.keep:
        return
    drop_database(world.admin_url, world.database)
    if world.owns_home:
        shutil.rmtree(world.home, ignore_errors=True)
