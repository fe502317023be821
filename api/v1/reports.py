"""``/api/v1/reports``: the plan's targets (issue 11) for the producer dashboard and
certifiers: green-electricity share, energy efficiency and recycled content per facility.

A producer asks about one of its own facilities (another's is a 404, as if it did not
exist); certifiers and the operator may ask about one or all. Buyers have no reports.
The figures come from :mod:`ledger.reports`, the same code as ``greenledger report``.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlmodel import Session

from api.auth import principal, roles
from api.problems import problem
from api.service import service
from api.v1.paths import PREFIX, operation_id
from api.v1.responses import json_response
from ledger.domain.tables import Batch, Facility
from ledger.reports import Period, efficiency, green_share, recycled

bp = APIBlueprint("reports", __name__, url_prefix=f"{PREFIX}/reports",
                  abp_tags=[Tag(name="reports")], operation_id_callback=operation_id)


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    facility: str | None = Field(default=None, max_length=64,
                                 description="A facility id; required for producers")
    year: int | None = Field(default=None, ge=2000, le=2100,
                             description="Default: the latest production year in the ledger")
    month: int | None = Field(default=None, ge=1, le=12)


class ReportOut(BaseModel):
    """A report as ``ledger.reports`` writes it (schemas in sample_data/schemas/)."""

    model_config = ConfigDict(extra="allow")
    report: str
    period: dict[str, Any]
    facilities: list[dict[str, Any]]


def _run(query: ReportQuery, make: Any) -> Response:
    who = principal()
    with Session(service().engine) as session:
        if who.role == "producer":
            if query.facility is None:
                return problem(422, "invalid-input", "a producer names one of its facilities",
                               field="facility")
            row = session.get(Facility, query.facility)
            if row is None or row.owner != who.party:
                return problem(404, "not-found", f"no facility {query.facility!r}",
                               field="facility")
        elif query.facility is not None and session.get(Facility, query.facility) is None:
            return problem(404, "not-found", f"no facility {query.facility!r}", field="facility")
        year = query.year
        if year is None:
            last = session.scalar(select(func.max(Batch.period_end)))
            if last is None:
                return problem(404, "not-found", "the ledger holds no batches yet", field="year")
            year = int(last[:4])
        report = make(session, period=Period.of_year(year, query.month), facility=query.facility)
        return json_response(report.to_json())


@bp.get("/green-share", responses={200: ReportOut},
        summary="Green-electricity share (GEC-counted) and the gap to each target")
@roles("producer", "certifier", "operator")
def green_share_report(query: ReportQuery) -> Response:
    return _run(query, green_share)


@bp.get("/efficiency", responses={200: ReportOut},
        summary="Electricity per tonne against the benchmark and baseline levels")
@roles("producer", "certifier", "operator")
def efficiency_report(query: ReportQuery) -> Response:
    return _run(query, efficiency)


@bp.get("/recycled", responses={200: ReportOut},
        summary="Recycled input, its share and the shipments' claims on it")
@roles("producer", "certifier", "operator")
def recycled_report(query: ReportQuery) -> Response:
    return _run(query, recycled)
