"""Job discovery over websockets against ``iopay localnet``: the keeper
finds jobs with one ``getProgramAccounts`` and then ``programSubscribe``
(no per-round scan), the websocket is cut mid-run (``iopay_dropWebsockets``,
new connections refused for a while) and a job opened during the cut is
found after the keeper resubscribes and paid with all the others."""

from __future__ import annotations

import asyncio
import base64
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed

from iopay.core.events import EventDecoder
from iopay.core.idl import ProgramIdl
from iopay.core.tx import SendConfig, TransactionSender
from iopay.escrow.client import EscrowClient, RpcChain
from iopay.escrow.keeper import JobWatch, JsonLog, Keeper, KeeperConfig, ws_url_for
from iopay.escrow.state import JobView
from tests.integration.cli_env import run_async, token_balance
from tests.integration.conftest import Validator
from tests.integration.test_keeper_kill_restart import HOUR, setup


def test_ws_url_for() -> None:
    assert ws_url_for("http://127.0.0.1:8899") == "ws://127.0.0.1:8900"
    assert ws_url_for("https://api.devnet.solana.com") == "wss://api.devnet.solana.com"
    assert ws_url_for("http://[::1]:9000/x") == "ws://[::1]:9001/x"


async def _wait(pred: Any, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        await asyncio.sleep(step)
    return bool(pred())


def test_keeper_discovers_jobs_over_websockets_and_resubscribes_after_a_cut(start_localnet: Any,
                                                                             tmp_path: Path) -> None:
    v: Validator = start_localnet(args=["--slot-time", "200"])
    w, m, jobs = run_async(setup(v, tmp_path, 5))
    prog = ProgramIdl.load("job_escrow")

    async def go() -> Dict[str, Any]:
        async with AsyncClient(v.url, commitment=Confirmed) as c:
            sender = TransactionSender(c, SendConfig(priority_fee=0, poll_interval=0.1))
            chain = RpcChain(c, sender, [EventDecoder(prog)])
            kclient = EscrowClient(chain, w.keys["keeper"], prog)
            sdk = EscrowClient(chain, m.payer, prog)
            polls = [0]
            real_jobs = kclient.jobs

            async def counting_jobs(*a: Any, **k: Any) -> Any:
                polls[0] += 1
                return await real_jobs(*a, **k)

            kclient.jobs = counting_jobs  # type: ignore[method-assign]
            log = JsonLog(keep=100_000, level="info")
            watch = JobWatch(kclient, [m.mint], v.url, v.ws_url, log=log, reconnect_min=0.2, reconnect_max=1.0)
            keeper = Keeper(kclient, m.mint, KeeperConfig(lookup_tables=False, grace=0.0, min_sleep=0.05,
                                                          max_sleep=0.5, metrics_interval=0.0),
                            log=log, discovery=watch)
            stop = asyncio.Event()
            task = asyncio.create_task(keeper.run(stop))
            try:
                assert await _wait(watch.ready.is_set, 30), log.records[-5:]
                assert {j.address for j in watch.jobs(m.mint)} == set(jobs)

                def accepted() -> Dict[Any, List[Tuple[int, int, int]]]:
                    out = {}
                    for job, slots in jobs.items():
                        info = v.rpc("getAccountInfo", str(job), {"encoding": "base64", "commitment": "confirmed"})
                        view = JobView.decode(prog, job, base64.b64decode(info["value"]["data"][0]))
                        out[job] = [(wi, r, s.start_ts, view.hours) for (i, wi, r), s in zip(slots, view.workers)]
                    return out

                def now() -> int:
                    data = base64.b64decode(v.rpc("getAccountInfo", "SysvarC1ock11111111111111111111111111111111",
                                                  {"encoding": "base64", "commitment": "processed"})["value"]["data"][0])
                    return int.from_bytes(data[32:40], "little", signed=True)

                def expected() -> Dict[int, int]:
                    t = now()
                    out: Dict[int, int] = {}
                    for rows in accepted().values():
                        for wi, r, start, hours in rows:
                            out[wi] = out.get(wi, 0) + r * min(hours, max(0, t - start) // HOUR)
                    return out

                def balances() -> Dict[int, int]:
                    return {wi: token_balance(v, w.ata(f"w{wi}")) for wi in range(10)}

                v.warp(HOUR + 20)
                exp = expected()
                assert await _wait(lambda: balances() == exp, 60, 0.2), (balances(), exp)
                # The cut: every websocket closed, reconnects refused for a while; a job opens meanwhile.
                assert v.rpc("iopay_dropWebsockets", {"refuseSeconds": 3})["closed"] >= 1
                opened = await sdk.open_job(w.keys["customer"], m.mint, [(w.pk("w8"), 777_001), (w.pk("w9"), 5)], 3)
                for wi in (8, 9):
                    await sdk.accept(w.keys[f"w{wi}"], opened.job)
                jobs[opened.job] = [(0, 8, 777_001), (1, 9, 5)]
                assert await _wait(lambda: watch.stats["connects"] >= 2 and watch.connected.is_set(), 30), watch.stats
                assert await _wait(lambda: opened.job in {j.address for j in watch.jobs(m.mint)}, 10)
                v.warp(HOUR)
                exp = expected()
                assert await _wait(lambda: balances() == exp, 60, 0.2), (balances(), exp)
                assert balances()[8] > 0 and balances()[9] > 0
            finally:
                stop.set()
                await asyncio.wait_for(task, 30)
            return {"polls": polls[0], "stats": dict(watch.stats), "metrics": keeper.metrics(),
                    "events": [r["event"] for r in log.records]}

    out = asyncio.run(go())
    print("discovery:", out["stats"], {k: out["metrics"][k] for k in ("rounds", "nothing_to_settle_transactions",
                                                                      "discovery_reconnects")})
    # One snapshot per connection, no getProgramAccounts scan in any round.
    assert out["polls"] == 0 and out["metrics"]["rounds"] >= 2
    # (A refused reconnect still counts a connection: the server closes it after the handshake.)
    assert out["stats"]["snapshots"] == out["events"].count("discovery_subscribed") >= 2
    assert out["stats"]["connects"] >= out["stats"]["snapshots"] and out["stats"]["disconnects"] >= 1
    assert out["stats"]["notifications"] > 0
    assert "discovery_disconnected" in out["events"]
    assert out["metrics"]["discovery_reconnects"] >= 1
    assert out["metrics"]["nothing_to_settle_transactions"] == 0
