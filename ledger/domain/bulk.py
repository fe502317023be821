"""Bulk registration of certificates: the rules of ``certificate.registered``, checked
set-wise, so a file of a million ranges imports in one pass (issue 3: ≤ 60 s for 1,000,000).

The per-entry applier checks one range against storage with an indexed look-up; doing that a
million times through the ORM costs ~2 ms a row. Here every row is parsed with the very same
:func:`parse_certificate`, then:
- serial uniqueness: the file's ranges are sorted per registry and block and scanned once for
  overlaps among themselves, and each block's ranges already in storage are read once and
  merged against them;
- one registry per plant-month: the pairs of the file against each other and against storage;
- owner role and actor: once per owner.
Refusals carry the same rules, fields and limits as the applier's, and a file is refused by
this path exactly when the appliers would refuse it (tested on random files). Which lines are
named can differ when one file breaks several rules that interact: the appliers see the rows
in file order, one at a time, while the overlap scan here compares ranges in serial order. A
refused file is never partly written, so the verdict is what counts. Rows are then appended as
entries (without re-running the applier) and their projection rows written with one
executemany per table. The audit's replay re-checks every entry with the applier, and a test
runs random files through both paths and compares refusals and projections.

A file that is taken whole goes faster (register_certificates_fast, below): precompiled
checks, entries written straight from the CSV cells, and the inserts (which release the GIL)
overlapping the preparing of the next rows in a helper thread. At the first row that might be
refused it gives up, and the file goes the way above, which names every refused row.
"""

from __future__ import annotations

import contextlib
import gc
import json
import queue
import sys
import threading
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ledger.domain.certificates import (
    ParsedCertificate,
    certificate_checker,
    overlap_violation,
    parse_certificate,
    registry_violation,
)
from ledger.domain.parties import require_actor, require_role
from ledger.domain.tables import Certificate, PlantMonth
from ledger.encoding import (
    Clock,
    Entry,
    canonical_bytes,
    chain_hash,
    entry_bytes,
    leaf_hash,
    new_nonces,
)
from ledger.errors import GreenledgerError
from ledger.importing import BOOL_CELLS
from ledger.log import ENTRY_COLUMNS, Writer, extend_tree, insert_rows, rows_per_insert

Row = tuple[int, str, dict[str, Any]]  # (line, actor, body)
#: a row ready to append: line, actor, body, what parsing found, the body's canonical bytes
Prepared = tuple[int, str, dict[str, Any], ParsedCertificate, bytes]


def prepare(rows: list[Row]) -> tuple[list[Prepared], list[tuple[int, str]]]:
    """Everything that needs no database: parse and check each body and encode it. Pure, so
    a bulk import runs it in worker processes."""
    ready: list[Prepared] = []
    refused: list[tuple[int, str]] = []
    for line, actor, body in rows:
        try:
            ready.append((line, actor, body, parse_certificate(body), canonical_bytes(body)))
        except GreenledgerError as exc:
            refused.append((line, str(exc)))
    return ready, refused


def _actor_check(session: Session, actor: str, owner: str, cache: dict) -> None:
    key = (actor, owner)
    if key not in cache:
        try:
            require_role(session, owner, "producer", field="owner")
            stub = Entry(0, "certificate.registered", "", actor, "", {})
            require_actor(session, stub, owner, field="owner")
            cache[key] = None
        except GreenledgerError as exc:
            cache[key] = exc
    if cache[key] is not None:
        raise cache[key]


