"""The audit (DESIGN §3.3): recompute everything from the entry bytes and name every break.

What it checks, each finding carrying the rule, the ``seq`` (or table key) and what broke:
- ``entry.*``: each stored entry text is valid, RFC 8785 canonical, its envelope ``seq``
  equals its row, and the row's ``kind``/``actor``/``at`` columns say what the entry says;
- ``chain.*``: seqs run 0..n-1 with no gap or repeat; leaf hash = SHA-256(0x00 || bytes);
  chain hash = SHA-256(previous || leaf); the head row holds the last ones;
- ``tree.*``: every stored complete-subtree hash equals the one recomputed from the leaves,
  none is missing or extra (proofs are served from these);
- ``checkpoint.*``: every stored checkpoint is signed by a trusted operator key, its root is
  the recomputed root at its size, consecutive ones are consistent (with a proof generated
  from storage and verified with the pure verifier), cosignatures by known certifiers verify;
- ``witness.*``: checkpoints kept *outside* this database (a certifier's saved cosigned
  checkpoints, a buyer's declaration) still match: the log has not shrunk, and its root at
  that size is the one signed then. This is what catches a consistent rewrite of the whole
  log under a new key.
Domain checks (replaying projections, re-checking rules) plug in through ``extra_checks``.
Nothing is "probably fine": the audit passes or lists every break.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import rfc8785
from sqlalchemy import Engine, select
from sqlmodel import Session

from ledger import checkpoint as notes
from ledger import encoding, merkle, verify
from ledger.errors import GreenledgerError
from ledger.log import Log
from ledger.store.tables import NODE_INDEX_BITS, LogHead, StoredCheckpoint

#: findings kept per rule; past it the report says how many more there were
MAX_PER_RULE = 20


@dataclass(frozen=True)
class Finding:
    rule: str
    detail: str
    seq: int | None = None
    table: str = "log_entry"
    key: str | None = None

    def line(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else f"{self.table} {self.key or ''}"
        return f"{self.rule} at {where.strip()}: {self.detail}"


@dataclass
class AuditReport:
    size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    checkpoints: int = 0
    witnessed: int = 0
    findings: list[Finding] = field(default_factory=list)
    suppressed: dict[str, int] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.findings

    def add(self, finding: Finding) -> None:
        same = sum(1 for f in self.findings if f.rule == finding.rule)
        if same >= MAX_PER_RULE:
            self.suppressed[finding.rule] = self.suppressed.get(finding.rule, 0) + 1
        else:
            self.findings.append(finding)

    def to_json(self) -> dict[str, Any]:
        return {"clean": self.clean, "size": self.size, "root": self.root.hex(),
                "checkpoints": self.checkpoints, "witnessed": self.witnessed,
                "findings": [asdict(f) for f in self.findings],
                "suppressed": self.suppressed}


ExtraCheck = Callable[[Engine, AuditReport], Iterable[Finding]]
Progress = Callable[[int, int], None]


def _is_canonical(text: str, obj: Any) -> bool:
    # Fast path: for integer-only JSON with ASCII keys, sorted json.dumps equals RFC 8785.
    if json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True) == text:
        return True
    return rfc8785.dumps(obj).decode("utf-8") == text


#: entries per chunk of the parallel scan; smaller logs are scanned in-process
CHUNK = 131_072


@dataclass
class _Chunk:
    begin: int
    end: int
    leaves: bytes = b""  # concatenated 32-byte leaf hashes, in seq order
    last_seq: int = -1
    last_chain: bytes = encoding.ZERO_HASH
    findings: list[Finding] = field(default_factory=list)


def _raw_rows(engine: Engine, sql: str, params: tuple[Any, ...]) -> Iterable[tuple[Any, ...]]:
    """Stream rows through the DB-API cursor (server-side on PostgreSQL)."""
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            cur = raw.driver_connection.cursor(name="greenledger_audit")  # type: ignore[union-attr]
            sql = sql.replace("?", "%s")
        else:
            cur = raw.cursor()
        cur.execute(sql, params)
        while batch := cur.fetchmany(20_000):
            yield from batch
        cur.close()
    finally:
        raw.close()


def _scan_chunk(engine: Engine, begin: int, end: int) -> _Chunk:
    """Check entries with begin <= seq < end. Each chain link is checked against the stored
    chain hash before it, so a break is reported once, where it is, and chunks are
    independent (the links together cover the whole chain)."""
    out = _Chunk(begin, end)
    leaves = bytearray()
    prev_chain = encoding.ZERO_HASH
    if begin > 0:
        for (value,) in _raw_rows(engine, "SELECT chain_hash FROM log_entry WHERE seq = ?",
                                  (begin - 1,)):
            prev_chain = bytes(value)
    expected = begin
    add = out.findings.append
    rows = _raw_rows(engine, "SELECT seq, kind, actor, at, entry, leaf_hash, chain_hash "
                     "FROM log_entry WHERE seq >= ? AND seq < ? ORDER BY seq", (begin, end))
    for seq, kind, actor, at, text, stored_leaf, stored_chain in rows:
        if seq != expected:
            add(Finding("chain.seq-gap", f"expected seq {expected}, found {seq}", seq))
            expected = seq
        data = text.encode("utf-8")
        try:
            obj = json.loads(text)
            envelope = encoding.validate_entry_shape(obj)
            if not _is_canonical(text, obj):
                add(Finding("entry.canonical", "entry text is not RFC 8785 canonical", seq))
            if envelope.seq != seq:
                add(Finding("entry.seq", f"entry says seq {envelope.seq}", seq))
            for column, stored, inside in (("kind", kind, envelope.kind),
                                           ("actor", actor, envelope.actor),
                                           ("at", at, envelope.at)):
                if stored != inside:
                    add(Finding("entry.column", f"column {column}={stored!r} but the entry "
                                f"says {inside!r}", seq))
        except (ValueError, GreenledgerError) as exc:
            add(Finding("entry.invalid", f"entry is not a valid entry: {exc}", seq))
        leaf = encoding.leaf_hash(data)
        if bytes(stored_leaf) != leaf:
            add(Finding("chain.leaf-hash", "stored leaf hash is not SHA-256(0x00 || entry)", seq))
        stored_chain = bytes(stored_chain)
        if encoding.chain_hash(prev_chain, leaf) != stored_chain:
            add(Finding("chain.chain-hash", "chain hash is not SHA-256(previous chain hash || "
                        "leaf hash of this entry)", seq))
        prev_chain = stored_chain
        leaves += leaf
        expected += 1
        out.last_seq = seq
    out.leaves = bytes(leaves)
    out.last_chain = prev_chain
    return out


def _scan_chunk_in_worker(url: str, begin: int, end: int) -> _Chunk:
    from ledger.store.engine import make_engine

    engine = make_engine(url)
    try:
        return _scan_chunk(engine, begin, end)
    finally:
        engine.dispose()


def _check_entries(engine: Engine, report: AuditReport, progress: Progress | None,
                   workers: int) -> list[bytes]:
    """Scan all entries; returns the recomputed leaf hashes in seq order."""
    with engine.connect() as conn:
        head = conn.execute(select(LogHead.size, LogHead.chain_hash)).one()
        max_seq = conn.exec_driver_sql("SELECT MAX(seq) FROM log_entry").scalar()
    last = max(head.size, (max_seq + 1) if max_seq is not None else 0)
    bounds = [(b, min(b + CHUNK, last)) for b in range(0, last, CHUNK)]
    url = engine.url.render_as_string(hide_password=False)
    in_memory = engine.url.database in (None, "", ":memory:")
    chunks: list[_Chunk] = []
    if workers > 1 and len(bounds) > 1 and not in_memory:
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(workers) as pool:
            pending = [pool.apply_async(_scan_chunk_in_worker, (url, b, e)) for b, e in bounds]
            for job in pending:
                chunks.append(job.get())
                if progress:
                    progress(chunks[-1].end, last)
    else:
        for b, e in bounds:
            chunks.append(_scan_chunk(engine, b, e))
            if progress:
                progress(e, last)
    leaves: list[bytes] = []
    last_chain = encoding.ZERO_HASH
    for chunk in chunks:
        for finding in chunk.findings:
            report.add(finding)
        n = len(chunk.leaves) // 32
        if n < chunk.end - chunk.begin and chunk.last_seq < chunk.end - 1:
            report.add(Finding("chain.seq-gap", f"entries {chunk.last_seq + 1}.."
                               f"{chunk.end - 1} are missing", chunk.last_seq + 1))
        leaves.extend(chunk.leaves[i:i + 32] for i in range(0, len(chunk.leaves), 32))
        if n:
            last_chain = chunk.last_chain
    if head.size != len(leaves):
        report.add(Finding("chain.head-size", f"head says {head.size} entries, the log holds "
                           f"{len(leaves)}", None, "log_head", "1"))
    elif bytes(head.chain_hash) != last_chain:
        report.add(Finding("chain.head-hash", "head chain hash differs from the last entry's",
                           None, "log_head", "1"))
    return leaves


def _tree_levels(leaves: list[bytes]) -> list[list[bytes]]:
    levels = [leaves]
    while len(levels[-1]) > 1:
        prev = levels[-1]
        levels.append([merkle.hash_children(prev[i], prev[i + 1])
                       for i in range(0, len(prev) - 1, 2)])
    return levels


def _root_at(levels: list[list[bytes]], size: int) -> bytes:
    if size == 0:
        return merkle.EMPTY_ROOT
    return merkle.fold_right([levels[lv][ix] for lv, ix in merkle.perfect_subtrees(0, size)])


def _check_tree(engine: Engine, levels: list[list[bytes]], report: AuditReport) -> None:
    mask = (1 << NODE_INDEX_BITS) - 1
    seen = 0
    for node, value in _raw_rows(engine, "SELECT node_id, hash FROM tree_node "
                                 "ORDER BY node_id", ()):
        level, index = node >> NODE_INDEX_BITS, node & mask
        key = f"level {level} index {index}"
        if level >= len(levels) or index >= len(levels[level]):
            report.add(Finding("tree.extra-node", "stored node covers leaves the log does "
                               "not hold", None, "tree_node", key))
            continue
        seen += 1
        if bytes(value) != levels[level][index]:
            report.add(Finding("tree.node-hash", "stored subtree hash differs from the "
                               "one recomputed from the entries",
                               index if level == 0 else None, "tree_node", key))
    expected = sum(len(level) for level in levels) if levels[0] else 0
    if seen != expected:
        report.add(Finding("tree.missing-node", f"{expected - seen} complete subtree hashes "
                           "are missing from storage", None, "tree_node", None))


def _check_checkpoints(engine: Engine, levels: list[list[bytes]], report: AuditReport,
                       operator_keys: Sequence[notes.Verifier],
                       certifier_keys: Sequence[notes.Verifier]) -> None:
    size = len(levels[0])
    with Session(engine) as s:
        stored = list(s.scalars(select(StoredCheckpoint).order_by(StoredCheckpoint.size)))
    log = Log(engine)
    previous: tuple[int, bytes] | None = None
    for row in stored:
        key = f"size {row.size}"
        report.checkpoints += 1
        cp = _open(row.note, operator_keys, report, "checkpoint", key)
        if cp is None:
            continue
        if cp.size != row.size or cp.root != bytes(row.root):
            report.add(Finding("checkpoint.row", "note and row disagree on size or root",
                               None, "checkpoint", key))
        if cp.size > size:
            report.add(Finding("checkpoint.beyond-log", f"signed for {cp.size} entries, the log "
                               f"holds {size}", None, "checkpoint", key))
            continue
        if cp.root != _root_at(levels, cp.size):
            report.add(Finding("checkpoint.root", "signed root differs from the root "
                               "recomputed from the entries", None, "checkpoint", key))
            continue
        for cosigner in certifier_keys:
            if any(line.name == cosigner.name for line in notes.parse_note(row.note).signatures):
                try:
                    notes.verify_cosignature(row.note, cosigner)
                except GreenledgerError as exc:
                    report.add(Finding("checkpoint.cosignature", str(exc), None,
                                       "checkpoint", key))
        if previous is not None and previous[0] > 0:
            try:
                proof = log.consistency_proof(previous[0], cp.size)
                verify.verify_consistency(previous[0], cp.size, previous[1], cp.root, proof)
            except GreenledgerError as exc:
                report.add(Finding("checkpoint.consistency", f"not consistent with the "
                                   f"checkpoint of size {previous[0]}: {exc}", None,
                                   "checkpoint", key))
        previous = (cp.size, cp.root)


def _open(text: str, operator_keys: Sequence[notes.Verifier], report: AuditReport,
          table: str, key: str) -> notes.Checkpoint | None:
    errors = []
    for verifier in operator_keys:
        try:
            return notes.open_checkpoint(text, verifier)
        except GreenledgerError as exc:
            errors.append(str(exc))
    report.add(Finding(f"{table}.signature", "not signed by a trusted operator key: "
                       + "; ".join(errors or ["no trusted operator key given"]),
                       None, table, key))
    return None


def _check_witnessed(levels: list[list[bytes]], report: AuditReport,
                     operator_keys: Sequence[notes.Verifier], witnessed: Sequence[str]) -> None:
    size = len(levels[0])
    for i, text in enumerate(witnessed):
        report.witnessed += 1
        key = f"#{i + 1}"
        cp = _open(text, operator_keys, report, "witness", key)
        if cp is None:
            continue
        if cp.size > size:
            report.add(Finding("witness.rollback", f"a checkpoint of size {cp.size} was signed "
                               f"earlier; the log now holds only {size}", None, "witness", key))
        elif cp.root != _root_at(levels, cp.size):
            report.add(Finding("witness.fork", f"the log's first {cp.size} entries no longer "
                               "have the root signed earlier: history was rewritten", None,
                               "witness", key))


def audit(engine: Engine, *, operator_keys: Sequence[notes.Verifier],
          certifier_keys: Sequence[notes.Verifier] = (), witnessed: Sequence[str] = (),
          extra_checks: Sequence[ExtraCheck] = (), progress: Progress | None = None,
          workers: int = 2) -> AuditReport:
    report = AuditReport()
    leaves = _check_entries(engine, report, progress, workers)
    levels = _tree_levels(leaves)
    report.size = len(leaves)
    report.root = _root_at(levels, len(leaves))
    _check_tree(engine, levels, report)
    _check_checkpoints(engine, levels, report, operator_keys, certifier_keys)
    _check_witnessed(levels, report, operator_keys, witnessed)
    for check in extra_checks:
        for finding in check(engine, report):
            report.add(finding)
    return report
