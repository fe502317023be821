"""``GET /api/v1/audit`` (certifier, operator): the full audit report (DESIGN §3.3), with
the replay of every projection and rule. Findings name seqs, tables and values, so only the
roles that read every entry may ask.

:func:`full_audit` is also what the cosignature endpoint runs before it accepts a
cosignature. It trusts what ``greenledger audit`` trusts: the operator key of the key
directory and its retired keys (pinned out of band), the keys the log announced
(``key.activated``, checked by the rotation check), and the registered cosigners' keys.
"""

from __future__ import annotations

from flask import Response
from flask_openapi3 import APIBlueprint, Tag
from sqlmodel import Session

from api.auth import roles
from api.schemas.log import AuditReportOut
from api.service import Service, service
from api.v1.paths import PREFIX, operation_id
from api.v1.responses import json_response
from ledger import access, keys
from ledger.audit import AuditReport, audit
from ledger.checkpoint import Verifier
from ledger.domain.log_keys import key_history, rotation_check
from ledger.domain.replay import replay_check

bp = APIBlueprint("audit", __name__, url_prefix=PREFIX, abp_tags=[Tag(name="audit")],
                  operation_id_callback=operation_id)


def trusted_operator_keys(svc: Service) -> list[Verifier]:
    found = [keys.load_verifier(svc.settings.key_dir, "operator")]
    for path in sorted((svc.settings.key_dir / "retired").glob("operator-*.vkey")):
        found.append(Verifier.from_vkey(path.read_text(encoding="utf-8")))
    return found


def full_audit(svc: Service) -> AuditReport:
    trusted = trusted_operator_keys(svc)
    with Session(svc.engine) as session:
        certifiers = access.cosigner_verifiers(session)
        announced = [Verifier.from_vkey(v) for v in key_history(session)]
    pinned = {v.vkey() for v in trusted}
    operator_keys = [*trusted, *(v for v in announced if v.vkey() not in pinned)]
    return audit(svc.engine, operator_keys=operator_keys, certifier_keys=certifiers,
                 extra_checks=[replay_check(), rotation_check(trusted)], workers=1)


@bp.get("/audit", responses={200: AuditReportOut}, summary="Audit the whole log now")
@roles("certifier", "operator")
def run_audit() -> Response:
    return json_response(AuditReportOut.model_validate(full_audit(service()).to_json()))
