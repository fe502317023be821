"""What the PACT host serves: every issued declaration's payload, as a ProductFootprint.

Each issued declaration's PACT payload (``declaration_document.payload``, its RFC 8785 text)
is served as stored, except ``status``: ``Active`` while the declaration is valid,
``Deprecated`` once it is revoked or superseded (spec v3 index.md §Product Footprint
Lifecycle: after creation only ``status`` may change, to ``Deprecated``).

:class:`FootprintIndex` keeps, per process, the facets the filters need
(:mod:`api.pact.filters`) and who may see each footprint, ordered by the ``seq`` of the
``declaration.issued`` entry (the pagination key). It follows the ledger cheaply: each request
reads the log head (one row); only when the head moved does it read the ``declaration`` rows
written since (new ones, and revocations/supersessions, which rewrite ``seq``) and parse the
payloads of new ones. The payloads' bytes are kept per process up to a budget
(:class:`PayloadCache`, app config ``GREENLEDGER_PACT_CACHE_MB``, default 256).

Visibility is :func:`ledger.domain.visibility.readable` on ``Declaration``: a buyer's key sees
the declarations where its party is the buyer, a producer's those it issued, operators and
certifiers all; nobody else any.
"""

from __future__ import annotations

import bisect
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace

from sqlalchemy import Connection, LargeBinary, cast, select

from api.pact.filters import Criteria, Facets, facets, matches
from ledger.domain.tables import Declaration
from ledger.domain.visibility import READ_ALL_ROLES
from ledger.store.documents import DeclarationDocument
from ledger.store.tables import LogHead

_DECL = Declaration.__table__  # type: ignore[attr-defined]
_DOC = DeclarationDocument.__table__  # type: ignore[attr-defined]
_HEAD = LogHead.__table__  # type: ignore[attr-defined]
_LOAD_CHUNK = 500


def pact_status(declaration_status: str) -> str:
    return "Active" if declaration_status == "valid" else "Deprecated"


@dataclass(frozen=True)
class Item:
    order: int  # seq of the declaration.issued entry
    declaration_id: str
    issuer: str
    buyer: str
    status: str  # PACT status
    facets: Facets


def may_see(item: Item, party: str, role: str) -> bool:
    """The same rule as ``visibility.readable(Declaration, ...)``, on an index item."""
    if role in READ_ALL_ROLES:
        return True
    if role == "producer":
        return item.issuer == party
    if role == "buyer":
        return item.buyer == party
    return False


