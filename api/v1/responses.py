"""Reading projections for a caller: keyset-paginated lists and single items, both filtered
by :func:`ledger.domain.visibility.readable`, so a list never holds a row its item look-up
would hide, and an item the caller may not read is a 404 like one that does not exist.

Pages are ordered by id; ``after`` is the last id of the previous page (a keyset cursor:
stable while rows are appended, no offsets). The next page's URL is both ``next`` in the body
and ``Link: <...>; rel="next"`` (RFC 8288).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from flask import Response, request
from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import Session

from api.auth import principal
from api.schemas.common import ListQuery
from api.service import service
from ledger.domain.visibility import readable
from ledger.errors import NotFound


def json_response(data: BaseModel | dict[str, Any], status: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    """A JSON response (UTF-8, not ASCII-escaped) from a model or plain data."""
    if isinstance(data, BaseModel):
        text = data.model_dump_json()
    else:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    response = Response(text, status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def next_url(**params: Any) -> str:
    return f"{request.path}?{urlencode({k: v for k, v in params.items() if v is not None})}"


def link_header(url: str | None) -> dict[str, str]:
    return {"Link": f'<{url}>; rel="next"'} if url else {}


def primary_key(model: type) -> Any:
    (column,) = list(model.__table__.primary_key.columns)  # type: ignore[attr-defined]
    return column


def list_page(model: type, query: ListQuery, page_model: type[BaseModel],
              present: Callable[[Session, Sequence[Any]], list[BaseModel]]) -> Response:
    """One page of the ``model`` rows the caller may read."""
    who = principal()
    pk = primary_key(model)
    stmt: Any = select(model).where(readable(model, party=who.party, role=who.role))
    if query.after is not None:
        stmt = stmt.where(pk > query.after)
    stmt = stmt.order_by(pk).limit(query.limit + 1)
    with Session(service().engine) as session:
        rows = list(session.scalars(stmt))
        more = len(rows) > query.limit
        rows = rows[:query.limit]
        items = present(session, rows)
    url = next_url(limit=query.limit, after=getattr(rows[-1], pk.key)) if more and rows else None
    return json_response(page_model(items=items, next=url), headers=link_header(url))


def visible_row(session: Session, model: type, key: str, *, field: str, label: str) -> Any:
    """The row the caller may read, or NotFound (the same whether it is hidden or absent)."""
    who = principal()
    pk = primary_key(model)
    row = session.scalars(select(model).where(
        pk == key, readable(model, party=who.party, role=who.role))).first()
    if row is None:
        raise NotFound(f"no {label} {key!r}", field=field)
    return row


def item(model: type, key: str, present: Callable[[Session, Any], BaseModel], *, field: str,
         label: str) -> Response:
    with Session(service().engine) as session:
        row = visible_row(session, model, key, field=field, label=label)
        return json_response(present(session, row))
