"""``iopay provider serve`` follows its channels over websockets (issue 15:
the provider side reads no channel one by one): with ``--discovery
subscribe`` (the default) the verifier is fed by a ``ChannelWatch``, so a
channel opened after the server started, a top-up and a started close reach
it as notifications, with ``--refresh`` set to an hour so no poll can be
what found them. The server's own count of one-by-one channel reads
(``channel_reads`` in its ``stopped`` log line) stays at zero. Against each
validator: ``iopay localnet`` warps past the channel's hour of life, Agave's
solana-test-validator gets a channel of 20 seconds and is waited for."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path
from typing import Any, Callable, Dict

from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed

from iopay.core import spl
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import JobEscrow
from iopay.inference.client import InferenceClient
from iopay.inference.http import PayingClient
from tests.integration.cli_env import iopay_cmd, spawn, write_keypair
from tests.integration.conftest import Validator
from tests.integration.rpc_env import RpcEnv, make_market

PRICE = 1_000
FUNDS = 1_000_000


def wait_for(path: Path, pred: Callable[[Dict[str, Any]], bool], what: str, timeout: float = 60.0) -> Dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in path.read_text().splitlines() if path.exists() else []:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if pred(rec):
                return rec
        time.sleep(0.1)
    raise AssertionError(f"no {what} in {path}:\n" + (path.read_text() if path.exists() else ""))


async def _run(v: Validator, tmp: Path) -> Dict[str, Any]:
    async with AsyncClient(v.url, commitment=Confirmed) as c:
        esc = JobEscrow(ProgramIdl.load("job_escrow"))
        env = RpcEnv(v.url, c, esc.program)
        m = await make_market(env, esc, v.upgrade_authority, fee_bps=0)
        provider = await env.funded(5)
        payer = await env.funded(5)
        await env.send([spl.create_associated_token_account_idempotent(m.payer.pubkey(), k.pubkey(), m.mint)
                        for k in (provider, payer)], m.payer)
        await env.send([spl.mint_to(m.mint, spl.associated_token_address(payer.pubkey(), m.mint),
                                    m.mint_authority.pubkey(), FUNDS)], m.payer, m.mint_authority)
        ic = InferenceClient.connect(v.url, m.payer)
        log = tmp / "serve.log"
        server = None
        try:
            await ic.init_pool(m.mint)
            kp = write_keypair(tmp / "provider.json", provider)
            server = spawn(iopay_cmd("-u", v.url, "-k", str(kp), "provider", "serve", "--mint", str(m.mint),
                                     "--price", "0.001", "--store", str(tmp / "vouchers.db"), "--port", "0",
                                     "--refresh", "3600"), log)
            url = wait_for(log, lambda r: r.get("event") == "serving", "serving")["url"].rsplit("/v1/infer", 1)[0]

            # Opened after the server started: only the watch can tell it.
            life = 3_600 if v.supports_warp else 20
            o = await ic.open_channel(payer, provider.pubkey(), m.mint, 3 * PRICE, life=life, dispute_window=600)
            ch = str(o.channel)
            wait_for(log, lambda r: r.get("event") == "channel_seen" and r.get("channel") == ch, "the new channel")
            pc = PayingClient(url, o.signer)
            for i in range(3):
                assert (await pc.infer(f"p{i}"))["price"] == PRICE

            # A top-up: vouchers above the first deposit are good once the notification is in.
            await ic.top_up(payer, o.channel, 2 * PRICE)
            wait_for(log, lambda r: r.get("event") == "channel_seen" and r.get("channel") == ch
                     and r.get("deposit") == 5 * PRICE, "the top-up")
            o.signer.deposit = 5 * PRICE
            for i in range(2):
                assert (await pc.infer(f"q{i}"))["price"] == PRICE
            await pc.aclose()

            # A unilateral close after expiry: the verifier sees the channel closing.
            v.pass_time_until((await ic.channel(o.channel)).expires_at, max_wait=life)
            await ic.start_close(payer, o.channel)
            closing = wait_for(log, lambda r: r.get("event") == "channel_seen" and r.get("channel") == ch
                               and r.get("state") != "Open", "the close")
        finally:
            if server is not None:
                server.send_signal(signal.SIGTERM)
                server.wait(30)
            await ic.close()
        stopped = wait_for(log, lambda r: r.get("event") == "stopped", "stopped", timeout=5)
        return {"closing": closing, "stopped": stopped}


def test_serve_follows_channels_over_websockets(validator: Validator, start_localnet: Any, tmp_path: Path) -> None:
    v: Validator = start_localnet(args=["--slot-time", "200"]) if validator.kind == "localnet" else validator
    out = asyncio.run(_run(v, tmp_path))
    s = out["stopped"]
    assert s["served"] == 5 and s["earned"] == 5 * PRICE, s
    assert s["rejected"] == {}, s
    # Nothing was read one by one: the new channel, the top-up and the close came over the websocket.
    assert s["channel_reads"] == 0, s
    assert out["closing"]["state"] == "Closing", out["closing"]
