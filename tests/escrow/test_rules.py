"""The rules of issue 10 on the compiled job_escrow (LiteSVM, real SPL Token
program): no outside account stalls a market (closed or frozen treasury,
closed or frozen worker account in a batch), partial hours pro rata by the
second on end/release (rounded up) and quit (rounded down), the accept
deadline and one-slot release, per-slot extend, the USD bound, the clock
moved back, the two-step authority hand-over, the max_workers cap, refunds
only to the customer's own account, and what an issuer freeze does.

Amounts are computed here from the rules (``fee(x) = ceil(x * bps / 1e4)``
on a slot's cumulative pay), not with the SDK. ``Env.ok`` checks after every
successful step that each vault holds exactly what its job owes.
"""

from __future__ import annotations

import pytest
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import Transaction

from iopay.core import spl
from iopay.core.harness import Harness
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import MAX_WORKERS_CAP, U64_MAX, JobEscrow
from iopay.escrow.state import MarketView
from tests.escrow.env import FEE_BPS, HOUR, MAX_HOURS, RATES, Env, make_env

TX_LIMIT = 1_232


@pytest.fixture
def env(escrow_harness: Harness, escrow_idl: ProgramIdl, record_cu) -> Env:
    return make_env(escrow_harness, escrow_idl, record_cu)


