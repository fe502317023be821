"""The certificate import's fast path (ledger/domain/bulk.py: register_certificates_fast) takes
exactly the files the exact set-wise path takes, and writes the same entries (but for their
time and nonce), tree and projections; any file it has a doubt about goes the exact way, with
the same refusals. Its parts are checked against what they replace: the precompiled checks
against parse_certificate, the entry text against RFC 8785, the CSV rows against
csv.DictReader, the multi-row inserts against the rows."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
import uuid

import pytest
import rfc8785
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from ledger import audit, encoding, importing
from ledger.domain import bulk, domain_log
from ledger.domain.certificates import certificate_checker, parse_certificate
from ledger.domain.replay import replay_check
from ledger.domain.rules import TECHNOLOGIES
from ledger.errors import GreenledgerError
from ledger.log import insert_rows
from ledger.store.engine import make_engine
from ledger.store.migrate import upgrade
from tests.ledger.domain.world import GEC_BLOCK, build, gec

COLUMNS = importing.COLUMNS["certificates"]
SHA = hashlib.sha256(b"evidence").hexdigest()
#: one checker for all examples, so that its remembered values are exercised too
CHECK = certificate_checker()
REGISTER_FAST = bulk.register_certificates_fast

# --- certificate_checker against parse_certificate --------------------------------------------

free_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=210)
codes = st.one_of(
    st.builds(lambda blk, month, n: f"{blk}{month}{n:09d}",
              st.sampled_from([GEC_BLOCK, "3120080826530801Z", "31200808265308018"]),
              st.sampled_from(["202503", "202504"]), st.integers(0, 10**9 - 1)),
    st.builds(lambda p, n, w: f"{p}-{n:0{w}d}", st.sampled_from(["IREC-CN-7", "X", "a-b"]),
              st.integers(0, 999), st.integers(1, 16)),
    st.sampled_from(["", "x", GEC_BLOCK + "202503000000001\n", GEC_BLOCK.lower() + "202503000000001",
                     GEC_BLOCK + "20250300000000", " " + gec(1), "A" * 40 + "-1"]),
    free_text)


@st.composite
def bodies(draw):
    registry = draw(st.sampled_from(["CN-GEC", "CN-GEC", "I-REC", "cn-gec", "", "X"]))
    first = draw(codes)
    if draw(st.booleans()) and len(first) > 3 and first[-3:].isdigit():
        # mostly a range of the same block: last = first + a little
        last = first[:-3] + f"{int(first[-3:]) + draw(st.integers(-2, 50)):03d}"[-3:]
    else:
        last = draw(codes)
    try:
        count = int(last[-15:]) - int(first[-15:]) + 1
    except ValueError:
        count = 1
    mwh = draw(st.sampled_from([f"{count}", f"{count}.000", f"{count}.0", f"{count}.0001",
                                f"0{count}", f"{count + 1}", f"-{count}", "0", "1e3",
                                f" {count}", f"{count}.", "", "1" * 30]))
    return {
        "registry": registry, "first": first, "last": last, "mwh": mwh,
        "technology": draw(st.sampled_from([*TECHNOLOGIES, "fusion", "Hydro", ""])),
        "plant": draw(st.one_of(st.just("澜沧江示例水电站"), free_text)),
        "plant_province": draw(st.one_of(st.just("CN-YN"), st.text(max_size=20))),
        "country": draw(st.sampled_from(["CN", "DE", "cn", "C", "CHN", "", "CN\n"])),
        "generation_month": draw(st.sampled_from(["2025-03", "2024-12", "2025-13", "2025-3",
                                                  "٢٠٢٥-03", "2025-03\n", ""])),
        "tradable": draw(st.booleans()),
        "owner": draw(st.sampled_from(["p-a", "p_a.b:c/d", "-p", "p a", "", "x" * 64, "x" * 65,
                                       "p-é"])),
        "evidence": {"ref": draw(st.one_of(st.just("KMPX-1"), free_text)),
                     "sha256": draw(st.sampled_from([SHA, SHA.upper(), SHA[:-1], SHA + "\n",
                                                     "", "g" * 64]))},
    }


def check(body: dict):
    b = body
    return CHECK(b["registry"], b["first"], b["last"], b["mwh"], b["technology"], b["plant"],
                 b["plant_province"], b["country"], b["generation_month"], b["owner"],
                 b["evidence"]["ref"], b["evidence"]["sha256"])


@settings(max_examples=1500, deadline=None)
@given(body=bodies())
@example(body={"registry": "CN-GEC", "first": gec(1), "last": gec(10), "mwh": "10",
               "technology": "hydro", "plant": "P", "plant_province": "CN-YN", "country": "CN",
               "generation_month": "2025-03", "tradable": False, "owner": "p-a",
               "evidence": {"ref": "R", "sha256": SHA}})
def test_the_checker_takes_only_what_parse_certificate_takes_and_finds_the_same(body):
    got = check(body)
    try:
        p = parse_certificate(body)
    except GreenledgerError:
        assert got is None
        return
    if got is not None:
        assert got == (p.rng.block, p.rng.first_no, p.rng.last_no, p.row["kwh"],
                       p.row["expires_month"])


def test_the_checker_takes_ordinary_certificates():
    """The fast path is the common path: plain GEC and I-REC rows pass the checker."""
    fresh = certificate_checker()
    for _ in range(2):  # once computed, once remembered
        assert fresh("CN-GEC", gec(1), gec(100), "100", "hydro", "示例水电站", "CN-YN", "CN",
                     "2025-03", "p-a", "KMPX-1", SHA) == (GEC_BLOCK, 202503000000001,
                                                          202503000000100, 100_000, "2027-02")
        assert fresh("I-REC", "IREC-CN-7-000000001", "IREC-CN-7-000000010", "10.000", "wind",
                     "Wind", "CN-GD", "CN", "2024-12", "p-b", "R", SHA) == (
            "IREC-CN-7", 1, 10, 10_000, "2026-11")


# --- entry_text against RFC 8785 --------------------------------------------------------------

unicode_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1)


@settings(max_examples=500, deadline=None)
@given(actor=unicode_text, plant=unicode_text.filter(lambda s: len(s) <= 200),
       province=unicode_text.filter(lambda s: len(s) <= 16),
       ref=unicode_text.filter(lambda s: len(s) <= 200), seq=st.integers(0, 2**53 - 1),
       tradable=st.booleans(), technology=st.sampled_from(TECHNOLOGIES),
       gec_range=st.booleans(), n=st.integers(1, 10**6), mwh_form=st.sampled_from(["", ".0", ".000"]),
       month=st.sampled_from(["2025-03", "1999-12", "٢٠٢٥-01"]),
       owner=st.sampled_from(["p-a", "P.b_c:d/e-1"]), country=st.sampled_from(["CN", "DE"]))
def test_entry_text_is_the_canonical_entry(actor, plant, province, ref, seq, tradable,
                                           technology, gec_range, n, mwh_form, month, owner,
                                           country):
    if gec_range:
        registry, first, last = "CN-GEC", gec(7), gec(7 + n - 1)
    else:
        registry, first, last = "I-REC", "IREC-CN-7-0000001", f"IREC-CN-7-{n:07d}"
    mwh = f"{n}{mwh_form}"
    at, nonce = encoding.now(), encoding.new_nonce()
    body = {"registry": registry, "first": first, "last": last, "mwh": mwh,
            "technology": technology, "plant": plant, "plant_province": province,
            "country": country, "generation_month": month, "tradable": tradable, "owner": owner,
            "evidence": {"ref": ref, "sha256": SHA}}
    assert check(body) is not None
    got = bulk.entry_text(seq, at, nonce, actor, registry, first, last, mwh, technology, plant,
                          province, country, month, tradable, owner, ref, SHA)
    want = encoding.entry_bytes(seq, bulk.KIND, at, actor, nonce, encoding.canonical_bytes(body))
    assert got.encode("utf-8") == want
    assert want == rfc8785.dumps({"v": 1, "seq": seq, "kind": bulk.KIND, "at": at,
                                  "actor": actor, "nonce": nonce, "body": body})


def test_clock_and_nonces_read_as_now_and_new_nonce():
    clock = encoding.Clock()
    before = encoding.now()
    stamps = [clock() for _ in range(1000)]
    after = encoding.now()
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", s) for s in stamps)
    assert before <= stamps[0] <= stamps[-1] <= after
    assert stamps == sorted(stamps)
    nonces = encoding.new_nonces(1000)
    assert len(set(nonces)) == 1000
    for nonce in nonces:
        encoding.validate_entry_shape({"v": 1, "seq": 0, "kind": "a.b", "at": before,
                                       "actor": "p", "nonce": nonce, "body": {}})
        raw = encoding.base64.urlsafe_b64decode(nonce + "==")
        assert len(raw) == 16
        assert encoding.base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == nonce


# --- CsvRows against csv.DictReader -----------------------------------------------------------

cells = st.text(st.sampled_from(list('ab ,"\r\n中\x00\t')), max_size=6)


@settings(max_examples=400, deadline=None)
@given(header=st.lists(st.sampled_from([*COLUMNS, "extra", "registry"]), max_size=4),
       rows=st.lists(st.lists(cells, max_size=16), max_size=12),
       ending=st.sampled_from(["\n", "\r\n", "\r"]), raw=st.text(st.sampled_from(list('a,"\r\n ')),
                                                              max_size=30), use_raw=st.booleans())
def test_csv_rows_read_as_dict_reader(header, rows, ending, raw, use_raw):
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=ending)
    writer.writerow([*COLUMNS, *header])
    if use_raw:
        out.write(raw)
    else:
        writer.writerows(rows)
    data = out.getvalue()
    reader = csv.DictReader(io.StringIO(data, newline=""))
    try:
        want = [(reader.line_num, row) for row in reader]
    except csv.Error:
        return
    got = importing.read_rows("certificates", io.StringIO(data))
    assert isinstance(got, importing.CsvRows)
    assert len(got) == len(want)
    assert list(got) == want
    assert [got[i] for i in range(len(want))] == want
    assert got[1:3] == want[1:3]
    again = importing.read_rows("certificates", io.StringIO(data))
    assert [r for batch in again.record_batches(3) for r in batch] == list(got.records())


# --- insert_rows: multi-row statements --------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 63, 64, 65, 4097, 10000])
def test_insert_rows_inserts_every_row_once(engine, n):
    rows = [(i << 40 | 7, hashlib.sha256(str(i).encode()).digest()) for i in range(n)]
    with engine.begin() as conn:
        insert_rows(conn, "tree_node", ("node_id", "hash"), rows)
        got = conn.execute(text("SELECT node_id, hash FROM tree_node ORDER BY node_id")).all()
    assert [tuple(r) for r in got] == sorted(rows)


# --- whole imports: the fast path against the exact path --------------------------------------

def csv_text(seed: int, n: int, *, bad: float = 0.0) -> str:
    """A certificates file: ranges of two blocks and months, mostly clean; with ``bad``, some
    rows break a rule (amount, technology, overlap, registry of a plant-month, owner)."""
    rng = random.Random(seed)
    header = list(COLUMNS)
    if rng.random() < 0.3:
        rng.shuffle(header)
    if rng.random() < 0.2:
        header.append("note")
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=rng.choice(["\n", "\r\n"]),
                        quoting=csv.QUOTE_ALL if rng.random() < 0.2 else csv.QUOTE_MINIMAL)
    writer.writerow(header)
    starts = {}
    for i in range(n):
        block = rng.choice(["31200808265308019", "31200808265308020"])
        month = rng.choice(["2025-05", "2025-06"])
        key = (block, month)
        start = starts.get(key, 1)
        length = rng.randint(1, 30)
        starts[key] = start + length + rng.randint(0, 3)
        registry, first, last = ("CN-GEC", f"{block}{month.replace('-', '')}{start:09d}",
                                 f"{block}{month.replace('-', '')}{start + length - 1:09d}")
        plant = rng.choice(["Plant \"A\", 1", "示例水电站", " Wind\\B "])
        if rng.random() < 0.1:  # (a plant of its own: one registry per plant-month)
            prefix = f"IREC-{block[-2:]}-{month}"
            registry, first, last = "I-REC", f"{prefix}-{start:06d}", \
                f"{prefix}-{start + length - 1:06d}"
            plant = "I-REC plant"
        row = {"registry": registry, "first": first, "last": last,
               "mwh": rng.choice([str(length), f"{length}.000", f" {length}.0 "]),
               "technology": rng.choice(["hydro", "wind", " solar"]), "plant": plant,
               "plant_province": "CN-YN", "country": "CN", "generation_month": month,
               "tradable": rng.choice(["false", "TRUE", " yes", "0"]),
               "owner": rng.choice(["p-a", "p-b"]), "evidence_ref": f"R{i}",
               "evidence_sha256": SHA, "note": "x"}
        fault = None
        if rng.random() < bad:
            fault = rng.choice(["mwh", "technology", "overlap", "stored", "claim", "owner",
                                "short", "duplicate"])
            if fault == "mwh":
                row["mwh"] = str(length + 1)
            elif fault == "technology":
                row["technology"] = "fusion"
            elif fault == "overlap" and i:
                row["first"], row["last"] = first, f"{first[:-9]}{start + length + 5:09d}"
            elif fault == "stored":  # world.build registered gec(1..1000) of 2025-03
                row.update(registry="CN-GEC", first=gec(990), last=gec(1009), mwh="20",
                           generation_month="2025-03")
            elif fault == "claim":  # the world's plant claimed 2025-03 through CN-GEC
                row.update(registry="I-REC", plant="澜沧江示例水电站", generation_month="2025-03")
            elif fault == "owner":
                row["owner"] = "p-buyer"
            elif fault == "duplicate" and i:
                row["first"], row["last"] = first, last
                writer.writerow([row[c] for c in header])
        cells = [row[c] for c in header]
        if fault == "short":
            cells = cells[:-2]
        writer.writerow(cells)
        if rng.random() < 0.05:
            out.write("\n")  # a blank line
    return out.getvalue()


def import_text(engine, data: str, *, fast: bool, monkeypatch, actor: str | None = None):
    """Import ``data``; return the refusals, the projections and the entries without their
    time and nonce."""
    monkeypatch.setattr(importing, "BULK_THRESHOLD", 0)
    used = []

    def fast_path(*args, **kw):
        if not fast:
            raise bulk.NotClean
        try:
            taken = REGISTER_FAST(*args, **kw)
        except bulk.NotClean:
            used.append(False)
            raise
        used.append(True)
        return taken

    monkeypatch.setattr(bulk, "register_certificates_fast", fast_path)
    log = domain_log(engine)
    try:
        report = importing.import_rows(log, "certificates",
                                       importing.read_rows("certificates", io.StringIO(data)),
                                       actor=actor)
        refused = None
        assert report.taken == report.last_seq - report.first_seq + 1
    except importing.ImportRefused as exc:
        refused = exc.refused
    with engine.connect() as conn:
        certs = conn.execute(text("SELECT * FROM certificate ORDER BY certificate_id")).all()
        claims = conn.execute(text("SELECT * FROM plant_month ORDER BY plant, month")).all()
        rows = conn.execute(text("SELECT seq, kind, actor, at, entry FROM log_entry "
                                 "ORDER BY seq")).all()
        head = conn.execute(text("SELECT size FROM log_head")).scalar_one()
    entries = []
    for seq, kind, actor_, at, entry in rows:
        obj = json.loads(entry)
        assert obj["at"] == at and obj["actor"] == actor_ and obj["kind"] == kind
        entries.append((seq, kind, actor_, {k: v for k, v in obj.items() if k not in ("at", "nonce")}))
    return refused, certs, claims, entries, head, used


def fresh_engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / f'{uuid.uuid4().hex}.db'}")
    upgrade(engine)
    build(engine)
    return engine


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32), n=st.integers(1, 300), bad=st.sampled_from([0, 0, 0.01, 0.1]),
       chunk=st.sampled_from([1, 7, 64, 1000]), actor=st.sampled_from([None, None, "p-op"]))
def test_the_fast_path_writes_what_the_exact_path_writes(tmp_path, monkeypatch, seed, n, bad,
                                                         chunk, actor):
    data = csv_text(seed, n, bad=bad)
    monkeypatch.setattr(bulk, "CHUNK_ROWS", chunk)
    results = []
    for fast in (True, False):
        engine = fresh_engine(tmp_path)
        results.append(import_text(engine, data, fast=fast, monkeypatch=monkeypatch, actor=actor))
        if fast and results[-1][0] is None:
            result = audit.audit(engine, operator_keys=[], extra_checks=[replay_check()], workers=1)
            assert result.clean, result.findings
        engine.dispose()
    (*fast_result, used), (*exact_result, _) = results
    assert fast_result == exact_result
    if bad == 0:
        assert used == [True]  # a clean file goes the fast way


def test_a_clean_file_goes_the_fast_way_and_audits_clean(engine, monkeypatch):
    """Both back-ends; several chunks (and so, on SQLite, the helper thread)."""
    build(engine)
    monkeypatch.setattr(bulk, "CHUNK_ROWS", 100)
    refused, certs, _, entries, head, used = import_text(
        engine, csv_text(3, 700), fast=True, monkeypatch=monkeypatch)
    assert refused is None and used == [True]
    assert len(entries) == head and len(certs) == 701  # the world's certificate and the file's
    result = audit.audit(engine, operator_keys=[], extra_checks=[replay_check()], workers=1)
    assert result.clean, result.findings


@pytest.mark.parametrize("fault", ["duplicate", "stored", "claim", "owner", "mwh"])
def test_a_refused_file_is_refused_as_the_exact_path_refuses_it(engine, monkeypatch, fault):
    """Both back-ends: whatever the fast path meets (a duplicate key on insert, a stored
    range, a plant-month, an owner, a bad amount), the exact path names the refused rows and
    nothing is written."""
    build(engine)
    monkeypatch.setattr(bulk, "CHUNK_ROWS", 50)
    base = {"registry": "CN-GEC", "technology": "hydro", "plant": "P", "plant_province": "CN-YN",
            "country": "CN", "generation_month": "2025-05", "tradable": "false", "owner": "p-a",
            "evidence_ref": "R", "evidence_sha256": SHA}
    rows = [{**base, "first": f"{GEC_BLOCK}202505{10 * i + 1:09d}",
             "last": f"{GEC_BLOCK}202505{10 * i + 10:09d}", "mwh": "10"} for i in range(200)]
    if fault == "duplicate":
        rows[170] = {**rows[30]}
    elif fault == "stored":
        rows[120].update(first=gec(1000), last=gec(1009), generation_month="2025-03")
    elif fault == "claim":
        rows[199].update(registry="I-REC", first="X-01", last="X-10", plant="澜沧江示例水电站",
                         generation_month="2025-03")
    elif fault == "owner":
        rows[77]["owner"] = "p-buyer"
    else:
        rows[5]["mwh"] = "11"
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    before = domain_log(engine).size()
    refused, certs, _, _, head, used = import_text(
        engine, out.getvalue(), fast=True, monkeypatch=monkeypatch)
    assert used == [False] and refused and head == before and len(certs) == 1
    line = {"duplicate": 172, "stored": 122, "claim": 201, "owner": 79, "mwh": 7}[fault]
    assert line in dict(refused)


def test_rows_given_as_dicts_go_the_fast_way_too(engine, monkeypatch):
    build(engine)
    monkeypatch.setattr(importing, "BULK_THRESHOLD", 0)
    data = list(importing.read_rows("certificates", io.StringIO(csv_text(5, 120))))
    report = importing.import_rows(domain_log(engine), "certificates", data)
    assert report.taken == 120
    result = audit.audit(engine, operator_keys=[], extra_checks=[replay_check()], workers=1)
    assert result.clean, result.findings


def test_the_threads_stop_when_an_insert_fails(tmp_path, monkeypatch):
    """A duplicate key inserted while rows are still being prepared: the inserting thread
    stops the preparing one and the exact path refuses the file."""
    engine = fresh_engine(tmp_path)
    monkeypatch.setattr(bulk, "CHUNK_ROWS", 100)
    rows = [f"CN-GEC,{GEC_BLOCK}202506{i:09d},{GEC_BLOCK}202506{i:09d},1,hydro,P,CN-YN,CN,"
            f"2025-06,false,p-a,R,{SHA}" for i in range(1, 5000)]
    rows[1500] = rows[20]
    data = ",".join(COLUMNS) + "\n" + "\n".join(rows) + "\n"
    refused, *_, used = import_text(engine, data, fast=True, monkeypatch=monkeypatch)
    assert used == [False]
    assert [line for line, _ in refused] == [1502]


def test_the_fast_path_reports_progress_chunk_by_chunk(engine, monkeypatch):
    """`greenledger import` draws a progress bar from these calls: a million rows take tens of
    seconds, so the bar moves with each chunk inserted, not only at the end."""
    build(engine)
    monkeypatch.setattr(bulk, "CHUNK_ROWS", 100)
    seen: list[int] = []
    rows = importing.read_rows("certificates", io.StringIO(csv_text(3, 350)))
    report = importing.import_rows(domain_log(engine), "certificates", rows,
                                   progress=seen.append)
    assert report.taken == 350
    assert seen[:4] == [100, 200, 300, 350] and seen[-1] == 350
