"""``/api/v1/log``: the log's public structure (DESIGN §7, §9).

Public, no key: the latest signed checkpoint (text, verbatim, with its cosignatures), the
leaf and chain hashes of entries, inclusion and consistency proofs (RFC 9162 §2.1.3-2.1.4).
With a key, ``/log/entries`` also carries the canonical text (and kind) of the entries that
key may read (:func:`ledger.domain.visibility.may_read_entry`); other entries keep only
their hashes, which reveal nothing (each entry has a 16-byte random nonce).
"""

from __future__ import annotations

from flask import Response
from flask_openapi3 import APIBlueprint, Tag
from sqlmodel import Session

from api.auth import optional_principal, public
from api.problems import ApiProblem
from api.schemas.log import (
    ConsistencyProof,
    ConsistencyQuery,
    EntriesPage,
    EntriesQuery,
    EntryOut,
    InclusionProof,
    InclusionQuery,
)
from api.service import service
from api.v1.paths import PREFIX, operation_id
from api.v1.responses import json_response, link_header, next_url
from ledger.domain.visibility import may_read_entry
from ledger.encoding import parse_entry
from ledger.errors import InputError

bp = APIBlueprint("log", __name__, url_prefix=f"{PREFIX}/log", abp_tags=[Tag(name="log")],
                  operation_id_callback=operation_id)
#: entries per answer of /log/entries
MAX_ENTRIES = 1000


def text_plain(description: str) -> dict[str, object]:
    return {"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}}


@bp.get("/checkpoint", responses={200: text_plain("the latest signed checkpoint note (C2SP "
                                                  "tlog-checkpoint), verbatim")},
        summary="The latest signed checkpoint, with its cosignatures")
@public
def get_checkpoint() -> Response:
    row = service().log.latest_checkpoint()
    if row is None:
        raise ApiProblem(404, "not-found", "no checkpoint has been signed yet")
    return Response(row.note, mimetype="text/plain")


@bp.get("/entries", responses={200: EntriesPage},
        summary="Leaf and chain hashes of entries; with a key, the entries it may read")
@public
def list_entries(query: EntriesQuery) -> Response:
    log = service().log
    size = log.size()
    stop = size if query.end is None else min(query.end, size)
    page_end = max(query.start, min(stop, query.start + MAX_ENTRIES))
    rows = log.entries(query.start, page_end) if query.start < page_end else []
    reader = optional_principal()
    out = []
    with Session(service().engine) as session:
        for row in rows:
            item = EntryOut(seq=row.seq, leaf_hash=bytes(row.leaf_hash).hex(),
                            chain_hash=bytes(row.chain_hash).hex(), kind=None, entry=None)
            if reader is not None:
                entry = parse_entry(row.entry)
                if may_read_entry(entry, party=reader.party, role=reader.role, session=session):
                    item.kind, item.entry = row.kind, row.entry
            out.append(item)
    url = next_url(start=page_end, end=query.end) if page_end < stop else None
    page = EntriesPage(size=size, entries=out, next=url).model_dump_json(exclude_none=True)
    return Response(page, mimetype="application/json", headers=link_header(url))


@bp.get("/proof/inclusion", responses={200: InclusionProof},
        summary="Inclusion proof of an entry in a tree size (RFC 9162 §2.1.3)")
@public
def inclusion_proof(query: InclusionQuery) -> Response:
    log = service().log
    size = query.size if query.size is not None else log.size()
    proof = log.inclusion_proof(query.seq, size)
    leaf = bytes(log.entry(query.seq).leaf_hash)
    return json_response(InclusionProof(seq=query.seq, size=size, leaf_hash=leaf.hex(),
                                        root=log.root(size).hex(),
                                        proof=[p.hex() for p in proof]))


@bp.get("/proof/consistency", responses={200: ConsistencyProof},
        summary="Consistency proof between two tree sizes (RFC 9162 §2.1.4)")
@public
def consistency_proof(query: ConsistencyQuery) -> Response:
    log = service().log
    current = log.size()
    second = query.second if query.second is not None else current
    if second > current:
        raise InputError(f"tree size {second} is beyond the log's size {current}", field="second")
    if query.first > second:
        raise InputError(f"first ({query.first}) must not exceed second ({second})", field="first")
    proof = log.consistency_proof(query.first, second)
    return json_response(ConsistencyProof(first=query.first, second=second,
                                          proof=[p.hex() for p in proof]))
