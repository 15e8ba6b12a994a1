"""``python -m iopay.demo`` runs end to end and its ledger balances."""

from __future__ import annotations

import subprocess
import sys

from iopay import demo
from iopay.core.harness import Harness


def test_demo_default(escrow_harness: Harness) -> None:  # fixture: fails clearly without the .so
    out = subprocess.run([sys.executable, "-m", "iopay.demo"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "ledger balanced: OK" in out.stdout and "hour 4/6" in out.stdout
    assert "worker 3 quits" in out.stdout and "customer ends the job" in out.stdout
    assert "refunded as credits" in out.stdout and "credits ledger balanced: OK" in out.stdout


def test_demo_variants(escrow_harness: Harness) -> None:
    # Fee rounding, a quit before the first hour, an end at once, a full run.
    assert demo.main(["-q", "--rates", "0.333333,0.1", "--hours", "7", "--fee-bps", "175",
                      "--end-after", "3.99", "--quit-after", "0.5", "--no-credits"]) == 0
    assert demo.main(["-q", "--rates", "2", "--hours", "3", "--fee-bps", "0", "--end-after", "0", "--no-credits"]) == 0
    assert demo.main(["-q", "--rates", "1,2,3", "--hours", "3", "--end-after", "3", "--quit-after", "9", "--no-credits"]) == 0
