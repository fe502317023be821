"""CSV files to log entries: ``greenledger import`` and the demo scenario.

The column formats are those of ``sample_data/README.md`` (also in the project README).
Cells with several items use a small syntax: items separated by ``;``, fields by ``:``, e.g.
``coal:7068 t;natural_gas:1934400 m3`` (fuels), ``CO2:19089600;CF4:236.2`` (process
emissions in kg), ``batch:AO-2025-01:23678;factor:material_bauxite:64976 t`` (inputs).

A file is taken whole or not at all: every row is converted and appended inside one
transaction, each in a savepoint so that *every* refused row is reported (line and reason);
if any row is refused the transaction is rolled back and nothing is written.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, overload

from sqlalchemy import select
from sqlmodel import Session

from ledger.domain.tables import Certificate, Facility
from ledger.errors import GreenledgerError, InputError
from ledger.log import Log

KINDS = ("parties", "facilities", "certificates", "vouchers", "batches", "allocations",
         "shipments")
COLUMNS: dict[str, tuple[str, ...]] = {
    "parties": ("party_id", "name", "roles", "uscc"),
    "facilities": ("facility_id", "owner", "name", "province", "grid_region", "country",
                   "process"),
    "certificates": ("registry", "first", "last", "mwh", "technology", "plant", "plant_province",
                     "country", "generation_month", "tradable", "owner", "evidence_ref",
                     "evidence_sha256"),
    "vouchers": ("issuer", "number", "facility", "period_start", "period_end", "mwh", "technology",
                 "certificate_first", "certificate_last", "evidence_sha256"),
    "batches": ("lot", "facility", "product", "metal", "grade", "cn_code", "tonnes",
                "period_start", "period_end", "electricity_mwh", "fuels", "process_emissions",
                "inputs", "recycled_tonnes", "recycled_origin"),
    "allocations": ("certificate_first", "first", "last", "mwh", "batch", "beneficiary"),
    "shipments": ("shipment_id", "seller", "buyer", "date", "destination_country", "lines"),
}
MAX_FILE_BYTES = 512 * 1024 * 1024


class ImportRefused(GreenledgerError):
    """Rows were refused; nothing was written."""

    code = "import-refused"

    def __init__(self, refused: list[tuple[int, str]]) -> None:
        super().__init__(f"{len(refused)} row(s) refused; nothing was written")
        self.refused = refused


@dataclass
class ImportReport:
    kind: str
    taken: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    refused: list[tuple[int, str]] = field(default_factory=list)


def _items(cell: str, column: str) -> Iterator[list[str]]:
    for i, raw in enumerate(p for p in (cell or "").split(";") if p.strip()):
        parts = [x.strip() for x in raw.split(":")]
        if len(parts) < 2 or not all(parts):
            raise InputError(f"item {i + 1} {raw!r} is not 'name:value'", field=column)
        yield parts


def _amount_unit(text: str, column: str) -> tuple[str, str]:
    m = re.fullmatch(r"(-?[0-9]+(?:\.[0-9]+)?)\s*([A-Za-z0-9]+)?", text)
    if not m:
        raise InputError(f"{text!r} is not 'AMOUNT UNIT' like '1200 t'", field=column)
    return m.group(1), m.group(2) or "t"


def parse_fuels(cell: str) -> list[dict[str, str]]:
    out = []
    for parts in _items(cell, "fuels"):
        amount, unit = _amount_unit(parts[1], "fuels")
        out.append({"fuel": parts[0], "amount": amount, "unit": unit})
    return out


def parse_process_emissions(cell: str) -> list[dict[str, str]]:
    return [{"gas": p[0], "kg": p[1]} for p in _items(cell, "process_emissions")]


def parse_inputs(cell: str) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for parts in _items(cell, "inputs"):
        if len(parts) != 3:
            raise InputError(f"input {':'.join(parts)!r} is not 'kind:ref:amount'", field="inputs")
        kind, ref, amount = parts
        value, unit = _amount_unit(amount, "inputs")
        if kind == "factor":
            out.append({"kind": "factor", "ref": ref, "amount": value, "unit": unit})
        elif kind in ("batch", "pact"):
            if unit != "t":
                raise InputError(f"{kind} inputs are in tonnes, got {unit!r}", field="inputs")
            out.append({"kind": kind, "ref": ref, "tonnes": value})
        else:
            raise InputError(f"input kind {kind!r}; allowed: batch, factor, pact", field="inputs")
    return out


def parse_lines(cell: str) -> list[dict[str, str]]:
    return [{"batch": p[0], "tonnes": _amount_unit(p[1], "lines")[0]} for p in _items(cell, "lines")]


#: boolean cells, lower-cased (also read by the fast certificate import, ledger/domain/bulk.py)
BOOL_CELLS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def _bool(text: str, column: str) -> bool:
    value = BOOL_CELLS.get((text or "").strip().lower())
    if value is not None:
        return value
    raise InputError(f"expected true or false, got {text!r}", field=column)


Lookup = Callable[[str], str]


def row_to_entry(kind: str, row: dict[str, str], lookup: Callable[[str, str], str],
                 ) -> tuple[str, str, dict[str, Any]]:
    """``(entry kind, actor, body)`` for one CSV row."""
    g = {k: (v or "").strip() for k, v in row.items() if k is not None}
    if kind == "parties":
        roles = g["roles"].split("|") if g["roles"] else []
        body: dict[str, Any] = {"party": g["party_id"], "name": g["name"], "roles": roles}
        if g.get("uscc"):
            body["uscc"] = g["uscc"]
        actor = g["party_id"] if "operator" in roles else lookup("operator", "")
        return "party.registered", actor, body
    if kind == "facilities":
        return "facility.registered", g["owner"], {
            "facility": g["facility_id"], "owner": g["owner"], "name": g["name"],
            "province": g["province"], "grid_region": g["grid_region"], "country": g["country"],
            "process": g["process"]}
    if kind == "certificates":
        return "certificate.registered", g["owner"], {
            "registry": g["registry"], "first": g["first"], "last": g["last"],
            "mwh": g["mwh"], "technology": g["technology"], "plant": g["plant"],
            "plant_province": g["plant_province"], "country": g["country"],
            "generation_month": g["generation_month"], "tradable": _bool(g["tradable"], "tradable"),
            "owner": g["owner"],
            "evidence": {"ref": g["evidence_ref"], "sha256": g["evidence_sha256"]}}
    if kind == "vouchers":
        body = {"issuer": g["issuer"], "number": g["number"], "facility": g["facility"],
                "period_start": g["period_start"], "period_end": g["period_end"], "mwh": g["mwh"],
                "technology": g["technology"], "evidence_sha256": g.get("evidence_sha256", "")}
        for k in ("certificate_first", "certificate_last"):
            if g.get(k):
                body[k] = g[k]
        return "voucher.registered", lookup("facility", g["facility"]), body
    if kind == "batches":
        recycled = g.get("recycled_tonnes") or "0"
        return "batch.registered", lookup("facility", g["facility"]), {
            "batch": g.get("batch") or g["lot"], "lot": g["lot"], "facility": g["facility"],
            "product": g["product"], "metal": g["metal"], "grade": g["grade"],
            "cn_code": g["cn_code"], "tonnes": g["tonnes"], "period_start": g["period_start"],
            "period_end": g["period_end"], "electricity_mwh": g["electricity_mwh"],
            "fuels": parse_fuels(g["fuels"]),
            "process_emissions": parse_process_emissions(g["process_emissions"]),
            "inputs": parse_inputs(g["inputs"]),
            "recycled": {"tonnes": recycled, "origin": g.get("recycled_origin", "")}}
    if kind == "allocations":
        cert = lookup("certificate", g["certificate_first"])
        owner = lookup("certificate-owner", cert)
        allocation = f"{g['batch']}:{g['first']}"
        if len(allocation) > 80:  # the allocation column holds 80 characters
            allocation = "A-" + hashlib.sha256(allocation.encode()).hexdigest()[:32]
        return "allocation.recorded", owner, {
            "allocation": allocation, "certificate": cert,
            "first": g["first"], "last": g["last"], "mwh": g["mwh"], "batch": g["batch"],
            "beneficiary": g["beneficiary"]}
    if kind == "shipments":
        return "shipment.recorded", g["seller"], {
            "shipment": g["shipment_id"], "seller": g["seller"], "buyer": g["buyer"],
            "date": g["date"], "destination_country": g["destination_country"],
            "lines": parse_lines(g["lines"])}
    raise InputError(f"unknown import kind {kind!r}; allowed: {', '.join(KINDS)}", field="kind")


def _lookup(session: Session, actor: str | None) -> Callable[[str, str], str]:
    def lookup(what: str, key: str) -> str:
        if actor and what in ("facility", "certificate-owner", "operator"):
            return actor
        if what == "facility":
            owner = session.scalar(select(Facility.owner).where(Facility.facility_id == key))
            if owner is None:
                raise InputError(f"no facility {key!r}", field="facility")
            return owner
        if what == "certificate":
            cid = session.scalar(select(Certificate.certificate_id)
                                 .where(Certificate.first == key).limit(1))
            if cid is None:
                raise InputError(f"no certificate starting at {key!r}", field="certificate_first")
            return cid
        if what == "certificate-owner":
            owner = session.scalar(select(Certificate.owner)
                                   .where(Certificate.certificate_id == key))
            return owner or ""
        if what == "operator":
            from ledger.domain.tables import Party

            for p in session.scalars(select(Party)):
                if "operator" in p.roles.split("|"):
                    return p.party_id
            raise InputError("no operator party registered yet", field="roles")
        raise InputError(f"unknown lookup {what}")

    return lookup


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def _text_lines(text: str) -> Iterator[str]:
    """The lines of ``text`` with their ends, as ``io.StringIO(text, newline="")`` yields them
    (a line ends with \\r\\n, \\r or \\n), without copying the whole text first."""
    return (m.group() for m in _LINE.finditer(text))


class CsvRows(Sequence[tuple[int, dict[str, str]]]):
    """The rows of a CSV text as ``(line, row)``, each ``row`` as ``csv.DictReader`` makes it
    (missing cells ``None``, extra cells in a list under the key ``None``).

    The records are parsed when first needed, and the dicts made as the rows are read: the
    certificate import's bulk path reads the plain records, in its helper thread
    (:meth:`records`). Counting the rows of a text without quotes needs no parsing."""

    def __init__(self, header: list[str], text: str) -> None:
        self.header = header
        self._text = text
        self._records: list[tuple[int, list[str]]] | None = None
        self._count: int | None = None
        self._lines_read: list[str] | None = None  # from __len__ to record_batches

    def _lines(self) -> list[str] | None:
        """The text's lines, when it has no quotes: then each line that is not empty is a
        record, its cells split at the commas (csv.reader's reading of such a text)."""
        text = self._text
        if '"' in text:
            return None
        if "\r" in text:  # a line ends with \r\n, \r or \n
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        if max(map(len, lines)) > csv.field_size_limit():
            return None  # csv.reader would refuse a cell so long
        return lines

    def record_batches(self, n: int) -> Iterator[list[tuple[int, list[str]]]]:
        """``(line, cells)`` of the rows (those that are not empty), as csv.reader reads
        them, in lists of ``n``."""
        if self._records is not None:
            for start in range(0, len(self._records), n):
                yield self._records[start:start + n]
            return
        lines, self._lines_read = self._lines_read or self._lines(), None
        if lines is not None:
            number = 2  # the line number of lines[1]; lines read are let go of
            del lines[0]
            while lines:
                batch = lines[:n]
                del lines[:n]
                yield [(line, text.split(",")) for line, text in enumerate(batch, number) if text]
                number += len(batch)
            return
        reader = csv.reader(_text_lines(self._text))
        next(reader, None)  # the header
        records = ((reader.line_num, cells) for cells in reader if cells)
        while batch := list(islice(records, n)):
            yield batch

    def records(self) -> Iterator[tuple[int, list[str]]]:
        for batch in self.record_batches(4096):
            yield from batch

    def row(self, cells: list[str]) -> dict[str, str]:
        """The ``csv.DictReader`` row of a record."""
        header = self.header
        row: dict[Any, Any] = dict(zip(header, cells, strict=False))
        if len(header) < len(cells):
            row[None] = cells[len(header):]
        for key in header[len(cells):]:
            row[key] = None
        return row

    def _all(self) -> list[tuple[int, list[str]]]:
        if self._records is None:
            self._records = list(self.records())
        return self._records

    def __len__(self) -> int:
        if self._count is None:
            lines = self._lines() if self._records is None else None
            if lines is None:
                self._count = len(self._all())
            else:
                self._count = len(lines) - 1 - lines[1:].count("")
                self._lines_read = lines
        return self._count

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        for line, cells in self.records():
            yield line, self.row(cells)

    @overload
    def __getitem__(self, index: int) -> tuple[int, dict[str, str]]: ...
    @overload
    def __getitem__(self, index: slice) -> list[tuple[int, dict[str, str]]]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [(line, self.row(cells)) for line, cells in self._all()[index]]
        line, cells = self._all()[index]
        return line, self.row(cells)


def read_rows(kind: str, source: Path | str | io.TextIOBase) -> Sequence[tuple[int, dict[str, str]]]:
    """Read a CSV file of ``kind``; refuse a file without the required columns. Certificates
    come as :class:`CsvRows`, the other kinds as a list."""
    if kind not in COLUMNS:
        raise InputError(f"unknown import kind {kind!r}; allowed: {', '.join(KINDS)}", field="kind")
    try:
        if isinstance(source, io.TextIOBase):
            text = source.read()
        else:
            path = Path(source)
            if path.stat().st_size > MAX_FILE_BYTES:
                raise InputError(f"file larger than {MAX_FILE_BYTES} bytes", field="file")
            text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the file: {exc}", field="file") from exc
    if kind == "certificates":  # the header only: the rows are read as they are imported
        header = next(csv.reader(_text_lines(text)), [])
    else:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = reader.fieldnames or []
    missing = [c for c in COLUMNS[kind] if c not in header and c not in ("uscc",)]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}; a {kind} file has "
                         f"{', '.join(COLUMNS[kind])}", field="header")
    if kind == "certificates":
        return CsvRows(list(header), text)
    return [(reader.line_num, row) for row in reader]


