"""Keeper batching on LiteSVM with the real program: the planner packs each
transaction to the limit (the next payout would break a limit), every
transaction serializes to <= 1232 bytes, stays within 64 account locks and
64 instructions and runs under 1.4M CU; lookup tables double the payouts per
transaction; failures are isolated; replays are counted, never paid twice;
metrics endpoint and graceful stop."""

from __future__ import annotations

import asyncio
from typing import Any, List

import httpx
import pytest
from solders.pubkey import Pubkey

from iopay.escrow.state import due_slots
from iopay.escrow.keeper import BatchPlanner, JsonLog, Keeper, KeeperConfig, Limits, LookupTables, payouts_of
from iopay.escrow.keeper.planner import MAX_COMPUTE_UNITS, TX_SIZE_LIMIT, Batch, instruction_trace
from iopay.escrow.keeper.service import _RoundCounts
from iopay.core.harness import Harness
from tests.escrow.keeper.env import HOUR, KeeperWorld


def world_with_due_jobs(h: Harness, prog: Any, jobs: int = 12, workers: int = 4) -> KeeperWorld:
    w = KeeperWorld(h, prog, n_workers=72, max_workers=13)
    for j in range(jobs):
        job = w.open([(j * workers + i) % 72 for i in range(workers)], [1_000_000 + 7 * i for i in range(workers)], 3)
        for i in range(workers):
            w.accept(job, i)
    return w


async def payouts_now(w: KeeperWorld) -> List[Any]:
    now = w.h.now()
    out = []
    for job in await w.client.jobs(w.mint):
        out += payouts_of(job, due_slots(job, now), lambda x: w.client.token_account_of(x, w.mint))
    return out


def check_batches(planner: BatchPlanner, market: Any, batches: List[Batch], payouts: List[Any]) -> None:
    seen = [(p.job, p.slot) for b in batches for p in b.payouts]
    assert sorted(seen, key=lambda x: (bytes(x[0]), x[1])) == sorted(((p.job, p.slot) for p in payouts),
                                                                     key=lambda x: (bytes(x[0]), x[1]))
    budget = len(planner.budget_instructions())
    for i, b in enumerate(batches):
        real = len(bytes(planner.compile(b.instructions, b.lookup_tables)))
        assert b.tx_bytes == real <= TX_SIZE_LIMIT
        assert b.account_locks <= 64
        assert instruction_trace(budget, len(b.instructions), len(b.payouts)) <= 64
        assert len(b.instructions) == len(b.jobs)  # one settle per job
        if i + 1 < len(batches):
            # Packed to the limit: the next payout does not fit.
            nxt = batches[i + 1].payouts[0]
            more = planner.plan(market, b.payouts + [nxt], b.lookup_tables)
            assert len(more) == 2, f"batch {i} could take one more payout"


@pytest.mark.parametrize("workers", [1, 4, 13])
async def test_planner_packs_to_the_limits_and_transactions_run(escrow_harness: Harness, escrow_idl: Any,
                                                                workers: int) -> None:
    w = world_with_due_jobs(escrow_harness, escrow_idl, jobs=12 if workers < 13 else 5, workers=workers)
    market = await w.client.market(w.mint)
    # Tables written before the hour, active after it (as the keeper does).
    tables = LookupTables(w.client.chain, w.client.payer)
    keeper = w.keeper(log=JsonLog(keep=10_000, level="error"))
    keeper.tables = tables
    await keeper.run_once()
    w.warp(HOUR + 1)
    payouts = await payouts_now(w)
    assert len(payouts) == (12 if workers < 13 else 5) * workers
    planner = keeper.planner
    plain = planner.plan(market, payouts)
    check_batches(planner, market, plain, payouts)
    slot = w.h.clock().slot
    alt = planner.plan(market, payouts, tables.active(slot))
    check_batches(planner, market, alt, payouts)
    # Without tables the size limit binds (about 26 accounts, fewer for many
    # jobs); with them the instruction trace does (payouts + 2 * jobs <= 62).
    # Transactions for 12 jobs x 1 and 4 workers, 5 jobs x 13 workers:
    # (Without tables the split of a job between two transactions can cost one more.)
    most_plain, alt_count = {1: (2, 1), 4: (3, 2), 13: (4, 2)}[workers]
    assert len(plain) <= most_plain and len(alt) == alt_count
    # The keeper sends exactly the plan; every transaction runs under 1.4M CU.
    report = await keeper.run_once()
    assert report.paid == len(payouts) and report.batches == len(alt) and report.failed == 0
    sent = [r for r in keeper.log.records if r["event"] == "batch_sent"]
    assert len(sent) == len(alt) and all(r["lookup_tables"] == 1 for r in sent)
    assert all(0 < r["compute_units"] < MAX_COMPUTE_UNITS for r in sent)
    assert keeper.metrics()["transactions_failed"] == 0
    w.assert_exact()


