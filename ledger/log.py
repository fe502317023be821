"""The append-only log in storage: appending under the lock, reading, proofs (DESIGN §3.2).

One writer at a time: a :class:`Writer` opens the transaction with the head row locked
(SQLite ``BEGIN IMMEDIATE``; PostgreSQL ``SELECT ... FOR UPDATE`` on ``log_head``), so any
number of processes on any number of hosts may append and the chain never forks, skips or
repeats a ``seq``. Within that one transaction the writer appends any number of entries (bulk
import), runs each entry kind's *applier* (which checks the domain rules and writes the
projection rows), stores the complete-subtree hashes the new leaves finish, and commits once.

Appliers are the single place where a kind's rules live: the same functions run on append
and on the audit's replay, so the audit re-checks exactly what append enforced.
"""

from __future__ import annotations

import functools
import itertools
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select
from sqlmodel import Session

from ledger import checkpoint, encoding, merkle
from ledger.errors import InputError, NotFound
from ledger.store.engine import is_sqlite
from ledger.store.tables import LogEntry, LogHead, StoredCheckpoint, TreeNode, node_id

#: an applier checks a new entry against the projections and writes its projection rows;
#: it raises RuleViolation / InputError to refuse the entry (nothing is then written).
Applier = Callable[[Session, encoding.Entry], None]


@dataclass(frozen=True)
class Appended:
    seq: int
    entry: str
    leaf_hash: bytes
    chain_hash: bytes


class Writer:
    """An open append transaction. Use :meth:`Log.writer`; never construct directly."""

    def __init__(self, session: Session, appliers: Mapping[str, Applier],
                 size: int, chain: bytes, frontier: list[tuple[int, bytes]],
                 isolate: bool = True) -> None:
        self.session = session
        #: run each applier in a savepoint, so that the writer can go on after a refusal
        self.isolate = isolate
        self._appliers = appliers
        self.size = size
        self._chain = chain
        self._frontier = frontier  # perfect subtrees on the right edge: (level, hash)
        self._entries: list[tuple[Any, ...]] = []
        self._nodes: list[tuple[int, bytes]] = []
        self.appended: list[Appended] = []

    def append(self, kind: str, actor: str, body: dict[str, Any], *,
               at: str | None = None, nonce: str | None = None) -> Appended:
        """Append one entry; its applier runs first and may refuse it.

        A refused entry leaves no trace: the applier's writes are rolled back to a savepoint
        and the writer can go on (each caller of a group commit gets its own violation).
        """
        entry = encoding.validate_entry_shape({
            "v": encoding.VERSION, "seq": self.size, "kind": kind,
            "at": at or encoding.now(), "actor": actor,
            "nonce": nonce or encoding.new_nonce(), "body": body,
        })
        data = entry.canonical()
        applier = self._appliers.get(kind)
        if applier is not None and not self.isolate:
            applier(self.session, entry)
            self.session.flush()
        elif applier is not None:
            savepoint = self.session.begin_nested()
            try:
                applier(self.session, entry)
                self.session.flush()
            except BaseException:
                savepoint.rollback()
                raise
            savepoint.commit()
        return self._record(entry, data)

    def append_prevalidated(self, kind: str, actor: str, body: dict[str, Any],
                            body_bytes: bytes | None = None) -> Appended:
        """Append without running the kind's applier: for bulk paths that checked the same
        rules set-wise and write the projection rows themselves (``ledger/domain/bulk.py``).
        The audit's replay re-checks every such entry with the applier. ``body_bytes``, when
        given, must be ``encoding.canonical_bytes(body)`` (computed in a worker process)."""
        entry = encoding.Entry(self.size, kind, encoding.now(), actor, encoding.new_nonce(), body)
        if body_bytes is None:
            return self._record(entry, entry.canonical())
        data = encoding.entry_bytes(entry.seq, kind, entry.at, actor, entry.nonce, body_bytes)
        return self._record(entry, data)

    def _record(self, entry: encoding.Entry, data: bytes) -> Appended:
        leaf = encoding.leaf_hash(data)
        self._chain = encoding.chain_hash(self._chain, leaf)
        text = data.decode("utf-8")
        self._entries.append((entry.seq, entry.kind, entry.actor, entry.at, text, leaf,
                              self._chain))
        extend_tree(self._frontier, self.size, leaf, self._nodes)
        self.size += 1
        done = Appended(entry.seq, text, leaf, self._chain)
        self.appended.append(done)
        return done

    def advance(self, size: int, chain: bytes, frontier: list[tuple[int, bytes]]) -> None:
        """Take over entries that a bulk path stored itself, in this transaction, from this
        writer's head: their rows (``log_entry``, ``tree_node``) are inserted, ``chain`` and
        ``frontier`` are the head after them, computed with :func:`extend_tree` exactly as
        :meth:`_record` does (``ledger/domain/bulk.py``). They are not in :attr:`appended`."""
        if size < self.size or self._entries:
            raise ValueError("advance() continues from the writer's head, with nothing buffered")
        self.size, self._chain, self._frontier = size, chain, list(frontier)

    def root(self) -> bytes:
        if not self._frontier:
            return merkle.EMPTY_ROOT
        return merkle.fold_right([h for _, h in self._frontier])

    def flush(self) -> None:
        """Write the buffered entries and nodes (the projections are already flushed)."""
        conn = self.session.connection()
        if self._entries:
            insert_rows(conn, "log_entry", ENTRY_COLUMNS, self._entries)
            insert_rows(conn, "tree_node", ("node_id", "hash"), self._nodes)
            self._entries, self._nodes = [], []
        conn.execute(_UPDATE_HEAD, {"size": self.size, "chain_hash": self._chain})

    def inclusion_proof(self, seq: int) -> list[bytes]:
        """Inclusion proof of ``seq`` in the tree as it stands in this transaction."""
        self.flush()
        return _range_hashes(self.session, merkle.inclusion_ranges(seq, self.size))

    def sign_checkpoint(self, signer: checkpoint.Signer, origin: str | None = None,
                        ) -> StoredCheckpoint:
        """Sign the tree as it stands in this transaction (committed with it, or not at all).
        Re-signing an already signed size returns the stored checkpoint."""
        existing = self.session.get(StoredCheckpoint, self.size)
        if existing is not None:
            return existing
        cp = checkpoint.Checkpoint(origin or signer.name, self.size, self.root())
        row = StoredCheckpoint(size=self.size, root=cp.root,
                               note=checkpoint.sign_checkpoint(cp, signer),
                               signed_at=encoding.now())
        self.session.add(row)
        self.session.flush()
        return row

    @property
    def head(self) -> tuple[int, bytes]:
        return self.size, self._chain

    @property
    def frontier(self) -> list[tuple[int, bytes]]:
        return list(self._frontier)