class FootprintIndex:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._head: int | None = None
        self._mark = -1  # highest declaration.seq seen
        self._items: dict[str, Item] = {}
        self._all: list[Item] = []
        self._by_buyer: dict[str, list[Item]] = {}
        self._by_issuer: dict[str, list[Item]] = {}

    # --- following the ledger -------------------------------------------------------------

    def refresh(self, conn: Connection) -> None:
        head = conn.execute(select(_HEAD.c.size).where(_HEAD.c.id == 1)).scalar()
        if head is not None and head == self._head:
            return
        with self._lock:
            if head is not None and head == self._head:
                return
            rows = conn.execute(
                select(_DECL.c.declaration_id, _DECL.c.issuer, _DECL.c.buyer, _DECL.c.status,
                       _DECL.c.issued_seq, _DECL.c.seq).where(_DECL.c.seq > self._mark)).all()
            new = [r for r in rows if r.declaration_id not in self._items]
            changed = False
            for r in rows:
                known = self._items.get(r.declaration_id)
                if known is not None and known.status != pact_status(r.status):
                    self._items[r.declaration_id] = replace(known, status=pact_status(r.status))
                    changed = True
            for start in range(0, len(new), _LOAD_CHUNK):
                chunk = {r.declaration_id: r for r in new[start:start + _LOAD_CHUNK]}
                for did, text in conn.execute(select(_DOC.c.declaration_id, _DOC.c.payload)
                                              .where(_DOC.c.declaration_id.in_(list(chunk)))):
                    r = chunk[did]
                    self._items[did] = Item(r.issued_seq, did, r.issuer, r.buyer,
                                            pact_status(r.status), facets(json.loads(text)))
                    changed = True
            if rows:
                self._mark = max(self._mark, max(r.seq for r in rows))
            if changed:
                self._rebuild()
            self._head = head

    def _rebuild(self) -> None:
        ordered = sorted(self._items.values(), key=lambda i: i.order)
        by_buyer: dict[str, list[Item]] = {}
        by_issuer: dict[str, list[Item]] = {}
        for item in ordered:
            by_buyer.setdefault(item.buyer, []).append(item)
            by_issuer.setdefault(item.issuer, []).append(item)
        self._all, self._by_buyer, self._by_issuer = ordered, by_buyer, by_issuer

    # --- reading ----------------------------------------------------------------------------

    def get(self, declaration_id: str) -> Item | None:
        return self._items.get(declaration_id)

    def last_order(self) -> int:
        items = self._all
        return items[-1].order if items else -1

    def _visible(self, party: str, role: str) -> list[Item]:
        if role in READ_ALL_ROLES:
            return self._all
        if role == "producer":
            return self._by_issuer.get(party, [])
        if role == "buyer":
            return self._by_buyer.get(party, [])
        return []

    def search(self, criteria: Criteria, *, party: str, role: str, after: int = -1,
               upto: int | None = None) -> Iterator[Item]:
        """The footprints a reader sees that meet ``criteria``, in order, with
        ``after < order <= upto``."""
        items = self._visible(party, role)
        start = bisect.bisect_right(items, after, key=lambda i: i.order)
        for item in items[start:]:
            if upto is not None and item.order > upto:
                return
            if criteria.empty or matches(criteria, item.facets, item.status):
                yield item

    def page(self, criteria: Criteria, *, party: str, role: str, limit: int, after: int = -1,
             upto: int | None = None) -> tuple[list[Item], bool]:
        """Up to ``limit`` items, and whether more remain."""
        out: list[Item] = []
        for item in self.search(criteria, party=party, role=role, after=after, upto=upto):
            if len(out) == limit:
                return out, True
            out.append(item)
        return out, False


class PayloadCache:
    """Stored payloads (UTF-8 bytes) by declaration id, up to a byte budget per process.

    A stored payload never changes (only the served ``status`` does, and that is applied after
    the cache), so nothing here goes stale. It saves reading ~1.4 MB from the database per page
    of 100; 10,000 footprints take ~140 MB. Past the budget, payloads are read every time."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self.used = 0
        self._data: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, declaration_id: str) -> bytes | None:
        return self._data.get(declaration_id)

    def put(self, declaration_id: str, data: bytes) -> None:
        if self.used + len(data) > self.budget:
            return
        with self._lock:
            if declaration_id not in self._data and self.used + len(data) <= self.budget:
                self._data[declaration_id] = data
                self.used += len(data)


def payload_texts(conn: Connection, items: list[Item], cache: PayloadCache | None = None
                  ) -> list[bytes]:
    """The served JSON (UTF-8 bytes) of each item, in order: the stored payload, with
    ``status`` rewritten for deprecated ones. Read as bytes (``CAST AS BLOB``): a page is ~1.4
    MB of text that would otherwise be decoded and encoded again for nothing."""
    found: dict[str, bytes] = {}
    missing = []
    for item in items:
        data = cache.get(item.declaration_id) if cache is not None else None
        if data is None:
            missing.append(item.declaration_id)
        else:
            found[item.declaration_id] = data
    if missing:
        query = select(_DOC.c.declaration_id, cast(_DOC.c.payload, LargeBinary)).where(
            _DOC.c.declaration_id.in_(missing))
        for did, data in conn.execute(query):
            found[did] = bytes(data)
            if cache is not None:
                cache.put(did, found[did])
    out = []
    for item in items:
        data = found[item.declaration_id]
        if item.status != "Active":
            doc = json.loads(data)
            doc["status"] = item.status
            data = json.dumps(doc, ensure_ascii=False, sort_keys=True,
                              separators=(",", ":")).encode("utf-8")
        out.append(data)
    return out
