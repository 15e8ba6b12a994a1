"""iosd_credits on the compiled programs in LiteSVM: the credits-paid job
lifecycle exact to the base unit, refunds on every job_escrow path, pause,
cap, authority. Inference channels paid with credits: test_channels.py."""

from __future__ import annotations

import pytest

from iopay.escrow.program import amount_span, booking_cost, span_cost
from tests.credits.env import FEE_BPS, HOUR, USD, USER_FUNDS, make_env


@pytest.fixture
def env(harness, record_cu):
    return make_env(harness, record_cu)


def test_buy_open_settle_end_refund_redeem_exact(env):
    """Must-show: buy 100 USD, a 2-worker job paid with credits, two hours
    settled, ended early; every balance exact; reserve == outstanding after
    every step (env.ok checks it)."""
    u = env.users[0]
    env.open_account(u)
    env.buy(u, 100 * USD)
    assert env.credits(u) == 100 * USD
    assert env.h.token_balance(u.token) == USER_FUNDS - 100 * USD
    assert env.h.token_balance(env.reserve) == 100 * USD

    rates, hours = [3_000_000, 2_333_333], 5
    job = env.job_address(u, 7)
    res = env.ok(env.open_job_ix(u, 7, rates, hours), u.kp, name="open_job_with_credits")
    deposit = 15_000_000 + 375_000 + 11_666_665 + 291_667  # pay + ceil(fee) per worker
    assert sum(booking_cost(rates, hours, FEE_BPS)) == deposit == 27_333_332
    assert env.credits(u) == 100 * USD - deposit
    assert env.h.token_balance(env.esc.vault_address(job)) == deposit
    paid = res.events_named("JobPaidWithCredits")[0]
    assert (paid.amount, paid.balance, paid.job) == (deposit, 100 * USD - deposit, job)
    assert res.events_named("JobOpened")[0].customer == env.cr.user_addresses(env.mint, u.key).customer
    assert env.job(job).customer == env.account(u).customer

    env.accept_all(job)
    env.h.warp_seconds(2 * HOUR)
    env.settle(job)
    assert env.h.token_balance(env.workers[0].token) == 6_000_000
    assert env.h.token_balance(env.workers[1].token) == 4_666_666
    # The fee shares of the paid hours accrue in the job until it is closed.
    assert env.job(job).fees_accrued == 150_000 + 116_667 and env.h.token_balance(env.treasury) == 0

    env.h.warp_seconds(HOUR // 2)
    res = env.ok(env.end_ix(u, job), u.kp, name="end_job_with_credits")
    # Cut 30 minutes into hour 3, pro rata rounded up for the workers:
    # w0 earned 2 h + 1,500,000, w1 2 h + ceil(2,333,333 / 2) = 1,166,667.
    earned = [6_000_000 + 1_500_000, 4_666_666 + 1_166_667]
    earned_fee = [187_500, 145_834]  # ceil(2.5% of each cumulative pay)
    refund = (15_000_000 - earned[0] + 375_000 - earned_fee[0]) + (11_666_665 - earned[1] + 291_667 - earned_fee[1])
    assert refund == 13_666_665
    ev = res.events_named("CreditsRefunded")[0]
    assert (ev.amount, ev.balance) == (refund, 100 * USD - deposit + refund)
    assert env.credits(u) == 86_333_333 == 100 * USD - (sum(earned) + sum(earned_fee))
    # end_with_credits paid the started hour's share in the same instruction.
    assert [p.secs for p in res.events_named("HoursSettled")[0].paid] == [1800, 1800]
    assert env.h.token_balance(env.workers[0].token) == earned[0]
    assert env.h.token_balance(env.workers[1].token) == earned[1]
    assert env.job(job).fees_accrued == sum(earned_fee) == 333_334
    refund_acct = env.account(u).refund_account
    assert env.h.token_balance(refund_acct) == 0
    assert env.account(u).in_flight == deposit - refund

    res = env.ok(env.close_ix(u, job), u.kp, name="close_job_with_credits")
    assert env.h.account_data(job) is None
    assert res.events_named("JobClosed")[0].fees == 333_334  # to the market's fee vault
    env.ok(env.esc.sweep_fees(mint=env.mint, treasury=env.treasury), name="sweep_fees")
    assert env.h.token_balance(env.treasury) == 333_334

    res = env.ok(env.redeem_ix(u, 86_333_333), u.kp, name="redeem")
    assert env.credits(u) == 0
    assert env.h.token_balance(u.token) == USER_FUNDS - 100 * USD + 86_333_333
    assert env.config_view().outstanding == 0 == env.h.token_balance(env.reserve)
    a = env.account(u)
    assert (a.deposited, a.redeemed, a.spent, a.refunded) == (100 * USD, 86_333_333, deposit, refund)
    # Job rent came back to the customer PDA; the user takes it home.
    before = env.h.lamports(u.key)
    env.ok(env.cr.withdraw_rent(user=u.key, mint=env.mint), u.kp, name="withdraw_rent")
    assert env.h.lamports(u.key) > before


def test_worker_quit_refund_is_reclaimed_as_credits(env):
    u = env.users[0]
    env.open_account(u)
    env.buy(u, 50 * USD)
    job = env.job_address(u, 1)
    env.ok(env.open_job_ix(u, 1, [1 * USD, 2 * USD], 4), u.kp)
    env.accept_all(job)
    env.h.warp_seconds(HOUR + 10)
    w = env.workers[1]
    env.ok(env.esc.quit(worker=w.key, job=job, worker_token=w.token,
                        customer_token=env.account(u).refund_account), w.kp, name="quit")
    # Quit 10 s into hour 2: the worker keeps 1 h + 10 s pro rata (rounded down).
    tail = 2 * USD * 10 // 3600
    refund = sum(span_cost(2 * USD, FEE_BPS, 0, 4)) - sum(amount_span(0, 2 * USD + tail, FEE_BPS))
    refund_acct = env.account(u).refund_account
    assert env.h.token_balance(refund_acct) == refund
    before = env.credits(u)
    # Anyone may push it home; it can only go to this user.
    res = env.ok(env.cr.reclaim(user=u.key, mint=env.mint), name="reclaim")
    assert res.events_named("CreditsRefunded")[0].amount == refund
    assert env.credits(u) == before + refund
    env.fails(env.cr.reclaim(user=u.key, mint=env.mint), name="NothingToReclaim")


def test_cancel_returns_everything_as_credits_and_pause_never_blocks_refunds(env):
    u = env.users[0]
    env.open_account(u)
    env.buy(u, 20 * USD)
    job = env.job_address(u, 3)
    env.ok(env.open_job_ix(u, 3, [1 * USD], 3), u.kp)
    env.pause()
    env.fails(env.buy_ix(u, USD), u.kp, name="Paused")
    env.fails(env.open_job_ix(u, 4, [1 * USD], 3), u.kp, name="Paused")
    env.ok(env.cancel_ix(u, job), u.kp, name="cancel_job_with_credits")
    assert env.credits(u) == 20 * USD
    env.ok(env.redeem_ix(u, 5 * USD), u.kp)
    env.pause(False)
    env.buy(u, USD)
    assert env.credits(u) == 16 * USD


def test_cap_limits_buys_only(env):
    u = env.users[0]
    env.open_account(u)
    env.ok(env.cr.set_cap(authority=env.authority.pubkey(), mint=env.mint, cap=10 * USD), env.authority,
           name="set_cap")
    env.buy(u, 10 * USD)
    env.fails(env.buy_ix(u, 1), u.kp, name="CapExceeded")
    job = env.job_address(u, 1)
    env.ok(env.open_job_ix(u, 1, [1 * USD], 2), u.kp)
    env.ok(env.cancel_ix(u, job), u.kp)  # refund above a lowered cap still comes back
    env.ok(env.cr.set_cap(authority=env.authority.pubkey(), mint=env.mint, cap=0), env.authority)
    env.ok(env.redeem_ix(u, 10 * USD), u.kp)


def test_two_step_authority(env):
    new = env.h.funded_keypair()
    cr, mint, auth = env.cr, env.mint, env.authority
    env.fails(cr.accept_authority(new_authority=new.pubkey(), mint=mint), new, name="NotPendingAuthority")
    env.fails(cr.propose_authority(authority=new.pubkey(), mint=mint, new_authority=new.pubkey()), new,
              name="Unauthorized")
    env.ok(cr.propose_authority(authority=auth.pubkey(), mint=mint, new_authority=new.pubkey()), auth,
           name="propose_authority")
    assert env.config_view().authority == auth.pubkey()
    intruder = env.h.funded_keypair()
    env.fails(cr.accept_authority(new_authority=intruder.pubkey(), mint=mint), intruder, name="NotPendingAuthority")
    env.ok(cr.accept_authority(new_authority=new.pubkey(), mint=mint), new, name="accept_authority")
    c = env.config_view()
    assert (c.authority, c.pending_authority) == (new.pubkey(), None)
    env.fails(cr.set_paused(authority=auth.pubkey(), mint=mint, paused=True), auth, name="Unauthorized")
    env.ok(cr.set_paused(authority=new.pubkey(), mint=mint, paused=True), new)


def test_init_config_needs_upgrade_authority_and_a_6_decimal_mint(env):
    h = env.h
    other = h.funded_keypair()
    mint9 = h.create_mint(Keypair_(), 9)
    env.fails(env.cr.init_config(payer=h.payer.pubkey(), upgrade_authority=h.payer.pubkey(),
                                 authority=other.pubkey(), mint=mint9, cap=1), name="InvalidMint")
    mint6 = h.create_mint(Keypair_(), 6)
    env.fails(env.cr.init_config(payer=h.payer.pubkey(), upgrade_authority=other.pubkey(),
                                 authority=other.pubkey(), mint=mint6, cap=1), other, name="Unauthorized")


def Keypair_():
    from solders.keypair import Keypair

    return Keypair()