_LOG_HEAD = LogHead.__table__
#: the columns of a log_entry row, in the order writers buffer them
ENTRY_COLUMNS = ("seq", "kind", "actor", "at", "entry", "leaf_hash", "chain_hash")


def extend_tree(frontier: list[tuple[int, bytes]], index: int, leaf: bytes,
                nodes: list[tuple[int, bytes]]) -> None:
    """Put leaf ``index`` on the tree's right edge ``frontier`` (the perfect subtrees, as
    ``(level, hash)``) and add to ``nodes`` the ``(node_id, hash)`` of the leaf and of every
    subtree it completes."""
    nodes.append((node_id(0, index), leaf))
    frontier.append((0, leaf))
    end = index + 1
    while len(frontier) >= 2 and frontier[-1][0] == frontier[-2][0]:
        level, right = frontier.pop()
        _, left = frontier.pop()
        parent = merkle.hash_children(left, right)
        frontier.append((level + 1, parent))
        nodes.append((node_id(level + 1, (end >> (level + 1)) - 1), parent))


#: SQLite: parameters per multi-row INSERT at most (SQLite's default limit since 3.32; the
#: library's own limit, if lower, wins)
_SQLITE_PARAMS = 32766
#: SQLite: from this many rows on, insert_rows sends multi-row INSERTs
_SQLITE_MULTI_ROW = 64


