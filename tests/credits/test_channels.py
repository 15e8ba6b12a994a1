"""Inference channels paid with credits, on the compiled programs in LiteSVM:
buy credits, open an inference_pay channel with them (payer = the user's
customer PDA, refund_to = the user's refund account), the provider settles
vouchers signed by the user's (or delegate's) key, then the channel closes
cooperatively or unilaterally after expiry and the dispute window, and the
rest comes back as credits exactly. Reserve == outstanding after every step
(CEnv.ok); every rejection by its own error with nothing moved (CEnv.fails)."""

from __future__ import annotations

from typing import Optional

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.inference.program import settlement
from iopay.inference.vouchers import VoucherSigner
from tests.credits.env import CEnv, DAY, FEE_BPS, USD, User, make_env

WINDOW = 600


@pytest.fixture
def env(harness, record_cu):
    e = make_env(harness, record_cu)
    for u in e.users[:2]:
        e.open_account(u)
        e.buy(u, 100 * USD)
    return e


def open_ix(env: CEnv, u: User, channel_id: int, deposit: int, *, signer: Optional[Keypair] = None,
            life: int = DAY, provider: Optional[Pubkey] = None, **kw):
    s = signer or u.kp
    return env.cr.open_channel_with_credits(
        authority=s.pubkey(), user=u.key, mint=env.mint, provider=provider or env.provider.key, channel_id=channel_id,
        deposit=deposit, expires_at=env.h.now() + life, dispute_window=WINDOW, delegate=s.pubkey() != u.key,
        overrides=kw or None)


def channel_of(env: CEnv, u: User, channel_id: int) -> Pubkey:
    return env.cr.channel_address(env.mint, u.key, env.provider.key, channel_id)


def top_up_ix(env: CEnv, u: User, ch: Pubkey, amount: int, *, extend: int = 0, signer: Optional[Keypair] = None,
              **kw):
    s = signer or u.kp
    return env.cr.top_up_channel_with_credits(authority=s.pubkey(), user=u.key, mint=env.mint, channel=ch,
                                              amount=amount, expires_at=env.channel(ch).expires_at + extend,
                                              delegate=s.pubkey() != u.key, overrides=kw or None)


def coop_ix(env: CEnv, u: User, ch: Pubkey, *, signer: Optional[Keypair] = None, provider: Optional[Pubkey] = None,
            **kw):
    s = signer or u.kp
    return env.cr.coop_close_channel_with_credits(authority=s.pubkey(), user=u.key, mint=env.mint,
                                                  provider=provider or env.provider.key, channel=ch,
                                                  rent_payer=env.channel(ch).rent_payer,
                                                  delegate=s.pubkey() != u.key, overrides=kw or None)


def start_ix(env: CEnv, u: User, ch: Pubkey, *, signer: Optional[Keypair] = None, **kw):
    s = signer or u.kp
    return env.cr.start_close_channel_with_credits(authority=s.pubkey(), user=u.key, mint=env.mint, channel=ch,
                                                   delegate=s.pubkey() != u.key, overrides=kw or None)


def finish_ix(env: CEnv, u: User, ch: Pubkey, **kw):
    return env.cr.finish_close_channel_with_credits(user=u.key, mint=env.mint, channel=ch,
                                                    rent_payer=env.channel(ch).rent_payer, overrides=kw or None)


def settle(env: CEnv, *vouchers) -> None:
    send_ok(env, env.pay.settle(provider=env.provider.key, mint=env.mint, provider_token=env.provider.token,
                                vouchers=list(vouchers)), env.provider.kp, name="settle(channel)")


def send_ok(env: CEnv, ixs, *signers, name=None):
    """`env.ok` for several instructions in one transaction."""
    res = env.h.send(list(ixs), signers)
    if res.error:
        raise AssertionError(f"{res.error}\n" + "\n".join(res.logs))
    if env.record and name:
        env.record(name, res.compute_units)
    env.check_reserve()
    return res


