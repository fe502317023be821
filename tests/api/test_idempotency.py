"""``Idempotency-Key``: a retried write returns the first response and never appends twice;
the same key with another body is refused; keys are per party; refusals are not recorded."""

from __future__ import annotations

import threading

import requests
from sqlmodel import Session

from api.auth import LIMITER, FailureLimiter
from api.v1.declarations import DEMO_ISSUERS
from ledger import access
from ledger.config import Settings
from ledger.domain import domain_log
from ledger.store.engine import make_engine
from ledger.store.migrate import upgrade
from tests.api.conftest import World

FACILITY = {"facility": "f-idem", "name": "Idempotent plant", "province": "CN-YN",
            "grid_region": "CN-SOUTH", "country": "CN", "process": "casting"}


def size(client) -> int:
    return client.get("/api/v1/log/entries?start=0&end=0").get_json()["size"]


def post(client, world: World, who: str, body: dict, key: str | None, path="facilities"):
    headers = world.headers(who)
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(f"/api/v1/{path}", json=body, headers=headers)


def test_a_retry_returns_the_first_response_and_appends_once(fresh, world: World):
    client = fresh.test_client()
    before = size(client)
    first = post(client, world, "producer", FACILITY, "k-1")
    again = post(client, world, "producer", FACILITY, "k-1")
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert first.headers["Location"] == again.headers["Location"] == "/api/v1/facilities/f-idem"
    assert again.headers["Idempotent-Replayed"] == "true"
    assert size(client) == before + 1
    # without the key, the same request is a new write, refused as a duplicate
    assert post(client, world, "producer", FACILITY, None).status_code == 409


def test_the_same_key_with_another_body_is_422(fresh, world: World):
    client = fresh.test_client()
    assert post(client, world, "producer", FACILITY, "k-2").status_code == 201
    before = size(client)
    other = post(client, world, "producer", {**FACILITY, "facility": "f-other"}, "k-2")
    assert other.status_code == 422 and other.get_json()["field"] == "Idempotency-Key"
    assert size(client) == before


def test_keys_are_per_party(fresh, world: World):
    client = fresh.test_client()
    assert post(client, world, "producer", FACILITY, "shared").status_code == 201
    copper = post(client, world, "copper", {**FACILITY, "facility": "f-copper-2"}, "shared")
    assert copper.status_code == 201 and copper.get_json()["owner"] == "p-copper"


def test_a_refused_write_is_not_recorded(fresh, world: World):
    client = fresh.test_client()
    bad = post(client, world, "producer", {**FACILITY, "facility": "f-smelter"}, "k-3")
    assert bad.status_code == 409
    good = post(client, world, "producer", {**FACILITY, "facility": "f-smelter"}, "k-3")
    assert good.status_code == 409  # evaluated again, not replayed
    assert "Idempotent-Replayed" not in good.headers


def test_a_malformed_key_is_refused(fresh, world: World):
    response = post(fresh.test_client(), world, "producer", FACILITY, "bad key with spaces")
    assert response.status_code == 422 and response.get_json()["field"] == "Idempotency-Key"


def test_issuing_a_declaration_is_idempotent(fresh, world: World):
    client = fresh.test_client()
    body = {"shipment": "SH-AL-GD-2025-02"}
    first = post(client, world, "producer", body, "decl-1", path="declarations")
    again = post(client, world, "producer", body, "decl-1", path="declarations")
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    listed = client.get("/api/v1/declarations", headers=world.headers("producer")).get_json()
    assert sum(d["shipment"] == "SH-AL-GD-2025-02" for d in listed["items"]) == 1


def small_world(url: str, tmp_path) -> tuple[Settings, str]:
    """An operator, a producer and a buyer, and the producer's API key."""
    engine = make_engine(url)
    upgrade(engine)
    log = domain_log(engine)
    log.append_many([
        ("party.registered", "p-op", {"party": "p-op", "name": "Operator", "roles": ["operator"]}),
        ("party.registered", "p-op", {"party": "p-a", "name": "A", "roles": ["producer"]}),
    ])
    with Session(engine) as session:
        key = access.create_api_key(session, "p-a", "producer").api_key
        session.commit()
    engine.dispose()
    return Settings(home=tmp_path, database_url=url, key_dir=tmp_path / "keys",
                    origin="t/log", public_base_url="http://127.0.0.1", key_passphrase="x"), key


def test_concurrent_retries_append_once(db_url, tmp_path, serve):
    from api.app import create_app

    settings, key = small_world(db_url, tmp_path)
    app = create_app(settings, testing=True)
    app.config[DEMO_ISSUERS] = False
    app.extensions[LIMITER] = FailureLimiter(1000, 1000)
    base = serve(app)
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "race"}
    results: list[requests.Response] = []
    lock = threading.Lock()

    def attempt() -> None:
        response = requests.post(f"{base}/api/v1/facilities", json={**FACILITY, "owner": "p-a"},
                                 headers=headers, timeout=30)
        with lock:
            results.append(response)

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [201] * 6
    assert len({r.text for r in results}) == 1
    assert sum("Idempotent-Replayed" not in r.headers for r in results) == 1
    entries = requests.get(f"{base}/api/v1/log/entries", timeout=10).json()
    assert entries["size"] == 3


def test_the_replayed_body_is_byte_identical(fresh, world: World):
    client = fresh.test_client()
    a = post(client, world, "producer", FACILITY, "bytes")
    b = post(client, world, "producer", FACILITY, "bytes")
    assert a.status_code == 201 and a.data == b.data


def test_concurrent_first_attempts_of_one_declaration_issue_it_once(fresh, world: World):
    """Found by the multi-host run: a retry racing the first attempt issued twice. Now the
    key is checked under the write lock and recorded in the issuing transaction."""
    import threading

    from sqlmodel import Session, select

    from api.service import EXTENSION
    from ledger.domain.tables import Declaration

    headers = {**world.headers("producer"), "Idempotency-Key": "declare-eu-once"}
    body = {"shipment": "SH-AL-EU-2025-01"}
    answers: list = []

    def attempt() -> None:
        answers.append(fresh.test_client().post("/api/v1/declarations", json=body, headers=headers))

    threads = [threading.Thread(target=attempt) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(a.status_code for a in answers) == [201, 201, 201]
    assert len({a.get_json()["id"] for a in answers}) == 1
    with Session(fresh.extensions[EXTENSION].engine) as s:
        rows = s.exec(select(Declaration).where(Declaration.shipment_id == "SH-AL-EU-2025-01")).all()
    assert len(rows) == 1
