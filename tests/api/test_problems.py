"""Errors are RFC 9457 problems naming the failing field, never a stack trace; every response
carries the security headers."""

from __future__ import annotations

import pytest
from flask import Flask

from api.app import MAX_CONTENT_LENGTH
from tests.api.conftest import World, app_for

PROBLEM_KEYS = {"type", "title", "status", "detail", "field", "rule", "limit", "got", "errors"}
FACILITY = {"facility": "f-new", "name": "New plant", "province": "CN-YN",
            "grid_region": "CN-SOUTH", "country": "CN", "process": "casting"}
SHIPMENT = {"shipment": "SH-P", "buyer": "p-buyer-gd", "date": "2025-12-30",
            "destination_country": "CN", "lines": [{"batch": "AL-2025-07", "tonnes": "1.000"}]}


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert set(body) <= PROBLEM_KEYS and {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status and body["type"].startswith("urn:greenledger:problem:")
    assert "Traceback" not in response.get_data(as_text=True)
    return body


@pytest.mark.parametrize("path, body, field", [
    ("facilities", {**FACILITY, "bogus": 1}, "bogus"),
    ("facilities", {**FACILITY, "name": 7}, "name"),
    ("facilities", {**FACILITY, "country": "China"}, "country"),
    ("facilities", {k: v for k, v in FACILITY.items() if k != "process"}, "process"),
    ("facilities", {**FACILITY, "name": "bad\u0000name"}, "name"),
    ("shipments", {**SHIPMENT, "lines": [{"batch": "AL-2025-07", "tonnes": 1.5}]},
     "lines[0].tonnes"),
    ("shipments", {**SHIPMENT, "lines": [{"batch": "AL-2025-07", "tonnes": "1.0001"}]},
     "lines[0].tonnes"),
    ("shipments", {**SHIPMENT, "lines": []}, "lines"),
    ("shipments", {**SHIPMENT, "date": "2025-02-30"}, "date"),  # the domain's check
    ("certificates", {"registry": "CN-GEC", "evidence": {"ref": "x", "sha256": "XYZ"}},
     "first"),
    ("parties", {"party": "p-x", "name": "X", "roles": ["king"]}, "roles[0]"),
])
def test_bad_input_names_the_field(client, world: World, path, body, field):
    who = "operator" if path == "parties" else "producer"
    response = client.post(f"/api/v1/{path}", json=body, headers=world.headers(who))
    problem = problem_of(response, 422)
    assert problem["field"] == field, problem


def test_every_failing_field_is_listed(client, world: World):
    response = client.post("/api/v1/certificates", json={"registry": "CN-GEC",
                           "evidence": {"ref": "x", "sha256": "XYZ"}},
                           headers=world.headers("producer"))
    fields = {e["field"] for e in problem_of(response, 422)["errors"]}
    assert {"first", "last", "mwh", "evidence.sha256", "tradable"} <= fields


@pytest.mark.parametrize("data", [b"{bad json", b'{"name": NaN}', b'{"a": "\\ud800"}',
                                  b"\xff\xfe{}", b'{"a": 1}}'])
def test_malformed_json_is_400(client, world: World, data):
    response = client.post("/api/v1/facilities", data=data, content_type="application/json",
                           headers=world.headers("producer"))
    assert problem_of(response, 400)["field"] == "body"


def test_no_body_is_422_on_the_body(client, world: World):
    response = client.post("/api/v1/facilities", headers=world.headers("producer"))
    assert problem_of(response, 422)["field"] == "body"


def test_a_body_that_is_not_json_is_415(client, world: World):
    response = client.post("/api/v1/facilities", data="name=x",
                           content_type="application/x-www-form-urlencoded",
                           headers=world.headers("producer"))
    problem_of(response, 415)


def test_a_body_over_the_limit_is_413(client, world: World):
    response = client.post("/api/v1/facilities", data=b"x" * (MAX_CONTENT_LENGTH + 1),
                           content_type="application/json", headers=world.headers("producer"))
    problem_of(response, 413)


def test_unknown_path_and_method(client, world: World):
    problem_of(client.get("/api/v1/nothing-here"), 404)
    assert client.get("/nothing-here").status_code == 404  # outside /api: the site's own page
    response = client.delete("/api/v1/facilities", headers=world.headers("producer"))
    problem_of(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_bad_query_parameters_name_the_parameter(client, world: World):
    assert problem_of(client.get("/api/v1/log/proof/inclusion?seq=-1"), 422)["field"] == "seq"
    assert problem_of(client.get("/api/v1/log/proof/inclusion?seq=9999"), 422)["field"] == "seq"
    assert problem_of(client.get("/api/v1/log/proof/consistency?first=2&second=99999"),
                      422)["field"] == "second"
    response = client.get("/api/v1/batches?limit=501", headers=world.headers("producer"))
    assert problem_of(response, 422)["field"] == "limit"


def test_a_rule_violation_carries_rule_limit_and_got(fresh: Flask, world: World):
    body = {**SHIPMENT, "lines": [{"batch": "AL-2025-07", "tonnes": "20000.000"}]}
    response = fresh.test_client().post("/api/v1/shipments", json=body,
                                        headers=world.headers("producer"))
    problem = problem_of(response, 422)
    assert (problem["rule"], problem["field"], problem["limit"], problem["got"]) == (
        "shipment.mass-balance", "lines[0].tonnes", "12950.000", "20000.000")


def test_a_conflict_is_409(fresh: Flask, world: World):
    body = {**FACILITY, "facility": "f-smelter"}
    response = fresh.test_client().post("/api/v1/facilities", json=body,
                                        headers=world.headers("producer"))
    assert problem_of(response, 409)["field"] == "facility"


def test_an_unexpected_error_is_a_500_without_internals(world: World, caplog):
    app = app_for(world.settings)

    @app.get("/api/v1/boom")
    def boom():
        raise RuntimeError("secret internal detail /etc/passwd")

    with caplog.at_level("ERROR", logger="greenledger.api"):
        response = app.test_client().get("/api/v1/boom",
                                         headers=world.headers("operator"))
    problem = problem_of(response, 500)
    assert "secret" not in response.get_data(as_text=True)
    assert problem["detail"] == "the service failed to answer; the error was logged"
    assert "secret internal detail" in caplog.text  # logged server-side
    assert world.keys["operator"] not in caplog.text  # ...without the key


def test_a_configuration_error_is_a_generic_500(world: World, tmp_path):
    app = app_for(world.settings.with_(key_passphrase="wrong"))
    response = app.test_client().post("/api/v1/log/checkpoint",
                                      headers=world.headers("operator"))
    problem = problem_of(response, 500)
    assert str(world.settings.key_dir) not in problem["detail"]
    assert "passphrase" not in problem["detail"]


def test_security_headers_on_every_response(client, world: World):
    for response in (client.get("/api/v1/log/checkpoint"), client.get("/api/v1/nothing"),
                     client.get("/api/v1/docs"),
                     client.get("/api/v1/parties", headers=world.headers("buyer"))):
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    authed = client.get("/api/v1/parties", headers=world.headers("buyer"))
    assert authed.headers["Cache-Control"] == "no-store"


def test_the_openapi_document_describes_problems_and_security(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1") and spec["info"]["title"] == "greenledger API"
    post = spec["paths"]["/api/v1/facilities"]["post"]
    assert post["security"] == [{"apiKey": []}]
    assert "application/problem+json" in post["responses"]["422"]["content"]
    assert "security" not in spec["paths"]["/api/v1/log/checkpoint"]["get"]
    body = post["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    schema = spec["components"]["schemas"][body]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["country"]["pattern"] == "^[A-Z]{2}$"
    listing = spec["paths"]["/api/v1/batches"]["get"]
    assert listing["operationId"] == "list_batches"
    assert "Link" in listing["responses"]["200"]["headers"]
    assert "Location" in post["responses"]["201"]["headers"]
    cosign = spec["paths"]["/api/v1/log/cosignatures"]["post"]
    assert "text/plain" in cosign["requestBody"]["content"]