def signer_for(env: CEnv, ch: Pubkey, key: Keypair) -> VoucherSigner:
    c = env.channel(ch)
    return VoucherSigner(key, env.pay.program_id, ch, c.open_slot, c.deposit)


def test_open_settle_top_up_coop_close_exact(env):
    """Buy, open a channel with 10 USD of credits, the provider settles two
    vouchers around a 5 USD top-up, cooperative close: provider, fees and the
    credits that come back are exact to the base unit."""
    u = env.users[0]
    ch = channel_of(env, u, 1)
    res = env.ok(open_ix(env, u, 1, 10 * USD), u.kp, name="open_channel_with_credits")
    ev = res.events_named("ChannelOpenedWithCredits")[0]
    assert (ev.channel, ev.amount, ev.balance, ev.voucher_signer) == (ch, 10 * USD, 90 * USD, u.key)
    assert ev.delegate == Pubkey.default() and ev.provider == env.provider.key
    addrs = env.cr.user_addresses(env.mint, u.key)
    c = env.channel(ch)
    assert (c.payer, c.refund_to, c.rent_payer, c.voucher_signer) == (addrs.customer, addrs.refund_account, u.key,
                                                                      u.key)
    assert c.deposit == 10 * USD and c.fee_bps == FEE_BPS
    assert res.events_named("ChannelOpened")[0].refund_to == addrs.refund_account  # inference_pay's own event
    a = env.account(u)
    assert (a.balance, a.in_flight, a.spent, a.channels_opened) == (90 * USD, 10 * USD, 10 * USD, 1)
    assert env.h.token_balance(env.pay.vault_address(env.mint)) == 10 * USD

    vs = signer_for(env, ch, u.kp)
    first = vs.pay(3_333_333)
    settle(env, first)
    paid1, fee1 = settlement(0, 3_333_333, FEE_BPS)
    assert (paid1, fee1) == (3_333_333 - 83_334, 83_334)
    assert env.h.token_balance(env.provider.token) == paid1

    res = env.ok(top_up_ix(env, u, ch, 5 * USD, extend=DAY), u.kp, name="top_up_channel_with_credits")
    ev = res.events_named("ChannelToppedUpWithCredits")[0]
    assert (ev.amount, ev.balance) == (5 * USD, 85 * USD)
    assert env.channel(ch).deposit == 15 * USD
    vs.topped_up(15 * USD)
    second = vs.pay(9_000_000)  # cumulative 12,333,333 > the first deposit
    settle(env, second)
    paid2, fee2 = settlement(3_333_333, 12_333_333, FEE_BPS)
    assert env.h.token_balance(env.provider.token) == paid1 + paid2 == 12_333_333 - 308_334

    res = env.ok(coop_ix(env, u, ch), u.kp, env.provider.kp, name="coop_close_channel_with_credits")
    refund = 15 * USD - 12_333_333
    ev = res.events_named("ChannelRefunded")[0]
    assert (ev.cooperative, ev.settled, ev.amount, ev.in_flight) == (True, 12_333_333, refund, 0)
    assert env.channel(ch) is None
    a = env.account(u)
    assert a.balance == 100 * USD - 12_333_333 == 87_666_667
    assert (a.spent, a.refunded, a.in_flight) == (15 * USD, refund, 0)
    assert env.h.token_balance(addrs.refund_account) == 0
    # The fees accrued in the pool go to job_escrow's treasury.
    env.ok(env.pay.sweep_fees(mint=env.mint, market=env.esc.market_address(env.mint), treasury=env.treasury),
           name="sweep_fees(channel)")
    assert env.h.token_balance(env.treasury) == fee1 + fee2 == 308_334
    # Nothing is left out in flight: tokens someone sends to the refund account never become credits.
    env.h.transfer(env.users[1].token, addrs.refund_account, env.users[1].kp, USD).raise_for_error()
    env.fails(env.cr.reclaim(user=u.key, mint=env.mint), name="NothingToReclaim")
    env.ok(env.redeem_ix(u, 87_666_667), u.kp)
    assert env.config_view().outstanding == 100 * USD == env.h.token_balance(env.reserve)  # users[1]'s


