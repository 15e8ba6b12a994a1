"""Delegates: spend within an allowance per period, refused beyond it,
allowed again next period, refused after revocation and on another user's
account; never redeem, never change delegates, never steer refunds."""

from __future__ import annotations

import pytest

from tests.credits.env import DAY, USD, make_env

RATE, HOURS = 10 * USD, 30
COST = RATE * HOURS + RATE * HOURS * 250 // 10_000  # 307.5 USD


@pytest.fixture
def env(harness, record_cu):
    e = make_env(harness, record_cu)
    for u in e.users[:2]:
        e.open_account(u)
        e.buy(u, 2_000 * USD)
    return e


def test_allowance_per_period_and_revocation(env):
    u, backend = env.users[0], env.h.funded_keypair()
    env.ok(env.set_delegate_ix(u, backend.pubkey(), 500 * USD), u.kp, name="set_delegate")
    res = env.ok(env.open_job_ix(u, 1, [RATE], HOURS, signer=backend), backend, name="open_job_with_credits(delegate)")
    ev = res.events_named("JobPaidWithCredits")[0]
    assert (ev.delegate, ev.amount, ev.spent_in_period) == (backend.pubkey(), COST, COST)
    assert env.credits(u) == 2_000 * USD - COST
    env.fails(env.open_job_ix(u, 2, [RATE], HOURS, signer=backend), backend, name="AllowanceExceeded")
    env.h.warp_seconds(DAY - 5)
    env.fails(env.open_job_ix(u, 2, [RATE], HOURS, signer=backend), backend, name="AllowanceExceeded")
    env.h.warp_seconds(5)  # next period
    env.ok(env.open_job_ix(u, 2, [RATE], HOURS, signer=backend), backend)
    assert env.credits(u) == 2_000 * USD - 2 * COST
    env.h.warp_seconds(DAY)
    env.ok(env.cr.revoke_delegate(user=u.key, mint=env.mint, delegate=backend.pubkey()), u.kp,
           name="revoke_delegate")
    # Revoked: without a delegation, and with the closed one.
    env.fails(env.open_job_ix(u, 3, [RATE], HOURS, signer=backend, delegation=env.cr.program_id), backend,
              name="DelegationRequired")
    env.fails(env.open_job_ix(u, 3, [RATE], HOURS, signer=backend), backend, name="AccountNotInitialized")
    # The user itself still spends.
    env.ok(env.open_job_ix(u, 3, [RATE], HOURS), u.kp)


def test_delegate_refused_on_another_users_account(env):
    a, b, backend = env.users[0], env.users[1], env.h.funded_keypair()
    env.ok(env.set_delegate_ix(a, backend.pubkey(), 500 * USD), a.kp)
    a_delegation = env.cr.delegation_address(env.cr.credit_address(env.mint, a.key), backend.pubkey())
    env.fails(env.open_job_ix(b, 1, [RATE], HOURS, signer=backend, delegation=a_delegation), backend,
              name="WrongDelegation")
    # Another key presenting a's delegation is refused too.
    other = env.h.funded_keypair()
    env.fails(env.open_job_ix(a, 1, [RATE], HOURS, signer=other, delegation=a_delegation), other,
              name="WrongDelegation")


def test_delegate_cannot_redeem_change_delegates_or_steer_refunds(env):
    u, backend = env.users[0], env.h.funded_keypair()
    env.ok(env.set_delegate_ix(u, backend.pubkey(), 500 * USD), u.kp)
    btok = env.h.create_ata(env.mint, backend.pubkey())
    env.extra_tokens.append(btok)
    cr, mint = env.cr, env.mint
    credit = cr.credit_address(mint, u.key)
    # redeem as the user with the delegate's signature / token account
    env.fails(cr.redeem(user=backend.pubkey(), mint=mint, user_token=btok, amount=1,
                        overrides={"credit_account": credit}), backend, name="WrongUser")
    # change the delegate set
    other = env.h.funded_keypair()
    env.fails(cr.set_delegate(user=backend.pubkey(), mint=mint, delegate=other.pubkey(), allowance=10**12,
                              period_secs=DAY, overrides={"credit_account": credit,
                                                          "delegation": cr.delegation_address(credit, other.pubkey())}),
              backend, name="WrongUser")
    env.fails(cr.revoke_delegate(user=backend.pubkey(), mint=mint, delegate=backend.pubkey(),
                                 overrides={"credit_account": credit,
                                            "delegation": cr.delegation_address(credit, backend.pubkey())}),
              backend, name="WrongUser")
    env.fails(cr.withdraw_rent(user=backend.pubkey(), mint=mint, overrides={
        "credit_account": credit, "customer": cr.user_addresses(mint, u.key).customer}), backend, name="WrongUser")
    # open a job, then try to end it with the refund going to the delegate
    job = env.job_address(u, 9)
    env.ok(env.open_job_ix(u, 9, [RATE], HOURS, signer=backend), backend)
    env.fails(env.end_ix(u, job, signer=backend, refund_account=btok), backend, name="WrongRefundAccount")
    env.fails(env.cancel_ix(u, job, signer=backend, refund_account=btok), backend, name="WrongRefundAccount")
    # ending it as the delegate refunds the user, not the delegate
    before = env.credits(u)
    env.ok(env.cancel_ix(u, job, signer=backend), backend)
    assert env.credits(u) == before + COST
    assert env.h.token_balance(btok) == 0
