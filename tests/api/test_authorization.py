"""Every endpoint x every caller -> the designed status, from one table.

Callers: a key of each role (producer p-smelter, buyer p-buyer-gd, certifier, operator), no
key, and a revoked key. Reads run against the module's world; writes against one writable
copy of it (a write is refused before it touches anything unless the role may make it, so
each allowed write happens exactly once).

Designed statuses: public endpoints answer everyone (a revoked key is still a bad key: 401);
every other endpoint needs a valid key (401); writes need their role (403); an item the
caller may not read is a 404, as if it did not exist.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlmodel import Session

from ledger import access, keys
from ledger.checkpoint import cosign
from ledger.domain.tables import Certificate
from ledger.store.engine import make_engine
from tests.api.conftest import PASSPHRASE, World, app_for

CALLERS = ("producer", "buyer", "certifier", "operator", None, "revoked")
ROLES = ("producer", "buyer", "certifier", "operator")
DECL, COPPER_DECL = "{declaration}", "{copper_declaration}"

ATTEST = "CN-GEC:31200808265308017202501000000001"
CANCEL = "CN-GEC:31200808265308017202411000000001"
TRANSFER = "CN-GEC:21202304125326014202412000000001"
ALLOC_CERT = "CN-GEC:11201906285329043202512000000001"
ALLOC_BLOCK = "11201906285329043202512"


def expect(producer: int, buyer: int, certifier: int, operator: int, none: int = 401,
           revoked: int = 401) -> dict[str | None, int]:
    return {"producer": producer, "buyer": buyer, "certifier": certifier, "operator": operator,
            None: none, "revoked": revoked}


PUBLIC = expect(200, 200, 200, 200, none=200)
ANY_KEY = expect(200, 200, 200, 200)
OWN = expect(200, 404, 200, 200)  # p-smelter's record: hidden from the buyer
TRADE = expect(200, 200, 200, 200)  # p-smelter -> p-buyer-gd: both see it
FOREIGN = expect(404, 404, 200, 200)  # p-copper's record


def write(role: str, ok: int = 201) -> dict[str | None, int]:
    return {**{r: (ok if r == role else 403) for r in ROLES}, None: 401, "revoked": 401}


CERT_BODY = {"registry": "CN-GEC", "first": "ZZZZ0000000000001202503000000001",
             "last": "ZZZZ0000000000001202503000000010", "mwh": "10.000", "technology": "wind",
             "plant": "matrix wind farm", "plant_province": "CN-YN", "country": "CN",
             "generation_month": "2025-03", "tradable": True,
             "evidence": {"ref": "MATRIX-1", "sha256": "cd" * 32}}
BATCH_BODY = {"batch": "AL-MATRIX", "lot": "AL-MATRIX", "facility": "f-smelter",
              "product": "primary aluminium ingot", "metal": "Al", "grade": "Al99.70",
              "cn_code": "76011000", "tonnes": "10.000", "period_start": "2025-12-01",
              "period_end": "2025-12-31", "electricity_mwh": "130.000"}

# (name, method, path, body, expected)
TABLE = [
    ("openapi", "GET", "/api/v1/openapi.json", None, PUBLIC),
    ("docs", "GET", "/api/v1/docs", None, PUBLIC),
    ("checkpoint", "GET", "/api/v1/log/checkpoint", None, PUBLIC),
    ("entries", "GET", "/api/v1/log/entries?start=0&end=5", None, PUBLIC),
    ("inclusion", "GET", "/api/v1/log/proof/inclusion?seq=3", None, PUBLIC),
    ("consistency", "GET", "/api/v1/log/proof/consistency?first=3", None, PUBLIC),
    ("status", "GET", f"/api/v1/declarations/{DECL}/status", None, PUBLIC),
    ("status-unknown", "GET", "/api/v1/declarations/00000000-0000-4000-8000-000000000000/status",
     None, expect(404, 404, 404, 404, none=404)),
    ("audit", "GET", "/api/v1/audit", None, expect(403, 403, 200, 200)),
    ("green-share", "GET", "/api/v1/reports/green-share?facility=f-smelter&year=2025", None,
     expect(200, 403, 200, 200)),
    ("green-share-foreign", "GET", "/api/v1/reports/green-share?facility=f-copper", None,
     expect(404, 403, 200, 200)),
    ("efficiency", "GET", "/api/v1/reports/efficiency?facility=f-smelter", None,
     expect(200, 403, 200, 200)),
    ("recycled", "GET", "/api/v1/reports/recycled?facility=f-smelter&month=3", None,
     expect(200, 403, 200, 200)),
    ("recycled-all", "GET", "/api/v1/reports/recycled", None, expect(422, 403, 200, 200)),
    ("parties", "GET", "/api/v1/parties", None, ANY_KEY),
    ("party", "GET", "/api/v1/parties/p-copper", None, ANY_KEY),
    ("facilities", "GET", "/api/v1/facilities", None, ANY_KEY),
    ("facility", "GET", "/api/v1/facilities/f-smelter", None, OWN),
    ("facility-foreign", "GET", "/api/v1/facilities/f-copper", None, FOREIGN),
    ("certificates", "GET", "/api/v1/certificates", None, ANY_KEY),
    ("certificate", "GET", f"/api/v1/certificates/{ATTEST}", None, OWN),
    ("vouchers", "GET", "/api/v1/vouchers", None, ANY_KEY),
    ("voucher", "GET", "/api/v1/vouchers/昆明电力交易中心 Kunming Electric Power Exchange Center:"
     "KMPX-GPV-202501-0264", None, OWN),
    ("batches", "GET", "/api/v1/batches", None, ANY_KEY),
    ("batch", "GET", "/api/v1/batches/AL-2025-03", None, OWN),
    ("batch-foreign", "GET", "/api/v1/batches/CU-2025-07", None, FOREIGN),
    ("allocations", "GET", "/api/v1/allocations", None, ANY_KEY),
    ("allocation", "GET", "/api/v1/allocations/AL-2025-01:31200808265308017202501000000001",
     None, OWN),
    ("shipments", "GET", "/api/v1/shipments", None, ANY_KEY),
    ("shipment", "GET", "/api/v1/shipments/SH-AL-GD-2025-01", None, TRADE),
    ("shipment-other-buyer", "GET", "/api/v1/shipments/SH-AL-EU-2025-01", None, OWN),
    ("declarations", "GET", "/api/v1/declarations", None, ANY_KEY),
    ("declaration", "GET", f"/api/v1/declarations/{DECL}", None, TRADE),
    ("declaration-foreign", "GET", f"/api/v1/declarations/{COPPER_DECL}", None, FOREIGN),
    ("pdf", "GET", f"/api/v1/declarations/{DECL}.pdf", None, TRADE),
    ("pdf-foreign", "GET", f"/api/v1/declarations/{COPPER_DECL}.pdf", None, FOREIGN),
    ("missing", "GET", "/api/v1/batches/NO-SUCH-BATCH", None, expect(404, 404, 404, 404)),
    # writes
    ("create-party", "POST", "/api/v1/parties",
     {"party": "p-matrix", "name": "Matrix Co.", "roles": ["buyer"]}, write("operator")),
    ("create-facility", "POST", "/api/v1/facilities",
     {"facility": "f-matrix", "name": "Matrix plant", "province": "CN-YN",
      "grid_region": "CN-SOUTH", "country": "CN", "process": "casting"}, write("producer")),
    ("create-certificate", "POST", "/api/v1/certificates", CERT_BODY, write("producer")),
    ("create-voucher", "POST", "/api/v1/vouchers",
     {"issuer": "Matrix Exchange", "number": "MX-1", "facility": "f-smelter",
      "period_start": "2025-12", "period_end": "2025-12", "mwh": "5.000",
      "technology": "hydro"}, write("producer")),
    ("create-batch", "POST", "/api/v1/batches", BATCH_BODY, write("producer")),
    ("create-allocation", "POST", "/api/v1/allocations",
     {"allocation": "MATRIX-A", "certificate": ALLOC_CERT, "first": f"{ALLOC_BLOCK}000020001",
      "last": f"{ALLOC_BLOCK}000020010", "mwh": "10.000", "batch": "AL-2025-12"},
     write("producer")),
    ("create-shipment", "POST", "/api/v1/shipments",
     {"shipment": "SH-MATRIX", "buyer": "p-buyer-gd", "date": "2025-12-30",
      "destination_country": "CN", "lines": [{"batch": "AL-2025-07", "tonnes": "100.000"}]},
     write("producer")),
    ("issue-declaration", "POST", "/api/v1/declarations", {"shipment": "SH-AL-GD-2025-02"},
     write("producer")),
    ("attest", "POST", f"/api/v1/certificates/{ATTEST}/attest",
     {"evidence_sha256": "{attest_sha}"}, write("certifier", 200)),
    ("cancel", "POST", f"/api/v1/certificates/{CANCEL}/cancel", {"reason": "matrix"},
     write("producer", 200)),
    ("transfer", "POST", f"/api/v1/certificates/{TRANSFER}/transfer", {"to": "p-copper"},
     write("producer", 200)),
    ("revoke-declaration", "POST", f"/api/v1/declarations/{DECL}/revoke",
     {"reason": "re-measured"}, write("producer", 200)),
    ("sign-checkpoint", "POST", "/api/v1/log/checkpoint", None, write("operator", 200)),
    ("cosign", "POST", "/api/v1/log/cosignatures", "{cosigned}", write("certifier", 200)),
]

CASES = [pytest.param(method, path, body, caller, expected[caller],
                      id=f"{name}-{caller or 'nokey'}")
         for name, method, path, body, expected in TABLE for caller in CALLERS]


@pytest.fixture(scope="module")
def writable(world: World, tmp_path_factory) -> tuple[Flask, dict[str, str]]:
    """A copy of the world to write to, with what some write bodies need."""
    settings = world.copy(tmp_path_factory.mktemp("matrix"))
    engine = make_engine(settings.database_url)
    signer = keys.generate(settings.home / "certifier-keys", "certifier", "certifier.test/a",
                           PASSPHRASE)
    with Session(engine) as session:
        access.add_cosigner(session, "p-certifier", signer.verifier.vkey())
        session.commit()
        attest_sha = session.get(Certificate, ATTEST).evidence_sha256
    engine.dispose()
    app = app_for(settings)
    note = app.test_client().get("/api/v1/log/checkpoint").get_data(as_text=True)
    values = {"attest_sha": attest_sha, "cosigned": cosign(note, signer, 1_700_000_000)}
    return app, values


def fill(text: str, world: World, values: dict[str, str]) -> str:
    return text.format(declaration=world.declaration, copper_declaration=world.copper_declaration,
                       **values)


@pytest.mark.parametrize("method, path, body, caller, status", CASES)
def test_designed_status(method, path, body, caller, status, world: World, client, writable):
    values = writable[1]
    url = fill(path, world, values)
    if method == "GET":
        response = client.get(url, headers=world.headers(caller))
    else:
        kwargs = {}
        if isinstance(body, str):
            kwargs = {"data": fill(body, world, values), "content_type": "text/plain"}
        elif body is not None:
            kwargs = {"json": {k: fill(v, world, values) if isinstance(v, str) else v
                               for k, v in body.items()}}
        response = writable[0].test_client().post(url, headers=world.headers(caller), **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)
    if status >= 400:
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["status"] == status
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_table_covers_every_route(app: Flask):
    covered = {(method, path.split("?")[0]) for _, method, path, _, _ in TABLE}

    def pattern(rule: str) -> str:
        parts = re.split(r"(<[^>]+>)", rule)
        return "".join(".+" if p.startswith("<") else re.escape(p) for p in parts)

    # the JSON API's routes; the web pages (tests/web) and PACT (tests/pact) have their own
    routes = {(m, r.rule) for r in app.url_map.iter_rules() for m in (r.methods or ())
              if m in ("GET", "POST") and r.rule.startswith("/api/")}
    missing = sorted(f"{m} {rule}" for m, rule in routes
                     if not any(m == cm and re.fullmatch(pattern(rule), cp) for cm, cp in covered))
    assert missing == []