def test_delegate_channel_unilateral_close_after_expiry(env):
    """A delegate opens within its allowance and signs the vouchers; the
    provider's voucher of the dispute window still counts; anyone finishes
    the close and the rest comes back as credits; the rent goes back to who
    paid it."""
    u, backend = env.users[0], env.h.funded_keypair()
    env.ok(env.set_delegate_ix(u, backend.pubkey(), 20 * USD), u.kp)
    ch = channel_of(env, u, 7)
    res = env.ok(open_ix(env, u, 7, 8 * USD, signer=backend, life=3_600), backend,
                 name="open_channel_with_credits(delegate)")
    ev = res.events_named("ChannelOpenedWithCredits")[0]
    assert (ev.delegate, ev.spent_in_period, ev.voucher_signer) == (backend.pubkey(), 8 * USD, backend.pubkey())
    assert env.channel(ch).rent_payer == backend.pubkey()
    vs = signer_for(env, ch, backend)
    settle(env, vs.pay(1_000_000))
    env.fails(start_ix(env, u, ch, signer=backend), backend, name="NotExpired")
    env.h.warp_seconds(3_600)
    res = env.ok(start_ix(env, u, ch, signer=backend), backend, name="start_close_channel_with_credits")
    assert res.events_named("ChannelCloseStartedWithCredits")[0].delegate == backend.pubkey()
    assert res.events_named("CloseStarted")[0].close_at == env.h.now() + WINDOW
    settle(env, vs.pay(2_000_000))  # within the dispute window
    # Anyone (here the harness's fee payer, neither the user nor the delegate) finishes.
    env.fails(finish_ix(env, u, ch), name="DisputeWindowOpen")
    env.h.warp_seconds(WINDOW)
    rent_before = env.h.lamports(backend.pubkey())
    res = env.ok(finish_ix(env, u, ch), name="finish_close_channel_with_credits")
    ev = res.events_named("ChannelRefunded")[0]
    assert (ev.cooperative, ev.settled, ev.amount, ev.in_flight) == (False, 3 * USD, 5 * USD, 0)
    assert env.credits(u) == 97 * USD
    assert env.h.lamports(backend.pubkey()) > rent_before  # the channel's rent
    paid, fee = settlement(0, 3 * USD, FEE_BPS)
    assert env.h.token_balance(env.provider.token) == paid == 3 * USD - 75_000


def test_settler_settles_credit_channels_unchanged(env, tmp_path):
    """The provider side does not know or care that a channel is paid with
    credits: VoucherVerifier accepts the user's vouchers, Settler redeems them."""
    import asyncio

    from iopay.core.chain import LiteSvmChain
    from iopay.inference.settler import Settler
    from iopay.inference.vouchers import VoucherStore, VoucherVerifier, info_from_view

    u = env.users[0]
    ch = channel_of(env, u, 3)
    env.ok(open_ix(env, u, 3, 2 * USD), u.kp)
    store = VoucherStore(tmp_path / "v.db")
    verifier = VoucherVerifier(env.pay.program_id, env.provider.key, store)
    verifier.update(info_from_view(env.channel(ch)))
    vs = signer_for(env, ch, u.kp)
    for _ in range(5):
        verifier.accept(vs.pay(123_457), 123_457)
    settler = Settler(LiteSvmChain(env.h), env.pay, env.provider.kp, env.provider.token, env.mint, store)
    m = asyncio.run(settler.run_once(force=True))
    assert m.channels_settled == 1 and env.channel(ch).settled == 5 * 123_457
    assert env.h.token_balance(env.provider.token) == settlement(0, 617_285, FEE_BPS)[0]
    env.check_reserve()
    env.ok(coop_ix(env, u, ch), u.kp, env.provider.kp)
    assert env.credits(u) == 100 * USD - 617_285


