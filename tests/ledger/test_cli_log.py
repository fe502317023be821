"""The CLI's log, key and audit commands through a real process boundary (click runner with
a real SQLite file and real key files). Exit codes: 0 ok, 1 finding, 2 usage/input error."""

from __future__ import annotations

import json
import stat

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from api.cli import main
from ledger import checkpoint, verify
from ledger.log import Log
from ledger.store.engine import make_engine


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GREENLEDGER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GREENLEDGER_KEY_PASSPHRASE", "correct horse")
    monkeypatch.setenv("GREENLEDGER_LOG_ORIGIN", "greenledger.test/log")
    monkeypatch.delenv("GREENLEDGER_DATABASE_URL", raising=False)
    return tmp_path / "home"


def cli(*args: str, code: int = 0):
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, (result.output, result.stderr if hasattr(result, "stderr") else "")
    return result


def fill(home, n: int = 10) -> Log:
    log = Log(make_engine(f"sqlite:///{home / 'ledger.db'}"))
    log.append_many(("test.appended", "p-a", {"i": i}) for i in range(n))
    return log


def test_init_sign_show_proof_consistency_audit(home):
    vkey = cli("init").output.strip()
    assert vkey.startswith("greenledger.test/log+")
    key_file = home / "keys" / "operator.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in key_file.read_bytes()
    fill(home)
    note = cli("checkpoint", "sign").output
    assert cli("checkpoint", "show").output == note
    cp = checkpoint.open_checkpoint(note, checkpoint.Verifier.from_vkey(vkey))
    assert cp.size == 10
    proof = json.loads(cli("log", "proof", "--seq", "3").output)
    verify.verify_inclusion(3, 10, bytes.fromhex(proof["leaf_hash"]),
                            [bytes.fromhex(p) for p in proof["proof"]], cp.root)
    fill(home, 5)
    cons = json.loads(cli("log", "consistency", "--from", "10").output)
    assert cons["second"] == 15
    lines = cli("log", "entries", "--start", "2", "--end", "4").output.splitlines()
    assert [json.loads(x)["seq"] for x in lines] == [2, 3]
    assert "audit: clean" in cli("audit").output
    report = json.loads(cli("audit", "--json").output)
    assert report["clean"] and report["size"] == 15


def test_no_secret_in_any_output(home):
    out = cli("init").output + cli("keys", "show").output
    assert "PRIVATE" not in out and "correct horse" not in out


def test_cosign_only_after_a_clean_audit(home):
    cli("init")
    fill(home)
    cli("checkpoint", "sign")
    cvkey = cli("keys", "generate", "--role", "certifier", "--name", "certifier.test/a").output
    note = cli("checkpoint", "cosign", "--name", "certifier.test/a").output
    assert checkpoint.verify_cosignature(note, checkpoint.Verifier.from_vkey(cvkey.strip()))
    assert cli("checkpoint", "show").output == note
    # tamper, append and sign again: the certifier refuses to cosign
    engine = make_engine(f"sqlite:///{home / 'ledger.db'}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE log_entry SET actor = 'p-evil' WHERE seq = 2"))
    fill(home, 3)
    cli("checkpoint", "sign")
    result = cli("checkpoint", "cosign", "--name", "certifier.test/a", code=1)
    assert "entry.column at seq 2" in result.output
    assert cli("audit", code=1).output.count("entry.column") == 1


@pytest.mark.parametrize("env, args, message", [
    ({"GREENLEDGER_KEY_PASSPHRASE": "wrong"}, ["checkpoint", "sign"], "wrong passphrase"),
    ({"GREENLEDGER_DATABASE_URL": "mysql://x@localhost/db"}, ["audit"],
     "unsupported database URL scheme 'mysql'"),
    ({"GREENLEDGER_DATABASE_URL": "not a url"}, ["audit"], "not a database URL"),
])
def test_bad_input_is_one_line_and_exit_2(home, monkeypatch, env, args, message):
    cli("init")
    fill(home)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    result = cli(*args, code=2)
    assert message in result.output
    assert "Traceback" not in result.output
    assert Log(make_engine(f"sqlite:///{home / 'ledger.db'}")).latest_checkpoint() is None


def test_unreadable_key_file_is_exit_2(home):
    cli("init")
    fill(home)
    (home / "keys" / "operator.pem").write_text("garbage")
    assert "not a greenledger key file" in cli("checkpoint", "sign", code=2).output
    (home / "keys" / "operator.pem").unlink()
    assert "no operator key" in cli("checkpoint", "sign", code=2).output


def test_usage_errors_are_exit_2(home):
    cli("init")
    cli("log", "proof", code=2)  # --seq missing
    fill(home, 3)
    assert "not in a tree of size 3" in cli("log", "proof", "--seq", "7", code=2).output
    assert "no checkpoint" in cli("checkpoint", "show", code=2).output


def test_a_certifier_may_cosign_the_same_checkpoint_again(home):
    cli("init")
    fill(home)
    cli("checkpoint", "sign")
    cli("keys", "generate", "--role", "certifier", "--name", "certifier.test/a")
    first = cli("checkpoint", "cosign", "--name", "certifier.test/a").output
    import time

    time.sleep(1.1)  # a later cosignature time
    second = cli("checkpoint", "cosign", "--name", "certifier.test/a").output
    assert second != first and second.count("certifier.test/a") == 1
    assert cli("checkpoint", "show").output == second
