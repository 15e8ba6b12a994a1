"""The iopay CLI against the local validator process: a job's lifecycle
driven through the CLI with ``iopay keeper run`` streaming its payouts as a
separate process; one-line errors and nothing sent on bad input."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.cli_env import UNIT, iopay_cmd, make_world, run_async, run_cli, settled_events, spawn, token_balance, wait_until
from tests.integration.conftest import Validator
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import booking_cost, span_cost

HOUR = 3_600
RATES = [1_000_000, 1_500_000, 333_333]
FEE_BPS = 250


def signatures_of(v: Validator, address: Any) -> int:
    return len(v.rpc("getSignaturesForAddress", str(address), {"commitment": "confirmed"}))


def test_job_lifecycle_through_the_cli_with_the_keeper_as_a_process(localnet: Validator, tmp_path: Path,
                                                                    capsys: Any) -> None:
    v = localnet
    w = run_async(make_world(v, tmp_path, ["admin", "customer", "keeper", "w0", "w1", "w2"],
                             {"customer": 10_000 * UNIT}))
    u = ["-u", v.url, "--output", "json"]
    # market init, signed by the program's upgrade authority; the admin becomes its authority.
    rc, m, err = run_cli(capsys, *u, "-k", w.key("admin"), "market", "init", "--mint", str(w.mint), "--treasury",
                         str(w.treasury), "--upgrade-authority", str(tmp_path / "upgrade-authority.json"),
                         "--fee-bps", str(FEE_BPS), "--max-workers", "8", "--max-hours", "100")
    assert rc == 0, err
    assert m["authority"] == str(w.pk("admin")) and m["fee_bps"] == FEE_BPS and m["paused"] is False
    rc, shown, _ = run_cli(capsys, *u, "market", "show", "--mint", str(w.mint))
    assert rc == 0 and shown["market"] == m["market"]

    workers = [f"{w.pk(f'w{i}')}:{r}base" for i, r in enumerate(RATES)]
    rc, opened, err = run_cli(capsys, *u, "-k", w.key("customer"), "job", "open", "--mint", str(w.mint), "--hours",
                              "3", *sum((["--worker", x] for x in workers), []))
    assert rc == 0, err
    principal, fee = booking_cost(RATES, 3, FEE_BPS)
    assert (opened["principal"], opened["fee"]) == (principal, fee)
    job = opened["job"]
    assert token_balance(v, opened["vault"]) == principal + fee
    for i in range(3):
        rc, acc, err = run_cli(capsys, *u, "-k", w.key(f"w{i}"), "job", "accept", job)
        assert rc == 0 and acc["slot"] == i, err
    rc, listed, _ = run_cli(capsys, *u, "job", "list", "--mint", str(w.mint))
    assert rc == 0 and [r["job"] for r in listed["jobs"]] == [job] and listed["jobs"][0]["accepted"] == 3

    # The keeper streams the payouts as its own process.
    log = tmp_path / "keeper.log"
    keeper = spawn(iopay_cmd("-u", v.url, "-k", w.key("keeper"), "keeper", "run", "--mint", str(w.mint),
                             "--max-sleep", "0.3", "--min-sleep", "0.05", "--grace", "0", "--metrics-interval", "1"),
                   log)
    try:
        for hour in (1, 2, 3):
            v.warp(HOUR)
            assert wait_until(lambda: all(token_balance(v, w.ata(f"w{i}")) == r * hour for i, r in enumerate(RATES)),
                              90), log.read_text()[-3000:]  # an upper bound: the machine may be shared
        # Fees accrue in the job; anyone sweeps them to the treasury.
        rc, swept, err = run_cli(capsys, *u, "-k", w.key("keeper"), "market", "sweep-fees", "--mint", str(w.mint),
                                 "--job", job)
        assert rc == 0, err
        assert swept["from_job"] == token_balance(v, w.treasury) == sum(span_cost(r, FEE_BPS, 0, 3)[1] for r in RATES)
        v.warp(HOUR)  # the booking is over: nothing more is paid
        rc, shown, _ = run_cli(capsys, *u, "job", "show", job)
        assert [s["hours_paid"] for s in shown["workers"]] == [3, 3, 3] and shown["closable"] is True
        assert all(s["due_hours"] == 0 for s in shown["workers"]) and shown["next_due_ts"] is None
        rc, settled, _ = run_cli(capsys, *u, "-k", w.key("keeper"), "job", "settle", job)
        assert rc == 0 and settled["paid"] == [] and settled["note"] == "nothing due"
    finally:
        keeper.send_signal(signal.SIGTERM)
        rc = keeper.wait(30)
    assert rc == 0, log.read_text()[-3000:]
    records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert records[0]["event"] == "keeper_started" and records[-1]["event"] == "keeper_stopped"
    assert records[-1]["worker_hours_paid"] == 9 and records[-1]["payout_failures"] == 0
    assert any(r["event"] == "metrics" for r in records)
    rc, closed, err = run_cli(capsys, *u, "-k", w.key("customer"), "job", "close", job)
    assert rc == 0, err
    rc, _, err = run_cli(capsys, *u, "job", "show", job)
    assert rc == 1 and err == f"error: job {job} not found\n"
    evs = run_async(settled_events(v, ProgramIdl.load("job_escrow"), [w.ata(f"w{i}") for i in range(3)]))
    assert sorted((e.slot, e.hours, e.amount) for e in evs if str(e.job) == job) == \
        sorted((i, 1, r) for i, r in enumerate(RATES) for _ in range(3))


def test_cli_errors_are_one_line_and_send_nothing(validator: Validator, tmp_path: Path, capsys: Any) -> None:
    v = validator
    w = run_async(make_world(v, tmp_path, ["admin", "customer", "poor", "w0"], {"customer": 100 * UNIT,
                                                                               "poor": 1}))
    u = ["-u", v.url]
    rc, _, err = run_cli(capsys, *u, "-k", w.key("admin"), "market", "init", "--mint", str(w.mint), "--treasury",
                         str(w.treasury), "--upgrade-authority", str(tmp_path / "upgrade-authority.json"))
    assert rc == 0, err

    def fails(expect: str, *argv: str, status: int = 1) -> str:
        rc, _, err = run_cli(capsys, *u, *argv)
        assert rc == status, err
        assert err.count("\n") == 1 and expect in err, err
        return err

    open_args = ["job", "open", "--mint", str(w.mint), "--hours", "2", "--worker", f"{w.pk('w0')}:10"]
    before = {n: signatures_of(v, w.pk(n)) for n in ("customer", "poor", "admin")}
    # Bad keypair files: missing, not JSON, wrong shape.
    fails("keypair file not found", "-k", str(tmp_path / "missing.json"), *open_args)
    (tmp_path / "bad.json").write_text("not json")
    fails("cannot read keypair", "-k", str(tmp_path / "bad.json"), *open_args)
    (tmp_path / "short.json").write_text("[1, 2, 3]")
    fails("expected a JSON array of 64 bytes", "-k", str(tmp_path / "short.json"), *open_args)
    # Unknown job / unknown market.
    ghost = "11111111111111111111111111111112"
    fails(f"job {ghost} not found", "job", "show", ghost)
    fails(f"job {ghost} not found", "-k", w.key("customer"), "job", "end", ghost)
    fails("no market for mint", "job", "list", "--mint", ghost)
    # Insufficient funds: 1 base unit cannot lock 20 tokens + fee.
    fails("insufficient funds", "-k", w.key("poor"), *open_args)
    # Someone else's job / role checks.
    rc, opened, err = run_cli(capsys, *u, "--output", "json", "-k", w.key("customer"), *open_args)
    assert rc == 0, err
    job = opened["job"]
    fails("is not a worker of job", "-k", w.key("poor"), "job", "accept", job)
    fails("only the customer", "-k", w.key("poor"), "job", "end", job)
    fails("is not the authority of market", "-k", w.key("poor"), "market", "pause", "--mint", str(w.mint))
    # Paused market: open and extend refused before sending.
    rc, _, err = run_cli(capsys, *u, "-k", w.key("admin"), "market", "pause", "--mint", str(w.mint))
    assert rc == 0, err
    customer_sigs = signatures_of(v, w.pk("customer"))
    fails("is paused", "-k", w.key("customer"), *open_args)
    fails("is paused", "-k", w.key("customer"), "job", "extend", job, "--hours", "1")
    assert signatures_of(v, w.pk("customer")) == customer_sigs
    rc, _, err = run_cli(capsys, *u, "-k", w.key("admin"), "market", "unpause", "--mint", str(w.mint))
    assert rc == 0, err
    # Invalid arguments: one line, exit status 1.
    rc, _, err = run_cli(capsys, *u, "job", "open", "--mint", str(w.mint), "--hours", "0", "--worker", "x:1")
    assert rc == 1 and err.count("\n") == 1
    rc, _, err = run_cli(capsys, *u, "job", "show", "not-a-key")
    assert rc == 1 and "invalid public key" in err
    # Nothing was sent by any failing command: only open/pause/unpause/init landed.
    assert signatures_of(v, w.pk("poor")) == before["poor"]
    # Cancel works (nobody accepted) and refunds everything.
    rc, cancelled, err = run_cli(capsys, *u, "--output", "json", "-k", w.key("customer"), "job", "cancel", job)
    assert rc == 0 and cancelled["refund"] == sum(booking_cost(10 * UNIT, 2, 250)), err
    fails("connection refused at http://127.0.0.1:9", "-u", "http://127.0.0.1:9", "job", "show", job)


def test_keeper_once_and_bad_market(validator: Validator, tmp_path: Path) -> None:
    w = run_async(make_world(validator, tmp_path, ["keeper"], {}))
    r = subprocess.run(iopay_cmd("-u", validator.url, "-k", w.key("keeper"), "keeper", "run", "--once", "--mint",
                                 str(w.mint)), capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and r.stderr.strip().count("\n") == 0 and "no market for mint" in r.stderr
