"""``iopay credits ...`` and ``job open --pay-with credits``: argument
validation before any network traffic (exit 1 with a one-line error)."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from iopay import cli
from iopay.cli.credits import period_arg, usd_arg

MINT = "11111111111111111111111111111111"
CLOSED = "http://127.0.0.1:9"


def run(capsys: Any, *argv: str) -> "tuple[int, str, str]":
    try:
        rc = cli.main(list(argv))
    except SystemExit as e:
        rc = int(e.code or 0)
    out, err = capsys.readouterr()
    return rc, out, err


def test_usd_and_period_args() -> None:
    assert usd_arg("12.50") == 12_500_000
    assert period_arg("day") == 86_400 and period_arg("3600") == 3_600
    for bad in ["1.0000001", "-2", "x"]:
        with pytest.raises(argparse.ArgumentTypeError):
            usd_arg(bad)
    for bad in ["10", "fortnight"]:
        with pytest.raises(argparse.ArgumentTypeError):
            period_arg(bad)


@pytest.mark.parametrize("argv,needle", [
    (["credits", "buy", "--mint", MINT, "--usd", "1.0000001"], "more than 6 decimals"),
    (["credits", "buy", "--mint", "nope", "--usd", "1"], "invalid public key"),
    (["credits", "redeem", "--mint", MINT, "--amount", "0"], "must be positive"),
    (["credits", "delegate", "--mint", MINT, MINT, "--allowance-usd", "5", "--period", "7"], "between 60"),
    (["credits", "revoke", "--mint", MINT], "DELEGATE"),
    (["credits", "frobnicate"], "invalid choice"),
    (["job", "open", "--mint", MINT, "--hours", "1", "--worker", f"{MINT}:1", "--pay-with", "gold"],
     "invalid choice"),
])
def test_bad_arguments_exit_1_one_line(capsys: Any, argv: list, needle: str) -> None:
    rc, _, err = run(capsys, *argv)
    assert rc == 1 and needle in err and len(err.strip().splitlines()) == 1, err


def test_one_line_errors_before_any_rpc(capsys: Any, tmp_path: Any) -> None:
    rc, _, err = run(capsys, "-u", CLOSED, "-k", str(tmp_path / "missing.json"), "credits", "buy", "--mint", MINT,
                     "--usd", "1")
    assert rc == 1 and err.startswith("error:") and len(err.strip().splitlines()) == 1, err
    # both --usd and --amount: refused before the keypair is even needed
    rc, _, err = run(capsys, "-u", CLOSED, "-k", str(tmp_path / "missing.json"), "credits", "buy", "--mint", MINT,
                     "--usd", "1", "--amount", "5")
    assert rc == 1 and "exactly one" in err, err
    rc, _, err = run(capsys, "-u", CLOSED, "-k", str(tmp_path / "missing.json"), "job", "open", "--mint", MINT,
                     "--hours", "1", "--worker", f"{MINT}:1", "--for", MINT)
    assert rc == 1 and "--pay-with credits" in err, err


@pytest.mark.parametrize("argv,needle", [
    (["channel", "open", "--provider", MINT, "--mint", MINT, "--deposit", "1", "--pay-with", "gold"],
     "invalid choice"),
    (["channel", "open", "--provider", MINT, "--mint", MINT, "--deposit", "1", "--for", "nope",
      "--pay-with", "credits"], "invalid public key"),
    (["channel", "open", "--provider", MINT, "--mint", MINT, "--deposit", "-1", "--pay-with", "credits"],
     "must not be negative"),
    (["channel", "coop-close", MINT, "--pay-with", "credits"], "--provider-keypair"),
    (["channel", "close", "nope", "--pay-with", "credits"], "invalid public key"),
    (["channel", "finish", MINT, "--for", "nope", "--pay-with", "credits"], "invalid public key"),
])
def test_channel_with_credits_bad_arguments_exit_1_one_line(capsys: Any, argv: list, needle: str) -> None:
    rc, _, err = run(capsys, *argv)
    assert rc == 1 and needle in err and len(err.strip().splitlines()) == 1, err


def test_channel_with_credits_checks_before_any_rpc(capsys: Any, tmp_path: Any) -> None:
    """Dollar amounts and the --for/--pay-with pairing are checked before the
    keypair is loaded or the node is asked anything (the URL is closed)."""
    base = ["-u", CLOSED, "-k", str(tmp_path / "missing.json"), "channel"]
    for argv, needle in [
        (["open", "--provider", MINT, "--mint", MINT, "--deposit", "1.0000001", "--pay-with", "credits"],
         "more than 6 decimals"),
        (["open", "--provider", MINT, "--mint", MINT, "--deposit", "0", "--pay-with", "credits"], "positive"),
        (["open", "--provider", MINT, "--mint", MINT, "--deposit", "1", "--for", MINT], "--pay-with credits"),
        (["top-up", MINT, "--pay-with", "credits"], "nothing to do"),
        (["top-up", MINT, "--amount", "0.0000001", "--pay-with", "credits"], "more than 6 decimals"),
        (["close", MINT, "--for", MINT], "--pay-with credits"),
        (["finish", MINT, "--for", MINT], "--pay-with credits"),
    ]:
        rc, _, err = run(capsys, *base, *argv)
        assert rc == 1 and needle in err and len(err.strip().splitlines()) == 1, (argv, err)
    # then the keypair, still before any RPC
    rc, _, err = run(capsys, *base, "open", "--provider", MINT, "--mint", MINT, "--deposit", "1", "--pay-with",
                     "credits")
    assert rc == 1 and "keypair file not found" in err, err
    rc, _, err = run(capsys, "-u", CLOSED, "channel", "coop-close", MINT, "--provider-keypair",
                     str(tmp_path / "missing.json"), "--pay-with", "credits")
    assert rc == 1 and "keypair file not found" in err, err


def test_channel_commands_document_pay_with_credits() -> None:
    from iopay.cli import build_parser
    from tests.cli.walk import leaves

    parsers = dict(leaves(build_parser()))
    for name in ("open", "top-up", "close", "coop-close", "finish"):
        p = parsers[("channel", name)]
        opts = {o: a for a in p._actions for o in a.option_strings}
        assert opts["--pay-with"].choices == ["tokens", "credits"] and opts["--pay-with"].help, name
        assert opts["--for"].help and "credits" in opts["--for"].help, name
