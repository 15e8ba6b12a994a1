"""A job's life on the real job_escrow program in LiteSVM: accept, hourly
settle, extend, quit, end, cancel, close. The must-show scenario first, then
every instruction's rejections, each by exact error name and code, each
shown to move no tokens. ``Env.ok`` checks after every successful step that
every vault holds exactly what its job still owes."""

from __future__ import annotations

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from tests.escrow.env import FEE_BPS, HOUR, MAX_HOURS, RATES, Env, make_env, paid, readonly_remaining, unsigned
from iopay.escrow.state import due_slots, is_closable, job_filters, next_due_ts, unearned, vault_owed
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import booking_cost, fee_for, span_cost
from iopay.core.harness import Harness

N_SETTLE_FIXED = 5  # job, vault, token_program, event_authority, program


@pytest.fixture
def env(escrow_harness: Harness, escrow_idl: ProgramIdl, record_cu) -> Env:
    return make_env(escrow_harness, escrow_idl, record_cu)


def fee_of_hours(rate: int, lo: int, hi: int) -> int:
    return span_cost(rate, FEE_BPS, lo, hi)[1]


def share(pay: int) -> int:
    """A slot's cumulative pay plus its fee."""
    return pay + fee_for(pay, FEE_BPS)


# -- must show ------------------------------------------------------------------------