def register_certificates(w: Writer, rows: list[Row] | None = None, *,
                          prepared: tuple[list[Prepared], list[tuple[int, str]]] | None = None,
                          ) -> list[tuple[int, str]]:
    r"""Check and append all rows (or rows already :func:`prepare`\ d); returns the refused
    ``(line, reason)`` (then the caller rolls the transaction back: nothing of a refused file
    is written)."""
    session = w.session
    ready, early = prepared if prepared is not None else prepare(rows or [])
    refused: dict[int, str] = dict(early)
    parsed: list[tuple[int, str, dict[str, Any], ParsedCertificate, bytes]] = []
    actors: dict = {}
    for item in ready:
        try:
            _actor_check(session, item[1], item[3].owner, actors)
            parsed.append(item)
        except GreenledgerError as exc:
            refused[item[0]] = str(exc)

    # serial uniqueness, within the file and against storage
    groups: dict[tuple[str, str], list[tuple[int, int, int, ParsedCertificate]]] = defaultdict(list)
    for line, _, _, p, _ in parsed:
        groups[(p.registry, p.rng.block)].append((p.rng.first_no, p.rng.last_no, line, p))
    for (registry, block), ranges in groups.items():
        ranges.sort(key=lambda r: (r[0], r[2]))
        stored = session.execute(
            select(Certificate.first_no, Certificate.last_no, Certificate.first, Certificate.last,
                   Certificate.certificate_id, Certificate.seq)
            .where(Certificate.registry_name == registry, Certificate.block == block)
            .order_by(Certificate.first_no)).all()
        starts = [r.first_no for r in stored]
        reach, reach_line, reach_p = -1, 0, None
        for first_no, last_no, line, p in ranges:
            if line in refused:
                continue
            i = bisect_right(starts, last_no) - 1
            if i >= 0 and stored[i].last_no >= first_no:
                s = stored[i]
                refused[line] = str(overlap_violation(p, s.first, s.last,
                                                      f"{s.certificate_id} (seq {s.seq})"))
            elif first_no <= reach and reach_p is not None:
                refused[line] = str(overlap_violation(
                    p, reach_p.row["first"], reach_p.row["last"], f"line {reach_line} of this file"))
            if last_no > reach:
                reach, reach_line, reach_p = last_no, line, p

    # one registry per plant-month
    plants = {item[3].plant for item in parsed}
    claims: dict[tuple[str, str], str] = {}
    for i in range(0, len(plants), 500):
        chunk = list(plants)[i:i + 500]
        for pm in session.scalars(select(PlantMonth).where(PlantMonth.plant.in_(chunk))):
            claims[(pm.plant, pm.month)] = pm.registry_name
    new_claims: dict[tuple[str, str], int] = {}
    for line, _, _, p, _ in sorted(parsed, key=lambda t: t[0]):
        if line in refused:
            continue
        key = (p.plant, p.generation)
        if key in claims and claims[key] != p.registry:
            refused[line] = str(registry_violation(p, claims[key]))
        elif key not in claims:
            claims[key] = p.registry
            new_claims[key] = line

    if refused:
        return sorted(refused.items())
    cert_rows, claim_rows = [], []
    claim_lines = {line: key for key, line in new_claims.items()}
    for line, actor, body, p, body_bytes in parsed:
        done = w.append_prevalidated("certificate.registered", actor, body, body_bytes)
        row = {**p.row, "seq": done.seq}
        row["registry"] = row.pop("registry_name")  # Core inserts name columns, not attributes
        cert_rows.append(row)
        if line in claim_lines:
            plant, month = claim_lines[line]
            claim_rows.append({"plant": plant, "month": month, "registry": p.registry,
                               "seq": done.seq})
    conn = session.connection()
    for table, rows in (("certificate", cert_rows), ("plant_month", claim_rows)):
        if rows:
            columns = tuple(rows[0])
            insert_rows(conn, table, columns, [tuple(r[c] for c in columns) for r in rows])
    return []


# --- the fast path: clean files --------------------------------------------------------------
#
# A file whose every row is taken needs no refusal messages, so it can go faster than the
# above: each CSV row is checked with precompiled checks (certificate_checker), its entry written
# straight from the cells, and entries, tree nodes and projection rows are inserted while the
# next rows are prepared in a helper thread. The first sign that some row might be refused
# (a row the fast checks do not take and parse_certificate refuses, an owner that may not
# register, an overlap, a plant-month claimed through another registry, a duplicate key on
# insert) abandons the attempt: the caller rolls the transaction back and imports the file
# with register_certificates above, which names every refused row. So a file is taken exactly
# when register_certificates takes it, with the same entries and projection rows, and refused
# with the same lines and reasons; only the time differs.

KIND = "certificate.registered"
#: rows prepared per chunk handed to the inserting thread
CHUNK_ROWS = 16_384
#: the interpreter's thread switch interval (s) while the two threads work
SWITCH_INTERVAL = 0.0001
#: the ``certificate`` columns of the rows the fast path inserts
CERT_COLUMNS = ("certificate_id", "registry", "block", "first", "last", "first_no", "last_no",
                "kwh", "allocated_kwh", "cancelled_kwh", "technology", "plant", "plant_province",
                "country", "generation_month", "expires_month", "tradable", "transfers", "owner",
                "evidence_ref", "evidence_sha256", "attested_by", "status", "seq")
