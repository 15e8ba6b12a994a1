"""The iopay CLI: help, URL monikers, keypair loading, JSON output, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from solders.keypair import Keypair

from iopay import cli
from iopay.core.pda import market_pda


@pytest.mark.parametrize("moniker,url", [
    ("localhost", "http://localhost:8899"), ("l", "http://localhost:8899"),
    ("devnet", "https://api.devnet.solana.com"), ("d", "https://api.devnet.solana.com"),
    ("testnet", "https://api.testnet.solana.com"),
    ("mainnet-beta", "https://api.mainnet-beta.solana.com"), ("m", "https://api.mainnet-beta.solana.com"),
    ("http://127.0.0.1:8899", "http://127.0.0.1:8899"), ("https://rpc.example.org/x", "https://rpc.example.org/x"),
])
def test_url_monikers(moniker: str, url: str) -> None:
    assert cli.resolve_url(moniker) == url


def test_bad_url_is_a_one_line_error(capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli.main(["-u", "mainnet", "idl"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: invalid --url 'mainnet'") and err.count("\n") == 1


def test_default_url_from_solana_cli_config(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yml"
    cfg.write_text("---\njson_rpc_url: https://api.devnet.solana.com\nwebsocket_url: ''\n")
    assert cli.default_url(str(cfg)) == "https://api.devnet.solana.com"
    assert cli.default_url(str(tmp_path / "missing.yml")) == "http://localhost:8899"


def test_websocket_url() -> None:
    assert cli.websocket_url("http://localhost:8899") == "ws://localhost:8900"
    assert cli.websocket_url("https://api.devnet.solana.com") == "wss://api.devnet.solana.com"


def test_keypair_loading(tmp_path: Path) -> None:
    kp = Keypair()
    f = tmp_path / "id.json"
    f.write_text(json.dumps(list(bytes(kp))))
    assert cli.load_keypair(str(f)).pubkey() == kp.pubkey()
    with pytest.raises(cli.CliError, match="not found"):
        cli.load_keypair(str(tmp_path / "nope.json"))
    f.write_text("[1,2,3]")
    with pytest.raises(cli.CliError, match="64 bytes"):
        cli.load_keypair(str(f))


def test_help_via_console_script() -> None:
    exe = Path(sys.executable).parent / "iopay"
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True).stdout
    for word in ("--url", "--keypair", "--output", "pda", "settle"):
        assert word in out
    assert "~/.config/solana/id.json" in out


def test_pda_json_output(capsys, escrow_idl) -> None:  # type: ignore[no-untyped-def]
    mint = Keypair().pubkey()
    assert cli.main(["--output", "json", "pda", "--mint", str(mint), "--customer", str(mint), "--job-id", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["market"] == str(market_pda(escrow_idl.program_id, mint)[0])
    assert {"job", "vault", "event_authority"} <= data.keys()


def test_error_and_idl_commands(capsys, escrow_idl) -> None:  # type: ignore[no-untyped-def]
    assert cli.main(["error", "0x1770"]) == 0
    assert capsys.readouterr().out.startswith("6000 (0x1770) Paused")
    assert cli.main(["--output", "json", "idl"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["program_id"] == str(escrow_idl.program_id) and data["spec"] == "0.1.0"
    assert cli.main(["error", "99999"]) == 1


def test_moved_commands_point_to_their_new_names(capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli.main(["-u", "devnet", "settle"]) == 1
    assert "is now `iopay job settle`" in capsys.readouterr().err


def test_invalid_pubkey_is_one_line_exit_1(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as e:
        cli.main(["pda", "--mint", "notakey"])
    assert e.value.code == 1
    err = capsys.readouterr().err
    assert err == "error: argument --mint: invalid public key: 'notakey' (see `iopay pda --help`)\n"
