"""Bad input never gives a traceback (issue 8), offline part: the commands
that need no node walked with hostile values, the named cases that used to
give tracebacks, help text and defaults on every option. The networked walk
is tests/integration/test_hostile_inputs.py (one shared localnet)."""

from __future__ import annotations

import argparse
import json
import socket
from pathlib import Path

import pytest
from solders.keypair import Keypair

from iopay import cli
from tests.cli.walk import Values, leaves, problem, run_iopay, walk

OFFLINE = {("idl",), ("error",), ("pda",), ("keygen", "new"), ("keygen", "pubkey"), ("address",)}


def values(tmp_path: Path) -> Values:
    kp = tmp_path / "id.json"
    kp.write_text(json.dumps(list(bytes(Keypair()))))
    garbage = tmp_path / "garbage.json"
    garbage.write_text("[1, 2, 3")
    (tmp_path / "dir").mkdir()
    return Values(wallet=str(Keypair().pubkey()), mint=str(Keypair().pubkey()), token_account=str(Keypair().pubkey()),
                  job=str(Keypair().pubkey()), keypair_file=str(kp), missing_file=str(tmp_path / "nope" / "k.json"),
                  directory=str(tmp_path / "dir"), garbage_file=str(garbage))


def test_offline_commands_walked_with_hostile_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runs, failures = walk(values(tmp_path), [], only=lambda path: path in OFFLINE)
    assert runs > 100
    assert not failures, "\n".join(failures[:20])


def one_line_error(argv: list, expected: str) -> None:
    o = run_iopay(argv)
    assert problem(o) is None and o.code == 1, (o.code, o.err)
    assert o.err.strip() == f"error: {expected}", o.err


def test_error_code_that_is_not_a_number() -> None:
    one_line_error(["error", "abc"], "invalid error code 'abc': a number, decimal (6003) or hex (0x1773)")
    o = run_iopay(["error", "0x1773"])
    assert o.code == 0 and "ZeroHours" in o.out or "6003" in o.out


def test_pda_job_id_beyond_u64() -> None:
    mint = str(Keypair().pubkey())
    one_line_error(["pda", "--mint", mint, "--customer", mint, "--job-id", str(2**64)],
                   f"argument --job-id: too large: '{2**64}' (at most {2**64 - 1}) (see `iopay pda --help`)")
    assert run_iopay(["pda", "--mint", mint, "--customer", mint, "--job-id", str(2**64 - 1)]).code == 0


def test_unreachable_node_says_connection_refused(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the with block ends: nothing listens there
    kp = tmp_path / "id.json"
    kp.write_text(json.dumps(list(bytes(Keypair()))))
    url = f"http://127.0.0.1:{port}"
    for argv in (["balance"], ["token", "accounts"], ["market", "show", "--mint", str(Keypair().pubkey())]):
        one_line_error(["-u", f"127.0.0.1:{port}", "-k", str(kp), *argv],
                       f"connection refused at {url}: is the RPC node running? (start one with `iopay localnet`)")


def test_warp_refuses_other_clusters() -> None:
    one_line_error(["-u", "devnet", "warp", "60"],
                   "warp moves the clock of a local validator (`iopay localnet`) only; "
                   "https://api.devnet.solana.com is not local")


def test_keygen_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    f = tmp_path / "k.json"
    o = run_iopay(["--output", "json", "keygen", "new", "-o", str(f)])
    assert o.code == 0
    first = json.loads(o.out)["pubkey"]
    raw = json.loads(f.read_text())
    assert isinstance(raw, list) and len(raw) == 64 and (f.stat().st_mode & 0o777) == 0o600
    assert str(Keypair.from_bytes(bytes(raw)).pubkey()) == first
    one_line_error(["keygen", "new", "-o", str(f)], f"{f} already exists (use --force to overwrite it)")
    assert json.loads(f.read_text()) == raw
    o = run_iopay(["keygen", "new", "-o", str(f), "--force"])
    assert o.code == 0 and json.loads(f.read_text()) != raw
    o = run_iopay(["keygen", "pubkey", str(f)])
    assert o.out.strip() == str(Keypair.from_bytes(bytes(json.loads(f.read_text()))).pubkey())
    assert run_iopay(["-k", str(f), "address"]).out == o.out


def test_the_missing_keypair_hint_works_from_an_empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh machine has no ~/.config/solana: the command the error names creates it, as solana-keygen does."""
    monkeypatch.setenv("HOME", str(tmp_path))
    default = tmp_path / ".config" / "solana" / "id.json"
    one_line_error(["address"], f"keypair file not found: {default} (create one with `iopay keygen new -o {default}`) "
                                "or pass --keypair")
    o = run_iopay(["keygen", "new", "-o", str(default)])
    assert o.code == 0, o.err
    assert (default.stat().st_mode & 0o777) == 0o600
    assert run_iopay(["address"]).out.strip() == str(Keypair.from_bytes(bytes(json.loads(default.read_text()))).pubkey())


def test_version_and_url_without_scheme() -> None:
    o = run_iopay(["--version"])
    assert o.code == 0 and o.out.strip() == f"iopay {__import__('iopay').__version__}"
    assert cli.resolve_url("127.0.0.1:8899") == "http://127.0.0.1:8899"
    assert cli.resolve_url("localhost:8899") == "http://localhost:8899"


def test_every_option_has_help_and_says_its_default() -> None:
    missing = []
    for path, p in leaves(cli.build_parser()):
        for a in p._actions:
            if isinstance(a, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)):
                continue
            name = f"iopay {' '.join(path)} {'/'.join(a.option_strings) or a.dest}"
            if not a.help:
                missing.append(f"{name}: no help text")
                continue
            has_default = a.default not in (None, False, argparse.SUPPRESS, []) and a.option_strings
            if has_default and "default" not in a.help.lower():
                missing.append(f"{name}: default {a.default!r} not in its help")
    assert not missing, "\n".join(missing)
