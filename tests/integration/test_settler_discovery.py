"""The provider settler reads its channels over websockets (issue 15: "the
same for the provider settler of inference channels"), against each
validator: one ``getProgramAccounts`` and ``programSubscribe`` instead of
one ``getAccountInfo`` per channel per round. On ``iopay localnet`` the
websocket is cut mid-run (``iopay_dropWebsockets``, new connections refused
for a while; Agave has no such method, so there the channel simply opens
mid-run); the late channel is in the watch (after the resubscription, on
localnet), and every voucher, before and after, is settled exactly once
with no channel read one by one."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Callable, Dict

from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed

from iopay.core import spl
from iopay.core.idl import ProgramIdl
from iopay.escrow.keeper.logs import JsonLog
from iopay.escrow.program import JobEscrow
from iopay.inference.client import InferenceClient
from iopay.inference.program import settlement
from iopay.inference.settler import Settler
from iopay.inference.vouchers import VoucherStore
from iopay.inference.watch import ChannelWatch
from tests.integration.conftest import Validator
from tests.integration.rpc_env import RpcEnv, make_market

FUNDS = 1_000_000
DEPOSIT = 100_000
FEE_BPS = 250


async def _until(pred: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        await asyncio.sleep(0.1)
    return pred()


async def _run(v: Validator, tmp: Path, cut: bool) -> Dict[str, Any]:
    async with AsyncClient(v.url, commitment=Confirmed) as c:
        esc = JobEscrow(ProgramIdl.load("job_escrow"))
        env = RpcEnv(v.url, c, esc.program)
        m = await make_market(env, esc, v.upgrade_authority, fee_bps=FEE_BPS)
        provider = await env.funded(5)
        payers = [await env.funded(5) for _ in range(4)]
        await env.send([spl.create_associated_token_account_idempotent(m.payer.pubkey(), k.pubkey(), m.mint)
                        for k in [provider, *payers]], m.payer)
        await env.send([spl.mint_to(m.mint, spl.associated_token_address(p.pubkey(), m.mint),
                                    m.mint_authority.pubkey(), FUNDS) for p in payers], m.payer, m.mint_authority)
        ic = InferenceClient.connect(v.url, m.payer)
        store = VoucherStore(tmp / "vouchers.db")
        log = JsonLog(keep=10_000, level="info")
        watch = ChannelWatch(ic.program, provider.pubkey(), v.url, v.ws_url, log=log, reconnect_min=0.2,
                             reconnect_max=1.0)
        ptok = spl.associated_token_address(provider.pubkey(), m.mint)
        settler = Settler(ic.chain, ic.pay, provider, ptok, m.mint, store, log=log, watch=watch)
        stop = asyncio.Event()
        task = None
        try:
            await ic.init_pool(m.mint)
            opened = [await ic.open_channel(p, provider.pubkey(), m.mint, DEPOSIT, life=3_600, dispute_window=600)
                      for p in payers[:3]]
            task = asyncio.create_task(settler.run(0.2, stop))
            assert await _until(watch.ready.is_set, 30), log.records[-5:]
            assert {ch.address for ch in watch.channels()} == {o.channel for o in opened}

            # Round 1: three channels paid, settled from the cache.
            for i, o in enumerate(opened):
                store.save(o.signer.pay(1_000 * (i + 1)))
            assert await _until(lambda: settler.metrics.channels_settled >= 3, 60), log.records[-10:]

            # The cut (localnet): connections dropped and refused for 2 s; a channel opens meanwhile.
            if cut:
                v.rpc("iopay_dropWebsockets", {"refuseSeconds": 2})
            late = await ic.open_channel(payers[3], provider.pubkey(), m.mint, DEPOSIT, life=3_600,
                                         dispute_window=600)
            opened.append(late)
            assert await _until(lambda: watch.stats["connects"] >= 1 + cut and watch.get(late.channel) is not None,
                                60), \
                (watch.stats, log.records[-10:])

            # Round 2: every channel pays again, the late one for the first time.
            for o in opened:
                store.save(o.signer.pay(500))
                store.save(o.signer.pay(700))  # the best (last) voucher of each channel is what settles
            assert await _until(lambda: settler.metrics.channels_settled >= 7 and not store.unsettled(), 60), \
                (settler.metrics, log.records[-10:])
        finally:
            stop.set()
            if task is not None:
                await asyncio.wait_for(task, 30)
            views = [await ic.channel(o.channel) for o in opened]
            balance = await env.token_balance(ptok)
            await ic.close()
            store.close()
        return {"opened": opened, "views": views, "balance": balance, "metrics": settler.metrics,
                "stats": dict(watch.stats), "events": [r["event"] for r in log.records]}


def test_settler_reads_channels_over_websockets_and_resubscribes_after_a_cut(validator: Validator, start_localnet: Any,
                                                                             tmp_path: Path) -> None:
    # localnet: a process of its own, so the cut drops no other test's connections.
    cut = validator.kind == "localnet"  # iopay_dropWebsockets
    v: Validator = start_localnet(args=["--slot-time", "200"]) if cut else validator
    out = asyncio.run(_run(v, tmp_path, cut))
    m = out["metrics"]
    # Every voucher settled exactly once, to its cumulative total; the provider got exactly its share.
    want = 0
    for o, view in zip(out["opened"], out["views"]):
        assert (view.settled, view.nonce) == (o.signer.cumulative, o.signer.nonce)
        want += settlement(0, o.signer.cumulative, FEE_BPS)[0]
    assert out["balance"] == want == m.paid
    assert m.channels_settled == 7 and m.transactions_failed == 0
    # No channel was read one by one: all came from the watch, which resubscribed after the cut.
    assert m.channel_reads == 0 and m.channel_cache_hits >= 7, m
    if not cut:
        assert out["stats"]["connects"] == 1 and m.watch_reconnects == 0, (out["stats"], m)
        return
    assert out["stats"]["connects"] >= 2 and out["stats"]["snapshots"] >= 2, out["stats"]
    assert "channel_watch_disconnected" in out["events"] and out["events"].count("channel_watch_subscribed") >= 2
    assert m.watch_reconnects >= 1