def test_direct_finish_close_lands_in_the_refund_account_and_reclaim_credits_it(env):
    """finish_close sent to inference_pay itself (e.g. by the provider's
    settler) refunds to the user's refund account; reclaim credits it."""
    u = env.users[0]
    ch = channel_of(env, u, 9)
    env.ok(open_ix(env, u, 9, 4 * USD, life=60), u.kp)
    env.h.warp_seconds(60)
    env.ok(start_ix(env, u, ch), u.kp)
    env.h.warp_seconds(WINDOW)
    c = env.channel(ch)
    env.ok(env.pay.finish_close(channel=ch, mint=env.mint, rent_payer=c.rent_payer, refund_to=c.refund_to))
    refund_acct = env.cr.user_addresses(env.mint, u.key).refund_account
    assert env.h.token_balance(refund_acct) == 4 * USD
    env.ok(env.cr.reclaim(user=u.key, mint=env.mint), name="reclaim")
    assert env.credits(u) == 100 * USD


def test_pause_blocks_spending_never_closing(env):
    u = env.users[0]
    ch = channel_of(env, u, 1)
    env.ok(open_ix(env, u, 1, 5 * USD, life=60), u.kp)
    env.pause()
    env.fails(open_ix(env, u, 2, USD), u.kp, name="Paused")
    env.fails(top_up_ix(env, u, ch, USD), u.kp, name="Paused")
    env.fails(top_up_ix(env, u, ch, 0, extend=60), u.kp, name="Paused")
    env.h.warp_seconds(60)
    env.ok(start_ix(env, u, ch), u.kp)
    env.h.warp_seconds(WINDOW)
    env.ok(finish_ix(env, u, ch))
    assert env.credits(u) == 100 * USD
    ch2 = channel_of(env, u, 2)
    env.pause(False)
    env.ok(open_ix(env, u, 2, USD), u.kp)
    env.pause()
    env.ok(coop_ix(env, u, ch2), u.kp, env.provider.kp)
    assert env.credits(u) == 100 * USD