def import_rows(log: Log, kind: str, rows: Sequence[tuple[int, dict[str, str]]], *,
                actor: str | None = None, progress: Callable[[int], None] | None = None,
                ) -> ImportReport:
    """Append one entry per row in one transaction; all rows or none."""
    report = ImportReport(kind)
    if kind == "certificates" and len(rows) >= BULK_THRESHOLD:
        return _import_certificates_in_bulk(log, rows, actor, progress)
    try:
        with log.writer() as w:
            lookup = _lookup(w.session, actor)
            for n, (line, row) in enumerate(rows, 1):
                try:
                    entry_kind, row_actor, body = row_to_entry(kind, row, lookup)
                    done = w.append(entry_kind, actor or row_actor, body)
                    report.first_seq = done.seq if report.first_seq is None else report.first_seq
                    report.last_seq = done.seq
                    report.taken += 1
                except GreenledgerError as exc:
                    report.refused.append((line, str(exc)))
                except (KeyError, TypeError) as exc:
                    report.refused.append((line, f"malformed row: {exc}"))
                if progress:
                    progress(n)
            if report.refused:
                raise ImportRefused(report.refused)
    except ImportRefused:
        report.taken, report.first_seq, report.last_seq = 0, None, None
        raise
    return report


#: files of at least this many certificate rows take the set-wise path (ledger/domain/bulk.py)
BULK_THRESHOLD = 200


