"""Keeper-facing pure functions of iopay.escrow.state: what is due, when
next, what the vault owes, filters, batching. No chain."""

from __future__ import annotations

import pytest
from solders.pubkey import Pubkey

from iopay.core.chain import Memcmp, matches
from iopay.escrow.state import (JOB_STATE_OFFSET, JobView, SlotView, any_accepted, due_slots,
                                due_worker_hours, earned_hours, is_closable, job_filters, next_due_ts,
                                payees_for, plan_settlements, quit_refund, slot_due, unearned, vault_owed)
from iopay.escrow.program import booking_cost, fee_for, span_cost

H = 3_600
T0 = 1_700_000_000


def pk(i: int) -> Pubkey:
    return Pubkey.from_bytes(bytes([i]) * 32)


def slot(i: int, rate: int, hours: int = 3, paid: int = 0, start: int = T0, status: str = "Active") -> SlotView:
    return SlotView(i, pk(10 + i), rate, 0, hours, paid, start if status != "Pending" else 0, status)


def job(*slots: SlotView, fee_bps: int = 250, state: str = "Open") -> JobView:
    return JobView(pk(1), pk(2), pk(3), 7, state, fee_bps, 3, T0, 0, 0, 0, 255, 254, tuple(slots))


def test_earned_hours_floor_cap_and_start() -> None:
    s = slot(0, 100)
    assert [earned_hours(s, T0 + d) for d in (-5, 0, H - 1, H, 2 * H + 1, 99 * H)] == [0, 0, 0, 1, 2, 3]
    assert earned_hours(slot(0, 100, status="Pending"), T0 + 10 * H) == 0
    assert earned_hours(slot(0, 100, hours=1, paid=1, status="Quit"), T0 + 10 * H) == 1


def test_due_slots_match_what_settle_pays() -> None:
    j = job(slot(0, 1_000_000), slot(1, 333_333, paid=1), slot(2, 5, status="Pending"),
            slot(3, 7, start=T0 + 1_800))
    now = T0 + 2 * H
    dues = due_slots(j, now)
    assert [(d.slot, d.worker, d.hours) for d in dues] == [(0, pk(10), 2), (1, pk(11), 1), (3, pk(13), 1)]
    assert dues[1].amount == 333_333 and dues[1].fee == fee_for(666_666, 250) - fee_for(333_333, 250)
    assert due_worker_hours(j, now) == 4
    assert slot_due(j, 2, now).hours == 0
    # Nothing due before the first whole hour.
    assert due_slots(j, T0 + H - 1) == []


def test_next_due_ts_for_scheduling() -> None:
    j = job(slot(0, 10), slot(1, 10, start=T0 + 1_800), slot(2, 10, status="Pending"))
    assert next_due_ts(j, T0) == T0 + H
    assert next_due_ts(j, T0 + H) == T0 + 1_800 + H
    assert next_due_ts(j, T0 + 2 * H + 1) == T0 + 1_800 + 2 * H
    assert next_due_ts(j, T0 + 10 * H) is None  # bookings ran out: only settle what is due
    done = job(slot(0, 10, paid=3), slot(1, 10, hours=1, paid=1, status="Quit"))
    assert next_due_ts(done, T0) is None


