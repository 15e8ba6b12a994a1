"""The credits SDK's pure parts: dollar parsing, the delegate period mirror,
addresses, argument checks before any encoding."""

from __future__ import annotations

import asyncio

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.credits.program import IosdCredits, check_amount, format_usd, parse_usd
from iopay.credits.state import delegate_window


def test_parse_and_format_usd():
    assert parse_usd("12.50") == 12_500_000
    assert parse_usd("0.000001") == 1
    assert parse_usd(3) == 3_000_000
    assert format_usd(12_500_000) == "12.500000"
    for bad in ["1.0000001", "-1", "abc", "nan", "inf", str(2**64)]:
        with pytest.raises(ValueError):
            parse_usd(bad)
    with pytest.raises(TypeError):
        parse_usd(True)


def test_check_amount():
    assert check_amount(1) == 1
    for bad in [0, -1, 2**64]:
        with pytest.raises(ValueError):
            check_amount(bad)
    for bad in [1.5, "1", True]:
        with pytest.raises(TypeError):
            check_amount(bad)


def test_delegate_window_mirrors_the_program():
    day = 86_400
    assert delegate_window(1_000, day, 7, 1_000 + day - 1) == (1_000, 7)
    assert delegate_window(1_000, day, 7, 1_000 + day) == (1_000 + day, 0)
    assert delegate_window(1_000, day, 7, 1_000 + 3 * day + 5) == (1_000 + 3 * day, 0)
    with pytest.raises(ValueError):
        delegate_window(0, 0, 0, 0)


def test_addresses_are_distinct_per_user_and_mint():
    cr = IosdCredits()
    mint, a, b = Keypair().pubkey(), Keypair().pubkey(), Keypair().pubkey()
    ua, ub = cr.user_addresses(mint, a), cr.user_addresses(mint, b)
    keys = {ua.credit_account, ua.customer, ua.refund_account, ub.credit_account, ub.customer, ub.refund_account,
            cr.config_address(mint), cr.reserve_address(mint)}
    assert len(keys) == 8
    assert cr.job_address(mint, a, 1) == cr.esc.job_addresses(mint, ua.customer, 1).job


def test_client_rejects_bad_arguments_before_sending():
    from iopay.credits.client import CreditsClient

    class NoChain:
        async def get_account(self, address):  # pragma: no cover - never reached
            raise AssertionError("no I/O expected")

        async def send(self, *a, **k):  # pragma: no cover
            raise AssertionError("nothing must be sent")

    c = CreditsClient(NoChain(), Keypair())
    user, mint = Keypair(), Keypair().pubkey()
    with pytest.raises(ValueError):
        asyncio.run(c.buy(user, mint, 0))
    with pytest.raises(TypeError):
        asyncio.run(c.redeem(user, mint, 1.5))
    with pytest.raises(ValueError):
        asyncio.run(c.set_delegate(user, mint, Keypair().pubkey(), 10, period_secs=5))
    with pytest.raises(TypeError):
        asyncio.run(c.revoke_delegate(user, mint, "not a key"))
    with pytest.raises(ValueError):
        asyncio.run(c.open_job_with_credits(user, mint, [], 3))


def test_channel_methods_reject_bad_arguments_before_any_io():
    from iopay.credits.client import CreditsClient

    class NoChain:
        async def get_account(self, address):  # pragma: no cover - never reached
            raise AssertionError("no I/O expected")

        async def send(self, *a, **k):  # pragma: no cover
            raise AssertionError("nothing must be sent")

    c = CreditsClient(NoChain(), Keypair())
    user, mint, provider, ch = Keypair(), Keypair().pubkey(), Keypair().pubkey(), Keypair().pubkey()
    for kw, exc in [({"deposit": 0}, ValueError), ({"deposit": 1.5}, TypeError), ({"deposit": 2**64}, ValueError),
                    ({"life": 0}, ValueError), ({"life": 367 * 86_400}, ValueError), ({"life": True}, ValueError),
                    ({"dispute_window": 59}, ValueError), ({"channel_id": -1}, ValueError),
                    ({"channel_id": 2**64}, ValueError), ({"user": "me"}, TypeError),
                    ({"voucher_signer": "key"}, TypeError), ({"provider": str(provider)}, TypeError)]:
        args = {"deposit": 1, "life": 60, "provider": provider, **kw}
        with pytest.raises(exc):
            asyncio.run(c.open_channel_with_credits(user, mint, args.pop("provider"), args.pop("deposit"), **args))
    with pytest.raises(TypeError):
        asyncio.run(c.open_channel_with_credits(user.pubkey(), mint, provider, 1, life=60))
    with pytest.raises(ValueError):  # the provider cannot be the user's own customer PDA
        asyncio.run(c.open_channel_with_credits(user, mint, c.cr.user_addresses(mint, user.pubkey()).customer, 1,
                                                life=60))
    for amount, extend, exc in [(0, 0, ValueError), (-1, 0, ValueError), (1, -1, ValueError), (1.0, 0, TypeError),
                                (1, 367 * 86_400, ValueError)]:
        with pytest.raises(exc):
            asyncio.run(c.top_up_channel(user, mint, ch, amount, extend=extend))
    with pytest.raises(TypeError):
        asyncio.run(c.finish_close_channel(mint, "user", ch))
    with pytest.raises(TypeError):
        asyncio.run(c.channel("not a key"))


def test_credit_channel_address_is_the_customers_channel():
    cr = IosdCredits()
    mint, user, provider = Keypair().pubkey(), Keypair().pubkey(), Keypair().pubkey()
    customer = cr.user_addresses(mint, user).customer
    assert cr.channel_address(mint, user, provider, 7) == cr.pay.channel_address(customer, provider, mint, 7)
    assert cr.channel_address(mint, user, provider, 7) != cr.pay.channel_address(user, provider, mint, 7)
