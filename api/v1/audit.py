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

from api.auth import roles
from api.schemas.log import AuditReportOut
from api.service import Service, service
from api.v1.paths import PREFIX, operation_id
from api.v1.responses import json_response
from ledger.audit import AuditReport
from ledger.domain.full_audit import full_audit as run_full_audit
from ledger.domain.full_audit import pinned_operator_keys

bp = APIBlueprint("audit", __name__, url_prefix=PREFIX, abp_tags=[Tag(name="audit")],
                  operation_id_callback=operation_id)


def full_audit(svc: Service) -> AuditReport:
    return run_full_audit(svc.engine, pinned_operator_keys(svc.settings.key_dir), workers=1)


@bp.get("/audit", responses={200: AuditReportOut}, summary="Audit the whole log now")
@roles("certifier", "operator")
def run_audit() -> Response:
    return json_response(AuditReportOut.model_validate(full_audit(service()).to_json()))