def fee(x: int) -> int:
    return -(-x * FEE_BPS // 10_000)


def share(pay: int) -> int:
    """What a slot whose cumulative pay is ``pay`` locks: pay + fee."""
    return pay + fee(pay)


def ceil_tail(rate: int, secs: int) -> int:
    return -(-rate * secs // HOUR)


def floor_tail(rate: int, secs: int) -> int:
    return rate * secs // HOUR


def settled(res) -> list:  # type: ignore[no-untyped-def]
    (ev,) = res.events_named("HoursSettled")
    return ev


def start_of(env: Env, job) -> int:  # type: ignore[no-untyped-def]
    return env.job(job).workers[0].start_ts


# -- liveness: the treasury ------------------------------------------------------------

async def test_closed_treasury_blocks_only_the_sweep(env: Env) -> None:
    job = env.open(hours=3, accept=True)
    t0 = start_of(env, job)
    env.h.send_ok([spl.close_account(env.treasury, env.authority.pubkey(), env.authority.pubkey())], [env.authority])
    assert env.h.account_data(env.treasury) is None
    env.h.set_unix_timestamp(t0 + HOUR)
    before = env.balances()
    res = env.ok(env.settle_ix(job), name="settle_4_workers")
    assert [(p.slot, p.hours, p.amount) for p in settled(res).paid] == [(i, 1, r) for i, r in enumerate(RATES)]
    assert env.job(job).fees_accrued == sum(fee(r) for r in RATES)
    assert env.balances()["customer"] == before["customer"]
    # A worker quits and the customer ends the job: neither touches the treasury.
    env.h.set_unix_timestamp(t0 + HOUR + 1_800)
    env.ok(env.quit_ix(job, 1), env.workers[1])
    env.h.set_unix_timestamp(t0 + 2 * HOUR + 7)
    env.ok(env.end_ix(job), env.customer)
    assert env.job(job).state == "Ended"
    # Only the sweep needs the treasury.
    env.fails(env.sweep_ix(job), name="AccountNotInitialized")
    fees = env.job(job).fees_accrued
    # The job closes anyway: its fees wait in the market fee vault.
    res = env.ok(env.close_ix(job), env.customer)
    (closed,) = res.events_named("JobClosed")
    assert closed.fees == fees and env.balance(env.fee_vault) == fees
    # A new treasury (governance's call) gets every fee.
    new_treasury = env.h.create_token_account(env.mint, env.authority.pubkey())
    env.ok(env.esc.update_market(authority=env.authority.pubkey(), mint=env.mint, treasury=new_treasury,
                                 fee_bps=FEE_BPS, max_workers=8, max_hours=MAX_HOURS), env.authority)
    res = env.ok(env.esc.sweep_fees(mint=env.mint, treasury=new_treasury))
    (ev,) = res.events_named("FeesSwept")
    assert (ev.treasury, ev.from_job, ev.from_fee_vault) == (new_treasury, 0, fees)
    assert env.h.token_balance(new_treasury) == fees and env.balance(env.fee_vault) == 0
    env.fails(env.esc.sweep_fees(mint=env.mint, treasury=new_treasury), name="NothingToSweep")


async def test_frozen_treasury_blocks_only_the_sweep(env: Env) -> None:
    job = env.open(hours=3, accept=True)
    t0 = start_of(env, job)
    env.h.send_ok([spl.freeze_account(env.treasury, env.mint, env.m.mint_auth.pubkey())], [env.m.mint_auth])
    env.h.set_unix_timestamp(t0 + HOUR)
    env.ok(env.settle_ix(job))
    env.h.set_unix_timestamp(t0 + HOUR + 99)
    env.ok(env.quit_ix(job, 0), env.workers[0])
    env.h.set_unix_timestamp(t0 + 2 * HOUR + 1)
    env.ok(env.end_ix(job), env.customer)
    fees = env.job(job).fees_accrued
    env.fails(env.sweep_ix(job), name="AccountFrozen")
    env.h.send_ok([spl.thaw_account(env.treasury, env.mint, env.m.mint_auth.pubkey())], [env.m.mint_auth])
    res = env.ok(env.sweep_ix(job))
    (ev,) = res.events_named("FeesSwept")
    assert (ev.job, ev.from_job, ev.from_fee_vault) == (job, fees, 0)
    assert env.balance(env.treasury) == fees and env.job(job).fees_accrued == 0
    env.ok(env.close_ix(job), env.customer)


async def test_sweep_rejections(env: Env) -> None:
    job = env.open(hours=3, accept=True)
    env.fails(env.sweep_ix(job), name="NothingToSweep")
    env.h.warp_seconds(HOUR)
    env.ok(env.settle_ix(job))
    other = env.h.create_token_account(env.mint, env.authority.pubkey())
    env.fails(env.sweep_ix(job, treasury=other), name="WrongTreasury")
    env.fails(env.sweep_ix(job, vault=env.customer_token), name="WrongVault")
    env.fails(env.sweep_ix(job, fee_vault=env.vault(job)), name="ConstraintSeeds")


# -- liveness: one worker's account in a batch ---------------------------------------------

async def test_batch_settle_skips_closed_and_frozen_worker_accounts(env: Env) -> None:
    job = env.open(hours=3, accept=True)
    t0 = start_of(env, job)
    w1, w2 = env.workers[1], env.workers[2]
    env.h.send_ok([spl.close_account(env.worker_tokens[1], w1.pubkey(), w1.pubkey())], [w1])
    env.h.send_ok([spl.freeze_account(env.worker_tokens[2], env.mint, env.m.mint_auth.pubkey())], [env.m.mint_auth])
    env.h.set_unix_timestamp(t0 + HOUR)
    before = env.balances()
    res = env.ok(env.settle_ix(job))
    ev = settled(res)
    assert list(ev.skipped) == [1, 2]
    # Per worker: wallet, job, hours and amount are decodable from the batched event.
    assert (ev.job, ev.settled_ts) == (job, env.h.now())
    assert [(p.slot, p.worker, p.hours, p.secs, p.hours_paid, p.amount, p.fee) for p in ev.paid] == [
        (i, env.workers[i].pubkey(), 1, 0, 1, RATES[i], fee(RATES[i])) for i in (0, 3)]
    after = env.balances()
    assert after["w0"] - before["w0"] == RATES[0] and after["w3"] - before["w3"] == RATES[3]
    assert [s.hours_paid for s in env.job(job).workers] == [1, 0, 0, 1]
    # The skipped slots stay owed and are paid once their accounts work again.
    env.h.send_ok([spl.create_associated_token_account_idempotent(env.h.payer.pubkey(), w1.pubkey(), env.mint)])
    env.h.send_ok([spl.thaw_account(env.worker_tokens[2], env.mint, env.m.mint_auth.pubkey())], [env.m.mint_auth])
    res = env.ok(env.settle_ix(job, slots=[1, 2]))
    assert [(p.slot, p.hours) for p in settled(res).paid] == [(1, 1), (2, 1)]
    # end_job too pays the others when one account is closed.
    env.h.send_ok([spl.freeze_account(env.worker_tokens[0], env.mint, env.m.mint_auth.pubkey())], [env.m.mint_auth])
    env.h.set_unix_timestamp(t0 + 2 * HOUR)
    res = env.ok(env.end_ix(job), env.customer)
    ev = settled(res)
    assert list(ev.skipped) == [0] and [p.slot for p in ev.paid] == [1, 2, 3]
    # Substituted accounts are still rejected, not skipped.
    env.fails(env.settle_ix(job, payees=[(0, env.worker_tokens[3])]), name="WrongOwner")
    env.fails(env.settle_ix(job, payees=[(0, env.customer_token)]), name="WrongOwner")


# -- partial hours ----------------------------------------------------------------------

@pytest.mark.parametrize("secs", [1, 1_799, 3_599])
async def test_end_pays_the_started_hour_pro_rata_rounded_up(env: Env, secs: int) -> None:
    job = env.open(hours=3, accept=True)
    t0 = start_of(env, job)
    start = env.balances()
    env.h.set_unix_timestamp(t0 + HOUR + secs)
    res = env.ok(env.end_ix(job), env.customer)
    after = env.balances()
    earned = [r + ceil_tail(r, secs) for r in RATES]
    for i in range(4):
        assert after[f"w{i}"] - start[f"w{i}"] == earned[i]
    refund = sum(share(3 * r) - share(e) for r, e in zip(RATES, earned))
    assert after["customer"] - start["customer"] == refund
    (ended,) = res.events_named("JobEnded")
    assert (ended.refund, ended.owed) == (refund, sum(fee(e) for e in earned))
    assert [(p.hours, p.secs, p.amount) for p in settled(res).paid] == [
        (1, secs, e) for e in earned]
    assert [(s.hours, s.tail_secs, s.tail_pay, s.tail_paid) for s in env.job(job).workers] == [
        (1, secs, ceil_tail(r, secs), True) for r in RATES]
    env.ok(env.close_ix(job), env.customer)
    assert env.balance(env.fee_vault) == sum(fee(e) for e in earned)


@pytest.mark.parametrize("secs", [1, 10, 3_599])
async def test_quit_pays_the_started_hour_pro_rata_rounded_down(env: Env, secs: int) -> None:
    job = env.open(hours=3, accept=True)
    t0 = start_of(env, job)
    start = env.balances()
    env.h.set_unix_timestamp(t0 + 2 * HOUR + secs)
    res = env.ok(env.quit_ix(job, 3), env.workers[3])
    r = RATES[3]
    earned = 2 * r + floor_tail(r, secs)
    after = env.balances()
    assert after["w3"] - start["w3"] == earned
    assert after["customer"] - start["customer"] == share(3 * r) - share(earned)
    (q,) = res.events_named("WorkerQuit")
    assert (q.hours, q.secs, q.refund) == (2, secs, share(3 * r) - share(earned))
    s = env.job(job).workers[3]
    assert (s.status, s.hours, s.hours_paid, s.tail_pay, s.tail_paid) == ("Quit", 2, 2, floor_tail(r, secs), True)
    # The other workers keep earning.
    env.h.set_unix_timestamp(t0 + 3 * HOUR)
    res = env.ok(env.settle_ix(job, slots=[0, 1, 2]))
    assert [(p.slot, p.hours) for p in settled(res).paid] == [(0, 3), (1, 3), (2, 3)]


# -- accept deadline and release --------------------------------------------------------------

async def test_accept_deadline_then_release_of_the_pending_slot(env: Env) -> None:
    job = env.open(hours=3, accept_window=600)
    created = env.job(job).created_ts
    assert env.job(job).accept_deadline == created + 600
    env.h.set_unix_timestamp(created + 300)
    env.accept(job, 0)
    env.h.set_unix_timestamp(created + 600)
    env.fails(env.release_ix(job, 1), env.customer, name="AcceptWindowOpen")
    env.accept(job, 2)  # the deadline itself is still in time
    env.h.set_unix_timestamp(created + 601)
    env.fails(env.esc.accept(worker=env.workers[1].pubkey(), job=job), env.workers[1], name="AcceptDeadlinePassed")
    before = env.balances()
    res = env.ok(env.release_ix(job, 1), env.customer, name="release")
    assert env.balances()["customer"] - before["customer"] == share(3 * RATES[1])
    (ev,) = res.events_named("SlotReleased")
    assert (ev.slot, ev.worker, ev.hours, ev.secs, ev.refund) == (1, env.workers[1].pubkey(), 0, 0,
                                                                   share(3 * RATES[1]))
    assert env.job(job).workers[1].status == "Lapsed"
    env.fails(env.release_ix(job, 1), env.customer, name="WorkerNotActive")
    env.fails(env.esc.accept(worker=env.workers[1].pubkey(), job=job), env.workers[1], name="WorkerNotActive")
    env.fails(env.extend_ix(job, 1, slots=[3]), env.customer, name="AcceptDeadlinePassed")


async def test_release_one_running_slot_pays_pro_rata_and_refunds_the_rest(env: Env) -> None:
    job = env.open(hours=3, accept=True)
    t0 = start_of(env, job)
    env.h.set_unix_timestamp(t0 + HOUR + 1_207)
    start = env.balances()
    res = env.ok(env.release_ix(job, 0), env.customer, name="release")
    r = RATES[0]
    earned = r + ceil_tail(r, 1_207)
    after = env.balances()
    assert after["w0"] - start["w0"] == earned
    assert after["customer"] - start["customer"] == share(3 * r) - share(earned)
    assert [(p.slot, p.hours, p.secs, p.amount) for p in settled(res).paid] == [(0, 1, 1_207, earned)]
    j = env.job(job)
    assert j.state == "Open" and j.workers[0].status == "Released"
    # The others keep running and are paid hourly.
    env.h.set_unix_timestamp(t0 + 2 * HOUR)
    res = env.ok(env.settle_ix(job, slots=[1, 2, 3]))
    assert [(p.slot, p.hours) for p in settled(res).paid] == [(1, 2), (2, 2), (3, 2)]
    # Released without paying at once: the earned part waits for settle.
    env.h.set_unix_timestamp(t0 + 2 * HOUR + 1)
    env.ok(env.release_ix(job, 1, pay=False), env.customer)
    res = env.ok(env.settle_ix(job, slots=[1]))
    assert [(p.hours, p.secs, p.amount) for p in settled(res).paid] == [(0, 1, ceil_tail(RATES[1], 1))]
    # Rejections.
    env.fails(env.release_ix(job, 0), env.customer, name="WorkerNotActive")
    env.fails(env.release_ix(job, 9, pay=False), env.customer, name="InvalidSlot")
    intruder = env.h.funded_keypair()
    env.fails(env.release_ix(job, 2, customer=intruder), intruder, name="Unauthorized")
    stranger = env.h.create_token_account(env.mint, intruder.pubkey())
    env.fails(env.release_ix(job, 2, customer_token=stranger), env.customer, name="WrongOwner")


# -- extend per slot ------------------------------------------------------------------------

async def test_extend_only_the_slots_still_running(env: Env) -> None:
    job = env.open(hours=2)
    env.accept(job, 0)
    t0 = start_of(env, job)
    env.h.set_unix_timestamp(t0 + HOUR)
    env.accept(job, 1)
    env.h.set_unix_timestamp(t0 + 2 * HOUR + 5)  # slot 0's booking ran out, slot 1 runs, 2 and 3 pending
    env.fails(env.extend_ix(job, 1, slots=[0]), env.customer, name="BookingExpired")
    before = env.balances()
    res = env.ok(env.extend_ix(job, 1), env.customer, name="extend")
    (ev,) = res.events_named("JobExtended")
    assert list(ev.slots) == [1, 2, 3]
    cost = sum(share(3 * r) - share(2 * r) for r in RATES[1:])
    assert before["customer"] - env.balances()["customer"] == cost == ev.principal + ev.fee
    assert [s.hours for s in env.job(job).workers] == [2, 3, 3, 3]
    res = env.ok(env.extend_ix(job, 2, slots=[1]), env.customer)
    assert list(res.events_named("JobExtended")[0].slots) == [1]
    assert [s.hours for s in env.job(job).workers] == [2, 5, 3, 3]
    env.fails(env.extend_ix(job, 1, slots=[1, 1]), env.customer, name="InvalidSlot")
    env.fails(env.extend_ix(job, MAX_HOURS, slots=[1]), env.customer, name="TooManyHours")
    env.ok(env.quit_ix(job, 1), env.workers[1])
    env.ok(env.quit_ix(job, 2), env.workers[2])
    env.ok(env.quit_ix(job, 3), env.workers[3])
    env.fails(env.extend_ix(job, 1), env.customer, name="NothingToExtend")


# -- the USD bound --------------------------------------------------------------------------

async def test_usd_open_fails_when_the_conversion_exceeds_max_total(env: Env) -> None:
    a = env.authority
    env.ok(env.esc.init_price_feed(payer=env.h.payer.pubkey(), authority=a.pubkey(), mint=env.mint,
                                   max_staleness=600, max_conf_bps=100), a)
    env.ok(env.esc.set_price(authority=a.pubkey(), mint=env.mint, price=25_000_000, conf=0, expo=-8,
                             publish_time=env.h.now()), a)
    usd = [2_000_000, 2_000_000]  # 2 USD per hour = 8 tokens at 0.25 USD
    quoted = sum(share(3 * 8_000_000) for _ in usd)
    env.ok(env.open_ix(1, 3, usd, usd=True, max_total=quoted), env.customer)
    # A price update lands first: the same call would lock 100 times more.
    env.h.warp_seconds(1)
    env.ok(env.esc.set_price(authority=a.pubkey(), mint=env.mint, price=250_000, conf=0, expo=-8,
                             publish_time=env.h.now()), a)
    env.fails(env.open_ix(2, 3, usd, usd=True, max_total=quoted), env.customer, name="MaxTotalExceeded")
    env.fails(env.open_ix(2, 3, usd, usd=True, max_total=100 * quoted - 1), env.customer, name="MaxTotalExceeded")
    env.ok(env.open_ix(2, 3, usd, usd=True, max_total=100 * quoted), env.customer)
    # Token-priced opens are bounded the same way.
    env.fails(env.open_ix(3, 3, RATES, max_total=sum(share(3 * r) for r in RATES) - 1), env.customer,
              name="MaxTotalExceeded")


# -- the clock moved back ---------------------------------------------------------------------

async def test_clock_moved_back_never_cuts_a_slot_below_what_was_paid(env: Env) -> None:
    job = env.open(hours=5, rates=RATES[:2], accept=True)
    t0 = start_of(env, job)
    env.h.set_unix_timestamp(t0 + 3 * HOUR)
    env.ok(env.settle_ix(job))
    env.h.set_unix_timestamp(t0 + HOUR + 10)  # back by almost two hours
    before = env.balances()
    res = env.ok(env.quit_ix(job, 0), env.workers[0])
    # Cut to the 3 paid hours, not to the clock's 1 h 10 s: only hours 3..5 refunded.
    assert env.balances()["customer"] - before["customer"] == share(5 * RATES[0]) - share(3 * RATES[0])
    assert res.events_named("WorkerQuit")[0].hours == 3
    env.ok(env.end_ix(job), env.customer)
    j = env.job(job)
    assert [(s.hours, s.hours_paid, s.tail_pay) for s in j.workers] == [(3, 3, 0), (3, 3, 0)]
    assert all(s.hours_paid <= s.hours for s in j.workers)
    assert env.h.token_balance(env.vault(job)) == j.fees_accrued  # nothing else owed: closable
    env.ok(env.close_ix(job), env.customer)


# -- two-step authority ---------------------------------------------------------------------

async def test_authority_hand_over_takes_two_steps(env: Env, escrow_idl: ProgramIdl) -> None:
    old, new, other = env.authority, env.h.funded_keypair(), env.h.funded_keypair()
    esc, mint = env.esc, env.mint

    def update(signer: Keypair):  # type: ignore[no-untyped-def]
        return esc.update_market(authority=signer.pubkey(), mint=mint, treasury=env.treasury, fee_bps=FEE_BPS,
                                 max_workers=8, max_hours=MAX_HOURS)

    def market() -> MarketView:
        return MarketView.decode(escrow_idl, env.market, env.h.account_data(env.market))

    env.fails(esc.set_market_authority(authority=old.pubkey(), mint=mint, new_authority=Pubkey.default()),
              old, name="InvalidAuthority")
    env.fails(esc.set_market_authority(authority=other.pubkey(), mint=mint, new_authority=new.pubkey()), other,
              name="Unauthorized")
    res = env.ok(esc.set_market_authority(authority=old.pubkey(), mint=mint, new_authority=new.pubkey()), old)
    (ev,) = res.events_named("AuthorityProposed")
    assert (ev.authority, ev.proposed) == (old.pubkey(), new.pubkey())
    assert (market().authority, market().pending_authority) == (old.pubkey(), new.pubkey())
    env.fails(update(new), new, name="Unauthorized")  # not yet
    env.fails(esc.accept_market_authority(new_authority=other.pubkey(), mint=mint), other,
              name="NotPendingAuthority")
    res = env.ok(esc.accept_market_authority(new_authority=new.pubkey(), mint=mint), new)
    (ev,) = res.events_named("AuthorityChanged")
    assert (ev.old_authority, ev.new_authority) == (old.pubkey(), new.pubkey())
    assert (market().authority, market().pending_authority) == (new.pubkey(), None)
    env.fails(update(old), old, name="Unauthorized")
    env.ok(update(new), new)
    # Accepting twice is impossible: nothing is pending any more.
    env.fails(esc.accept_market_authority(new_authority=new.pubkey(), mint=mint), new, name="NotPendingAuthority")


# -- limits --------------------------------------------------------------------------------

def _tx_size(h: Harness, ix) -> int:  # type: ignore[no-untyped-def]
    from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price

    from solders.signature import Signature

    msg = Message.new_with_blockhash([set_compute_unit_limit(1_400_000), set_compute_unit_price(1), ix],
                                     h.payer.pubkey(), h.svm.latest_blockhash())
    sigs = [Signature.default()] * msg.header.num_required_signatures
    return len(bytes(Transaction.populate(msg, sigs)))


async def test_max_workers_cap_fits_open_and_end_in_one_transaction(env: Env) -> None:
    """The cap is what one transaction carries (sizes measured, not assumed):
    a USD open_job of MAX_WORKERS_CAP workers and an end_job paying all of
    them fit in 1,232 bytes (the open fits 14, one more than the cap, which
    is set by the heap an end_job paying 14 at once would exhaust); 15 do
    not fit."""
    def sizes(n: int):  # type: ignore[no-untyped-def]
        workers = [(Keypair().pubkey(), 1) for _ in range(n)]
        job = Keypair().pubkey()
        open_ix = env.esc.open_job(customer=env.customer.pubkey(), mint=env.mint, customer_token=env.customer_token,
                                   job_id=U64_MAX, hours=1, usd=True, workers=workers, max_total=U64_MAX)
        end_ix = env.esc.end_job(customer=env.customer.pubkey(), job=job, customer_token=env.customer_token,
                                 payees=[(i, Keypair().pubkey()) for i in range(n)])
        return _tx_size(env.h, open_ix), _tx_size(env.h, end_ix)

    assert max(sizes(MAX_WORKERS_CAP)) <= TX_LIMIT
    assert max(sizes(MAX_WORKERS_CAP + 1)) <= TX_LIMIT < sizes(MAX_WORKERS_CAP + 2)[0]
    a = env.authority
    for n, name in [(MAX_WORKERS_CAP + 1, "InvalidMarketLimits"), (MAX_WORKERS_CAP, None)]:
        ix = env.esc.update_market(authority=a.pubkey(), mint=env.mint, treasury=env.treasury, fee_bps=FEE_BPS,
                                   max_workers=n, max_hours=MAX_HOURS)
        env.ok(ix, a) if name is None else env.fails(ix, a, name=name)
    h = env.h
    mint = h.create_mint(Keypair(), 6)
    ix = env.esc.init_market(payer=h.payer.pubkey(), upgrade_authority=h.payer.pubkey(), authority=a.pubkey(),
                             mint=mint, treasury=h.create_token_account(mint, a.pubkey()), fee_bps=0,
                             max_workers=MAX_WORKERS_CAP + 1, max_hours=1)
    env.fails(ix, name="InvalidMarketLimits")


# -- refunds go only to the customer -------------------------------------------------------------

async def test_no_instruction_redirects_a_refund(env: Env) -> None:
    job = env.open(hours=3, accept=True)
    intruder = env.h.funded_keypair()
    theirs = env.h.create_token_account(env.mint, intruder.pubkey())
    env.h.warp_seconds(HOUR + 5)
    env.fails(env.quit_ix(job, 0, customer_token=theirs), env.workers[0], name="WrongOwner")
    env.fails(env.release_ix(job, 0, customer_token=theirs), env.customer, name="WrongOwner")
    env.fails(env.end_ix(job, customer_token=theirs), env.customer, name="WrongOwner")
    env.fails(env.end_ix(job, customer=intruder), intruder, name="Unauthorized")
    env.fails(env.quit_ix(job, 0, customer_token=env.worker_tokens[0]), env.workers[0], name="WrongOwner")
    env.ok(env.end_ix(job), env.customer)
    env.fails(env.close_ix(job, customer_token=theirs), env.customer, name="WrongOwner")
    env.fails(env.close_ix(job, customer=intruder), intruder, name="Unauthorized")
    pending = env.open(job_id=2, hours=1)
    env.fails(env.cancel_ix(pending, customer_token=theirs), env.customer, name="WrongOwner")
    env.fails(env.cancel_ix(pending, customer=intruder), intruder, name="Unauthorized")
    env.ok(env.cancel_ix(pending), env.customer)


# -- issuer freeze ----------------------------------------------------------------------------

async def test_an_issuer_freeze_of_the_vault_holds_the_job_until_thawed(env: Env) -> None:
    """The mint's freeze authority (USDC has one) can freeze a job's vault:
    then nothing moves in or out of it (settle, end, quit fail with
    AccountFrozen) and nothing is lost; after a thaw everything resumes and
    the worker is paid every hour it earned meanwhile."""
    job = env.open(hours=3, accept=True)
    t0 = start_of(env, job)
    vault = env.vault(job)
    auth = env.m.mint_auth
    env.h.send_ok([spl.freeze_account(vault, env.mint, auth.pubkey())], [auth])
    env.h.set_unix_timestamp(t0 + HOUR)
    env.fails(env.settle_ix(job), name="AccountFrozen")
    env.fails(env.end_ix(job), env.customer, name="AccountFrozen")
    env.h.set_unix_timestamp(t0 + 2 * HOUR)
    env.h.send_ok([spl.thaw_account(vault, env.mint, auth.pubkey())], [auth])
    res = env.ok(env.settle_ix(job))
    assert [(p.slot, p.hours) for p in settled(res).paid] == [(i, 2) for i in range(4)]
