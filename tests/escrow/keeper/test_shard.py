"""Sharded keepers (``--shard I/N``): a deterministic split of the jobs by
address, no payout sent by two keepers while all are alive, and a silent
shard's payouts taken over after the grace period (rank 1 first, rank 2
only after twice the grace). On LiteSVM with the real program; the
process-level test (3 keepers, one SIGKILLed) is in tests/integration."""

from __future__ import annotations

from collections import Counter
from typing import Any, Dict, List

import pytest
from solders.pubkey import Pubkey

from iopay.core.harness import Harness
from iopay.escrow.keeper import Keeper, Shard, Takeover, shard_of
from iopay.escrow.keeper.planner import Payout
from tests.escrow.keeper.env import HOUR, KeeperWorld


def test_shard_parse_and_validation() -> None:
    s = Shard.parse("1/3", 12.5)
    assert (s.index, s.count, s.grace, str(s)) == (1, 3, 12.5, "1/3")
    for bad in ("3/3", "1", "a/b", "-1/3", "0/0", ""):
        with pytest.raises(ValueError):
            Shard.parse(bad)
    with pytest.raises(ValueError):
        Shard(0, 2, -1.0)
    with pytest.raises(TypeError):
        Shard("0", 2)  # type: ignore[arg-type]


def test_split_is_deterministic_even_and_ranks_are_a_rotation() -> None:
    jobs = [Pubkey.new_unique() for _ in range(3000)]
    owners = Counter(shard_of(j, 3) for j in jobs)
    assert set(owners) == {0, 1, 2} and min(owners.values()) > 900  # even within a few percent
    shards = [Shard(i, 3) for i in range(3)]
    for j in jobs[:200]:
        assert [s.owns(j) for s in shards].count(True) == 1
        assert sorted(s.rank(j) for s in shards) == [0, 1, 2]
        assert shard_of(j, 3) == shards[0].owner(j) == Shard(2, 3).owner(j)
    assert all(Shard(0, 1).owns(j) for j in jobs[:50])


def _payout(job: Pubkey, slot: int = 0, due_since: int = 1000) -> Payout:
    return Payout(job, slot, Pubkey.new_unique(), Pubkey.new_unique(), 1, 10, 1, due_since)


def test_takeover_waits_rank_times_grace_from_first_sight() -> None:
    t = [100.0]
    me = Shard(1, 3, grace=10.0)
    tk = Takeover(me, clock=lambda: t[0])
    by_rank: Dict[int, Pubkey] = {}
    while len(by_rank) < 3:
        j = Pubkey.new_unique()
        by_rank.setdefault(me.rank(j), j)
    ps = [_payout(by_rank[r]) for r in (0, 1, 2)]
    sel = tk.select(ps)
    assert sel.payouts == [ps[0]] and sel.deferred == 2 and sel.next_takeover_in == 10.0
    t[0] = 109.9
    assert tk.select(ps).payouts == [ps[0]]
    t[0] = 110.0
    sel = tk.select(ps)
    assert sel.payouts == [ps[0], ps[1]] and sel.taken_over == 1 and sel.next_takeover_in == pytest.approx(10.0)
    t[0] = 120.0
    assert tk.select(ps).payouts == ps
    # Paid meanwhile (hours_paid moved: a new due_since): a new payout, a new wait.
    later = _payout(by_rank[1], due_since=1000 + HOUR)
    sel = tk.select([later])
    assert sel.payouts == [] and sel.next_takeover_in == 10.0 and len(tk.first_seen) == 1


def _world(h: Harness, prog: Any) -> KeeperWorld:
    w = KeeperWorld(h, prog, n_workers=24, max_workers=4)
    owners: Counter = Counter()
    i = 0
    while min(owners[s] for s in range(3)) < 2 and i < 40:  # at least 2 jobs a shard
        job = w.open([(2 * i) % 24, (2 * i + 1) % 24], [1_000_000 + i, 2_000_003 + i], 4)
        w.accept(job, 0)
        w.accept(job, 1)
        owners[shard_of(job, 3)] += 1
        i += 1
    return w


async def test_three_sharded_keepers_pay_once_and_take_over_a_silent_one(escrow_harness: Harness,
                                                                          escrow_idl: Any) -> None:
    w = _world(escrow_harness, escrow_idl)
    t = [0.0]
    grace = 30.0
    keepers: List[Keeper] = []
    for i in range(3):
        k = w.keeper(shard=Shard(i, 3, grace), lookup_tables=(i == 0))
        assert k.takeover is not None
        k.takeover.clock = lambda: t[0]
        keepers.append(k)
    # Hour 1, all alive: each pays its own shard, nothing is sent twice.
    w.warp(HOUR + 5)
    reports = [await k.run_once() for k in keepers]
    w.assert_exact()
    assert all(r.failed == 0 and r.taken_over == 0 for r in reports)
    assert sum(r.paid for r in reports) == 2 * len(w.specs)
    assert all(r.paid > 0 for r in reports)
    for k in keepers:
        m = k.metrics()
        assert m["nothing_to_settle_transactions"] == 0 and m["already_settled"] == 0
    # Hour 2: keeper 1 is dead. 0 and 2 pay their own and defer shard 1's.
    w.warp(HOUR)
    k0, _, k2 = keepers
    await k0.run_once()
    await k2.run_once()
    r0, r2 = await k0.run_once(), await k2.run_once()  # each has seen the other's shard paid
    owned1 = [j for j in w.specs if shard_of(j, 3) == 1]
    assert r0.deferred == r2.deferred == 2 * len(owned1) and r0.taken_over == r2.taken_over == 0
    assert r2.takeover_in == grace and r0.takeover_in == 2 * grace
    assert k2._delay(r2) <= grace  # wakes up for the takeover
    # After the grace: keeper 2 (rank 1 for shard 1) pays them; keeper 0 (rank 2) still waits.
    t[0] += grace
    r0, r2 = await k0.run_once(), await k2.run_once()
    assert r0.taken_over == 0 and r2.taken_over == 2 * len(owned1) and r2.paid == 2 * len(owned1)
    w.assert_exact()
    # Keeper 0's later deadline finds nothing left: nothing wasted.
    t[0] += grace
    r0 = await k0.run_once()
    assert r0.due == 0 and r0.deferred == 0
    assert sum(k.metrics()["nothing_to_settle_transactions"] for k in keepers) == 0
    assert k2.metrics()["takeover_payouts"] == 2 * len(owned1)
    assert "iopay_keeper_takeover_payouts_total" in k2.m.prometheus()


def test_a_slow_owner_that_keeps_paying_is_not_taken_over() -> None:
    t = [0.0]
    me = Shard(1, 2, grace=10.0)
    tk = Takeover(me, clock=lambda: t[0])
    theirs = []
    while len(theirs) < 3:
        j = Pubkey.new_unique()
        if me.rank(j) == 1:
            theirs.append(_payout(j))
    assert tk.select(theirs).payouts == []
    t[0] = 8.0  # the owner paid one: alive; the others wait a grace from now
    sel = tk.select(theirs[1:])
    assert sel.payouts == [] and sel.next_takeover_in == 10.0
    t[0] = 17.0
    assert tk.select(theirs[1:]).payouts == []
    t[0] = 18.0  # silent for a whole grace: taken over
    assert tk.select(theirs[1:]).payouts == theirs[1:]
    # What this keeper took over and paid is not mistaken for the owner's progress.
    t[0] = 19.0
    later = _payout(theirs[0].job, due_since=5000)
    assert tk.select([later]).payouts == [] and tk.last_progress == {0: 8.0}
