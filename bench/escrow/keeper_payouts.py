"""Keeper throughput on LiteSVM: ``.venv/bin/python bench/escrow/keeper_payouts.py``.

50 jobs x 4 workers (3 hours booked each) on the real program, settled by
:class:`iopay.escrow.keeper.Keeper` hour after hour. The clock is warped to each
wake-up time the keeper itself asks for (``Keeper._delay``), so the rounds
are those a live keeper would run. Scenarios:

* ``aligned``: every worker accepts at the same moment (all 200 payouts fall
  due together each hour), plain transactions vs address lookup tables;
* ``staggered``: accepts spread over an hour (a job falls due every ~72 s),
  lookup tables, with no batch window (minimum lag) and a 15-minute window
  (payouts falling due meanwhile share transactions).

Prints one JSON object: per scenario, payouts per transaction, transactions
and compute units per worker-hour, bytes and CU of the largest transaction,
lag behind the hour, lookup-table entries written (rent + extend
transactions, once per job) and wall time. Bounded: at most ``MAX_ROUNDS``
keeper rounds per scenario.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any, Dict, List

from solders.keypair import Keypair

from iopay.core import spl
from iopay.escrow.client import EscrowClient
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import JobEscrow
from iopay.escrow.keeper import JsonLog, Keeper, KeeperConfig
from iopay.core.harness import Harness, ProgramNotBuilt

JOBS = 50
WORKERS = 4
HOURS = 3
RATE = 1_000_000
MAX_ROUNDS = 2_000


class World:
    def __init__(self) -> None:
        self.prog = ProgramIdl.load("job_escrow")
        self.h = Harness()
        self.h.load_program(self.prog)
        h = self.h
        self.esc = JobEscrow(self.prog, fetch=h.account_data)
        mint_auth, self.authority, self.customer = Keypair(), h.funded_keypair(), h.funded_keypair()
        self.mint = h.create_mint(mint_auth, 6)
        self.treasury = h.create_token_account(self.mint, self.authority.pubkey())
        h.send_ok([self.esc.init_market(payer=h.payer.pubkey(), upgrade_authority=h.payer.pubkey(),
                                        authority=self.authority.pubkey(), mint=self.mint, treasury=self.treasury,
                                        fee_bps=250, max_workers=13, max_hours=720)])
        self.ctok = h.create_token_account(self.mint, self.customer.pubkey())
        h.mint_to(self.mint, self.ctok, 10**15, mint_auth)
        self.workers = [h.funded_keypair(1) for _ in range(JOBS * WORKERS)]
        for i in range(0, len(self.workers), 8):
            h.send_ok([spl.create_associated_token_account_idempotent(h.payer.pubkey(), w.pubkey(), self.mint)
                       for w in self.workers[i:i + 8]])
        self.client = EscrowClient.for_harness(h, self.prog, payer=h.funded_keypair(100))

    def open_jobs(self, stagger_seconds: int) -> None:
        for j in range(JOBS):
            ws = self.workers[j * WORKERS:(j + 1) * WORKERS]
            self.h.send_ok([self.esc.open_job(customer=self.customer.pubkey(), mint=self.mint,
                                              customer_token=self.ctok, job_id=j + 1, hours=HOURS,
                                              max_total=2**64 - 1,
                                              workers=[(w.pubkey(), RATE + i) for i, w in enumerate(ws)])],
                           [self.customer])
            job = self.esc.job_addresses(self.mint, self.customer.pubkey(), j + 1).job
            for w in ws:
                self.h.send_ok([self.esc.accept(worker=w.pubkey(), job=job)], [w])
            if stagger_seconds:
                self.h.warp_seconds(stagger_seconds)


async def scenario(name: str, *, stagger: int, lookup_tables: bool, batch_window: float = 0.0) -> Dict[str, Any]:
    w = World()
    log = JsonLog(keep=100_000, level="error")
    cfg = KeeperConfig(lookup_tables=lookup_tables, lookup_activation_wait=0, grace=1, min_sleep=1,
                       max_sleep=3_600, batch_window=batch_window)
    keeper = Keeper(w.client, w.mint, cfg, log=log)
    # The keeper runs from before the first accept (as a service would).
    await keeper.run_once()
    w.open_jobs(stagger)
    t0 = time.perf_counter()
    rounds = 0
    report = await keeper.run_once()
    while rounds < MAX_ROUNDS:
        rounds += 1
        if report.next_due_ts is None and report.due == 0:
            break
        w.h.warp_seconds(max(1, int(keeper._delay(report))))
        report = await keeper.run_once()
    wall = time.perf_counter() - t0
    m = keeper.metrics()
    sent = [r for r in log.records if r["event"] == "batch_sent"]
    wh = m["worker_hours_paid"]
    assert wh == JOBS * WORKERS * HOURS, f"{name}: paid {wh} worker-hours"
    assert m["payout_failures"] == 0 and m["transactions_failed"] == 0
    return {
        "scenario": name,
        "lookup_tables": lookup_tables,
        "batch_window_s": batch_window,
        "worker_hours_paid": wh,
        "payouts": m["payouts_sent"],
        "transactions": m["transactions_sent"],
        "payouts_per_tx": round(m["payouts_per_tx"], 2),
        "max_payouts_in_a_tx": max(r["payouts"] for r in sent),
        "tx_per_worker_hour": round(m["transactions_sent"] / wh, 4),
        "cu_per_worker_hour": round(m["compute_units"] / wh),
        "cu_per_tx_avg": round(m["compute_units"] / m["transactions_sent"]),
        "cu_per_tx_max": max(r["compute_units"] for r in sent),
        "tx_bytes_max": max(r["tx_bytes"] for r in sent),
        "account_locks_max": max(r["account_locks"] for r in sent),
        "lag_seconds_avg": m["lag_seconds_avg"],
        "lag_seconds_max": m["lag_seconds_max"],
        "lookup_table_entries": m["lookup_table_entries_added"],
        "keeper_rounds": m["rounds"],
        "wall_seconds": round(wall, 2),
    }


async def main() -> Dict[str, Any]:
    out: List[Dict[str, Any]] = []
    out.append(await scenario("aligned", stagger=0, lookup_tables=False))
    out.append(await scenario("aligned", stagger=0, lookup_tables=True))
    out.append(await scenario("staggered", stagger=72, lookup_tables=True))
    out.append(await scenario("staggered", stagger=72, lookup_tables=True, batch_window=900))
    return {"jobs": JOBS, "workers_per_job": WORKERS, "hours": HOURS,
            "limits": {"tx_bytes": 1232, "account_locks": 64, "instruction_trace": 64, "compute_units": 1_400_000},
            "scenarios": out}


if __name__ == "__main__":
    try:
        result = asyncio.run(main())
    except ProgramNotBuilt as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(result, indent=2))