_ROW_KEYS = tuple("registry_name" if c == "registry" else c for c in CERT_COLUMNS[:-1])
#: one JSON string, as ``json.dumps(s, ensure_ascii=False)`` (and so RFC 8785) writes it
_json_string = json.encoder.encode_basestring  # type: ignore[attr-defined]

#: ``(line, cells, row)``: the 13 cells of ``ledger.importing.COLUMNS["certificates"]`` in that
#: order, or ``None`` when the row is not that plain; ``row`` as ``convert`` takes it
Record = tuple[int, list[str] | None, Any]
#: a row to ``(actor, body)`` exactly as the import's per-row conversion does it
Convert = Callable[[Any], tuple[str, dict[str, Any]]]


class NotClean(Exception):
    """The fast path met a row that may be refused: import with register_certificates."""


def entry_text(seq: int, at: str, nonce: str, actor: str, registry: str, first: str, last: str,
               mwh: str, technology: str, plant: str, plant_province: str, country: str,
               generation_month: str, tradable: bool, owner: str, evidence_ref: str,
               evidence_sha256: str) -> str:
    """The canonical entry (RFC 8785) of a ``certificate.registered`` body of these fields,
    for values that a :func:`certificate_checker` took: written key by key in RFC 8785's order.
    The free-text fields go through the JSON string encoder; the others matched patterns of
    letters, digits and ``.-_:/`` (or are one of a fixed set), which JSON writes as they are.
    Equal to ``entry_bytes(..., canonical_bytes(body))`` (tests/ledger/domain/test_bulk_fast.py)."""
    return (f'{{"actor":{_json_string(actor)},"at":"{at}","body":{{"country":"{country}",'
            f'"evidence":{{"ref":{_json_string(evidence_ref)},"sha256":"{evidence_sha256}"}},'
            f'"first":"{first}","generation_month":"{generation_month}","last":"{last}",'
            f'"mwh":"{mwh}","owner":"{owner}","plant":{_json_string(plant)},'
            f'"plant_province":{_json_string(plant_province)},"registry":"{registry}",'
            f'"technology":"{technology}","tradable":{"true" if tradable else "false"}}},'
            f'"kind":"{KIND}","nonce":"{nonce}","seq":{seq},"v":1}}')


class _Run:
    """What the preparing thread found: the head after the file, and what the checks against
    storage need."""

    def __init__(self, size: int, chain: bytes, frontier: list[tuple[int, bytes]]) -> None:
        self.size, self.chain, self.frontier = size, chain, frontier
        #: (registry, block) -> the file's ranges (first_no, last_no), sorted, disjoint
        self.ranges: dict[tuple[str, str], list[tuple[int, int]]] = {}
        #: (plant, month) -> (registry, line, seq) of its first row (by line)
        self.claims: dict[tuple[str, str], tuple[str, int, int]] = {}
        #: (actor, owner) pairs
        self.actors: set[tuple[str, str]] = set()
        #: (registry, block, first_no, last_no) of the ranges registered before in the blocks
        #: of the file, read before the file's rows of each block are inserted
        self.stored: list[tuple[str, str, int, int]] = []
        self.error: BaseException | None = None