def rows_per_insert(conn: Connection, width: int) -> int:
    """Rows per multi-row INSERT of ``width`` columns on SQLite (:func:`insert_rows`): the
    largest power of two whose parameters stay within the limit."""
    limit = conn.connection.dbapi_connection.getlimit(  # type: ignore[union-attr]
        sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return 1 << max(0, (min(limit, _SQLITE_PARAMS) // width).bit_length() - 1)


@functools.lru_cache(maxsize=256)
def _values_sql(head: str, one: str, n: int) -> str:
    return head + ", ".join([one] * n)


def insert_rows(conn: Connection, table: str, columns: Sequence[str],
                rows: Sequence[Sequence[Any]]) -> None:
    """Insert many rows with the driver itself: SQLAlchemy's per-row parameter processing
    costs more than the insert itself on bulk appends.

    On SQLite, many rows go as multi-row ``INSERT ... VALUES (...), (...)`` statements:
    SQLite inserts all of a statement's rows in one step, with Python's GIL released
    throughout (executemany takes it back after every row), so that a bulk import prepares
    its next rows in another thread meanwhile (``ledger/domain/bulk.py``). Each statement has
    :func:`rows_per_insert` rows, or a smaller power of two for the rest: a few statement
    shapes per table, which the driver prepares once and keeps."""
    if not rows:
        return
    width = len(columns)
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    one = f"({', '.join([mark] * width)})"
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "  # noqa: S608 - names are code constants
    if mark != "?" or len(rows) < _SQLITE_MULTI_ROW:
        conn.exec_driver_sql(head + one, list(rows))  # type: ignore[arg-type]
        return
    per, start, total = rows_per_insert(conn, width), 0, len(rows)
    while start < total:
        n = min(per, 1 << ((total - start).bit_length() - 1))
        conn.exec_driver_sql(_values_sql(head, one, n),
                             tuple(itertools.chain.from_iterable(rows[start:start + n])))
        start += n


_UPDATE_HEAD = (
    _LOG_HEAD.update().where(_LOG_HEAD.c.id == 1)
    .values(size=bindparam("size"), chain_hash=bindparam("chain_hash"))
)
_SELECT_HEAD = select(_LOG_HEAD.c.size, _LOG_HEAD.c.chain_hash).where(_LOG_HEAD.c.id == 1)


class Log:
    def __init__(self, engine: Engine, appliers: Mapping[str, Applier] | None = None) -> None:
        self.engine = engine
        self.appliers: dict[str, Applier] = dict(appliers or {})
        # the right edge of the tree after this process's last commit, keyed by the head it
        # belongs to; another process's append changes the head and invalidates it
        self._frontier_cache: tuple[int, bytes, list[tuple[int, bytes]]] | None = None

    # --- writing ---------------------------------------------------------------------------

    @contextmanager
    def writer(self, *, isolate: bool = True) -> Iterator[Writer]:
        """One append transaction holding the log's write lock until it commits.

        With ``isolate`` (the default) each entry's applier runs in a savepoint, so a refused
        entry leaves no trace and the writer goes on; without it, any refusal must end the
        transaction (the caller lets the exception propagate)."""
        opts = {"sqlite_begin": "IMMEDIATE"} if is_sqlite(self.engine) else {}
        with Session(self.engine, autoflush=True, expire_on_commit=False) as session:
            with session.begin():
                conn = session.connection(execution_options=opts)
                head = _SELECT_HEAD if is_sqlite(self.engine) else _SELECT_HEAD.with_for_update()
                size, chain = conn.execute(head).one()
                cached = self._frontier_cache
                if cached is not None and cached[0] == size and cached[1] == chain:
                    frontier = list(cached[2])
                else:
                    frontier = _frontier(session, size)
                w = Writer(session, self.appliers, size, chain, frontier, isolate)
                yield w
                w.flush()
            self._frontier_cache = (w.size, w.head[1], w.frontier)

    def append(self, kind: str, actor: str, body: dict[str, Any]) -> Appended:
        """Append one entry in its own transaction (a refusal rolls all of it back)."""
        with self.writer(isolate=False) as w:
            return w.append(kind, actor, body)

    def append_many(self, items: Iterable[tuple[str, str, dict[str, Any]]]) -> list[Appended]:
        """Append all items in one transaction: all of them, or (on any error) none."""
        with self.writer() as w:
            for kind, actor, body in items:
                w.append(kind, actor, body)
            return list(w.appended)

    # --- reading ---------------------------------------------------------------------------

    def size(self) -> int:
        with Session(self.engine) as s:
            return int(s.execute(select(LogHead.size).where(LogHead.id == 1)).scalar_one())

    def entries(self, start: int = 0, end: int | None = None) -> list[LogEntry]:
        with Session(self.engine) as s:
            q = select(LogEntry).where(LogEntry.seq >= start).order_by(LogEntry.seq)
            if end is not None:
                q = q.where(LogEntry.seq < end)
            return list(s.scalars(q))

    def entry(self, seq: int) -> LogEntry:
        with Session(self.engine) as s:
            row = s.get(LogEntry, seq)
            if row is None:
                raise NotFound(f"no entry with seq {seq}", field="seq")
            return row

    def root(self, size: int | None = None) -> bytes:
        with Session(self.engine) as s:
            size = self._checked_size(s, size)
            return _range_hashes(s, [(0, size)])[0] if size else merkle.EMPTY_ROOT

    def inclusion_proof(self, seq: int, size: int | None = None) -> list[bytes]:
        with Session(self.engine) as s:
            size = self._checked_size(s, size)
            if not 0 <= seq < size:
                raise InputError(f"seq {seq} is not in a tree of size {size}", field="seq")
            return _range_hashes(s, merkle.inclusion_ranges(seq, size))

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        with Session(self.engine) as s:
            second = self._checked_size(s, second)
            if not 0 < first <= second:
                raise InputError(f"need 0 < first <= second, got {first} and {second}",
                                 field="first")
            return _range_hashes(s, merkle.consistency_ranges(first, second))

    def _checked_size(self, s: Session, size: int | None) -> int:
        current = int(s.execute(select(LogHead.size).where(LogHead.id == 1)).scalar_one())
        if size is None:
            return current
        if not 0 <= size <= current:
            raise InputError(f"tree size {size} is outside 0..{current}", field="size")
        return size

    # --- checkpoints -----------------------------------------------------------------------

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        with Session(self.engine) as s:
            return s.scalars(
                select(StoredCheckpoint).order_by(StoredCheckpoint.size.desc()).limit(1)
            ).first()

    def checkpoint_at(self, size: int) -> StoredCheckpoint:
        with Session(self.engine) as s:
            row = s.get(StoredCheckpoint, size)
            if row is None:
                raise NotFound(f"no checkpoint of size {size}", field="size")
            return row

    def checkpoints(self) -> list[StoredCheckpoint]:
        with Session(self.engine) as s:
            return list(s.scalars(select(StoredCheckpoint).order_by(StoredCheckpoint.size)))


def _frontier(session: Session, size: int) -> list[tuple[int, bytes]]:
    nodes = merkle.perfect_subtrees(0, size)
    hashes = _node_hashes(session, nodes)
    return [(level, h) for (level, _), h in zip(nodes, hashes, strict=True)]


def _node_hashes(session: Session, nodes: Sequence[merkle.Node]) -> list[bytes]:
    if not nodes:
        return []
    ids = [node_id(level, index) for level, index in nodes]
    found = dict(session.execute(
        select(TreeNode.node_id, TreeNode.hash).where(TreeNode.node_id.in_(set(ids)))
    ).all())
    missing = [n for n, i in zip(nodes, ids, strict=True) if i not in found]
    if missing:
        raise NotFound(f"tree nodes missing from storage: {missing[:3]}")
    return [found[i] for i in ids]


def _range_hashes(session: Session, ranges: Sequence[merkle.Range]) -> list[bytes]:
    """MTH(D[a:b]) for each range, from stored perfect-subtree hashes in one query."""
    parts = [merkle.perfect_subtrees(a, b) for a, b in ranges]
    flat = _node_hashes(session, [n for p in parts for n in p])
    out, i = [], 0
    for p in parts:
        out.append(merkle.fold_right(flat[i:i + len(p)]))
        i += len(p)
    return out


def sign_checkpoint(log: Log, signer: checkpoint.Signer, origin: str | None = None,
                    ) -> StoredCheckpoint:
    """Sign the current head and store the checkpoint (one per tree size).

    Signing takes the log's write lock so that the size and root it signs are a state the
    log really had; re-signing an already signed size returns the stored checkpoint.
    """
    with log.writer() as w:
        return w.sign_checkpoint(signer, origin)


def store_cosigned(log: Log, size: int, note: str) -> StoredCheckpoint:
    """Replace a stored checkpoint's note by the same note with more cosignatures."""
    with log.writer() as w:
        row = w.session.get(StoredCheckpoint, size)
        if row is None:
            raise NotFound(f"no checkpoint of size {size}", field="size")
        old = checkpoint.parse_note(row.note)
        new = checkpoint.parse_note(note)
        signers = {(sig.name, sig.key_id) for sig in new.signatures}
        # every earlier signature stays, unless the same key signed again (a newer cosignature)
        dropped = [sig for sig in old.signatures
                   if sig not in new.signatures and (sig.name, sig.key_id) not in signers]
        if new.body != old.body or dropped or old.signatures[0] not in new.signatures:
            raise InputError("a cosigned note must keep the body, the operator's signature and "
                             "every other signer's line of the stored one", field="note")
        row.note = note
        w.session.add(row)
        w.session.flush()
        return row
