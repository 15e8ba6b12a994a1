"""``iopay`` wallet and token commands against each validator (``iopay
localnet`` and Agave's solana-test-validator): SOL airdrop/balance/transfer,
mints, associated accounts, minting, balances and transfers in UI units, the
Solana CLI sending options (``--fee-payer``, ``--with-compute-unit-price``,
``--commitment``) and JSON output carrying base and UI amounts; ``warp``
moves ``iopay localnet``'s clock and is a one-line error on Agave, which has
no ``iopay_warpTime``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from iopay.core.wallet import write_keypair
from tests.cli.walk import problem, run_iopay
from tests.integration.conftest import Validator

SOL = 1_000_000_000


def ok(*argv: str) -> Any:
    o = run_iopay(list(argv))
    assert o.code == 0 and problem(o) is None, o.err
    return json.loads(o.out) if "json" in argv else o.out.strip()


def test_wallet_and_token_commands(validator: Validator, tmp_path: Path) -> None:
    u = ["-u", validator.url.replace("http://", "")]  # HOST:PORT, as the Solana CLI accepts
    alice, bob, payer = (tmp_path / f"{n}.json" for n in ("alice", "bob", "payer"))
    for f in (alice, bob, payer):
        write_keypair(f)
    a, b = ok("-k", str(alice), "address"), ok("-k", str(bob), "address")
    assert ok(*u, "-k", str(alice), "balance") == "0 SOL"
    d = ok(*u, "-k", str(alice), "--output", "json", "airdrop", "2.5")
    assert (d["lamports"], d["balance_lamports"], d["balance_sol"]) == (2_500_000_000, 2_500_000_000, "2.5")
    ok(*u, "-k", str(payer), "airdrop", "1")
    d = ok(*u, "-k", str(alice), "--output", "json", "transfer", b, "0.5", "--with-compute-unit-price", "0")
    assert d["lamports"] == SOL // 2 and ok(*u, "balance", b) == "0.5 SOL"

    # At finalized the airdrop shows once finalized (32 slots later), as on Agave: wait for it.
    import time

    from solders.keypair import Keypair as _Kp

    who = str(_Kp.from_bytes(bytes(json.loads(Path(alice).read_text()))).pubkey())
    deadline = time.monotonic() + 60
    while validator.rpc("getBalance", who, {"commitment": "finalized"})["value"] == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    mint = ok(*u, "-k", str(alice), "token", "create-mint", "--decimals", "6", "--commitment", "finalized")
    acct = ok(*u, "-k", str(bob), "token", "create-account", mint)
    d = ok(*u, "-k", str(alice), "--output", "json", "token", "mint", mint, "1000.5", b)
    assert (d["amount"], d["ui_amount"], d["account"]) == (1_000_500_000, "1000.5", acct)
    # --fee-payer pays the fee; the signer's SOL does not move.
    before = ok(*u, "--output", "json", "balance", b)["lamports"]
    fee_before = ok(*u, "--output", "json", "balance", ok("-k", str(payer), "address"))["lamports"]
    d = ok(*u, "-k", str(bob), "--fee-payer", str(payer), "--output", "json", "token", "transfer", mint, "0.25", a)
    assert (d["amount"], d["ui_amount"]) == (250_000, "0.25")
    assert ok(*u, "--output", "json", "balance", b)["lamports"] == before
    assert ok(*u, "--output", "json", "balance", ok("-k", str(payer), "address"))["lamports"] < fee_before
    ok(*u, "-k", str(bob), "token", "transfer", mint, "250000base", a)
    assert ok(*u, "-k", str(bob), "token", "balance", mint) == "1000"
    d = ok(*u, "--output", "json", "token", "balance", mint, "--owner", a)
    assert (d["amount"], d["ui_amount"], d["decimals"]) == (500_000, "0.5", 6)
    d = ok(*u, "-k", str(bob), "--output", "json", "token", "accounts")
    assert [(x["mint"], x["amount"], x["ui_amount"], x["associated"]) for x in d["accounts"]] == \
        [(mint, 1_000_000_000, "1000", True)]

    # Errors in the input's units; nothing sent.
    o = run_iopay([*u, "-k", str(bob), "token", "transfer", mint, "5000", a])
    assert o.code == 1 and o.err.strip() == (f"error: insufficient funds: transferring 5000 needs 5000 tokens, "
                                             f"{acct} has 1000; nothing sent")
    o = run_iopay([*u, "-k", str(bob), "token", "transfer", mint, "0.0000001", a])
    assert o.err.strip() == "error: 0.0000001 tokens has more than 6 decimal places (the mint's decimals)"
    o = run_iopay([*u, "-k", str(bob), "token", "mint", mint, "1"])
    assert o.err.strip().startswith(f"error: {b} is not the mint authority of {mint}")


def test_warp(validator: Validator) -> None:
    u = ["-u", validator.url.replace("http://", "")]
    if validator.supports_warp:
        t0 = ok(*u, "--output", "json", "warp", "3600")
        t1 = ok(*u, "--output", "json", "warp", "60")
        assert t1["unix_timestamp"] - t0["unix_timestamp"] >= 60 and t1["time"].endswith("Z")
        return
    # Agave: the documented difference (iopay_warpTime is an `iopay localnet` extension), one line, clock unmoved.
    before = validator.clock()
    o = run_iopay([*u, "--output", "json", "warp", "3600"])
    assert o.code == 1 and problem(o) is None, o.err
    assert o.err.strip() == (f"error: {validator.url} cannot warp time: iopay_warpTime is an `iopay localnet` "
                             f"extension"), o.err
    assert validator.clock() < before + 3600
