"""``iopay gov``: argument parsing and the checks made before any network
traffic (exit 2 for bad arguments, 1 with one line for bad input)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from iopay import cli
from iopay.cli.governance import parse_ui_amount
from iopay.cli.common import CliError

CLOSED = "http://127.0.0.1:9"
KEY = "11111111111111111111111111111111"


def run(capsys: Any, *argv: str) -> "tuple[int, str, str]":
    try:
        rc = cli.main(list(argv))
    except SystemExit as e:
        rc = int(e.code or 0)
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("argv,needle", [
    (["gov", "vote", "maybe", KEY], "invalid choice"),
    (["gov", "vote", "yes", "nope"], "invalid public key"),
    (["gov", "propose", "--realm", "r", "--mint", KEY, "--name", "n", "set-fee", "-1"], "must not be negative"),
    (["gov", "propose", "--realm", "r", "--mint", KEY, "--name", "n"], "ACTION"),
    (["gov", "hand-over", "--realm", "r", "--mint", KEY, "--voting-time", "0"], "must be positive"),
    (["gov", "realm"], "SUBCOMMAND"),
])
def test_bad_arguments_one_line_exit_1(capsys: Any, argv: list, needle: str) -> None:
    rc, _, err = run(capsys, "-u", CLOSED, *argv)
    assert rc == 1 and needle in err and err.count("\n") == 1, err


def test_bad_input_is_one_line_before_any_rpc(capsys: Any, tmp_path: Path) -> None:
    rc, _, err = run(capsys, "-u", CLOSED, "-k", str(tmp_path / "missing.json"), "gov", "vote", "yes", KEY)
    assert rc == 1 and err.startswith("error: keypair file not found") and err.count("\n") == 1
    rc, _, err = run(capsys, "-u", CLOSED, "gov", "realm", "create", "--name", "x" * 33, "--mint", KEY)
    assert rc == 1 and "1..=32 bytes" in err and err.count("\n") == 1
    rc, _, err = run(capsys, "-u", CLOSED, "gov", "list", "--realm", "IO DAO")
    assert rc == 1 and "connection refused at http://127.0.0.1:9" in err and err.count("\n") == 1


def test_parse_ui_amount() -> None:
    assert parse_ui_amount("1.5", 6) == 1_500_000 and parse_ui_amount("600", 6) == 600_000_000
    for bad in ["0", "-1", "0.0000001", "abc"]:
        with pytest.raises(CliError):
            parse_ui_amount(bad, 6)
