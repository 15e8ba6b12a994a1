"""``iopay rewards`` against the local validator process: job hours read
over JSON-RPC (getSignaturesForAddress + getTransaction) from a job run and
settled through the CLI, an epoch computed, published, claimed and
reported; one-line errors with nothing sent on a second claim and an early
clawback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.integration.cli_env import UNIT, make_world, run_async, run_cli, token_balance
from tests.integration.conftest import Validator

HOUR = 3_600


def test_rewards_epoch_through_the_cli(localnet: Validator, tmp_path: Path, capsys: Any) -> None:
    v = localnet
    names = ["admin", "customer", "publisher", "w0", "w1", "w2"]
    w = run_async(make_world(v, tmp_path, names, {"customer": 10_000 * UNIT, "publisher": 1_000 * UNIT}))
    u = ["-u", v.url, "--output", "json"]
    rc, _, err = run_cli(capsys, *u, "-k", w.key("admin"), "market", "init", "--mint", str(w.mint), "--treasury",
                         str(w.treasury), "--upgrade-authority", str(tmp_path / "upgrade-authority.json"),
                         "--fee-bps", "100", "--max-workers", "8", "--max-hours", "100")
    assert rc == 0, err
    start = v.warp(0) - 10
    workers = sum((["--worker", f"{w.pk(f'w{i}')}:1000000base"] for i in range(3)), [])
    rc, opened, err = run_cli(capsys, *u, "-k", w.key("customer"), "job", "open", "--mint", str(w.mint),
                              "--hours", "2", *workers)
    assert rc == 0, err
    for i in range(2):  # w2 never accepts: no hours
        rc, _, err = run_cli(capsys, *u, "-k", w.key(f"w{i}"), "job", "accept", opened["job"])
        assert rc == 0, err
    v.warp(2 * HOUR + 5)
    rc, _, err = run_cli(capsys, *u, "-k", w.key("admin"), "job", "settle", opened["job"])
    assert rc == 0, err
    end = v.warp(0) + 10

    inputs = tmp_path / "inputs.csv"
    inputs.write_text("wallet,gpu_model,download_mbps,upload_mbps,uptime_bps\n"
                      f"{w.pk('w0')},H100,1000,1000,9000\n{w.pk('w1')},T4,50,10,4000\n{w.pk('w2')},A100,200,60,8000\n")
    tree = tmp_path / "epoch.json"
    rc, out, err = run_cli(capsys, *u, "rewards", "compute", "--epoch", "7", "--inputs", str(inputs), "--pool", "1000",
                           "--mint", str(w.mint), "--start", str(start), "--end", str(end), "--out", str(tree))
    assert rc == 0, err
    assert out["job_hours"] == 4 and out["leaves"] == 3
    doc = json.loads(tree.read_text())
    pts = {r["wallet"]: int(r["points"]) for r in doc["workers"]}
    # Hand computation: (100 * hours + uptime if >= 5000) * gpu% * band%.
    assert pts[str(w.pk("w0"))] == (200 + 9000) * 300 * 125
    assert pts[str(w.pk("w1"))] == (200 + 0) * 80 * 90
    assert pts[str(w.pk("w2"))] == (0 + 8000) * 220 * 100
    amounts = {r["wallet"]: int(r["amount"]) for r in doc["workers"]}
    assert sum(amounts.values()) == 1000 * UNIT

    rc, shown, err = run_cli(capsys, "--output", "display", "rewards", "show", "--tree", str(tree), str(w.pk("w1")),
                             "--decimals", "6")
    assert rc == 0 and "0 (uptime 4000 bps < minimum 5000)" in shown and "band basic: x 90%" in shown, err

    rc, pub, err = run_cli(capsys, *u, "-k", w.key("publisher"), "rewards", "publish", "--tree", str(tree),
                           "--mint", str(w.mint), "--treasury", str(w.treasury), "--deadline", "1h")
    assert rc == 0, err
    before = token_balance(v, w.ata("w0"))  # its job pay
    rc, claimed, err = run_cli(capsys, *u, "-k", w.key("w0"), "rewards", "claim", "--tree", str(tree),
                               "--distributor", pub["distributor"])
    assert rc == 0, err
    assert token_balance(v, w.ata("w0")) - before == amounts[str(w.pk("w0"))]
    rc, _, err = run_cli(capsys, *u, "-k", w.key("w0"), "rewards", "claim", "--tree", str(tree),
                         "--distributor", pub["distributor"])
    assert rc == 1 and "already claimed" in err and err.count("\n") == 1
    rc, _, err = run_cli(capsys, *u, "-k", w.key("admin"), "rewards", "claim", "--tree", str(tree),
                         "--distributor", pub["distributor"])
    assert rc == 1 and "has no reward in epoch 7" in err
    rc, _, err = run_cli(capsys, *u, "-k", w.key("admin"), "rewards", "clawback", "--distributor", pub["distributor"])
    assert rc == 1 and "claims are open until" in err and "nothing sent" in err
    rc, st, err = run_cli(capsys, *u, "rewards", "status", "--distributor", pub["distributor"], "--tree", str(tree),
                          "--wallet", str(w.pk("w0")))
    assert rc == 0, err
    assert st["state"] == "open" and st["claims"] == "1/3" and st["wallet_claimed"] is True
    assert 3500 <= st["seconds_left"] <= 3600
    v.warp(HOUR + 5)
    treasury_before = token_balance(v, w.treasury)
    rc, cb, err = run_cli(capsys, *u, "-k", w.key("admin"), "rewards", "clawback", "--distributor", pub["distributor"])
    assert rc == 0, err
    assert token_balance(v, w.treasury) - treasury_before == 1000 * UNIT - amounts[str(w.pk("w0"))]
    rc, _, err = run_cli(capsys, *u, "-k", w.key("w1"), "rewards", "claim", "--tree", str(tree),
                         "--distributor", pub["distributor"])
    assert rc == 1 and "closed" in err

