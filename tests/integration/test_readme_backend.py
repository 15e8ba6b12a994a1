"""The README's backend example, extracted from README.md and run as a
script against ``iopay localnet``: it pays the hour due on a job (exact
amount, the worker's payout in the decoded batched ``HoursSettled`` event); and the SDK's promises behind it:
named errors and decoded events even through the low-level constructor,
plain ``ValueError``/``TypeError`` before any encoding, and a payer without
SOL told so in the CLI's words."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from solana.rpc.async_api import AsyncClient
from solders.keypair import Keypair

import iopay
from iopay.core.chain import RpcChain
from iopay.core.errors import error_class
from iopay.core.tx import TransactionSender
from iopay.core.wallet import InsufficientFunds
from iopay.escrow.client import EscrowClient
from tests.integration.cli_env import UNIT, make_world, token_balance
from tests.integration.conftest import REPO, Validator
from tests.integration.readme import code_block
from tests.integration.rpc_env import fast_send_config

HOUR = 3_600


async def test_readme_backend_example_pays_the_due_hour(localnet: Validator, tmp_path: Path) -> None:
    w = await make_world(localnet, tmp_path, ["customer", "worker", "backend"], {"customer": 100 * UNIT})
    async with iopay.connect(localnet.url, w.payer) as admin:
        await admin.init_market(localnet.upgrade_authority, w.mint, w.treasury, authority=w.payer.pubkey(),
                                fee_bps=250, max_workers=4, max_hours=10)
        opened = await admin.open_job(w.keys["customer"], w.mint, [(w.pk("worker"), 2_500_000)], 2)
        await admin.accept(w.keys["worker"], opened.job)
    localnet.warp(HOUR + 1)
    script = tmp_path / "backend.py"
    script.write_text(code_block("A backend developer starts from", "python"))
    r = subprocess.run([sys.executable, str(script), localnet.url, w.key("backend"), str(w.mint)], cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(str(opened.job))
    assert lines[0].endswith(f"[('{w.pk('worker')}', 2500000)]")
    assert token_balance(localnet, w.ata("worker")) == 2_500_000
    # Run again: nothing due, nothing printed, nothing paid twice.
    r = subprocess.run([sys.executable, str(script), localnet.url, w.key("backend"), str(w.mint)], cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout == "" and token_balance(localnet, w.ata("worker")) == 2_500_000


async def test_low_level_constructor_keeps_names_and_events(validator: Validator, tmp_path: Path) -> None:
    w = await make_world(validator, tmp_path, ["customer", "worker", "stranger"], {"customer": 100 * UNIT})
    async with AsyncClient(validator.url) as rpc:
        # A chain built by hand: no decoders, a sender without error tables.
        sdk = EscrowClient(RpcChain(rpc, TransactionSender(rpc, fast_send_config())), w.payer)
        await sdk.init_market(validator.upgrade_authority, w.mint, w.treasury, authority=w.payer.pubkey(),
                              fee_bps=250, max_workers=4, max_hours=10)
        opened = await sdk.open_job(w.keys["customer"], w.mint, [(w.pk("worker"), UNIT)], 1)
        assert [e.name for e in opened.sent.events] == ["JobOpened"]
        with pytest.raises(error_class("NotAWorker")) as e:
            await sdk.accept(w.keys["stranger"], opened.job)
        assert e.value.name == "NotAWorker" and "6021" in str(e.value.code)


async def test_bad_arguments_fail_before_encoding(validator: Validator) -> None:
    async with iopay.connect(validator.url, Keypair()) as sdk:
        customer, mint = Keypair(), Keypair().pubkey()
        cases = [
            (dict(workers=[(mint, 0)], hours=1), ValueError, r"workers\[0\] rate must be in 1\.\."),
            (dict(workers=[(mint, 2**64)], hours=1), ValueError, r"workers\[0\] rate must be in 1\.\."),
            (dict(workers=[(mint, 1.5)], hours=1), TypeError, r"workers\[0\] rate must be an int, got float"),
            (dict(workers=[("abc", 1)], hours=1), TypeError, r"workers\[0\] wallet must be a solders Pubkey"),
            (dict(workers=[], hours=1), ValueError, "workers must not be empty"),
            (dict(workers=[(mint, 1)], hours=0), ValueError, r"hours must be in 1\.\.4294967295, got 0"),
            (dict(workers=[(mint, 1)], hours=2**32), ValueError, "hours must be in"),
            (dict(workers=[(mint, 1)], hours=1, job_id=-1), ValueError, "job_id must be in"),
        ]
        for kw, exc, msg in cases:
            with pytest.raises(exc, match=msg):
                await sdk.open_job(customer, mint, **kw)
        with pytest.raises(TypeError, match="customer must be a solders Keypair"):
            await sdk.open_job(customer.pubkey(), mint, [(mint, 1)], 1)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="mint must be a solders Pubkey, got str"):
            await sdk.market("So11111111111111111111111111111111111111112")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="payer must be a solders Keypair"):
        iopay.connect(validator.url, "id.json")
    with pytest.raises(ValueError, match="url must be an http"):
        iopay.connect("ftp://x", Keypair())


async def test_payer_without_sol_gets_the_cli_message(validator: Validator, tmp_path: Path) -> None:
    w = await make_world(validator, tmp_path, ["customer", "worker"], {"customer": 100 * UNIT})
    async with iopay.connect(validator.url, w.payer) as admin:
        await admin.init_market(validator.upgrade_authority, w.mint, w.treasury, authority=w.payer.pubkey(),
                                fee_bps=250, max_workers=4, max_hours=10)
        opened = await admin.open_job(w.keys["customer"], w.mint, [(w.pk("worker"), UNIT)], 1)
    broke = Keypair()
    async with iopay.connect(validator.url, broke) as sdk:
        with pytest.raises(InsufficientFunds) as e:
            await sdk.accept(w.keys["worker"], opened.job)
    assert str(e.value) == (f"insufficient funds: paying transaction fees needs about 0.001 SOL in {broke.pubkey()}, "
                            f"which has 0 SOL; nothing sent")
