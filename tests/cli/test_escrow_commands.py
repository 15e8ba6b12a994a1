"""``iopay market|job|keeper``: argument parsing and validation that happens
before any network traffic (one line and exit 1 for bad arguments and bad keypairs)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
from solders.keypair import Keypair

from iopay import cli
from iopay.cli.common import ui_amount
from iopay.cli.escrow.job import parse_worker

CLOSED = "http://127.0.0.1:9"  # nothing listens: any RPC call would fail differently


def run(capsys: Any, *argv: str) -> "tuple[int, str, str]":
    try:
        rc = cli.main(list(argv))
    except SystemExit as e:
        rc = int(e.code or 0)
    out, err = capsys.readouterr()
    return rc, out, err


def test_parse_worker() -> None:
    """The rate stays text until the mint's decimals are known (UI units by default)."""
    kp = Keypair().pubkey()
    assert parse_worker(f"{kp}:2.5") == (kp, "2.5")
    assert parse_worker(f"{kp}:1500000base") == (kp, "1500000base")
    for bad in [str(kp), f"{kp}:", "nope:1"]:
        with pytest.raises(argparse.ArgumentTypeError):
            parse_worker(bad)


def test_worker_rates_in_ui_units() -> None:
    from iopay.cli.common import CliError
    from iopay.cli.escrow.job import worker_rates

    kp = Keypair().pubkey()

    def rates(*workers: str, usd: bool = False, base: bool = False) -> list:
        ns = argparse.Namespace(worker=[parse_worker(w) for w in workers], usd=usd, base_units=base)
        return [r for _, r in worker_rates(ns, 6)]

    assert rates(f"{kp}:2.5", f"{kp}:0.000001", f"{kp}:7base") == [2_500_000, 1, 7]
    assert rates(f"{kp}:2500000", base=True) == [2_500_000]
    assert rates(f"{kp}:1.25", usd=True) == [1_250_000]  # micro-USD
    for bad, msg in [("0", "must be positive: 0 tokens/h"), ("-3", "must not be negative: -3 tokens/h"),
                     ("1.0000001", "1.0000001 tokens/h has more than 6 decimal places"),
                     ("abc", "invalid amount 'abc'")]:
        with pytest.raises(CliError, match=msg):
            rates(f"{kp}:{bad}")


def test_ui_amount() -> None:
    assert ui_amount(1_500_000, 6) == "1.5" and ui_amount(1, 6) == "0.000001" and ui_amount(7, 0) == "7"
    assert ui_amount(2_000_000, 6) == "2"


@pytest.mark.parametrize("argv,needle", [
    (["job", "open", "--mint", "x", "--hours", "1", "--worker", "y:1"], "invalid public key"),
    (["job", "open", "--mint", "11111111111111111111111111111111", "--hours", "0",
      "--worker", "11111111111111111111111111111111:1"], "must be positive"),
    (["job", "open", "--mint", "11111111111111111111111111111111", "--hours", "2"], "--worker"),
    (["job", "extend", "11111111111111111111111111111111"], "--hours"),
    (["job", "release", "11111111111111111111111111111111"], "--slot"),
    (["job", "open", "--mint", "11111111111111111111111111111111", "--hours", "1",
      "--worker", "11111111111111111111111111111111:1", "--slippage-bps", "-1"], "--slippage-bps"),
    (["market", "accept-authority"], "--mint"),
    (["market", "sweep-fees", "--mint", "11111111111111111111111111111111", "--job", "x"], "invalid public key"),
    (["job", "show"], "JOB"),
    (["job", "list", "--state", "weird"], "invalid choice"),
    (["market", "init", "--mint", "11111111111111111111111111111111"], "--treasury"),
    (["market", "set-price", "--mint", "11111111111111111111111111111111"], "--price"),
    (["keeper", "run"], "--mint"),
    (["keeper", "run", "--mint", "11111111111111111111111111111111", "--concurrency", "0"], "must be positive"),
    (["job"], "SUBCOMMAND"),
])
def test_bad_arguments_one_line_exit_1(capsys: Any, argv: list, needle: str) -> None:
    rc, out, err = run(capsys, "-u", CLOSED, *argv)
    assert rc == 1 and needle in err and out == "" and err.count("\n") == 1 and err.startswith("error: ")


def test_bad_keypair_fails_before_any_rpc(capsys: Any, tmp_path: Path) -> None:
    # The URL is dead: if the CLI touched the network first, the error would say so.
    job = "11111111111111111111111111111111"
    rc, _, err = run(capsys, "-u", CLOSED, "-k", str(tmp_path / "none.json"), "job", "accept", job)
    assert rc == 1 and err.startswith("error: keypair file not found") and err.count("\n") == 1
    (tmp_path / "k.json").write_text(json.dumps([0] * 10))
    rc, _, err = run(capsys, "job", "end", job, "-u", CLOSED, "-k", str(tmp_path / "k.json"))
    assert rc == 1 and "expected a JSON array of 64 bytes" in err


def test_options_after_the_subcommand_and_unreachable_rpc(capsys: Any, tmp_path: Path) -> None:
    kp = tmp_path / "id.json"
    kp.write_text(json.dumps(list(bytes(Keypair()))))
    rc, _, err = run(capsys, "job", "show", "11111111111111111111111111111111", "-u", CLOSED, "--output", "json")
    assert rc == 1 and err.startswith(f"error: connection refused at {CLOSED}") and err.count("\n") == 1
    rc, _, err = run(capsys, "keeper", "run", "--mint", "11111111111111111111111111111111", "-u", "devnet2")
    assert rc == 1 and "invalid --url 'devnet2'" in err


def test_help_lists_the_commands(capsys: Any) -> None:
    for argv, words in [(["--help"], ["market", "job", "keeper"]),
                        (["job", "--help"], ["open", "accept", "settle", "extend", "release", "end", "quit",
                                             "cancel", "close", "show", "list"]),
                        (["job", "open", "--help"], ["--max-total", "--slippage-bps", "--accept-window"]),
                        (["market", "--help"], ["init", "show", "pause", "unpause", "update", "set-authority",
                                                "accept-authority", "sweep-fees", "set-price"]),
                        (["keeper", "run", "--help"], ["--once", "--metrics-port", "--no-lookup-tables"])]:
        rc, out, _ = run(capsys, *argv)
        assert rc == 0 and all(w in out for w in words), (argv, out)
