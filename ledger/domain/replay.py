"""The audit's replay (DESIGN §3.3): rebuild every projection from the log alone, with the
same appliers that append uses, and compare with the stored tables.

Two kinds of finding come out of it:
- ``rule.<rule>``: an entry in the log breaks a domain rule when replayed in order (it was
  written behind the appliers' back, or the rules were bypassed), named with its ``seq``;
- ``projection.missing`` / ``projection.extra`` / ``projection.differs``: a stored row that
  the log does not explain (edited, inserted or deleted behind the log's back), named with
  its table, key and the entry that last wrote it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, create_engine, inspect, select
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel

from ledger import encoding
from ledger.audit import AuditReport, ExtraCheck, Finding
from ledger.domain import appliers
from ledger.domain.rules import Rules
from ledger.domain.tables import projections
from ledger.errors import GreenledgerError


def _rows(engine: Engine, model: type[SQLModel]) -> dict[tuple[Any, ...], dict[str, Any]]:
    table = model.__table__  # type: ignore[attr-defined]
    pk = [c.name for c in table.primary_key.columns]
    with engine.connect() as conn:
        out = {}
        for row in conn.execute(select(table)).mappings():
            out[tuple(row[k] for k in pk)] = dict(row)
        return out


def replay(engine: Engine, rules: Rules | None = None) -> tuple[Engine, list[Finding]]:
    """Replay the log of ``engine`` into a fresh in-memory database."""
    fresh = create_engine("sqlite://", poolclass=StaticPool)
    SQLModel.metadata.create_all(fresh, tables=[m.__table__ for m in projections()])  # type: ignore[attr-defined]
    table = appliers(rules)
    findings: list[Finding] = []
    with Session(engine) as source, Session(fresh) as target:
        rows = source.execute(
            select(*encoding_columns()).order_by("seq")).yield_per(5_000)
        for seq, text in rows:
            try:
                entry = encoding.parse_entry(text)
            except GreenledgerError as exc:
                findings.append(Finding("replay.entry", str(exc), seq))
                continue
            applier = table.get(entry.kind)
            if applier is None:
                continue
            savepoint = target.begin_nested()
            try:
                applier(target, entry)
                target.flush()
                savepoint.commit()
            except GreenledgerError as exc:
                savepoint.rollback()
                rule = getattr(exc, "rule", exc.code)
                findings.append(Finding(f"rule.{rule}", f"replaying {entry.kind}: {exc}", seq))
        target.commit()
    return fresh, findings


def encoding_columns() -> Any:
    from ledger.store.tables import LogEntry

    return LogEntry.__table__.c.seq, LogEntry.__table__.c.entry  # type: ignore[attr-defined]


def compare(stored: Engine, replayed: Engine) -> Iterable[Finding]:
    names = set(inspect(stored).get_table_names())
    for model in projections():
        table = model.__tablename__  # type: ignore[attr-defined]
        if table not in names:
            yield Finding("projection.table", "table missing from storage", None, table)
            continue
        have, want = _rows(stored, model), _rows(replayed, model)
        for key in sorted(want.keys() - have.keys(), key=repr):
            yield Finding("projection.missing", f"the log (seq {want[key]['seq']}) explains a "
                          "row that storage does not hold", want[key]["seq"], table, _key(key))
        for key in sorted(have.keys() - want.keys(), key=repr):
            yield Finding("projection.extra", "stored row that no entry of the log wrote",
                          None, table, _key(key))
        for key in sorted(have.keys() & want.keys(), key=repr):
            a, b = have[key], want[key]
            diff = sorted(c for c in b if _norm(a.get(c)) != _norm(b[c]))
            if diff:
                detail = ", ".join(f"{c}: stored {a.get(c)!r}, log says {b[c]!r}" for c in diff)
                yield Finding("projection.differs", detail, b["seq"], table, _key(key))


def _key(key: tuple[Any, ...]) -> str:
    return "/".join(str(k) for k in key)


def _norm(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


def replay_check(rules: Rules | None = None) -> ExtraCheck:
    """An ``audit`` extra check: replay, re-check every rule, compare projections."""

    def check(engine: Engine, report: AuditReport) -> list[Finding]:
        fresh, findings = replay(engine, rules)
        try:
            return [*findings, *compare(engine, fresh)]
        finally:
            fresh.dispose()

    return check
