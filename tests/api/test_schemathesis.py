"""Property tests of the API against its own OpenAPI document (schemathesis): for generated
requests to every operation, no 5xx, and every response (status, media type, headers, body)
is one the document declares. Each operation is called with a key of a role allowed to use
it, so bodies reach validation and the domain rules (and writes land in a copy of the world).
Ten examples per operation, no coverage or stateful phase: ~10 s, so it is not marked slow.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.auth import access_of
from ledger.config import Settings
from tests.api.conftest import World, app_for

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def target(world: World, tmp_path_factory) -> Flask:
    return app_for(world.copy(tmp_path_factory.mktemp("schemathesis")))


def _document() -> dict:
    """The OpenAPI document, which does not depend on the data: an app on an in-memory
    database serves it at collection time."""
    settings = Settings(home=Path("/nonexistent"), database_url="sqlite://",
                        key_dir=Path("/nonexistent"), origin="t/log",
                        public_base_url="http://127.0.0.1", key_passphrase=None)
    return create_app(settings).test_client().get("/api/v1/openapi.json").get_json()


CONFIG = schemathesis.Config.from_dict({
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    "generation": {"max-examples": 10},
})
schema = schemathesis.openapi.from_dict(_document(), config=CONFIG)


def key_for(app: Flask, world: World, method: str, path: str) -> dict[str, str]:
    adapter = app.url_map.bind("localhost")
    endpoint, _ = adapter.match(path, method=method)
    access = access_of(app.view_functions[endpoint])
    if access.public:
        return world.headers("producer")
    roles = sorted(access.roles or {"producer"})
    return world.headers(roles[0] if roles[0] != "buyer" else "producer")


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_document(case, target: Flask, world: World):
    headers = key_for(target, world, case.method, case.formatted_path)
    case.headers = {**(case.headers or {}), **headers}
    case.call_and_validate(app=target, checks=CHECKS)
