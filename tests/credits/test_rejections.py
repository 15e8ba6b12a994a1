"""Each rejection by its own error code, with nothing moved (CEnv.fails
compares every balance before and after)."""

from __future__ import annotations

import pytest
from solders.keypair import Keypair

from iopay.core import spl

from tests.credits.env import USD, make_env


@pytest.fixture
def env(harness, record_cu):
    e = make_env(harness, record_cu)
    for u in e.users[:2]:
        e.open_account(u)
        e.buy(u, 100 * USD)
    return e


def test_buy_into_another_users_balance_is_refused(env):
    a, b = env.users[0], env.users[1]
    b_credit = env.cr.credit_address(env.mint, b.key)
    # a signs, pays from its own tokens, into b's credit account
    env.fails(env.buy_ix(a, USD, credit_account=b_credit), a.kp, name="WrongUser")
    # a signs with b's token account as source
    env.fails(env.buy_ix(a, USD, user_token=b.token), a.kp, name="WrongTokenOwner")
    # a stray transfer into b's refund account never becomes credits
    refund_b = env.account(b).refund_account
    env.h.transfer(a.token, refund_b, a.kp, USD).raise_for_error()
    env.fails(env.cr.reclaim(user=b.key, mint=env.mint), name="NothingToReclaim")
    assert env.credits(b) == 100 * USD


def test_redeem_more_than_held_and_zero(env):
    a = env.users[0]
    env.fails(env.redeem_ix(a, 100 * USD + 1), a.kp, name="InsufficientCredits")
    env.fails(env.redeem_ix(a, 0), a.kp, name="ZeroAmount")
    env.fails(env.buy_ix(a, 0), a.kp, name="ZeroAmount")
    # into someone else's token account
    env.fails(env.redeem_ix(a, USD, user_token=env.users[1].token), a.kp, name="WrongTokenOwner")


def test_no_credit_transfer_by_token_instructions(env):
    a, b = env.users[0], env.users[1]
    h = env.h
    refund_a = env.account(a).refund_account
    # the reserve and the refund accounts are owned by PDAs: a user's signature moves nothing
    # (the empty refund account with amount 0: the token program checks funds before the owner)
    for src, amount in ((env.reserve, 1), (refund_a, 0)):
        res = h.send([spl.transfer(src, b.token, a.key, amount)], [a.kp])
        assert res.error is not None and res.error.name == "OwnerMismatch", res.error
    assert env.h.token_balance(env.reserve) == 200 * USD
    # credit accounts are program accounts, not token accounts: the token program refuses them
    res = h.send([spl.transfer(env.cr.credit_address(env.mint, a.key), b.token, a.key, 1)], [a.kp])
    assert res.error is not None
    assert env.credits(a) == 100 * USD


def test_refund_redirection_is_refused(env):
    a, b = env.users[0], env.users[1]
    job = env.job_address(a, 1)
    # opened with a refund destination other than the user's refund account
    env.fails(env.open_job_ix(a, 1, [USD], 3, refund_account=a.token), a.kp, name="WrongRefundAccount")
    env.fails(env.open_job_ix(a, 1, [USD], 3, refund_account=env.account(b).refund_account), a.kp,
              name="WrongRefundAccount")
    env.fails(env.open_job_ix(a, 1, [USD], 3, customer=a.key), a.kp, name="WrongCustomer")
    env.ok(env.open_job_ix(a, 1, [USD], 3), a.kp)
    env.accept_all(job)
    # ending with the refund sent elsewhere
    env.fails(env.end_ix(a, job, refund_account=a.token), a.kp, name="WrongRefundAccount")
    env.fails(env.end_ix(a, job, customer=env.account(b).customer), a.kp, name="WrongCustomer")
    # b ending a's job through its own credit account
    env.fails(env.end_ix(b, job), b.kp, name="WrongJob")
    # a calling job_escrow directly as the customer: the customer is a's PDA
    env.fails(env.esc.end_job(customer=a.key, job=job, customer_token=a.token), a.kp, name="Unauthorized")
    # a worker quitting with the refund sent to its own account
    w = env.workers[0]
    env.fails(env.esc.quit(worker=w.key, job=job, worker_token=w.token, customer_token=w.token), w.kp,
              name="WrongOwner")
    # reclaim from an account the customer PDA does not own
    env.fails(env.cr.reclaim(user=a.key, mint=env.mint, source=b.token), name="WrongRefundAccount")
    env.ok(env.end_ix(a, job), a.kp)


