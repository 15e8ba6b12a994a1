"""IOSD credits over real JSON-RPC against the local validator process,
through CreditsClient.connect: buy 100 USD, a 2-worker job paid with
credits, two hours settled, ended early in hour 3 (the started hour paid
pro rata), refund back as credits, the accrued fees swept, the rest redeemed; exact balances and reserve == outstanding after every step;
a delegate within and beyond its allowance; the history from getTransaction."""

from __future__ import annotations

import pytest
from solana.rpc.async_api import AsyncClient
from solders.keypair import Keypair

from iopay.core import spl
from iopay.core.errors import error_class
from iopay.core.idl import ProgramIdl
from iopay.credits.client import CreditsClient
from iopay.escrow.client import EscrowClient, RpcChain
from iopay.core.events import EventDecoder
from iopay.escrow.program import JobEscrow, fee_for
from tests.integration.conftest import Validator
from tests.integration.rpc_env import RpcEnv, fast_send_config, make_market

HOUR = 3_600
USD = 1_000_000
RATES = [3_000_000, 2_333_333]


async def test_credits_job_over_rpc(localnet: Validator) -> None:
    esc_prog = ProgramIdl.load("job_escrow")
    async with AsyncClient(localnet.url) as client:
        env = RpcEnv(localnet.url, client, esc_prog)
        m = await make_market(env, JobEscrow(esc_prog, fetch=env.fetch), localnet.upgrade_authority)
        escrow = EscrowClient(RpcChain(client, env.sender, [EventDecoder(esc_prog)]), m.payer, esc_prog)
        user, backend = await env.funded(), await env.funded()
        workers = [await env.funded() for _ in RATES]
        await env.send([spl.create_associated_token_account_idempotent(m.payer.pubkey(), k.pubkey(), m.mint)
                        for k in [user, *workers]]
                       + [spl.mint_to(m.mint, spl.associated_token_address(user.pubkey(), m.mint),
                                      m.mint_authority.pubkey(), 1_000 * USD)], m.payer, m.mint_authority)
        utok = spl.associated_token_address(user.pubkey(), m.mint)
        wtoks = [spl.associated_token_address(w.pubkey(), m.mint) for w in workers]

        async with CreditsClient.connect(localnet.url, m.payer, send_config=fast_send_config()) as cr:
            await cr.init_config(localnet.upgrade_authority, m.mint, authority=m.authority.pubkey(), cap=10**12)

            async def reserve_ok() -> None:
                assert await cr.reserve_balance(m.mint) == (await cr.config(m.mint)).outstanding

            await cr.buy(user, m.mint, 100 * USD)
            await reserve_ok()
            assert await cr.balance(m.mint, user.pubkey()) == 100 * USD
            opened = await cr.open_job_with_credits(user, m.mint, list(zip([w.pubkey() for w in workers], RATES)),
                                                    5, job_id=1)
            await reserve_ok()
            assert opened.amount == 27_333_332
            assert opened.sent.events_named("JobPaidWithCredits")[0].amount == opened.amount
            for w in workers:
                await escrow.accept(w, opened.job)
            localnet.warp(2 * HOUR + 30)
            await escrow.settle(opened.job)
            assert [await env.token_balance(t) for t in wtoks] == [6_000_000, 4_666_666]
            assert await env.token_balance(m.treasury) == 0  # fees accrue in the job until it is closed
            localnet.warp(HOUR // 2)
            sent = await cr.end_job(user, opened.job)
            await reserve_ok()
            # Cut in hour 3: the seconds depend on the validator's clock, so
            # the exact amounts follow from the event's seconds.
            # Each worker's own seconds: the two accepts may land a second apart on the validator's clock.
            (batch,) = sent.events_named("HoursSettled")
            secs = [p.secs for p in batch.paid]
            assert [p.hours for p in batch.paid] == [0, 0] and all(1_800 <= x < HOUR for x in secs), batch.paid
            assert max(secs) - min(secs) <= 5, secs
            earned = [2 * r + -(-r * x // HOUR) for r, x in zip(RATES, secs)]  # the started hour rounded up for the workers
            fees = sum(fee_for(e, 250) for e in earned)
            assert [p.amount for p in batch.paid] == [e - 2 * r for e, r in zip(earned, RATES)]
            assert [await env.token_balance(t) for t in wtoks] == earned
            refund = opened.amount - sum(earned) - fees
            assert sent.events_named("CreditsRefunded")[0].amount == refund == sent.events_named("JobEnded")[0].refund
            left = 100 * USD - opened.amount + refund
            assert await cr.balance(m.mint, user.pubkey()) == left
            assert (await client.get_account_info(opened.job)).value is None  # closed in the same transaction
            assert sent.events_named("JobClosed")[0].fees == fees  # to the market's fee vault
            await escrow.sweep_fees(m.mint)
            assert await env.token_balance(m.treasury) == fees

            # a delegate within its allowance, then beyond it
            await cr.set_delegate(user, m.mint, backend.pubkey(), 10 * USD)
            job2 = await cr.delegate_spend(backend, user.pubkey(), m.mint, [(workers[0].pubkey(), USD)], 5, job_id=2)
            assert job2.amount == 5_125_000
            with pytest.raises(error_class("AllowanceExceeded")):
                await cr.delegate_spend(backend, user.pubkey(), m.mint, [(workers[0].pubkey(), USD)], 5, job_id=3)
            await cr.cancel_job(backend, job2.job, user=user.pubkey())
            await reserve_ok()
            await cr.revoke_delegate(user, m.mint, backend.pubkey())

            bal = await cr.balance(m.mint, user.pubkey())
            assert bal == left
            with pytest.raises(error_class("InsufficientCredits")):
                await cr.redeem(user, m.mint, bal + 1)
            await cr.redeem(user, m.mint, bal)
            await reserve_ok()
            assert await cr.balance(m.mint, user.pubkey()) == 0
            assert await env.token_balance(utok) == 1_000 * USD - (sum(earned) + fees)
            names = [e.name for e in await cr.history(m.mint, user.pubkey())]
            for n in ("CreditsBought", "JobPaidWithCredits", "CreditsRefunded", "DelegateSet", "DelegateRevoked",
                      "CreditsRedeemed", "CreditAccountOpened"):
                assert n in names, names
