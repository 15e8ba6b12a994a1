"""The must-show of inference payments, over each validator (``iopay
localnet`` and Agave's solana-test-validator):
10,000 inferences over HTTP against ``iopay provider serve`` (a separate
process), each paid with a voucher; the server is SIGKILLed after serving;
``iopay provider settle --once`` (another process, the same SQLite store)
settles every channel in a handful of transactions; cooperative closes and a
fee sweep then leave payer, provider and treasury balances exact to the
base unit."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path
from typing import Any, List

from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed
from solders.keypair import Keypair

from iopay.core import spl
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import JobEscrow, fee_for
from iopay.inference.client import InferenceClient
from iopay.inference.http import PayingClient
from iopay.inference.program import settlement
from tests.integration.cli_env import iopay_cmd, spawn, write_keypair
from tests.integration.conftest import Validator
from tests.integration.rpc_env import RpcEnv, make_market

N_PAYERS = 10
PER_PAYER = 1_000
PRICE = 123  # base units: 0.000123 with 6 decimals
FUNDS = 10_000_000
FEE_BPS = 250


def wait_for_log(path: Path, event: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            for line in path.read_text().splitlines():
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if rec.get("event") == event:
                    return rec
        time.sleep(0.1)
    raise AssertionError(f"no {event!r} in {path}:\n" + (path.read_text() if path.exists() else ""))


async def _run(v: Validator, tmp: Path) -> None:
    async with AsyncClient(v.url, commitment=Confirmed) as c:
        esc = JobEscrow(ProgramIdl.load("job_escrow"))
        env = RpcEnv(v.url, c, esc.program)
        m = await make_market(env, esc, v.upgrade_authority, fee_bps=FEE_BPS)
        provider = await env.funded(5)
        payers = [await env.funded(5) for _ in range(N_PAYERS)]
        ixs = [spl.create_associated_token_account_idempotent(m.payer.pubkey(), k.pubkey(), m.mint)
               for k in [provider, *payers]]
        await env.send(ixs, m.payer)
        await env.send([spl.mint_to(m.mint, spl.associated_token_address(p.pubkey(), m.mint),
                                    m.mint_authority.pubkey(), FUNDS) for p in payers], m.payer, m.mint_authority)
        ic = InferenceClient.connect(v.url, m.payer)
        try:
            await ic.init_pool(m.mint)
            opened = [await ic.open_channel(p, provider.pubkey(), m.mint, PER_PAYER * PRICE + 1_000, life=3_600,
                                            dispute_window=600) for p in payers]

            kp = write_keypair(tmp / "provider.json", provider)
            store = tmp / "vouchers.db"
            log = tmp / "serve.log"
            server = spawn(iopay_cmd("-u", v.url, "-k", str(kp), "provider", "serve", "--mint", str(m.mint),
                                     "--price", "0.000123", "--store", str(store), "--port", "0"), log)
            try:
                url = wait_for_log(log, "serving")["url"].rsplit("/v1/infer", 1)[0]
                clients = [PayingClient(url, o.signer) for o in opened]

                async def drive(pc: PayingClient) -> int:
                    # Vouchers of one channel are signed in order of sending;
                    # concurrent requests on one channel may arrive out of
                    # order, so each channel's requests go one at a time and
                    # the channels run in parallel.
                    for i in range(PER_PAYER):
                        r = await pc.infer(f"prompt {i}")
                        assert r["price"] == PRICE
                    return PER_PAYER

                served = sum(await asyncio.gather(*(drive(pc) for pc in clients)))
                assert served == N_PAYERS * PER_PAYER == 10_000
                for pc in clients:
                    await pc.aclose()
            finally:
                server.send_signal(signal.SIGKILL)  # between serving and settling
                server.wait(10)
            assert server.returncode == -signal.SIGKILL

            settle_log = tmp / "settle.log"
            p = spawn(iopay_cmd("-u", v.url, "-k", str(kp), "--output", "json", "provider", "settle", "--mint",
                                str(m.mint), "--store", str(store), "--once"), settle_log)
            assert p.wait(120) == 0, settle_log.read_text()
            records = [json.loads(x) for x in settle_log.read_text().splitlines() if x.startswith("{\"ts\"")]
            batches = [r for r in records if r.get("event") == "batch_sent"]
            assert sum(b["channels"] for b in batches) == N_PAYERS and len(batches) == 4, records

            gross = PER_PAYER * PRICE
            want_provider = N_PAYERS * settlement(0, gross, FEE_BPS)[0]
            want_fees = N_PAYERS * fee_for(gross, FEE_BPS)
            ptok = spl.associated_token_address(provider.pubkey(), m.mint)
            assert await env.token_balance(ptok) == want_provider
            for o in opened:
                view = await ic.channel(o.channel)
                assert (view.settled, view.nonce) == (gross, PER_PAYER)
            # Cooperative closes: each payer gets exactly the rest back.
            for o, payer in zip(opened, payers):
                await ic.coop_close(payer, provider, o.channel)
                assert await env.token_balance(spl.associated_token_address(payer.pubkey(), m.mint)) == FUNDS - gross
            await ic.sweep_fees(m.mint)
            assert await env.token_balance(m.treasury) == want_fees
            assert await env.token_balance(ic.pay.vault_address(m.mint)) == 0
            assert want_provider + want_fees == N_PAYERS * gross
        finally:
            await ic.close()


def test_ten_thousand_paid_inferences_settled_in_a_handful_of_transactions(validator: Validator,
                                                                           tmp_path: Path) -> None:
    asyncio.run(_run(validator, tmp_path))
