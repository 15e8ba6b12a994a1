"""The keeper retires its lookup tables on LiteSVM with the real Address
Lookup Table program: a table none of whose entries a live job needs is
deactivated (and never used again), then closed once the runtime allows it,
its rent back to the payer to the lamport; restarts find tables in every
state.

The runtime's rule: a deactivated table closes once its deactivation slot is
no longer in ``SlotHashes``. A cluster's ``SlotHashes`` holds the 512 slots
before the current one, so that is 513 slots after deactivating; LiteSVM's
holds only slot 0 unless set, so there a table closes one slot after being
deactivated. The first test gives LiteSVM a cluster's ``SlotHashes``."""

from __future__ import annotations

from typing import Any, Optional

import pytest
from solders.address_lookup_table_account import AddressLookupTable
from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.escrow.state import Memcmp
from iopay.escrow.keeper import JsonLog, Keeper
from iopay.escrow.keeper import lookup
from iopay.escrow.keeper.lookup import (AUTHORITY_TAG_OFFSET, LOOKUP_TABLE_PROGRAM_ID, SLOT_HASHES_MAX_ENTRIES, U64_MAX,
                                 table_authority)
from iopay.core.harness import Harness
from tests.escrow.keeper.env import HOUR, KeeperWorld

LAMPORTS_PER_SIGNATURE = 5_000  # LiteSVM's default fee; a close is signed by the payer and the table's authority


def cluster_slot_hashes(h: Harness) -> None:
    """SlotHashes as on a cluster: the 512 slots before the current one."""
    s = h.clock().slot
    h.svm.set_slot_hashes([(x, Hash.new_unique()) for x in range(s - 1, max(-1, s - 1 - SLOT_HASHES_MAX_ENTRIES), -1)])


class World(KeeperWorld):
    def __init__(self, *a: Any, cluster_hashes: bool, **k: Any) -> None:
        super().__init__(*a, **k)
        self.cluster_hashes = cluster_hashes
        self.sent_with_tables = 0
        self._wrap_send()
        if cluster_hashes:
            cluster_slot_hashes(self.h)

    def warp(self, seconds: int) -> int:
        ts = super().warp(seconds)
        if self.cluster_hashes:
            cluster_slot_hashes(self.h)
        return ts

    def warp_slots(self, slots: int) -> None:
        self.h.warp_to_slot(self.h.clock().slot + slots)
        if self.cluster_hashes:
            cluster_slot_hashes(self.h)

    def _wrap_send(self) -> None:
        chain = self.client.chain
        inner = chain.send

        async def send(instructions: Any, signers: Any, payer: Any, lookup_tables: Any = ()) -> Any:
            # No transaction ever references a deactivated (or closed) table.
            for t in lookup_tables:
                data = self.h.account_data(t.key)
                assert data is not None, f"transaction references closed table {t.key}"
                assert AddressLookupTable.deserialize(data).meta.deactivation_slot == U64_MAX, \
                    f"transaction references deactivated table {t.key}"
            if lookup_tables:
                self.sent_with_tables += 1
            return await inner(instructions, signers, payer, lookup_tables=lookup_tables)

        chain.send = send  # type: ignore[method-assign]

    def tables_on_chain(self) -> dict:
        """table -> deactivation slot (None: active) of every table the payer's authorities own."""
        out = {}
        for i in range(lookup.MAX_TABLES):
            auth = table_authority(self.client.payer, i)
            for addr, data in self.h.program_accounts(
                    LOOKUP_TABLE_PROGRAM_ID, [Memcmp(AUTHORITY_TAG_OFFSET, b"\x01" + bytes(auth.pubkey()))]):
                d = AddressLookupTable.deserialize(data).meta.deactivation_slot
                out[addr] = None if d == U64_MAX else d
        return out

    def close(self, job: Pubkey) -> None:
        """The customer ends a fully paid job and closes it."""
        self.end_unpaid(job)
        env = self.env
        env.ok(env.esc.close_job(customer=env.customer.pubkey(), mint=env.mint, job=job,
                                 customer_token=env.customer_token),
               env.customer)

    def table_of(self, keeper: Keeper, job: Pubkey) -> Optional[Pubkey]:
        for t in list(keeper.tables.tables.values()) + list(keeper.tables.deactivating.values()):
            if job in t.addresses:
                return t.address
        return None


def payer_balance(w: KeeperWorld) -> int:
    return w.h.lamports(w.client.payer.pubkey())


