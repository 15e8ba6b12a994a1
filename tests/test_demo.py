"""``python -m iopay.demo`` runs end to end and its ledger balances."""

from __future__ import annotations

import subprocess
import sys

from iopay import demo
from iopay.litesvm import Harness


def test_demo_default(escrow_harness: Harness) -> None:  # fixture: fails clearly without the .so
    out = subprocess.run([sys.executable, "-m", "iopay.demo"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "ledger balanced: OK" in out.stdout and "hour 6/6" in out.stdout


def test_demo_rounding_fee(escrow_harness: Harness) -> None:
    assert demo.main(["-q", "--rate", "0.333333", "--hours", "7", "--fee-bps", "175", "--cancel-after", "3.99"]) == 0
    assert demo.main(["-q", "--rate", "2", "--hours", "3", "--fee-bps", "0", "--cancel-after", "0"]) == 0