def test_substituted_reserve_vault_and_mint(env):
    a = env.users[0]
    h = env.h
    fake_vault = h.create_token_account(env.mint, a.key)
    env.extra_tokens.append(fake_vault)
    env.fails(env.buy_ix(a, USD, reserve_vault=fake_vault), a.kp, name="WrongReserveVault")
    env.fails(env.redeem_ix(a, USD, reserve_vault=fake_vault), a.kp, name="WrongReserveVault")
    env.fails(env.open_job_ix(a, 1, [USD], 2, reserve_vault=fake_vault), a.kp, name="WrongReserveVault")
    # another mint
    other_auth = Keypair()
    other_mint = h.create_mint(other_auth, 6)
    other_tok = h.create_ata(other_mint, a.key)
    h.mint_to(other_mint, other_tok, 10 * USD, other_auth)
    env.fails(env.buy_ix(a, USD, user_token=other_tok), a.kp, name="WrongMint")
    env.fails(env.cr.open_account(user=env.users[2].key, mint=env.mint, overrides={"mint": other_mint}),
              env.users[2].kp, name="WrongMint")
    # a job_escrow market of another mint
    from tests.escrow.env import make_market

    m2 = make_market(h, env.esc)
    env.fails(env.open_job_ix(a, 1, [USD], 2, market=m2.address), a.kp, name="WrongMarket")


def test_stale_config_and_paused(env):
    """A credit account presented with another reserve's config (and its
    vault) is refused; a paused config blocks buy and every spend."""
    a = env.users[0]
    h = env.h
    auth2 = Keypair()
    mint2 = h.create_mint(auth2, 6)
    h.send([env.cr.init_config(payer=h.payer.pubkey(), upgrade_authority=h.payer.pubkey(),
                               authority=env.authority.pubkey(), mint=mint2, cap=10**12)]).raise_for_error()
    cfg2, res2 = env.cr.config_address(mint2), env.cr.reserve_address(mint2)
    env.fails(env.buy_ix(a, USD, config=cfg2, reserve_vault=res2), a.kp, name="WrongConfig")
    env.fails(env.redeem_ix(a, USD, config=cfg2, reserve_vault=res2), a.kp, name="WrongConfig")
    env.fails(env.open_job_ix(a, 1, [USD], 2, config=cfg2, reserve_vault=res2), a.kp, name="WrongConfig")
    env.pause()
    env.fails(env.buy_ix(a, USD), a.kp, name="Paused")
    env.fails(env.open_job_ix(a, 1, [USD], 2), a.kp, name="Paused")
    env.fails(env.cr.open_channel_with_credits(authority=a.key, user=a.key, mint=env.mint, provider=env.provider.key,
                                               channel_id=1, deposit=USD, expires_at=h.now() + 3_600,
                                               dispute_window=600), a.kp, name="Paused")
    env.ok(env.redeem_ix(a, USD), a.kp)


def test_overspend_and_delegate_limits(env):
    a = env.users[0]
    env.fails(env.open_job_ix(a, 1, [50 * USD], 3), a.kp, name="InsufficientCredits")
    env.fails(env.set_delegate_ix(a, a.key, USD), a.kp, name="InvalidDelegate")
    env.fails(env.set_delegate_ix(a, Keypair().pubkey(), USD, period=59), a.kp, name="InvalidPeriod")


def test_accept_window_and_close_accounts_passed_on_to_job_escrow(env):
    """What the credits calls hand to job_escrow is checked there: the accept
    window chosen at open is the job's deadline (a late accept is refused,
    ending then refunds everything), and close_job's fee vault and market
    cannot be substituted."""
    a = env.users[0]
    job = env.job_address(a, 1)
    u = env.cr.user_addresses(env.mint, a.key)
    ix = env.cr.open_job_with_credits(authority=a.key, user=a.key, mint=env.mint, job_id=1, hours=3,
                                      workers=[(env.workers[0].key, USD)], accept_window=60)
    env.ok(ix, a.kp)
    assert env.job(job).accept_deadline == env.job(job).created_ts + 60
    deposit = env.h.token_balance(env.esc.vault_address(job))
    env.h.warp_seconds(61)
    env.fails(env.esc.accept(worker=env.workers[0].key, job=job), env.workers[0].kp, name="AcceptDeadlinePassed")
    before = env.credits(a)
    env.ok(env.end_ix(a, job), a.kp)
    assert env.credits(a) == before + deposit  # nobody accepted: nothing earned, nothing owed
    env.fails(env.close_ix(a, job, fee_vault=u.refund_account), a.kp, name="ConstraintSeeds")
    env.fails(env.close_ix(a, job, market=env.cr.config_address(env.mint)), a.kp, name="AccountOwnedByWrongProgram")
    env.ok(env.close_ix(a, job), a.kp)
    assert env.h.account_data(job) is None
