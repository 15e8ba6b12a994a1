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