def _prepare(run: _Run, batches: Iterable[list[Record]], actor: str | None, convert: Convert,
             put: Callable[[Any], Any], stop: threading.Event) -> None:
    """Check, encode and hash the rows in chunks of entries, tree nodes and certificate rows,
    each handed to ``put``; then check the file's ranges against each other. Any doubt
    raises NotClean."""
    strip, bools, fast, clock = str.strip, BOOL_CELLS, certificate_checker(), Clock()
    seq, chain, frontier = run.size, run.chain, run.frontier
    ranges, claims, actors = run.ranges, run.claims, run.actors
    for batch in batches:
        if stop.is_set():
            raise NotClean
        entries: list[tuple[Any, ...]] = []
        nodes: list[tuple[int, bytes]] = []
        certs: list[tuple[Any, ...]] = []
        fresh: list[tuple[str, str]] = []  # the blocks met first in this chunk
        for (line, cells, row), nonce in zip(batch, new_nonces(len(batch)), strict=True):
            at = clock()
            got = None
            if cells is not None:
                (registry, first, last, mwh, technology, plant, province, country, month,
                 tradable, owner, ref, sha) = map(strip, cells)
                flag = bools.get(tradable.lower())
                if flag is not None:
                    got = fast(registry, first, last, mwh, technology, plant, province, country,
                               month, owner, ref, sha)
            if got is not None:
                block, first_no, last_no, kwh, expires = got
                who = actor or owner
                text = entry_text(seq, at, nonce, who, registry, first, last, mwh, technology,
                                  plant, province, country, month, flag, owner, ref, sha)
                certs.append((f"{registry}:{first}", registry, block, first, last, first_no,
                              last_no, kwh, 0, 0, technology, plant, province, country, month,
                              expires, flag, 0, owner, ref, sha, None, "active", seq))
            else:  # the per-row path: it takes the row after all, or it is refused
                try:
                    who, body = convert(row)
                    p = parse_certificate(body)
                    body_bytes = canonical_bytes(body)
                except Exception as exc:
                    raise NotClean from exc
                text = entry_bytes(seq, KIND, at, who, nonce, body_bytes).decode("utf-8")
                registry, block, first_no, last_no = (p.registry, p.rng.block, p.rng.first_no,
                                                      p.rng.last_no)
                plant, month, owner = p.plant, p.generation, p.owner
                certs.append((*(p.row[k] for k in _ROW_KEYS), seq))
            try:
                data = text.encode("utf-8")
            except UnicodeEncodeError as exc:  # a lone surrogate: refused by canonical_bytes
                raise NotClean from exc
            leaf = leaf_hash(data)
            chain = chain_hash(chain, leaf)
            entries.append((seq, KIND, who, at, text, leaf, chain))
            extend_tree(frontier, seq, leaf, nodes)
            spans = ranges.get((registry, block))
            if spans is None:
                spans = ranges[(registry, block)] = []
                fresh.append((registry, block))
            spans.append((first_no, last_no))
            claim = claims.get((plant, month))
            if claim is None or line < claim[1]:
                if claim is not None and claim[0] != registry:
                    raise NotClean
                claims[(plant, month)] = (registry, line, seq)
            elif claim[0] != registry:
                raise NotClean
            actors.add((who, owner))
            seq += 1
        put((entries, nodes, certs, fresh))
        run.size, run.chain = seq, chain
    for spans in ranges.values():
        spans.sort()
        reach = -1
        for first_no, last_no in spans:
            if first_no <= reach:
                raise NotClean
            reach = last_no


class _Inserter:
    """Inserts the chunks' rows in whole multi-row statements (``rows_per_insert``), keeping
    the rest of each table's rows for the next chunk: few statements, all of one shape, while
    the other thread prepares rows (each statement ends by taking the GIL back)."""

    TABLES = (("log_entry", ENTRY_COLUMNS), ("tree_node", ("node_id", "hash")),
              ("certificate", CERT_COLUMNS))

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.pending: list[list[Any]] = [[] for _ in self.TABLES]
        self.per = [rows_per_insert(conn, len(columns)) if conn.dialect.paramstyle == "qmark"
                    else 1 for _, columns in self.TABLES]

    def add(self, chunk: tuple[list[Any], list[Any], list[Any]] | None) -> None:
        """Insert a chunk's rows (``None``: the rest)."""
        for i, (table, columns) in enumerate(self.TABLES):
            rows = self.pending[i]
            if chunk is not None:
                rows.extend(chunk[i])
                cut = len(rows) - len(rows) % self.per[i]
            else:
                cut = len(rows)
            insert_rows(self.conn, table, columns, rows[:cut])
            self.pending[i] = rows[cut:]


def _read_stored(session: Session, run: _Run, fresh: list[tuple[str, str]], before: int) -> None:
    """Add to ``run.stored`` the ranges registered before (``seq < before``) in these blocks,
    whose rows of the file are not inserted yet."""
    blocks: dict[str, list[str]] = defaultdict(list)
    for registry, block in fresh:
        blocks[registry].append(block)
    for registry, names in blocks.items():
        for i in range(0, len(names), 500):
            run.stored.extend((registry, *r) for r in session.execute(
                select(Certificate.block, Certificate.first_no, Certificate.last_no)
                .where(Certificate.registry_name == registry,
                       Certificate.block.in_(names[i:i + 500]), Certificate.seq < before)))