def test_rejections_each_by_its_own_error_nothing_moved(env):
    a, b = env.users[0], env.users[1]
    backend = env.h.funded_keypair()
    env.ok(env.set_delegate_ix(a, backend.pubkey(), 10 * USD), a.kp)
    b_addrs = env.cr.user_addresses(env.mint, b.key)
    a_addrs = env.cr.user_addresses(env.mint, a.key)
    backend_token = env.h.create_ata(env.mint, backend.pubkey())
    env.extra_tokens.append(backend_token)

    # Refunds cannot be steered: not by the delegate, not by the user.
    env.fails(open_ix(env, a, 1, USD, signer=backend, refund_account=backend_token), backend,
              name="WrongRefundAccount")
    env.fails(open_ix(env, a, 1, USD, refund_account=b_addrs.refund_account), a.kp, name="WrongRefundAccount")
    env.fails(open_ix(env, a, 1, USD, refund_account=a.token), a.kp, name="WrongRefundAccount")
    env.fails(open_ix(env, a, 1, USD, customer=a.key), a.kp, name="WrongCustomer")
    # Another user's credit account: without its delegation, with another user's delegation.
    env.fails(open_ix(env, a, 1, USD, signer=b.kp, delegation=env.cr.program_id), b.kp, name="DelegationRequired")
    a_delegation = env.cr.delegation_address(a_addrs.credit_account, backend.pubkey())
    env.fails(open_ix(env, b, 1, USD, signer=backend, delegation=a_delegation), backend, name="WrongDelegation")
    # Over the allowance, over the balance, nothing at all.
    env.fails(open_ix(env, a, 1, 10 * USD + 1, signer=backend), backend, name="AllowanceExceeded")
    env.fails(open_ix(env, a, 1, 100 * USD + 1), a.kp, name="InsufficientCredits")
    env.fails(open_ix(env, a, 1, 0), a.kp, name="ZeroAmount")
    # Substituted reserve vault, config of another reserve, arbitrary CPI target.
    fake = env.h.create_token_account(env.mint, a.key)
    env.extra_tokens.append(fake)
    env.fails(open_ix(env, a, 1, USD, reserve_vault=fake), a.kp, name="WrongReserveVault")
    env.fails(open_ix(env, a, 1, USD, inference_program=env.esc.program_id), a.kp, name="InvalidProgramId")
    # inference_pay's own checks come through with its codes.
    env.fails(open_ix(env, a, 1, USD, provider=a_addrs.customer), a.kp, name="InvalidParty")
    env.fails(open_ix(env, a, 1, USD, life=400 * DAY), a.kp, name="InvalidExpiry")

    ch = channel_of(env, a, 1)
    env.ok(open_ix(env, a, 1, 5 * USD, signer=backend, life=60), backend)
    # Spent 5 of 10: the top-up beyond the allowance is refused.
    env.fails(top_up_ix(env, a, ch, 5 * USD + 1, signer=backend), backend, name="AllowanceExceeded")
    env.fails(top_up_ix(env, a, ch, USD, signer=backend, refund_account=backend_token), backend,
              name="WrongRefundAccount")
    env.fails(top_up_ix(env, a, ch, 0), a.kp, name="ZeroAmount")  # inference_pay: adds nothing
    # b cannot top up, start closing or close a's channel through its own credit account.
    env.fails(top_up_ix(env, b, ch, USD), b.kp, name="WrongChannel")
    env.h.warp_seconds(60)
    env.fails(start_ix(env, b, ch), b.kp, name="WrongChannel")
    env.fails(coop_ix(env, b, ch), b.kp, env.provider.kp, name="WrongChannel")
    env.fails(start_ix(env, a, ch, signer=b.kp, delegation=env.cr.program_id), b.kp, name="DelegationRequired")
    # A channel that is not inference_pay's: a's credit account itself.
    env.fails(start_ix(env, a, ch, channel=a_addrs.credit_account), a.kp, name="WrongChannel")
    # The cooperative close needs the channel's provider, and refunds only to a's refund account.
    other = env.h.funded_keypair()
    env.fails(coop_ix(env, a, ch, provider=other.pubkey()), a.kp, other, name="WrongProvider")
    env.fails(coop_ix(env, a, ch, signer=backend, refund_account=backend_token), backend, env.provider.kp,
              name="WrongRefundAccount")
    env.fails(coop_ix(env, a, ch, refund_account=b_addrs.refund_account), a.kp, env.provider.kp,
              name="WrongRefundAccount")
    env.ok(start_ix(env, a, ch, signer=backend), backend)
    env.h.warp_seconds(WINDOW)
    env.fails(finish_ix(env, a, ch, refund_account=backend_token), name="WrongRefundAccount")
    env.fails(finish_ix(env, b, ch), name="WrongChannel")
    env.fails(finish_ix(env, a, ch, rent_payer=backend_token), name="WrongRentPayer")
    # inference_pay itself refuses the channel's payer being anyone but the customer PDA.
    env.fails(env.pay.start_close(payer=a.key, channel=ch), a.kp, name="Unauthorized")
    env.ok(finish_ix(env, a, ch))
    assert env.credits(a) == 100 * USD
    # The revoked delegate can no longer open.
    env.ok(env.cr.revoke_delegate(user=a.key, mint=env.mint, delegate=backend.pubkey()), a.kp)
    env.fails(open_ix(env, a, 2, USD, signer=backend, delegation=env.cr.program_id), backend,
              name="DelegationRequired")