async def test_tables_of_finished_jobs_are_deactivated_then_closed_rent_back_restarts_resume(
        escrow_harness: Harness, escrow_idl: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Small tables, so jobs land in different ones: the 2 shared accounts
    # (Token program, event authority) after 2 fillers, then per job its job,
    # vault and 2 worker token accounts.
    monkeypatch.setattr(lookup, "MAX_ADDRESSES", 4)
    h = escrow_harness
    w = World(h, escrow_idl, n_workers=8, cluster_hashes=True)
    h.warp_to_slot(5_000)
    cluster_slot_hashes(h)
    a = w.open([0, 1], [1_000_000, 2_000_000], 1)
    b = w.open([2, 3], [1_500_000, 700_000], 1)
    c = w.open([4, 5], [900_000, 1_100_000], 3)
    d = w.open([6, 7], [1_234_567, 2_222_222], 3)
    for job in (a, b, c, d):
        w.accept(job, 0)
        w.accept(job, 1)
    log = JsonLog(keep=100_000, level="error")
    keeper = w.keeper(log=log, lookup_tables_always=True)
    await keeper.tables.ensure([Keypair().pubkey(), Keypair().pubkey()])
    await keeper.run_once()
    t_a, t_b, t_c, t_d = (w.table_of(keeper, j) for j in (a, b, c, d))
    (t_m,) = set(keeper.tables.tables) - {t_a, t_b, t_c, t_d}  # the market's shared accounts
    assert keeper.metrics()["tables_active"] == 5 and keeper.metrics()["tables_deactivating"] == 0

    w.warp(HOUR + 1)
    report = await keeper.run_once()  # hour 1 of everyone; a and b owed it, so still live this round
    assert report.paid == 8 and report.failed == 0
    assert set(w.tables_on_chain().values()) == {None} and len(w.tables_on_chain()) == 5
    w.assert_exact()
    w.close(a)  # closed and gone; b stays open, fully paid
    w.warp(10)
    report = await keeper.run_once()
    assert report.paid == 0
    deact_slot = h.clock().slot
    assert w.tables_on_chain() == {t_a: deact_slot, t_b: deact_slot, t_c: None, t_d: None, t_m: None}
    m = keeper.metrics()
    assert m["tables_active"] == 3 and m["tables_deactivating"] == 2 and m["tables_closed"] == 0
    assert not {t_a, t_b} & set(keeper.tables.tables)
    rents = h.lamports(t_a) + h.lamports(t_b)

    # A restart while they are deactivating: found as such, never used.
    keeper = w.keeper(log=log, lookup_tables_always=True)
    w.warp_slots(SLOT_HASHES_MAX_ENTRIES - 100)
    await keeper.run_once()
    assert set(keeper.tables.deactivating) == {t_a, t_b} and set(keeper.tables.tables) == {t_c, t_d, t_m}
    assert keeper.metrics()["tables_deactivating"] == 2 and keeper.metrics()["tables_closed"] == 0
    # Still in SlotHashes at the last slot of the window: not closed (the runtime would refuse).
    w.warp_slots(deact_slot + SLOT_HASHES_MAX_ENTRIES - h.clock().slot)
    assert deact_slot in [s for s, _ in h.svm.get_slot_hashes()]
    await keeper.run_once()
    assert {t_a, t_b} <= set(w.tables_on_chain())
    assert not any(r["event"] == "lookup_table_close_deferred" for r in log.records)
    # 513 slots after deactivating it is out of SlotHashes: closed, rent back to the payer exactly.
    w.warp_slots(1)
    assert deact_slot not in [s for s, _ in h.svm.get_slot_hashes()]
    before = payer_balance(w)
    report = await keeper.run_once()
    assert report.batches == 0
    assert w.tables_on_chain() == {t_c: None, t_d: None, t_m: None}
    assert h.account_data(t_a) is None and h.account_data(t_b) is None
    assert payer_balance(w) - before == rents - 2 * 2 * LAMPORTS_PER_SIGNATURE
    m = keeper.metrics()
    assert m["tables_closed"] == 2 and m["lamports_recovered"] == rents
    assert m["tables_active"] == 3 and m["tables_deactivating"] == 0
    closed = [r for r in log.records if r["event"] == "lookup_table_closed"]
    assert sorted(r["table"] for r in closed) == sorted([str(t_a), str(t_b)])

    # Hours 2 and 3 of c and d, through the live tables; then they end and every table goes.
    for _ in range(2):
        w.warp(HOUR)
        used = w.sent_with_tables
        report = await keeper.run_once()
        assert report.paid == 4 and report.failed == 0 and w.sent_with_tables > used
        w.assert_exact()
    w.close(b)
    w.close(c)
    w.warp(10)
    await keeper.run_once()  # d is fully paid but open: not live either
    on_chain = w.tables_on_chain()
    assert set(on_chain) == {t_c, t_d, t_m} and all(s is not None for s in on_chain.values())
    assert keeper.metrics()["tables_active"] == 0 and keeper.metrics()["tables_deactivating"] == 3
    rents = h.lamports(t_c) + h.lamports(t_d) + h.lamports(t_m)
    # Restart after the window: all closable at once.
    w.warp_slots(SLOT_HASHES_MAX_ENTRIES + 1)
    keeper = w.keeper(log=log, lookup_tables_always=True)
    before = payer_balance(w)
    await keeper.run_once()
    assert w.tables_on_chain() == {}
    assert payer_balance(w) - before == rents - 3 * 2 * LAMPORTS_PER_SIGNATURE
    m = keeper.metrics()
    assert m["tables_closed"] == 3 and m["lamports_recovered"] == rents
    assert m["tables_active"] == 0 and m["tables_deactivating"] == 0
    w.assert_exact()

    # A new job: new tables (free authority indexes), used for its payouts.
    e = w.open([0, 3], [1_000_000, 1_000_000], 1)
    w.accept(e, 0)
    w.accept(e, 1)
    keeper = w.keeper(log=log, lookup_tables_always=True)
    await keeper.run_once()
    assert len(w.tables_on_chain()) == 2 and set(w.tables_on_chain().values()) == {None}
    assert sorted(keeper.tables.index_of.values()) == [0, 1]
    w.warp(HOUR + 1)
    used = w.sent_with_tables
    report = await keeper.run_once()
    assert report.paid == 2 and w.sent_with_tables == used + 1
    w.assert_exact()


async def test_litesvm_default_slot_hashes_close_one_slot_later_then_a_fresh_index(
        escrow_harness: Harness, escrow_idl: Any) -> None:
    """LiteSVM's SlotHashes holds only slot 0: the same rule closes a table
    the slot after deactivating it. A new table then takes a fresh authority
    index (the closed one's only address cannot be created again there)."""
    h = escrow_harness
    w = World(h, escrow_idl, n_workers=2, cluster_hashes=False)
    h.warp_to_slot(100)
    a = w.open([0, 1], [1_000_000, 1_000_000], 1)
    w.accept(a, 0)
    w.accept(a, 1)
    keeper = w.keeper(lookup_tables_always=True)
    await keeper.run_once()
    (table,) = keeper.tables.tables
    w.warp(HOUR + 1)
    assert (await keeper.run_once()).paid == 2
    w.close(a)
    await keeper.run_once()  # deactivated in this slot
    assert w.tables_on_chain() == {table: h.clock().slot}
    rent = h.lamports(table)
    await keeper.run_once()  # same slot: not yet
    assert table in w.tables_on_chain()
    w.warp_slots(1)
    before = payer_balance(w)
    await keeper.run_once()
    assert w.tables_on_chain() == {} and payer_balance(w) - before == rent - 2 * LAMPORTS_PER_SIGNATURE
    assert keeper.metrics()["lamports_recovered"] == rent
    b = w.open([0, 1], [500_000, 500_000], 1)
    w.accept(b, 0)
    w.accept(b, 1)
    w.warp(1)
    await keeper.run_once()
    # LiteSVM keeps the closed table as a 0-lamport account the program owns, and
    # SlotHashes at slot 0: index 0 can only derive that address, where create is a
    # no-op. The keeper takes the next index.
    (new,) = keeper.tables.tables
    assert new != table and keeper.tables.index_of[new] == 1 and set(w.tables_on_chain()) == {new}
    keeper = w.keeper(lookup_tables_always=True)  # a restart finds it past the gap index 0 left
    await keeper.tables.load()
    assert set(keeper.tables.tables) == {new} and not keeper.tables.deactivating
    w.warp(HOUR + 1)
    used = w.sent_with_tables
    assert (await keeper.run_once()).paid == 2 and w.sent_with_tables == used + 1
    w.assert_exact()


async def test_no_lookup_table_for_payouts_that_fit_one_plain_transaction(escrow_harness: Harness,
                                                                         escrow_idl: Any) -> None:
    """A table costs rent and transactions of its own: a keeper whose
    outstanding payouts fit one plain transaction creates none (issue 8)."""
    h = escrow_harness
    w = World(h, escrow_idl, n_workers=2, cluster_hashes=False)
    a = w.open([0, 1], [1_000_000, 1_000_000], 2)
    w.accept(a, 0)
    w.accept(a, 1)
    keeper = w.keeper()
    await keeper.run_once()
    w.warp(HOUR + 1)
    assert (await keeper.run_once()).paid == 2
    assert keeper.tables.tables == {} and w.tables_on_chain() == {}
    assert keeper.m.lookup_table_entries_added == 0 and keeper.m.transactions_sent == 1
