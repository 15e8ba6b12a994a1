"""The keeper on LiteSVM with the real program and a warped clock: every
worker paid exactly rate x min(elapsed whole hours, booked) after each round,
treasury exact; crashes at random points (before and after a transaction
lands, mid-batch) and restarts pay every due worker-hour exactly once."""

from __future__ import annotations

import random
from typing import Any, Dict, List, Optional, Tuple

import pytest

from iopay.escrow.client import LiteSvmChain
from iopay.escrow.state import due_worker_hours
from iopay.escrow.keeper import JsonLog, Keeper, KeeperConfig, Limits
from iopay.core.harness import Harness
from tests.escrow.keeper.env import HOUR, KeeperWorld

MIN = 60


def build_jobs(w: KeeperWorld) -> None:
    """Jobs with different worker counts, rates, bookings and accept times."""
    a = w.open([0, 1, 2, 3], [1_000_000, 1_500_000, 2_000_000, 333_333], 3)
    b = w.open([4, 5], [700_001, 2_500_000], 5)
    c = w.open([6], [123_457], 2)
    d = w.open([7, 8, 9, 10, 11, 12], [1_000_000 + i for i in range(6)], 4)
    e = w.open([13, 14, 15], [999_999, 1, 42], 6)
    w.open([16, 17], [5_000_000, 5_000_000], 2)  # never accepted: nothing is ever due
    for i in range(4):
        w.accept(a, i)
    w.accept(c, 0)
    for i in range(5):  # slot 5 stays pending for a while
        w.accept(d, i)
    w.warp(10 * MIN)
    w.accept(b, 0)
    w.accept(e, 0)
    w.accept(e, 1)
    w.warp(20 * MIN)
    w.accept(b, 1)
    w.accept(e, 2)
    w.pending = (d, 5)  # type: ignore[attr-defined]
    w.to_end = e  # type: ignore[attr-defined]


@pytest.mark.parametrize("lookup_tables", [False, True], ids=["plain", "lookup-tables"])
async def test_keeper_pays_every_worker_exactly_each_hour(escrow_harness: Harness, escrow_idl: Any,
                                                          lookup_tables: bool) -> None:
    w = KeeperWorld(escrow_harness, escrow_idl)
    build_jobs(w)
    log = JsonLog(keep=100_000, level="error")
    keeper = w.keeper(log=log, lookup_tables=lookup_tables)
    report = await keeper.run_once()
    assert report.due == 0 and report.paid == 0
    w.assert_exact()
    total_hours = 0
    # 7.5 hours in 25-minute steps: boundaries fall at different points of every job.
    for step in range(18):
        w.warp(25 * MIN)
        if step == 3:
            job, slot = w.pending  # type: ignore[attr-defined]
            w.accept(job, slot)
        if step == 6:
            w.end_unpaid(w.to_end)  # type: ignore[attr-defined]
        before = sum(due_worker_hours(j, w.h.now()) for j in await w.client.jobs(w.mint, state=None))
        report = await keeper.run_once()
        assert report.failed == 0 and report.skipped == 0
        total_hours += before
        w.assert_exact()
        # Nothing left due, and a second round right away sends nothing.
        again = await keeper.run_once()
        assert again.due == 0 and again.batches == 0
    m = keeper.metrics()
    assert m["worker_hours_paid"] == total_hours > 0
    assert m["payout_failures"] == 0 and m["transactions_failed"] == 0 and m["already_settled"] == 0
    assert m["tokens_paid"] == sum(w.expected_worker_balances().values())
    assert m["fees_paid"] == w.expected_fees()
    assert m["lag_seconds_max"] < 25 * MIN and m["backlog"] == 0
    events = {r["event"] for r in log.records}
    assert {"round", "round_planned", "batch_sent"} <= events
    if lookup_tables:
        assert m["lookup_table_entries_added"] > 0
        assert any(r["event"] == "batch_sent" and r["lookup_tables"] for r in log.records)
    # Every job but the never-accepted one is fully paid; end them all, nothing stays owed.
    assert w.h.token_balance(w.env.customer_token) > 0


class Crash(BaseException):
    """The keeper process dies (not an Exception: nothing may catch it)."""


