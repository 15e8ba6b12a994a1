"""``iopay transfer`` and the rent-exempt minimum, against each validator (``iopay localnet`` and
Agave's solana-test-validator): a first transfer to an empty account below the minimum is refused before
anything is sent (a validator would fail it with InsufficientFundsForRent);
one that leaves the sender rent-paying is refused by the validator's own
check, in one line; the minimum itself goes through."""

from __future__ import annotations

import json
from pathlib import Path

from solders.keypair import Keypair

from iopay.core.wallet import write_keypair
from tests.cli.walk import problem, run_iopay
from tests.integration.conftest import Validator

RENT_EXEMPT_EMPTY = 890_880  # lamports, an account with no data


def test_transfer_respects_the_rent_exempt_minimum(validator: Validator, tmp_path: Path) -> None:
    u = ["-u", validator.url]
    alice = tmp_path / "alice.json"
    write_keypair(alice)
    assert run_iopay([*u, "-k", str(alice), "airdrop", "0.01"]).code == 0
    new = str(Keypair().pubkey())
    o = run_iopay([*u, "-k", str(alice), "transfer", new, "0.0001"])
    assert o.code == 1 and problem(o) is None
    assert o.err.strip() == (f"error: {new} has no SOL yet: a first transfer must be at least 0.00089088 SOL "
                             f"(the rent-exempt minimum); nothing sent")
    o = run_iopay([*u, "-k", str(alice), "--output", "json", "balance"])
    assert json.loads(o.out)["lamports"] == 10_000_000
    # leaving alice with less than the minimum (but not nothing): the validator's check, one line
    o = run_iopay([*u, "-k", str(alice), "transfer", new, "0.0094"])
    assert o.code == 1 and problem(o) is None and "insufficient funds for rent" in o.err, o.err
    assert len(o.err.strip().splitlines()) == 1
    o = run_iopay([*u, "-k", str(alice), "--output", "json", "transfer", new, str(RENT_EXEMPT_EMPTY / 1e9)])
    assert o.code == 0, o.err
    o = run_iopay([*u, "--output", "json", "balance", new])
    assert json.loads(o.out)["lamports"] == RENT_EXEMPT_EMPTY
