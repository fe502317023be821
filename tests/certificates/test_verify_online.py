"""Online verification against a real HTTP server (a small Flask app in a thread) serving the
three public endpoints the verifier uses: declaration status, checkpoint, consistency proof."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from flask import Flask, Response, abort, jsonify, request
from werkzeug.serving import make_server

from certificates.verify import OnlineCheck
from tests.certificates.conftest import World
from tests.certificates.sample import MemoryLog, seeded_log


@dataclass
class LedgerState:
    log: MemoryLog
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    broken: bool = False  # answer 500 to everything


def _app(state: LedgerState) -> Flask:
    app = Flask(__name__)

    @app.before_request
    def maybe_fail() -> None:
        if state.broken:
            abort(500)

    @app.get("/api/v1/declarations/<declaration_id>/status")
    def status(declaration_id: str) -> Any:
        if declaration_id not in state.statuses:
            abort(404)
        return jsonify({"id": declaration_id, **state.statuses[declaration_id]})

    @app.get("/api/v1/log/checkpoint")
    def checkpoint() -> Response:
        return Response(state.log.checkpoint(), mimetype="text/plain")

    @app.get("/api/v1/log/proof/consistency")
    def consistency() -> Any:
        first, second = int(request.args["first"]), int(request.args["second"])
        return jsonify({"proof": state.log.consistency(first, second)})

    return app


@pytest.fixture(scope="module")
def ledger(world: World) -> Iterator[tuple[LedgerState, str]]:
    state = LedgerState(world.log)
    server = make_server("127.0.0.1", 0, _app(state), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def online(ledger: tuple[LedgerState, str], world: World) -> Iterator[OnlineCheck]:
    state, base = ledger
    state.log, state.broken = world.log, False
    state.statuses = {world.a.content.declaration_id: {"status": "valid"},
                      world.b.content.declaration_id: {"status": "valid"}}
    with requests.Session() as session:
        yield OnlineCheck(base, session, timeout=5)


def test_valid_online(world: World, online: OnlineCheck):
    report = world.verify(world.a.pdf, online=online)
    assert [c.name for c in report.checks][-2:] == ["online-status", "online-consistency"]
    assert report.valid and report.exit_code == 0, report.to_json()
    assert "size 6" in report.check("online-consistency").detail
    assert "size 9" in report.check("online-consistency").detail


def test_at_the_current_checkpoint_no_proof_is_needed(world: World, online: OnlineCheck):
    report = world.verify(world.b.pdf, online=online)  # B was recorded at size 9
    assert report.valid, report.to_json()


def test_revoked_fails_with_the_reason(world: World, ledger, online: OnlineCheck):
    state, _ = ledger
    state.statuses[world.a.content.declaration_id] = {
        "status": "revoked", "reason": "batch WS-2403-A re-measured", "revoked_at": "2024-05-01"}
    report = world.verify(world.a.pdf, online=online)
    assert report.failed == ["online-status"] and report.exit_code == 1
    assert "batch WS-2403-A re-measured" in report.check("online-status").detail


def test_superseded_fails_and_names_the_correction(world: World, ledger, online: OnlineCheck):
    state, _ = ledger
    state.statuses[world.a.content.declaration_id] = {
        "status": "superseded", "superseded_by": "0b0e3c3e-8f6f-4d9e-9a59-0c2b5d7e8f90"}
    report = world.verify(world.a.pdf, online=online)
    assert report.failed == ["online-status"] and report.exit_code == 1
    assert "0b0e3c3e-8f6f-4d9e-9a59-0c2b5d7e8f90" in report.check("online-status").detail


def test_unknown_to_the_ledger_fails(world: World, ledger, online: OnlineCheck):
    state, _ = ledger
    state.statuses = {}
    report = world.verify(world.a.pdf, online=online)
    assert report.failed == ["online-status"]


def test_a_forked_log_fails_consistency(world: World, ledger, online: OnlineCheck):
    state, _ = ledger
    fork = seeded_log()  # same operator key, other history
    for i in range(7):
        fork.append("batch.recorded", {"lot": f"FORK-{i}", "tonnes": "1.000"})
    state.log = fork
    report = world.verify(world.a.pdf, online=online)
    assert report.failed == ["online-consistency"], report.to_json()
    assert "not consistent" in report.check("online-consistency").detail


def test_a_rolled_back_log_fails_consistency(world: World, ledger, online: OnlineCheck):
    state, _ = ledger
    state.log = seeded_log()  # size 3 < 6
    report = world.verify(world.a.pdf, online=online)
    assert report.failed == ["online-consistency"]
    assert "rolled back" in report.check("online-consistency").detail


def test_a_server_error_is_could_not_check(world: World, ledger, online: OnlineCheck):
    state, _ = ledger
    state.broken = True
    report = world.verify(world.a.pdf, online=online)
    assert report.check("online-status").ok is None
    assert report.check("online-consistency").ok is None
    assert report.exit_code == 2 and not report.valid


def test_an_unreachable_server_is_could_not_check(world: World):
    report = world.verify(world.a.pdf, online=OnlineCheck("http://127.0.0.1:9", timeout=2))
    assert report.check("online-status").ok is None and report.exit_code == 2


def test_offline_failures_win_over_could_not_check(world: World):
    pdf = world.a.pdf[: world.a.pdf.index(b"%%EOF") + 6]  # unsigned revision
    report = world.verify(pdf, online=OnlineCheck("http://127.0.0.1:9", timeout=2))
    assert report.exit_code == 1


def test_base_url_from_the_qr_url():
    online = OnlineCheck.from_verify_url(
        "https://ledger.example/gl/verify/4f1c2a9e-6b3d-4c1e-9a57-2d8e0f3b7c11")
    assert online.base_url == "https://ledger.example/gl"
    with pytest.raises(ValueError):
        OnlineCheck.from_verify_url("javascript:alert(1)")