def test_vault_owed_and_refunds_follow_the_program_rules() -> None:
    rates = [1_000_000, 1_500_000, 2_000_000, 333_333]
    fresh = job(*(slot(i, r) for i, r in enumerate(rates)))
    assert vault_owed(fresh) == sum(booking_cost(rates, 3, 250))
    # After paying 2 hours each, ending at 2.5 h pays the half hour (rounded up) and refunds the rest.
    paid2 = job(*(slot(i, r, paid=2) for i, r in enumerate(rates)))
    earned = [2 * r + -(-r * 1_800 // H) for r in rates]
    assert unearned(paid2, T0 + 2 * H + 1_800) == sum(
        3 * r - e + fee_for(3 * r, 250) - fee_for(e, 250) for r, e in zip(rates, earned))
    # A quit at 2.5 h rounds the half hour down: 333_333 * 1800 / 3600 = 166_666.5 -> 166_666.
    e = 2 * 333_333 + 166_666
    assert quit_refund(paid2, 3, T0 + 2 * H + 1_800) == 3 * 333_333 - e + fee_for(3 * 333_333, 250) - fee_for(e, 250)
    assert vault_owed(paid2) == unearned(paid2, T0 + 2 * H)
    assert quit_refund(paid2, 3, T0 + 2 * H) == sum(span_cost(333_333, 250, 2, 3))
    assert quit_refund(job(slot(0, 10, status="Pending")), 0, T0 + 5 * H) == sum(booking_cost([10], 3, 250))


def test_closable_and_accepted() -> None:
    assert not is_closable(job(slot(0, 1, paid=2)))
    assert is_closable(job(slot(0, 1, paid=3), slot(1, 1, hours=0, status="Declined")))
    assert not any_accepted(job(slot(0, 1, status="Pending"), slot(1, 1, hours=0, status="Declined")))
    assert any_accepted(job(slot(0, 1, hours=1, paid=1, status="Quit")))


def test_plan_settlements_chunks_in_slot_order() -> None:
    j = job(*(slot(i, 1) for i in range(7)))
    dues = due_slots(j, T0 + H)
    chunks = plan_settlements(dues, 3)
    assert [[d.slot for d in c] for c in chunks] == [[0, 1, 2], [3, 4, 5], [6]]
    assert plan_settlements([], 3) == []
    with pytest.raises(ValueError):
        plan_settlements(dues, 0)
    assert payees_for(chunks[2], lambda w: Pubkey.from_bytes(bytes(w)[::-1])) == [(6, Pubkey.from_bytes(bytes(pk(16))[::-1]))]


def test_job_filters_select_by_discriminator_market_state_customer(escrow_idl) -> None:  # type: ignore[no-untyped-def]
    disc = escrow_idl.account_discriminator("Job")
    market, customer = pk(1), pk(2)
    data = disc + bytes(market) + bytes(customer) + (7).to_bytes(8, "little") + b"\x00" + bytes(100)
    assert data[JOB_STATE_OFFSET] == 0
    assert matches(data, job_filters(escrow_idl, market))
    assert matches(data, job_filters(escrow_idl, market, "Open", customer))
    assert not matches(data, job_filters(escrow_idl, pk(9)))
    assert not matches(data, job_filters(escrow_idl, market, "Ended"))
    assert not matches(data, job_filters(escrow_idl, market, customer=pk(9)))
    assert matches(data, job_filters(escrow_idl, None, None))
    assert job_filters(escrow_idl, market)[0] == Memcmp(0, disc)


def test_view_decodes_a_real_layout(escrow_idl) -> None:  # type: ignore[no-untyped-def]
    import struct

    body = bytes(pk(1)) + bytes(pk(2)) + struct.pack("<QBHI", 9, 0, 250, 3)
    body += struct.pack("<qqqiBBqQ", T0, 0, 0, 0, 254, 253, T0 + 60, 7) + bytes(16) + struct.pack("<I", 1)
    body += bytes(pk(10)) + struct.pack("<QQIIqBHQ?", 100, 0, 3, 1, T0, 1, 5, 9, False)
    v = JobView.decode(escrow_idl, pk(5), escrow_idl.account_discriminator("Job") + body)
    assert (v.address, v.market, v.customer, v.job_id, v.state, v.hours) == (pk(5), pk(1), pk(2), 9, "Open", 3)
    assert v.workers == (SlotView(0, pk(10), 100, 0, 3, 1, T0, "Active", 5, 9, False),)
    assert (v.accept_deadline, v.fees_accrued) == (T0 + 60, 7)
    assert v.slot_of(pk(10)) == 0 and v.slot_of(pk(11)) is None