def _prepare_certificates(rows: Iterable[tuple[int, dict[str, str]]], actor: str | None,
                          ) -> tuple[list[Any], list[tuple[int, str]]]:
    """CSV rows to prepared entries (parsed, checked, encoded)."""
    from ledger.domain.bulk import prepare

    converted, refused = [], []
    for line, row in rows:
        try:
            _, row_actor, body = row_to_entry("certificates", row, lambda *_: "")
            converted.append((line, actor or row_actor, body))
        except GreenledgerError as exc:
            refused.append((line, str(exc)))
        except (KeyError, TypeError) as exc:
            refused.append((line, f"malformed row: {exc}"))
    ready, bad = prepare(converted)
    return ready, refused + bad


def _certificate_batches(rows: Sequence[tuple[int, dict[str, str]]], n: int,
                         ) -> Iterator[list[tuple[int, list[str] | None, Any]]]:
    """The rows as the fast bulk path takes them (``ledger.domain.bulk.Record``), in lists."""
    columns = COLUMNS["certificates"]
    if isinstance(rows, CsvRows):
        header, width, row = rows.header, len(rows.header), rows.row
        # the cell of each column (the last of duplicate names, as in csv.DictReader's dict)
        where = {name: i for i, name in enumerate(header)}
        picks = [where[c] for c in columns]
        if picks == list(range(width)):
            for batch in rows.record_batches(n):
                yield [(line, cells, cells) if len(cells) == width else (line, None, row(cells))
                       for line, cells in batch]
        else:
            for batch in rows.record_batches(n):
                yield [(line, [cells[i] for i in picks], cells) if len(cells) == width
                       else (line, None, row(cells)) for line, cells in batch]
        return
    it = iter(rows)
    while batch := list(islice(it, n)):
        out = []
        for line, dict_row in batch:
            cells = [dict_row.get(c) for c in columns]
            out.append((line, cells if all(type(c) is str for c in cells) else None, dict_row))
        yield out