async def test_replayed_batches_are_already_settled_never_paid_twice(escrow_harness: Harness,
                                                                     escrow_idl: Any) -> None:
    w = world_with_due_jobs(escrow_harness, escrow_idl, jobs=6, workers=3)
    w.warp(HOUR + 1)
    keeper = w.keeper(lookup_tables=False, log=JsonLog(keep=10_000, level="error"))
    market = await w.client.market(w.mint)
    payouts = await payouts_now(w)
    batches = keeper.planner.plan(market, payouts)
    for b in batches:  # another keeper sends them first
        await w.client.chain.send(b.instructions, [], w.client.payer)
    before = w.worker_balances()
    counts = _RoundCounts()
    keeper._sem = asyncio.Semaphore(2)
    for b in batches:  # our stale plan lands second: NothingToSettle per job
        await keeper._settle(market, b, counts)
    assert counts.already == len(payouts) and counts.paid == 0 and counts.failed == 0
    assert w.worker_balances() == before
    w.assert_exact()
    m = keeper.metrics()
    assert m["already_settled"] == len(payouts) and m["payout_failures"] == 0 and m["payouts_sent"] == 0


async def test_a_bad_payee_is_isolated_and_the_rest_paid(escrow_harness: Harness, escrow_idl: Any) -> None:
    w = world_with_due_jobs(escrow_harness, escrow_idl, jobs=6, workers=3)
    w.warp(HOUR + 1)
    bad_worker = w.env.workers[4].pubkey()
    ata = w.client.token_account_of

    def resolver(wallet: Pubkey, mint: Pubkey) -> Pubkey:
        # Someone else's token account: settle refuses the whole instruction.
        return w.env.treasury if wallet == bad_worker else ata(wallet, mint)

    w.client.token_account_of = resolver
    keeper = w.keeper(lookup_tables=False, log=JsonLog(keep=10_000, level="error"))
    report = await keeper.run_once()
    assert report.failed == 1 and report.paid == 17
    failed = [r for r in keeper.log.records if r["event"] == "payout_failed"]
    assert [r["worker"] for r in failed] == [str(bad_worker)]
    assert keeper.metrics()["splits"] >= 1
    w.client.token_account_of = ata
    report = await keeper.run_once()  # fixed: the owed hour is paid next round
    assert report.paid == 1 and report.failed == 0
    w.assert_exact()