def _check_storage(session: Session, run: _Run) -> list[tuple[Any, ...]]:
    """Check the file against what was registered before; return the plant-month claims to
    insert."""
    checked: dict = {}
    for who, owner in run.actors:
        try:
            _actor_check(session, who, owner, checked)
        except GreenledgerError as exc:
            raise NotClean from exc
    starts: dict[tuple[str, str], list[int]] = {}
    for registry, block, first_no, last_no in run.stored:
        spans = run.ranges[(registry, block)]  # sorted, disjoint
        if (registry, block) not in starts:
            starts[(registry, block)] = [s for s, _ in spans]
        k = bisect_right(starts[(registry, block)], last_no) - 1
        if k >= 0 and spans[k][1] >= first_no:
            raise NotClean
    new = dict(run.claims)
    plants = list({plant for plant, _ in run.claims})
    for i in range(0, len(plants), 500):
        for plant, month, registry in session.execute(
                select(PlantMonth.plant, PlantMonth.month, PlantMonth.registry_name)
                .where(PlantMonth.plant.in_(plants[i:i + 500]))):
            claim = new.pop((plant, month), None)
            if claim is not None and claim[0] != registry:
                raise NotClean
    return [(plant, month, registry, seq)
            for (plant, month), (registry, _, seq) in new.items()]


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection meanwhile (in the whole process). A million rows make
    millions of tuples, many alive until the end: the collector would go through all of them
    again and again (half the time of preparing the rows, measured). The imports make no
    reference cycles; reference counting frees everything they let go of."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


@paused_gc()
def register_certificates_fast(w: Writer, batches: Iterable[list[Record]], actor: str | None,
                               convert: Convert,
                               progress: Callable[[int], None] | None = None) -> int:
    """Append one ``certificate.registered`` entry per record (``batches`` of about
    ``CHUNK_ROWS``), with its projection rows, when every record is certainly taken; return
    how many. Raise :class:`NotClean` at the first doubt: the caller rolls the transaction
    back and uses :func:`register_certificates`. ``progress(n)``: n rows inserted so far."""
    session = w.session
    conn = session.connection()
    size, chain = w.head
    run = _Run(size, chain, w.frontier)
    stop = threading.Event()

    done = [0]

    def take(chunk: tuple[list[Any], list[Any], list[Any], list[tuple[str, str]]]) -> None:
        _read_stored(session, run, chunk[3], size)
        inserter.add(chunk[:3])
        done[0] += len(chunk[0])
        if progress is not None:
            progress(done[0])

    def prepare(put: Callable[[Any], Any]) -> None:
        try:
            _prepare(run, batches, actor, convert, put, stop)
        except BaseException as exc:
            run.error = exc
        finally:
            put(None)

    inserter = _Inserter(conn)
    try:
        if conn.dialect.name == "sqlite":
            # the inserts release the GIL (insert_rows): rows are prepared meanwhile
            chunks: queue.Queue[Any] = queue.Queue(maxsize=4)
            helper = threading.Thread(target=prepare, args=(chunks.put,),
                                      name="greenledger-import", daemon=True)
            # after each statement this thread waits for the GIL, by default until the
            # helper is made to let go of it, 5 ms later
            interval = sys.getswitchinterval()
            sys.setswitchinterval(min(interval, SWITCH_INTERVAL))
            helper.start()
            try:
                while (chunk := chunks.get()) is not None:
                    take(chunk)
            finally:
                stop.set()
                while helper.is_alive():
                    with contextlib.suppress(queue.Empty):
                        chunks.get(timeout=0.05)
                helper.join()
                sys.setswitchinterval(interval)
        else:
            prepare(lambda chunk: chunk is not None and take(chunk))
        if run.error is not None:
            raise run.error
        inserter.add(None)
        claims = _check_storage(session, run)
    except IntegrityError as exc:  # a serial or certificate id that is already registered
        raise NotClean from exc
    insert_rows(conn, "plant_month", ("plant", "month", "registry", "seq"), claims)
    w.advance(run.size, run.chain, run.frontier)
    return run.size - size
