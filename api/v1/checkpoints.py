"""Signing checkpoints and accepting certifiers' cosignatures (DESIGN §3.1).

Routes of the ``/api/v1/log`` blueprint (one blueprint per path, so that the OpenAPI
document keeps the GET and the POST of ``/log/checkpoint`` together):

- ``POST /api/v1/log/checkpoint`` (operator): sign the current tree head now, with the
  operator key from ``GREENLEDGER_KEY_DIR`` opened with ``GREENLEDGER_KEY_PASSPHRASE``.
- ``POST /api/v1/log/cosignatures`` (certifier): the body is a checkpoint note the certifier
  cosigned (``text/plain``). It is accepted only if (1) it carries a valid ``cosignature/v1``
  by a key registered for the caller's party (``greenledger keys certifier add``), (2) its
  body is exactly the stored checkpoint of that size, and (3) the service's own full audit
  (chain, tree, checkpoints, replay of every rule) is clean: a cosignature means "audited
  clean up to this size", so the service never publishes one over a log it cannot vouch for
  either. Only the verified cosignature line is added to the stored note; any other line in
  the posted text is ignored. Posting the same cosignature again is harmless.
"""

from __future__ import annotations

from flask import Response, request
from sqlmodel import Session

from api.auth import principal, roles
from api.problems import ApiProblem
from api.schemas.log import CheckpointSigned, CosignatureAccepted
from api.service import service
from api.v1.audit import full_audit
from api.v1.bodies import text_body
from api.v1.log import bp
from api.v1.responses import json_response
from ledger import access, keys
from ledger import checkpoint as notes
from ledger.errors import InputError, SignatureError
from ledger.log import sign_checkpoint as sign_tree_head
from ledger.log import store_cosigned


@bp.post("/checkpoint", responses={200: CheckpointSigned},
         summary="Sign the current tree head now (operator)")
@roles("operator")
def sign_checkpoint() -> Response:
    settings = service().settings
    signer = keys.load(settings.key_dir, "operator", settings.key_passphrase)
    row = sign_tree_head(service().log, signer)
    return json_response(CheckpointSigned(size=row.size, root=bytes(row.root).hex(),
                                          note=row.note))


def _posted_note() -> str:
    try:
        return request.get_data().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("the cosigned note must be UTF-8 text", field="note") from exc


@bp.post("/cosignatures", responses={200: CosignatureAccepted},
         summary="Add a certifier's cosignature to a stored checkpoint (certifier)")
@roles("certifier")
@text_body
def add_cosignature() -> Response:
    who = principal()
    svc = service()
    text = _posted_note()
    try:
        note = notes.parse_note(text)
        size = notes.parse_checkpoint_body(note.body).size
    except SignatureError as exc:
        raise InputError(exc.message, field="note") from exc
    with Session(svc.engine) as session:
        mine = access.cosigner_verifiers(session, who.party)
    if not mine:
        raise ApiProblem(409, "conflict", f"no cosigner key is registered for {who.party}; the "
                         "operator registers it with 'greenledger keys certifier add'",
                         field="note")
    accepted: list[tuple[notes.Verifier, notes.SignatureLine]] = []
    for verifier in mine:
        try:
            notes.verify_cosignature(text, verifier)
        except SignatureError:
            continue
        line = next(s for s in note.signatures
                    if s.name == verifier.name and s.key_id == verifier.key_id)
        accepted.append((verifier, line))
    if not accepted:
        raise SignatureError(f"no valid cosignature by a key registered for {who.party}",
                             field="note")
    stored = svc.log.checkpoint_at(size)
    old = notes.parse_note(stored.note)
    if old.body != note.body:
        raise InputError(f"the cosigned body is not the stored checkpoint of size {size}",
                         field="note")
    report = full_audit(svc)
    if not report.clean:
        rules = sorted({f.rule for f in report.findings})
        raise ApiProblem(409, "audit-not-clean", f"the service's own audit found "
                         f"{len(report.findings)} problem(s) ({', '.join(rules)}); a "
                         "cosignature means 'audited clean' and is refused", field="note")
    replaced = {(v.name, v.key_id) for v, _ in accepted}
    kept = tuple(s for s in old.signatures if (s.name, s.key_id) not in replaced)
    merged = notes.Note(old.body, kept + tuple(line for _, line in accepted)).text
    row = store_cosigned(svc.log, size, merged)
    return json_response(CosignatureAccepted(size=size, cosigner=accepted[0][0].name,
                                             note=row.note))

