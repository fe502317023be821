"""Writes: one entry appended through the domain log, idempotent under ``Idempotency-Key``.

A write is one transaction holding the log's write lock (DESIGN §3.2): check that every
record the body names is one the caller may read (:func:`api.v1.responses.visible_row`:
else the same 404 as a missing record, so a write cannot probe other parties' ids), append
the entry (its applier enforces the domain rules and writes the projection), build the
response from the projection, and, when the request carries an ``Idempotency-Key``, store
that response in the ``idempotency`` table.
All of it commits together or not at all; the key is looked up again under the lock, so two
concurrent retries still append once.

Idempotency records are kept per party and key with the request's method, path and the hash
of its canonical JSON body: the same key with another request is refused (422). Refused
requests (4xx) are not recorded: nothing was appended, so a retry is simply evaluated again.
Issuing a declaration runs in the issuing module's own transaction: it looks the key up
again under the write lock and records the response in that same transaction (hooks of
``certificates.issuing.issue_declaration``), so a concurrent retry cannot issue twice (the
multi-host run found that window before). Revoking records its response after its commit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Response, request
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.auth import principal
from api.problems import ApiProblem
from api.service import service
from ledger import access
from ledger.log import Appended

#: builds the response body (and Location) from the projection, inside the transaction
Respond = Callable[[Session, Appended], tuple[BaseModel, str | None]]
Check = Callable[[Session], None]


def entry_body(model: BaseModel, **defaults: Any) -> dict[str, Any]:
    """The entry body of a request model: its fields without the unset optional ones, and
    the caller-dependent defaults (owner, seller...) where the request left them out."""
    body = model.model_dump(exclude_none=True)
    for name, value in defaults.items():
        body.setdefault(name, value)
    return body


def written(model: type[BaseModel], public: BaseModel, done: Appended) -> BaseModel:
    """The response of a write: the record as it now is, and its entry's leaf hash."""
    return model(**public.model_dump(), leaf_hash=done.leaf_hash.hex())


@dataclass(frozen=True)
class IdempotencyKey:
    party: str
    key: str
    method: str
    path: str
    request_hash: str

    @classmethod
    def of_request(cls) -> IdempotencyKey | None:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return None
        if not 1 <= len(key) <= 200 or not all(0x21 <= ord(c) <= 0x7E for c in key):
            raise ApiProblem(422, "invalid-input", "an Idempotency-Key is 1-200 visible ASCII "
                             "characters", field="Idempotency-Key")
        body = request.get_json(silent=True)
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256(
            f"{request.method}\n{request.path}\n{canonical}".encode()).hexdigest()
        return cls(principal().party, key, request.method, request.path, digest)

    def replay(self, session: Session) -> Response | None:
        """The stored response of an earlier request with this key, or None."""
        row = access.find_idempotent(session, self.party, self.key)
        if row is None:
            return None
        if row.request_hash != self.request_hash:
            raise ApiProblem(422, "idempotency-key-reused", "this Idempotency-Key was already "
                             "used for a different request", field="Idempotency-Key")
        response = Response(row.response_body, status=row.status, content_type=row.content_type)
        if row.location:
            response.headers["Location"] = row.location
        response.headers["Idempotent-Replayed"] = "true"
        return response

    def record(self, session: Session, response: Response) -> None:
        access.record_idempotent(
            session, party=self.party, key=self.key, method=self.method, path=self.path,
            request_hash=self.request_hash, status=response.status_code,
            response_body=response.get_data(as_text=True),
            content_type=response.content_type or "application/json",
            location=response.headers.get("Location"))


def _answer(model: BaseModel, status: int, location: str | None) -> Response:
    response = Response(model.model_dump_json(), status=status, mimetype="application/json")
    if location:
        response.headers["Location"] = location
    return response


def append(kind: str, body: dict[str, Any], respond: Respond, *, check: Check | None = None,
           status: int = 201) -> Response:
    """Append one ``kind`` entry by the caller's party and answer (see the module docstring)."""
    who = principal()
    idem = IdempotencyKey.of_request()
    svc = service()
    if idem is not None:
        with Session(svc.engine) as session:
            earlier = idem.replay(session)
        if earlier is not None:
            return earlier
    with svc.log.writer() as w:
        if idem is not None:
            earlier = idem.replay(w.session)  # again, under the write lock
            if earlier is not None:
                return earlier
        if check is not None:
            check(w.session)
        done = w.append(kind, who.party, body)
        model, location = respond(w.session, done)
        response = _answer(model, status, location)
        if idem is not None:
            idem.record(w.session, response)
    return response


def outside_transaction(run: Callable[[], Response]) -> Response:
    """Idempotency for a write that commits on its own (module docstring: the window)."""
    idem = IdempotencyKey.of_request()
    engine = service().engine
    if idem is not None:
        with Session(engine) as session:
            earlier = idem.replay(session)
        if earlier is not None:
            return earlier
    response = run()
    if idem is not None and response.status_code < 400:
        with Session(engine) as session:
            try:
                idem.record(session, response)
                session.commit()
            except IntegrityError:
                session.rollback()  # a concurrent first attempt recorded it
    return response