class CrashingChain(LiteSvmChain):
    """Dies at the ``crash_at``-th send, either before the transaction
    reaches the chain or right after it landed (the keeper never learns).
    Every ``HoursSettled`` event that landed goes to ``ledger``."""

    def __init__(self, harness: Harness, ledger: List[Any], crash_at: Optional[int] = None,
                 after_landing: bool = False) -> None:
        super().__init__(harness)
        self.ledger = ledger
        self.sends = 0
        self.crash_at = crash_at
        self.after_landing = after_landing
        self.dead = False

    async def send(self, instructions, signers, payer, lookup_tables=()):  # type: ignore[no-untyped-def]
        if self.dead:  # concurrent sends of a dead process never happen
            raise Crash()
        self.sends += 1
        if self.sends == self.crash_at and not self.after_landing:
            self.dead = True
            raise Crash()
        sent = await super().send(instructions, signers, payer, lookup_tables=lookup_tables)
        self.ledger.extend(sent.events_named("HoursSettled"))
        if self.sends == self.crash_at:
            self.dead = True
            raise Crash()
        return sent


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
async def test_keeper_crashes_and_restarts_pay_each_hour_once(escrow_harness: Harness, escrow_idl: Any,
                                                             seed: int) -> None:
    rng = random.Random(seed)
    w = KeeperWorld(escrow_harness, escrow_idl)
    jobs = []
    k = 0
    for j in range(8):
        n = 1 + (j * 5 + seed) % 4
        jobs.append(w.open([(k + i) % 24 for i in range(n)], [100_000 * (j + 1) + i for i in range(n)], 3 + j % 3))
        k += n
    for job in jobs:
        for i in range(len(w.specs[job].slots)):
            w.accept(job, i)
        w.warp(rng.randrange(1, 7 * MIN))
    ledger: List[Any] = []
    crashes = 0
    kinds: set = set()
    for hour in range(5):
        w.warp(HOUR + rng.randrange(0, 10 * MIN))
        # A few keeper lives, each dying at a random send (a cap of 3 payouts
        # per transaction makes rounds of several transactions, so deaths
        # land mid-round, before or after a transaction landed).
        for life in range(4):
            w.client.chain = CrashingChain(w.h, ledger, crash_at=rng.randrange(1, 4),
                                           after_landing=life % 2 == 0)
            keeper = Keeper(w.client, w.mint, KeeperConfig(lookup_tables=rng.random() < 0.5,
                                                           lookup_activation_wait=0, limits=Limits(max_payees=3)),
                            log=JsonLog(level="error"))
            try:
                await keeper.run_once()
            except Crash:
                crashes += 1
                kinds.add("after landing" if w.client.chain.after_landing else "before landing")
        # Then one that lives: afterwards everything due is paid exactly.
        w.client.chain = CrashingChain(w.h, ledger)
        await Keeper(w.client, w.mint, KeeperConfig(lookup_activation_wait=0), log=JsonLog(level="error")).run_once()
        w.assert_exact()
    assert crashes >= 4 and kinds == {"after landing", "before landing"}
    # Exactly once: the events that landed add up to each slot's earned hours and pay.
    hours: Dict[Tuple[Any, int], int] = {}
    amounts: Dict[Tuple[Any, int], int] = {}
    for ev in ledger:
        for e in ev.paid:
            hours[(ev.job, e.slot)] = hours.get((ev.job, e.slot), 0) + e.hours
            amounts[(ev.job, e.slot)] = amounts.get((ev.job, e.slot), 0) + e.amount
    for job, spec in w.specs.items():
        for i, s in enumerate(spec.slots):
            assert hours.get((job, i), 0) == w.earned(job, i) > 0
            assert amounts.get((job, i), 0) == w.earned_amount(job, i)


class FlakyChain(LiteSvmChain):
    """Sends fail transiently: ``refuse`` times before reaching the chain, then
    ``lost`` times after landing (a confirmation timeout: the keeper cannot
    know the transaction went through)."""

    def __init__(self, harness: Harness, refuse: int, lost: int) -> None:
        super().__init__(harness)
        self.refuse, self.lost = refuse, lost

    async def send(self, instructions, signers, payer, lookup_tables=()):  # type: ignore[no-untyped-def]
        from iopay.core.tx import ConfirmationTimeout, RpcRetriesExhausted

        if self.refuse:
            self.refuse -= 1
            raise RpcRetriesExhausted("429 Too Many Requests")
        sent = await super().send(instructions, signers, payer, lookup_tables=lookup_tables)
        if self.lost:
            self.lost -= 1
            raise ConfirmationTimeout("not confirmed", [sent.signature])
        return sent


async def test_transient_failures_are_retried_and_a_lost_confirmation_is_not_paid_twice(
        escrow_harness: Harness, escrow_idl: Any) -> None:
    w = KeeperWorld(escrow_harness, escrow_idl)
    job = w.open([0, 1, 2], [1_000_000, 2_000_000, 3_000_000], 2)
    for i in range(3):
        w.accept(job, i)
    w.warp(HOUR + 5)
    w.client.chain = FlakyChain(w.h, refuse=2, lost=1)
    keeper = Keeper(w.client, w.mint, KeeperConfig(lookup_tables=False, backoff_base=0.001, backoff_max=0.002),
                    log=JsonLog(keep=1000, level="error"))
    report = await keeper.run_once()
    # Two 429s, then the transaction landed but its confirmation was lost; the
    # resend finds NothingToSettle: paid once, counted as already settled.
    m = keeper.metrics()
    assert m["retries"] == 3 and report.already_settled == 3 and report.failed == 0
    w.assert_exact()
    # Retries exhausted: counted as failures, and the next round pays.
    w.warp(HOUR)
    w.client.chain = FlakyChain(w.h, refuse=10, lost=0)
    keeper.client = w.client
    report = await keeper.run_once()
    assert report.failed == 3 and keeper.metrics()["payout_failures"] == 3
    assert keeper._delay(report) == keeper.config.failure_retry
    w.client.chain = LiteSvmChain(w.h)
    report = await keeper.run_once()
    assert report.paid == 3 and report.failed == 0
    w.assert_exact()