async def test_missing_token_accounts_skipped_or_created(escrow_harness: Harness, escrow_idl: Any) -> None:
    from solders.keypair import Keypair

    w = KeeperWorld(escrow_harness, escrow_idl, n_workers=4)
    newcomer = w.h.funded_keypair()
    w.env.workers.append(newcomer)
    w.env.worker_tokens.append(w.client.token_account_of(newcomer.pubkey(), w.mint))  # not created
    job = w.open([0, 4], [1_000_000, 2_000_000], 2)
    w.accept(job, 0)
    w.accept(job, 1)
    w.warp(HOUR + 1)
    keeper = w.keeper(lookup_tables=False, log=JsonLog(keep=10_000, level="error"))
    report = await keeper.run_once()
    assert report.paid == 1 and report.skipped == 1 and keeper.metrics()["missing_token_accounts"] == 1
    assert any(r["event"] == "payout_skipped" for r in keeper.log.records)
    keeper = w.keeper(lookup_tables=False, create_missing_token_accounts=True)
    report = await keeper.run_once()
    assert report.paid == 1 and report.skipped == 0
    w.assert_exact()
    assert isinstance(Keypair(), Keypair)


async def test_run_serves_metrics_and_stops_gracefully(escrow_harness: Harness, escrow_idl: Any) -> None:
    w = world_with_due_jobs(escrow_harness, escrow_idl, jobs=2, workers=2)
    w.warp(HOUR + 1)
    log = JsonLog(keep=10_000, level="error")
    keeper = w.keeper(log=log, metrics_port=0, max_sleep=0.05, metrics_interval=0)
    task = asyncio.create_task(keeper.run())
    for _ in range(200):  # bounded: 10 s
        if keeper.server is not None and keeper.m.payouts_sent == 4:
            break
        await asyncio.sleep(0.05)
    async with httpx.AsyncClient() as c:
        text = (await c.get(f"http://127.0.0.1:{keeper.server.port}/metrics", timeout=5)).text
        js = (await c.get(f"http://127.0.0.1:{keeper.server.port}/", timeout=5)).json()
    assert "iopay_keeper_payouts_sent_total 4" in text and "iopay_keeper_lag_seconds_max" in text
    assert js["payouts_sent"] == 4 and js["worker_hours_paid"] == 4
    keeper.request_stop()
    m = await asyncio.wait_for(task, 10)
    assert m.payouts_sent == 4
    events = [r["event"] for r in log.records]
    assert events[0] == "keeper_started" and events[-1] == "keeper_stopped" and "metrics" in events
    assert log.records[-1]["summary"].startswith("4 payouts (4 worker-hours, ") and "1 transaction (" in \
        log.records[-1]["summary"]
    # Prometheus text: every sample has its # HELP and # TYPE lines; absent times are 0 there, null in JSON.
    samples = [line.split()[0] for line in text.splitlines() if line and not line.startswith("#")]
    assert samples and all(f"# HELP {n} " in text and f"# TYPE {n} " in text for n in samples)
    assert js["next_due_ts"] is None or js["next_due_ts"] > 0
    w.assert_exact()


async def test_lookup_tables_survive_a_restart_and_grow_past_256(escrow_harness: Harness, escrow_idl: Any) -> None:
    # 45 jobs x 4 workers: 2 shared + 45 x (job, vault) + 180 token accounts = 272 addresses, two tables.
    w = KeeperWorld(escrow_harness, escrow_idl, n_workers=180, max_workers=13)
    for j in range(45):
        job = w.open([j * 4 + i for i in range(4)], [1_000_000 + i for i in range(4)], 2)
        for i in range(4):
            w.accept(job, i)
    first = w.keeper(log=JsonLog(keep=10_000, level="error"))
    await first.run_once()
    assert first.metrics()["lookup_table_entries_added"] == 272 and len(first.tables.tables) == 2
    w.warp(HOUR + 1)
    again = w.keeper(log=JsonLog(keep=10_000, level="error"))  # a restarted keeper: finds both tables
    report = await again.run_once()
    assert again.metrics()["lookup_table_entries_added"] == 0 and len(again.tables.tables) == 2
    assert report.paid == 180 and report.failed == 0
    sent = [r for r in again.log.records if r["event"] == "batch_sent"]
    assert all(r["lookup_tables"] >= 1 for r in sent) and len(sent) <= 180 // 20
    w.assert_exact()