def _import_certificates_in_bulk(log: Log, rows: Sequence[tuple[int, dict[str, str]]],
                                 actor: str | None,
                                 progress: Callable[[int], None] | None) -> ImportReport:
    from ledger.domain.bulk import (
        CHUNK_ROWS,
        NotClean,
        paused_gc,
        register_certificates,
        register_certificates_fast,
    )

    report = ImportReport("certificates")
    csv_rows = rows if isinstance(rows, CsvRows) else None

    def convert(row: Any) -> tuple[str, dict[str, Any]]:
        if csv_rows is not None and isinstance(row, list):
            row = csv_rows.row(row)
        _, row_actor, body = row_to_entry("certificates", row, lambda *_: "")
        return actor or row_actor, body

    # A file whose every row is taken goes the fast way; at the first row that may be refused
    # it is imported again by the path below, which names every refused row.
    try:
        with log.writer() as w:
            taken = register_certificates_fast(w, _certificate_batches(rows, CHUNK_ROWS),
                                               actor, convert, progress)
            if taken:
                report.first_seq, report.last_seq, report.taken = w.size - taken, w.size - 1, taken
        if progress:
            progress(len(rows))
        return report
    except NotClean:
        pass
    # Parsing in worker processes was measured slower: pickling the parsed rows back costs
    # more than parsing them.
    with paused_gc():
        ready, refused = _prepare_certificates(rows, actor)
    with log.writer() as w, paused_gc():
        refused += register_certificates(w, prepared=(ready, []))
        if refused:
            raise ImportRefused(sorted(refused))
        if w.appended:
            report.first_seq, report.last_seq = w.appended[0].seq, w.appended[-1].seq
        report.taken = len(w.appended)
    if progress:
        progress(len(rows))
    return report


