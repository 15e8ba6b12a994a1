"""``iopay rewards compute|show`` offline (decoded events from a file): the
file written, the summary, the explanation, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from solders.keypair import Keypair

from iopay import cli

HEADER = "wallet,gpu_model,download_mbps,upload_mbps,uptime_bps\n"


def run(capsys: Any, *argv: str) -> "tuple[int, str, str]":
    try:
        rc = cli.main(list(argv))
    except SystemExit as e:
        rc = int(e.code or 0)
    out, err = capsys.readouterr()
    return rc, out, err


def world(tmp_path: Path):
    a, b, job = Keypair().pubkey(), Keypair().pubkey(), Keypair().pubkey()
    inputs = tmp_path / "in.csv"
    inputs.write_text(HEADER + f"{a},RTX 4090,600,300,9500\n{b},T4,10,10,10000\n")
    events = tmp_path / "ev.json"
    events.write_text(json.dumps([
        # job_escrow's batched settlement event: one per instruction, a payout per worker
        {"name": "HoursSettled", "job": str(job), "settled_ts": 1_700_000_100, "skipped": [],
         "paid": [{"slot": 0, "worker": str(a), "hours": 11, "secs": 1800, "hours_paid": 11, "amount": 1, "fee": 0}]},
        {"name": "HoursSettled", "job": str(job), "settled_ts": 1_700_000_200, "skipped": [],
         "paid": [{"slot": 0, "worker": str(a), "hours": 0, "secs": 1800, "hours_paid": 11, "amount": 1, "fee": 0}]},
        {"name": "HoursSettled", "job": str(job), "settled_ts": 1_600_000_000, "skipped": [],  # before epoch 0
         "paid": [{"slot": 0, "worker": str(a), "hours": 5, "secs": 0, "hours_paid": 5, "amount": 1, "fee": 0}]},
    ]))
    return a, b, inputs, events


def test_compute_and_show_offline(capsys: Any, tmp_path: Path) -> None:
    a, b, inputs, events = world(tmp_path)
    out_file = tmp_path / "e.json"
    args = ["rewards", "compute", "--epoch", "0", "--inputs", str(inputs), "--pool", "100.5", "--events",
            str(events), "--decimals", "6", "--out", str(out_file)]
    rc, out, err = run(capsys, "--output", "json", *args)
    assert rc == 0, err
    data = json.loads(out)
    assert data["job_hours"] == 12 and data["pool_base_units"] == "100500000" and data["leaves"] == 2
    first = out_file.read_bytes()
    rc, out, err = run(capsys, *args)  # display output: the summary table
    assert rc == 0 and "workers 2  paid 2  pool 100.5" in out and str(a) in out
    assert out_file.read_bytes() == first  # byte for byte
    doc = json.loads(first)
    pa = (100 * 12 + 9500) * 150 * 110
    pb = (0 + 10000) * 80 * 90
    amounts = {r["wallet"]: int(r["amount"]) for r in doc["workers"]}
    assert amounts[str(a)] == 100_500_000 * pa // (pa + pb) + (1 if 100_500_000 * pa % (pa + pb) >
                                                                 100_500_000 * pb % (pa + pb) else 0)
    assert sum(amounts.values()) == 100_500_000
    rc, out, err = run(capsys, "rewards", "show", "--tree", str(out_file), str(a), "--decimals", "6")
    assert rc == 0, err
    assert "job hours   12 h x 100 = 1200" in out and "gpu         RTX 4090: x 150%" in out
    assert f"points      (1200 + 9500) x 150 x 110 = {pa}" in out
    rc, out, err = run(capsys, "--output", "json", "rewards", "show", "--tree", str(out_file), str(b))
    assert rc == 0 and json.loads(out)["points"] == str(pb)


def test_one_line_errors(capsys: Any, tmp_path: Path) -> None:
    a, b, inputs, events = world(tmp_path)
    base = ["rewards", "compute", "--epoch", "0", "--events", str(events), "--decimals", "6"]
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + f"{a},H100,1,1,1\n{b},H100,1,x,1\n")
    rc, _, err = run(capsys, *base, "--inputs", str(bad), "--pool", "5")
    assert rc == 1 and err.startswith(f"error: {bad}: line 3: upload_mbps must be an integer") and err.count("\n") == 1
    assert not Path("rewards-epoch-0.json").exists()
    rc, _, err = run(capsys, *base, "--inputs", str(inputs), "--pool", "1.0000001")
    assert rc == 1 and "at most 6 decimals" in err
    rc, _, err = run(capsys, *base, "--inputs", str(tmp_path / "nope.csv"), "--pool", "1")
    assert rc == 1 and "inputs file not found" in err
    # An events file in the old per-worker shape (no "paid" list) is refused in one line.
    old_shape = tmp_path / "old.json"
    old_shape.write_text(json.dumps([{"name": "HoursSettled", "worker": str(a), "hours": 3, "settled_ts": 1}]))
    rc, _, err = run(capsys, "rewards", "compute", "--epoch", "0", "--events", str(old_shape), "--decimals", "6",
                     "--inputs", str(inputs), "--pool", "1")
    assert rc == 1 and err == "error: job_escrow events: HoursSettled has no 'paid'\n"
    rc, _, err = run(capsys, "rewards", "show", "--tree", str(tmp_path / "nope.json"), str(a))
    assert rc == 1 and err == f"error: rewards file not found: {tmp_path / 'nope.json'}\n"
    rc, _, err = run(capsys, "rewards", "show", "--tree", str(inputs), str(a))
    assert rc == 1 and err.startswith("error: invalid rewards file") and err.count("\n") == 1