async def test_four_workers_three_hours_paid_hour_by_hour_exactly(env: Env, record_cu) -> None:
    """4 workers, 3 hours: after each warped hour every worker's balance rises
    by exactly its rate, the job's accrued fees by the exact fee share; a fourth settle
    pays nothing; the fees add up to the fee locked; the job then closes."""
    job = env.open(hours=3, accept=True)
    principal, fee = booking_cost(RATES, 3, FEE_BPS)
    t0 = env.job(job).workers[0].start_ts
    start = env.balances()
    env.fails(env.settle_ix(job), name="NothingToSettle")
    env.h.set_unix_timestamp(t0 + HOUR - 1)
    env.fails(env.settle_ix(job), name="NothingToSettle")  # an hour in progress is not earned
    treasury_total = 0
    for hour in (1, 2, 3):
        env.h.set_unix_timestamp(t0 + hour * HOUR)
        before = env.balances()
        fees_before = env.job(job).fees_accrued
        res = env.ok(env.settle_ix(job), name="settle_4_workers")
        record_cu("settle_per_worker_hour", res.compute_units // 4)
        after = env.balances()
        hour_fee = sum(fee_of_hours(r, hour - 1, hour) for r in RATES)
        for i, rate in enumerate(RATES):
            assert after[f"w{i}"] - before[f"w{i}"] == rate
            assert after[f"w{i}"] - start[f"w{i}"] == rate * hour
        assert env.job(job).fees_accrued - fees_before == hour_fee
        assert after["treasury"] == before["treasury"]  # settle never touches the treasury
        assert after["customer"] == start["customer"]
        treasury_total += hour_fee
        (ev,) = res.events_named("HoursSettled")
        assert (ev.job, ev.settled_ts, list(ev.skipped)) == (job, env.h.now(), [])
        evs = paid(res)
        assert [(e.worker, e.slot, e.hours, e.secs, e.hours_paid, e.amount) for e in evs] == [
            (env.workers[i].pubkey(), i, 1, 0, hour, RATES[i]) for i in range(4)]
        assert sum(e.fee for e in evs) == hour_fee
        # Replaying the crank at the same instant pays nothing.
        env.fails(env.settle_ix(job), name="NothingToSettle")
    # The rounded-up fee of the 0.333333 worker is spread so the total is exact.
    assert [fee_of_hours(RATES[3], h - 1, h) for h in (1, 2, 3)] == [8_334, 8_333, 8_333]
    assert treasury_total == fee
    assert env.h.token_balance(env.vault(job)) == fee == env.job(job).fees_accrued
    assert sum(env.balances()[f"w{i}"] for i in range(4)) - sum(start[f"w{i}"] for i in range(4)) == principal
    # A fourth settle, and any later one, pays nothing: never beyond the booking.
    env.h.set_unix_timestamp(t0 + 4 * HOUR)
    env.fails(env.settle_ix(job), name="NothingToSettle")
    env.h.warp_seconds(100 * HOUR)
    env.fails(env.settle_ix(job), name="NothingToSettle")
    assert [s.hours_paid for s in env.job(job).workers] == [3] * 4
    # Closing returns the rent of the job and the vault to the customer.
    rent = env.h.lamports(job) + env.h.lamports(env.vault(job))
    lamports = env.h.lamports(env.customer.pubkey())
    res = env.ok(env.close_ix(job), env.customer, name="close_job")
    assert env.h.lamports(env.customer.pubkey()) == lamports + rent
    assert env.h.account_data(job) is None and env.h.account_data(env.vault(job)) is None
    (ev,) = res.events_named("JobClosed")
    assert (ev.job, ev.customer, ev.refund, ev.fees) == (job, env.customer.pubkey(), 0, fee)
    assert env.balances()["fee_vault"] == fee


async def test_customer_ending_at_hour_two_gets_exactly_the_unearned_remainder(env: Env, record_cu) -> None:
    job = env.open(hours=3, accept=True)
    t0 = env.job(job).workers[0].start_ts
    start = env.balances()
    env.h.set_unix_timestamp(t0 + HOUR)
    env.ok(env.settle_ix(job))
    env.h.set_unix_timestamp(t0 + 2 * HOUR + 1_800)  # 2.5 h: the half hour is earned pro rata, rounded up
    earned = [2 * r + -(-r * 1_800 // HOUR) for r in RATES]
    remainder = sum(share(3 * r) - share(e) for r, e in zip(RATES, earned))
    assert unearned(env.job(job), env.h.now()) == remainder
    res = env.ok(env.end_ix(job), env.customer, name="end_job_4_workers")
    end = env.balances()
    assert end["customer"] - start["customer"] == remainder
    for i, e in enumerate(earned):
        assert end[f"w{i}"] - start[f"w{i}"] == e
    fees = sum(fee_for(e, FEE_BPS) for e in earned)
    (ev,) = res.events_named("JobEnded")
    assert (ev.job, ev.customer, ev.refund, ev.owed, ev.ended_ts) == (job, env.customer.pubkey(), remainder, fees,
                                                                      env.h.now())
    assert [(e.slot, e.hours, e.secs, e.hours_paid) for e in paid(res)] == [(i, 1, 1_800, 2) for i in range(4)]
    j = env.job(job)
    assert (j.state, j.ended_ts, j.fees_accrued) == ("Ended", env.h.now(), fees)
    assert [(s.hours, s.hours_paid, s.tail_secs, s.tail_paid) for s in j.workers] == [(2, 2, 1_800, True)] * 4
    # Nothing more is earned after the end.
    env.h.warp_seconds(10 * HOUR)
    env.fails(env.settle_ix(job), name="NothingToSettle")
    env.ok(env.close_ix(job), env.customer)


async def test_a_worker_quitting_stops_its_pay_and_refunds_its_share(env: Env, record_cu) -> None:
    job = env.open(hours=3, accept=True)
    t0 = env.job(job).workers[0].start_ts
    start = env.balances()
    env.h.set_unix_timestamp(t0 + HOUR + 1_200)  # worker 1 quits at 1h20
    earned = RATES[1] + RATES[1] * 1_200 // HOUR  # the started hour pro rata, rounded down
    refund = share(3 * RATES[1]) - share(earned)
    res = env.ok(env.quit_ix(job, 1), env.workers[1], name="quit")
    b = env.balances()
    assert b["w1"] - start["w1"] == earned  # paid at once
    assert b["customer"] - start["customer"] == refund
    (q,) = res.events_named("WorkerQuit")
    assert (q.job, q.worker, q.slot, q.hours, q.secs, q.refund, q.quit_ts) == (
        job, env.workers[1].pubkey(), 1, 1, 1_200, refund, env.h.now())
    (s,) = paid(res)
    assert (s.slot, s.hours, s.secs, s.amount, s.fee) == (1, 1, 1_200, earned, fee_for(earned, FEE_BPS))
    slot = env.job(job).workers[1]
    assert (slot.status, slot.hours, slot.hours_paid) == ("Quit", 1, 1)
    # The others keep earning; the quitter never again.
    for hour in (1, 2, 3):
        env.h.set_unix_timestamp(t0 + hour * HOUR)
        dues = due_slots(env.job(job), env.h.now())
        assert 1 not in [d.slot for d in dues]
        env.ok(env.settle_ix(job, slots=[d.slot for d in dues]))
    env.fails(env.settle_ix(job, slots=[1]), name="NothingToSettle")
    end = env.balances()
    assert end["w1"] - start["w1"] == earned
    for i in (0, 2, 3):
        assert end[f"w{i}"] - start[f"w{i}"] == 3 * RATES[i]
    principal, fee = booking_cost(RATES, 3, FEE_BPS)
    # Everything locked went somewhere: workers + accrued fees + refund.
    assert (sum(end[f"w{i}"] - start[f"w{i}"] for i in range(4)) + env.job(job).fees_accrued
            + end["customer"] - start["customer"]) == principal + fee
    env.fails(env.quit_ix(job, 1), env.workers[1], name="WorkerNotActive")
    assert is_closable(env.job(job))
    env.ok(env.close_ix(job), env.customer)


# -- accept -----------------------------------------------------------------------------

async def test_each_workers_clock_starts_at_its_accept(env: Env) -> None:
    job = env.open(hours=3)
    t0 = env.h.now()
    res = env.accept(job, 0)
    (ev,) = res.events_named("WorkerAccepted")
    assert (ev.job, ev.worker, ev.slot, ev.start_ts) == (job, env.workers[0].pubkey(), 0, t0)
    env.h.set_unix_timestamp(t0 + 1_800)
    env.accept(job, 1)  # half an hour later
    env.h.set_unix_timestamp(t0 + HOUR)
    j = env.job(job)
    assert [(s.status, s.start_ts) for s in j.workers] == [
        ("Active", t0), ("Active", t0 + 1_800), ("Pending", 0), ("Pending", 0)]
    assert [d.slot for d in due_slots(j, env.h.now())] == [0]
    assert next_due_ts(j, env.h.now()) == t0 + 1_800 + HOUR
    # Listing every slot pays only the due one; pending workers earn nothing.
    res = env.ok(env.settle_ix(job))
    assert [(e.slot, e.hours) for e in paid(res)] == [(0, 1)]
    env.h.set_unix_timestamp(t0 + 1_800 + HOUR)
    res = env.ok(env.settle_ix(job))
    assert [(e.slot, e.hours) for e in paid(res)] == [(1, 1)]
    # A late accept still gets its full booking of hours.
    env.accept(job, 2)
    env.h.warp_seconds(10 * HOUR)
    res = env.ok(env.settle_ix(job))
    assert [(e.slot, e.hours, e.hours_paid) for e in paid(res)] == [
        (0, 2, 3), (1, 2, 3), (2, 3, 3)]


async def test_accept_rejections(env: Env) -> None:
    job = env.open(hours=3)
    stranger = env.h.funded_keypair()
    env.fails(env.esc.accept(worker=stranger.pubkey(), job=job), stranger, name="NotAWorker")
    env.fails(unsigned(env.esc.accept(worker=env.workers[0].pubkey(), job=job), env.workers[0].pubkey()),
              name="AccountNotSigner")
    env.fails(env.esc.accept(worker=env.workers[0].pubkey(), job=env.market), env.workers[0],
              name="AccountDiscriminatorMismatch")
    env.accept(job, 0)
    env.fails(env.esc.accept(worker=env.workers[0].pubkey(), job=job), env.workers[0], name="AlreadyAccepted")
    env.ok(env.quit_ix(job, 1), env.workers[1])  # declines before accepting
    assert env.job(job).workers[1].status == "Declined"
    env.fails(env.esc.accept(worker=env.workers[1].pubkey(), job=job), env.workers[1], name="WorkerNotActive")
    # Accept works while the market is paused (the job is already funded).
    env.pause(True)
    env.accept(job, 2)
    env.ok(env.end_ix(job), env.customer)
    env.fails(env.esc.accept(worker=env.workers[3].pubkey(), job=job), env.workers[3], name="JobNotOpen")


# -- settle --------------------------------------------------------------------------------

async def test_settle_is_permissionless_partial_and_works_when_paused(env: Env) -> None:
    job = env.open(hours=5, accept=True)
    env.h.warp_seconds(2 * HOUR + 59)
    stranger = env.h.funded_keypair()
    # Only some workers at a time, by anyone, while paused.
    env.pause(True)
    res = env.h.send([env.settle_ix(job, slots=[2, 0])], payer=stranger)
    assert res.ok, res.logs
    env.check_conservation()
    assert [(e.slot, e.hours) for e in paid(res)] == [(2, 2), (0, 2)]
    res = env.ok(env.settle_ix(job, slots=[0, 1, 3]))
    assert [(e.slot, e.hours) for e in paid(res)] == [(1, 2), (3, 2)]
    # The same slot listed twice is paid once.
    env.h.warp_seconds(HOUR)
    res = env.ok(env.settle_ix(job, slots=[1, 1]))
    assert [(e.slot, e.hours) for e in paid(res)] == [(1, 1)]


async def test_settle_rejections(env: Env) -> None:
    job = env.open(job_id=1, hours=3, accept=True)
    job2 = env.open(job_id=2, hours=3, accept=True)
    env.h.warp_seconds(HOUR)
    w = env.worker_tokens
    other_mint = env.h.create_mint(env.m.mint_auth)
    foreign = env.h.create_token_account(other_mint, env.workers[0].pubkey())
    stranger_token = env.h.create_token_account(env.mint, env.h.funded_keypair().pubkey())
    # Remaining accounts must match the slots, one each, in order.
    env.fails(env.settle_ix(job, payees=[(0, w[0]), (4, w[1])]), name="InvalidSlot")
    ix = env.settle_ix(job, slots=[0, 1])
    env.fails(type(ix)(ix.program_id, ix.data, list(ix.accounts[:-1])), name="WorkerAccountsMismatch")
    # Payee substitutions: another worker's account, another mint, not a token account, read-only.
    env.fails(env.settle_ix(job, payees=[(0, w[1])]), name="WrongOwner")
    env.fails(env.settle_ix(job, payees=[(0, stranger_token)]), name="WrongOwner")
    env.fails(env.settle_ix(job, payees=[(0, env.vault(job))]), name="WrongOwner")
    env.fails(env.settle_ix(job, payees=[(0, foreign)]), name="WrongMint")
    env.fails(env.settle_ix(job, payees=[(0, env.mint)]), name="InvalidTokenAccount")
    # A wallet (system-owned, no data) looks like a closed token account: skipped, nothing else to pay.
    env.fails(env.settle_ix(job, payees=[(0, env.workers[0].pubkey())]), name="NothingToSettle")
    env.fails(readonly_remaining(env.settle_ix(job, slots=[0]), N_SETTLE_FIXED), name="AccountNotMutable")
    # Fixed-account substitutions: vault of another job, type cosplay.
    env.fails(env.settle_ix(job, vault=env.vault(job2)), name="ConstraintSeeds")
    env.fails(env.settle_ix(job, job=env.market), name="AccountDiscriminatorMismatch")
    env.fails(env.settle_ix(job, job=Keypair().pubkey()), name="AccountNotInitialized")
    env.fails(env.settle_ix(job, token_program=Keypair().pubkey()), name="InvalidProgramId")
    # Nothing listed, nothing due.
    env.fails(env.settle_ix(job, payees=[]), name="NothingToSettle")
    env.ok(env.settle_ix(job))
    env.fails(env.settle_ix(job), name="NothingToSettle")


# -- extend ------------------------------------------------------------------------------

async def test_extend_locks_exactly_the_extra_hours(env: Env) -> None:
    job = env.open(hours=2, accept=True)
    env.ok(env.quit_ix(job, 3), env.workers[3])  # a quitter is not extended
    env.h.warp_seconds(HOUR)
    before = env.balances()
    res = env.ok(env.extend_ix(job, 3), env.customer, name="extend")
    extra = [span_cost(r, FEE_BPS, 2, 5) for r in RATES[:3]]
    locked = sum(p + f for p, f in extra)
    assert before["customer"] - env.balances()["customer"] == locked
    (ev,) = res.events_named("JobExtended")
    assert (ev.job, ev.hours_added, list(ev.slots), ev.principal, ev.fee) == (
        job, 3, [0, 1, 2], sum(p for p, _ in extra), sum(f for _, f in extra))
    j = env.job(job)
    assert j.hours == 5 and [s.hours for s in j.workers] == [5, 5, 5, 0]
    env.h.warp_seconds(10 * HOUR)
    env.ok(env.settle_ix(job, slots=[0, 1, 2]))
    end = env.balances()
    for i in range(3):
        assert end[f"w{i}"] - before[f"w{i}"] == 5 * RATES[i]
    # Fee shares over open + extension add up to what was locked for them.
    assert env.job(job).fees_accrued == sum(fee_for(5 * r, FEE_BPS) for r in RATES[:3])
    env.ok(env.close_ix(job), env.customer)


async def test_extend_rejections(env: Env) -> None:
    job = env.open(hours=2, accept=True)
    mallory = env.h.funded_keypair()
    env.fails(env.extend_ix(job, 0), env.customer, name="ZeroHours")
    env.fails(env.extend_ix(job, MAX_HOURS - 1), env.customer, name="TooManyHours")
    env.fails(env.extend_ix(job, 2**32 - 1), env.customer, name="TooManyHours")
    env.fails(env.extend_ix(job, 1, customer=mallory), mallory, name="Unauthorized")
    env.fails(unsigned(env.extend_ix(job, 1), env.customer.pubkey()), name="AccountNotSigner")
    env.fails(env.extend_ix(job, 1, customer_token=env.worker_tokens[0]), env.customer, name="WrongOwner")
    env.fails(env.extend_ix(job, 1, customer_token=env.vault(job)), env.customer, name="WrongOwner")
    other = make_env(env.h, env.prog)
    env.fails(env.extend_ix(job, 1, market=other.market), env.customer, name="WrongMarket")
    env.fails(env.extend_ix(job, 1, vault=Keypair().pubkey()), env.customer, name="AccountNotInitialized")
    env.pause(True)
    env.fails(env.extend_ix(job, 1), env.customer, name="Paused")
    env.pause(False)
    env.h.warp_seconds(2 * HOUR)  # the booking ran out: extending would pay the gap
    env.fails(env.extend_ix(job, 1), env.customer, name="NothingToExtend")
    env.fails(env.extend_ix(job, 1, slots=[2]), env.customer, name="BookingExpired")
    env.ok(env.end_ix(job), env.customer)
    env.fails(env.extend_ix(job, 1), env.customer, name="JobNotOpen")
    # Overflow: a slot at 2^63 per hour (no fee) cannot be extended to 2 hours.
    zero_fee = make_env(env.h, env.prog, fee_bps=0)
    zero_fee.h.mint_to(zero_fee.mint, zero_fee.customer_token, 2**63, zero_fee.m.mint_auth)
    big = zero_fee.open(hours=1, rates=[2**63])
    zero_fee.fails(zero_fee.extend_ix(big, 1), zero_fee.customer, name="MathOverflow")


# -- quit ------------------------------------------------------------------------------------

async def test_pending_worker_declining_refunds_its_whole_share(env: Env) -> None:
    start = env.balances()
    job = env.open(hours=3)
    opened = env.balances()
    res = env.ok(env.quit_ix(job, 2), env.workers[2])
    assert env.balances()["customer"] - opened["customer"] == sum(booking_cost([RATES[2]], 3, FEE_BPS))
    assert res.events_named("HoursSettled") == []
    assert res.events_named("WorkerQuit")[0].hours == 0
    # Nobody accepted yet: the customer can still cancel the rest.
    res = env.ok(env.cancel_ix(job), env.customer)
    assert res.events_named("JobCancelled")[0].refund == sum(booking_cost(RATES, 3, FEE_BPS)) - sum(
        booking_cost([RATES[2]], 3, FEE_BPS))
    assert env.balances() == start


async def test_quit_rejections(env: Env) -> None:
    job = env.open(job_id=1, hours=3, accept=True)
    job2 = env.open(job_id=2, hours=3, accept=True)
    env.h.warp_seconds(HOUR)
    stranger = env.h.funded_keypair()
    stranger_token = env.h.create_token_account(env.mint, stranger.pubkey())
    ix = lambda i=0, **ov: env.quit_ix(job, i, **ov)  # noqa: E731
    env.fails(env.esc.quit(worker=stranger.pubkey(), job=job, worker_token=stranger_token,
                           customer_token=env.customer_token), stranger, name="NotAWorker")
    env.fails(unsigned(ix(), env.workers[0].pubkey()), name="AccountNotSigner")
    env.fails(ix(worker_token=env.worker_tokens[1]), env.workers[0], name="WrongOwner")
    env.fails(ix(customer_token=stranger_token), env.workers[0], name="WrongOwner")
    env.fails(ix(customer_token=env.vault(job)), env.workers[0], name="WrongOwner")
    env.fails(ix(vault=env.vault(job2)), env.workers[0], name="ConstraintSeeds")
    other = make_env(env.h, env.prog)
    env.fails(ix(worker_token=other.worker_tokens[0]), env.workers[0], name="WrongMint")
    # Works while paused, once.
    env.pause(True)
    env.ok(ix(), env.workers[0])
    env.fails(ix(), env.workers[0], name="WorkerNotActive")


# -- end_job ----------------------------------------------------------------------------------

async def test_end_job_leaves_unlisted_earned_pay_owed_for_settle(env: Env) -> None:
    job = env.open(hours=4, accept=True)
    env.h.warp_seconds(3 * HOUR)
    env.pause(True)  # ending works while paused
    res = env.ok(env.end_ix(job, slots=[0]), env.customer)
    (ev,) = res.events_named("JobEnded")
    # Slot 0 was paid (its fee accrues in the job); the others stay owed.
    owed = sum(r * 3 + fee_of_hours(r, 0, 3) for r in RATES[1:]) + fee_of_hours(RATES[0], 0, 3)
    assert ev.owed == owed == vault_owed(env.job(job))
    assert ev.refund == sum(sum(span_cost(r, FEE_BPS, 3, 4)) for r in RATES)
    env.fails(env.close_ix(job), env.customer, name="OutstandingPayments")
    res = env.ok(env.settle_ix(job, slots=[1, 2, 3]))
    assert [(e.slot, e.hours) for e in paid(res)] == [(1, 3), (2, 3), (3, 3)]
    env.ok(env.close_ix(job), env.customer)


async def test_end_job_before_anyone_accepted_refunds_everything(env: Env) -> None:
    start = env.balances()
    job = env.open(hours=3)
    env.h.warp_seconds(5 * HOUR)
    res = env.ok(env.end_ix(job), env.customer)
    assert res.events_named("JobEnded")[0].refund == sum(booking_cost(RATES, 3, FEE_BPS))
    assert env.balances() == start
    env.ok(env.close_ix(job), env.customer)


async def test_end_job_rejections(env: Env) -> None:
    job = env.open(job_id=1, hours=3, accept=True)
    job2 = env.open(job_id=2, hours=3, accept=True)
    env.h.warp_seconds(HOUR)
    mallory = env.h.funded_keypair()
    stranger_token = env.h.create_token_account(env.mint, mallory.pubkey())
    env.fails(env.end_ix(job, customer=mallory), mallory, name="Unauthorized")
    env.fails(unsigned(env.end_ix(job), env.customer.pubkey()), name="AccountNotSigner")
    env.fails(env.end_ix(job, customer_token=stranger_token), env.customer, name="WrongOwner")
    env.fails(env.end_ix(job, vault=env.vault(job2)), env.customer, name="ConstraintSeeds")
    env.fails(env.end_ix(job, payees=[(0, env.worker_tokens[1])]), env.customer, name="WrongOwner")
    env.fails(env.end_ix(job, payees=[(9, env.worker_tokens[1])]), env.customer, name="InvalidSlot")
    env.ok(env.end_ix(job), env.customer)
    env.fails(env.end_ix(job), env.customer, name="JobNotOpen")


# -- cancel / close ------------------------------------------------------------------------------

async def test_cancel_before_start_refunds_everything_and_closes(env: Env, record_cu) -> None:
    start = env.balances()
    job = env.open(hours=3)
    rent = env.h.lamports(job) + env.h.lamports(env.vault(job))
    lamports = env.h.lamports(env.customer.pubkey())
    env.pause(True)  # cancel works while paused
    res = env.ok(env.cancel_ix(job), env.customer, name="cancel")
    assert env.balances() == start
    assert env.h.account_data(job) is None and env.h.account_data(env.vault(job)) is None
    assert env.h.lamports(env.customer.pubkey()) == lamports + rent
    (ev,) = res.events_named("JobCancelled")
    assert (ev.job, ev.customer, ev.refund) == (job, env.customer.pubkey(), sum(booking_cost(RATES, 3, FEE_BPS)))
    # Gone: nothing can be settled, cancelled or closed again.
    assert env.h.send([env.settle_ix(job, payees=[(0, env.worker_tokens[0])])]).error is not None
    env.fails(env.cancel_ix(job), env.customer, name="AccountNotInitialized")


async def test_cancel_rejections(env: Env) -> None:
    job = env.open(job_id=1, hours=3)
    job2 = env.open(job_id=2, hours=3)
    mallory = env.h.funded_keypair()
    mallory_token = env.h.create_token_account(env.mint, mallory.pubkey())
    foreign = env.h.create_token_account(env.h.create_mint(), env.customer.pubkey())
    env.fails(env.cancel_ix(job, customer=mallory, customer_token=mallory_token), mallory, name="Unauthorized")
    env.fails(unsigned(env.cancel_ix(job), env.customer.pubkey()), name="AccountNotSigner")
    env.fails(env.cancel_ix(job, customer_token=mallory_token), env.customer, name="WrongOwner")
    env.fails(env.cancel_ix(job, customer_token=foreign), env.customer, name="WrongMint")
    env.fails(env.cancel_ix(job, customer_token=env.vault(job)), env.customer, name="WrongOwner")
    env.fails(env.cancel_ix(job, vault=env.vault(job2)), env.customer, name="ConstraintSeeds")
    env.accept(job, 0)
    env.fails(env.cancel_ix(job), env.customer, name="JobStarted")
    # Even after the worker who accepted quits, the job has started.
    env.ok(env.quit_ix(job, 0), env.workers[0])
    env.fails(env.cancel_ix(job), env.customer, name="JobStarted")


async def test_close_rejections_and_stray_tokens(env: Env) -> None:
    job = env.open(hours=1, rates=RATES[:2], accept=True)
    mallory = env.h.funded_keypair()
    env.fails(env.close_ix(job), env.customer, name="OutstandingPayments")
    env.h.warp_seconds(HOUR)
    env.fails(env.close_ix(job), env.customer, name="OutstandingPayments")  # earned, not yet paid
    env.ok(env.settle_ix(job))
    env.fails(env.close_ix(job, customer=mallory), mallory, name="Unauthorized")
    env.fails(unsigned(env.close_ix(job), env.customer.pubkey()), name="AccountNotSigner")
    env.fails(env.close_ix(job, customer_token=env.worker_tokens[0]), env.customer, name="WrongOwner")
    # Tokens sent to the vault by mistake go back to the customer on close.
    env.jobs.discard(job)  # the vault now holds more than is owed, on purpose
    env.h.transfer(env.customer_token, env.vault(job), env.customer, 77)
    before = env.balances()["customer"]
    res = env.ok(env.close_ix(job), env.customer)
    assert res.events_named("JobClosed")[0].refund == 77
    assert env.balances()["customer"] == before + 77


# -- keeper view ------------------------------------------------------------------------------

async def test_running_jobs_are_enumerable_by_market(env: Env) -> None:
    a = env.open(job_id=1, hours=3, accept=True)
    b = env.open(job_id=2, hours=3)
    c = env.open(job_id=3, hours=3)
    other = make_env(env.h, env.prog)
    x = other.open(job_id=1, hours=3)
    env.ok(env.end_ix(b), env.customer)
    env.ok(env.cancel_ix(c), env.customer)
    running = env.h.program_accounts(env.prog.program_id, job_filters(env.prog, env.market))
    assert [k for k, _ in running] == [a]
    everything = env.h.program_accounts(env.prog.program_id, job_filters(env.prog, None, None))
    assert {k for k, _ in everything} == {a, b, x}
    assert [k for k, _ in env.h.program_accounts(env.prog.program_id, job_filters(env.prog, env.market, "Ended"))] == [b]
