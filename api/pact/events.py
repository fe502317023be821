"""Action Events (``POST /3/events``): CloudEvents in structured JSON mode (spec v3
openapi ``/3/events``, ``PublishedEvent``, ``RequestCreatedEvent``, ``RequestFulfilledEvent``,
``RequestRejectedEvent``).

Validation (a malformed event is a 400 ``BadRequest`` naming what is wrong): a JSON object
with ``specversion`` "1.0", non-empty string ``id``, ``source`` and ``type``, ``time`` (RFC 3339,
when present) and an object ``data``; per type:

- ``PublishedEvent.3``: ``data.pfIds`` a non-empty list of UUIDs (conformance case 40 sends a
  URN there and expects 400). If ``source`` is a registered *supplier* the footprints are
  pulled (GetFootprint) and recorded in the background; from anybody else the event is
  accepted and ignored (logged).
- ``RequestCreatedEvent.3``: the criteria of ListFootprints (:mod:`api.pact.filters`) and an
  optional string ``comment``. ``source`` must be a registered peer (PACT: the host MUST
  validate ``source`` before answering; greenledger only sends to peers it holds credentials
  for), else 400. Accepted with 200; then, in the background, the footprints that match and
  that the *requesting token* may see are sent back to ``{source}/3/events`` — a
  ``RequestFulfilledEvent.3`` (``pfs`` non-empty) or, when none match, a
  ``RequestRejectedEvent.3`` with ``error {"code": "NotFound", ...}`` (so ``urn:pact:null`` is
  rejected) — with a token from the peer's ``/auth/token``, echoing ``requestEventId``.
  Sending is retried with back-off for about ten minutes (in process; the spec's "up to 3
  days" would need a durable queue, which greenledger does not have yet).
- ``RequestFulfilledEvent.3``: ``data.requestEventId`` string and ``data.pfs`` a non-empty list
  of objects; from a registered supplier each footprint is validated and recorded like a pull.
- ``RequestRejectedEvent.3``: ``data.requestEventId`` string, ``data.error`` with string
  ``code`` and ``message``.

Every accepted event is also kept in a small in-process inbox (the last 200), for the operator
and for tests; recorded footprints are in the log.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from api.pact.errors import PactError
from api.pact.filters import FilterError, criteria, parse_time
from api.pact.index import FootprintIndex, PayloadCache, payload_texts
from certificates.pact_client import PactClient, PactClientError
from certificates.pact_client_peers import Peer, PeerStore
from certificates.pact_client_pull import PullReport, pull, record

log = logging.getLogger("greenledger.pact.events")

PREFIX = "org.wbcsd.pact.ProductFootprint."
PUBLISHED = PREFIX + "PublishedEvent.3"
REQUEST_CREATED = PREFIX + "RequestCreatedEvent.3"
REQUEST_FULFILLED = PREFIX + "RequestFulfilledEvent.3"
REQUEST_REJECTED = PREFIX + "RequestRejectedEvent.3"
TYPES = (PUBLISHED, REQUEST_CREATED, REQUEST_FULFILLED, REQUEST_REJECTED)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
MAX_PFS = 1000
ANSWER_DELAYS = (1, 2, 4, 8, 16, 32, 64, 128, 256)  # ~8.5 minutes of retries


@dataclass(frozen=True)
class Event:
    type: str
    id: str
    source: str
    data: dict[str, Any]


class Background:
    """Two daemon threads working off a bounded queue: pulls after PublishedEvent, answers to
    RequestCreatedEvent. Daemon threads, so that a stopping worker never waits for a peer that
    does not answer; a full queue refuses new events (500 InternalError: retry later)."""

    def __init__(self, workers: int = 2, size: int = 1000) -> None:
        self._queue: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...]]] = queue.Queue(size)
        self._workers = workers
        self._started = False
        self._lock = threading.Lock()

    def _run(self) -> None:
        while True:
            fn, args = self._queue.get()
            _guard(fn, *args)
            self._queue.task_done()

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        with self._lock:
            if not self._started:
                for i in range(self._workers):
                    threading.Thread(target=self._run, name=f"pact-{i}", daemon=True).start()
                self._started = True
        try:
            self._queue.put_nowait((fn, args))
        except queue.Full:
            raise PactError("InternalError", "too many events waiting to be processed; retry "
                            "later") from None


@dataclass
class PactState:
    """Per-app PACT state: the footprint index, the payload cache, background work, the
    inbox."""

    index: FootprintIndex = field(default_factory=FootprintIndex)
    payloads: PayloadCache = field(default_factory=lambda: PayloadCache(256 * 1024 * 1024))
    background: Background = field(default_factory=Background)
    inbox: deque = field(default_factory=lambda: deque(maxlen=200))
    sleep: Callable[[float], None] = time.sleep


def _bad(message: str) -> PactError:
    return PactError("BadRequest", message)


def parse_event(body: Any) -> Event:
    if not isinstance(body, dict):
        raise _bad("the body must be a CloudEvent: a JSON object")
    if body.get("specversion") != "1.0":
        raise _bad("specversion must be \"1.0\" (CloudEvents 1.0)")
    for name in ("id", "source", "type"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            raise _bad(f"{name} must be a non-empty string")
    if "time" in body:
        try:
            parse_time(body["time"] if isinstance(body["time"], str) else "", "time")
        except FilterError as exc:
            raise _bad(str(exc)) from None
    data = body.get("data")
    if not isinstance(data, dict):
        raise _bad("data must be an object")
    kind = body["type"]
    if kind not in TYPES:
        raise PactError("NotImplemented", f"event type {kind!r} is not handled; PACT v3 types: "
                        + ", ".join(TYPES))
    if kind == PUBLISHED:
        ids = data.get("pfIds")
        if not isinstance(ids, list) or not ids or len(ids) > MAX_PFS:
            raise _bad(f"data.pfIds must be a list of 1-{MAX_PFS} footprint ids")
        for i, value in enumerate(ids):
            if not isinstance(value, str) or not _UUID.match(value):
                raise _bad(f"data.pfIds[{i}] must be a UUID, got {value!r}")
    elif kind == REQUEST_CREATED:
        try:
            criteria(data.items())
        except FilterError as exc:
            raise _bad(f"data: {exc}") from None
        if "comment" in data and not isinstance(data["comment"], str):
            raise _bad("data.comment must be a string")
    else:
        if not isinstance(data.get("requestEventId"), str) or not data["requestEventId"]:
            raise _bad("data.requestEventId must be a non-empty string")
        if kind == REQUEST_FULFILLED:
            pfs = data.get("pfs")
            if (not isinstance(pfs, list) or not pfs or len(pfs) > MAX_PFS
                    or not all(isinstance(p, dict) for p in pfs)):
                raise _bad(f"data.pfs must be a list of 1-{MAX_PFS} ProductFootprint objects")
        else:
            error = data.get("error")
            if not (isinstance(error, dict) and isinstance(error.get("code"), str)
                    and isinstance(error.get("message"), str)):
                raise _bad("data.error must be an object with string code and message")
    return Event(kind, body["id"], body["source"], data)


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Context:
    """What handling an event needs from the request, captured before it ends."""

    engine: Any
    store: PeerStore
    state: PactState
    party: str
    role: str
    own_source: str  # the absolute URL of our /3/events as the requester reached it


def handle(event: Event, ctx: Context) -> None:
    """Act on an accepted event (raises PactError to refuse it)."""
    note: dict[str, Any] = {"type": event.type, "id": event.id, "source": event.source,
                            "received_at": _now(), "by": ctx.party}
    if event.type == REQUEST_CREATED:
        peer = ctx.store.match_source(event.source)
        if peer is None:
            raise _bad(f"source {event.source!r} is not a registered PACT partner of this host; "
                       "the operator registers it with 'greenledger pact customer add'")
        ctx.state.background.submit(answer_request, event, ctx, peer)
    elif event.type == PUBLISHED:
        peer = ctx.store.match_source(event.source, kind="supplier")
        if peer is None:
            log.info("PublishedEvent %s from %s: not a registered supplier; ignored",
                     event.id, event.source)
        else:
            note["supplier"] = peer.name
            ctx.state.background.submit(pull_published, event, ctx, peer)
    elif event.type == REQUEST_FULFILLED:
        note["requestEventId"] = event.data["requestEventId"]
        note["pfIds"] = [p.get("id") for p in event.data["pfs"]]
        peer = ctx.store.match_source(event.source, kind="supplier")
        if peer is not None:
            note["supplier"] = peer.name
            report = record(ctx.engine, peer, event.data["pfs"], PullReport(peer.name))
            note["recorded"] = report.to_json()
    else:
        note["requestEventId"] = event.data["requestEventId"]
        note["error"] = event.data["error"]
        log.info("request %s rejected by %s: %s", event.data["requestEventId"], event.source,
                 event.data["error"].get("code"))
    ctx.state.inbox.append(note)


def _guard(fn: Callable[..., Any], *args: Any) -> None:
    try:
        fn(*args)
    except Exception:  # a background task must log, never die silently
        log.exception("PACT background task %s failed", getattr(fn, "__name__", fn))


def pull_published(event: Event, ctx: Context, peer: Peer) -> PullReport:
    report = pull(ctx.engine, peer, ids=[str(i) for i in event.data["pfIds"]])
    log.info("PublishedEvent %s from %s: %d recorded, %d unchanged, %d invalid, %d missing",
             event.id, peer.name, len(report.recorded), len(report.unchanged),
             len(report.invalid), len(report.missing))
    return report


def answer_for(event: Event, ctx: Context) -> dict[str, Any]:
    """The RequestFulfilledEvent or RequestRejectedEvent answering ``event``."""
    wanted = criteria(event.data.items())
    with ctx.engine.connect() as conn:
        ctx.state.index.refresh(conn)
        items, _ = ctx.state.index.page(wanted, party=ctx.party, role=ctx.role, limit=MAX_PFS)
        texts = payload_texts(conn, items, ctx.state.payloads)
    base = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": ctx.own_source,
            "time": _now()}
    if not texts:
        return {**base, "type": REQUEST_REJECTED,
                "data": {"requestEventId": event.id,
                         "error": {"code": "NotFound",
                                   "message": "No footprint matches the request's criteria."}}}
    return {**base, "type": REQUEST_FULFILLED,
            "data": {"requestEventId": event.id, "pfs": [json.loads(t) for t in texts]}}


def answer_request(event: Event, ctx: Context, peer: Peer) -> None:
    answer = answer_for(event, ctx)
    client = PactClient.for_peer(peer)
    for attempt, delay in enumerate((0, *ANSWER_DELAYS)):
        if delay:
            ctx.state.sleep(delay)
        try:
            client.post_event(answer)
        except PactClientError as exc:
            log.warning("answering request %s to %s (attempt %d): %s", event.id, peer.name,
                        attempt + 1, exc)
            continue
        log.info("answered request %s to %s with %s", event.id, peer.name,
                 answer["type"].rsplit(".", 2)[-2])
        return
    log.error("gave up answering request %s to %s", event.id, peer.name)