def import_file(log: Log, kind: str, path: Path | str, **kw: Any) -> ImportReport:
    return import_rows(log, kind, read_rows(kind, path), **kw)


SCENARIO_ORDER = ("parties", "facilities", "certificates", "vouchers", "batches", "shipments",
                  "allocations")


def load_scenario(log: Log, directory: Path) -> dict[str, ImportReport]:
    """Load a scenario directory in dependency order.

    Batches and shipments interleave in real life: the refinery's alumina is shipped before
    the smelter's batch consumes it. They are appended in date order, each as soon as what
    it depends on is in the log (a batch: its upstream batches shipped; a shipment: its
    batches registered)."""
    reports = {}
    for kind in ("parties", "facilities", "certificates", "vouchers"):
        reports[kind] = import_file(log, kind, directory / f"{kind}.csv")
    batches = read_rows("batches", directory / "batches.csv")
    shipments = read_rows("shipments", directory / "shipments.csv")
    pending = sorted([(r["period_end"], "batches", line, r) for line, r in batches]
                     + [(r["date"], "shipments", line, r) for line, r in shipments],
                     key=lambda t: t[0])
    for kind in ("batches", "shipments"):
        reports[kind] = ImportReport(kind)
    registered: set[str] = set()
    shipped: set[str] = set()
    while pending:
        for item in pending:
            _, kind, _, row = item
            if kind == "batches":
                needs = {i["ref"] for i in parse_inputs(row["inputs"]) if i["kind"] == "batch"}
                ready = needs <= shipped
            else:
                ready = {x["batch"] for x in parse_lines(row["lines"])} <= registered
            if ready:
                break
        else:
            raise InputError(f"{len(pending)} batches/shipments wait on each other or on "
                             "batches that are not in the scenario", field="inputs")
        pending.remove(item)
        _, kind, line, row = item
        reports[kind].taken += import_rows(log, kind, [(line, row)]).taken
        if kind == "batches":
            registered.add(row.get("batch") or row["lot"])
        else:
            shipped.update(x["batch"] for x in parse_lines(row["lines"]))
    reports["allocations"] = import_file(log, "allocations", directory / "allocations.csv")
    return reports
