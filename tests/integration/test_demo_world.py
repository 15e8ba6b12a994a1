"""``iopay localnet --demo-world``: the validator comes up with a ready
world (IO stand-in mint, market, funded customer, workers, keeper, keypair
files), printed once ready, usable at once by the CLI, and found again
after a restart on the same ledger."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Tuple

from tests.cli.walk import run_iopay
from tests.integration.conftest import REPO


def start(ledger: Path, log: Path, reset: bool) -> Tuple[subprocess.Popen, Dict[str, Any]]:
    out = open(log, "wb")
    proc = subprocess.Popen([sys.executable, "-m", "iopay.cli", "--output", "json", "localnet", "--demo-world",
                             "--ledger", str(ledger), "--rpc-port", "0", "--ws-port", "0",
                             *(["--reset"] if reset else [])],
                            cwd=REPO, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    out.close()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        text = log.read_text()
        start_ = text.find("{\n")
        if start_ >= 0:
            try:
                return proc, json.loads(text[start_:text.rindex("}") + 1])
            except ValueError:
                pass
        time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"no demo world printed:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_demo_world(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    proc, world = start(ledger, tmp_path / "1.log", reset=True)
    try:
        url, w = world["url"], world["wallets"]
        assert set(w) == {"admin", "customer", "keeper", "worker1", "worker2", "worker3"}
        for d in w.values():
            assert Path(d["keypair"]).is_file()
        o = run_iopay(["-u", url, "--output", "json", "token", "balance", world["mint"], "--owner",
                       w["customer"]["address"]])
        assert o.code == 0 and json.loads(o.out)["ui_amount"] == "10000", o.err
        o = run_iopay(["-u", url, "--output", "json", "market", "show", "--mint", world["mint"]])
        assert o.code == 0 and json.loads(o.out)["market"] == world["market"], o.err
        o = run_iopay(["-u", url, "--output", "json", "-k", w["customer"]["keypair"], "job", "open", "--mint",
                       world["mint"], "--hours", "2", "--worker", f"{w['worker1']['address']}:2.5"])
        assert o.code == 0, o.err
        assert json.loads(o.out)["locked_ui"] == "5.125"
    finally:
        stop(proc)
    proc, again = start(ledger, tmp_path / "2.log", reset=False)
    try:
        assert again["mint"] == world["mint"] and again["market"] == world["market"]
    finally:
        stop(proc)
