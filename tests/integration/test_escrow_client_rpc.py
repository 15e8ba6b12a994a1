"""iopay.escrow.client over real JSON-RPC (RpcChain + TransactionSender)
against the local validator process: the keeper's pieces (running jobs by
getProgramAccounts, the cluster clock, due hours, batched settle), events
read back from getTransaction, typed errors from simulation."""

from __future__ import annotations

import pytest
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed
from solders.keypair import Keypair

from tests.integration.conftest import Validator
from iopay.core import spl
from iopay.core.errors import error_class
from iopay.escrow.client import EscrowClient, RpcChain
from iopay.core.events import EventDecoder
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import JobEscrow, booking_cost, span_cost
from tests.integration.rpc_env import RpcEnv, make_market

HOUR = 3_600
RATES = [1_000_000, 2_000_000, 333_333]


async def test_escrow_client_over_rpc(localnet: Validator) -> None:
    prog = ProgramIdl.load("job_escrow")
    async with AsyncClient(localnet.url) as client:
        env = RpcEnv(localnet.url, client, prog)
        m = await make_market(env, JobEscrow(prog, fetch=env.fetch), localnet.upgrade_authority)
        sdk = EscrowClient(RpcChain(client, env.sender, [EventDecoder(prog)]), m.payer, prog)
        customer = await env.funded()
        workers = [await env.funded() for _ in RATES]
        accounts = [spl.create_associated_token_account_idempotent(m.payer.pubkey(), k.pubkey(), m.mint)
                    for k in [customer, *workers]]
        await env.send(accounts + [spl.mint_to(m.mint, spl.associated_token_address(customer.pubkey(), m.mint),
                                               m.mint_authority.pubkey(), 10**12)], m.payer, m.mint_authority)

        opened = await sdk.open_job(customer, m.mint, [(k.pubkey(), r) for k, r in zip(workers, RATES)], 3)
        (ev,) = opened.sent.events_named("JobOpened")
        assert (ev.principal, ev.fee) == booking_cost(RATES, 3, 250)
        for k in workers:
            await sdk.accept(k, opened.job)
        assert [j.address for j in await sdk.running_jobs(m.mint)] == [opened.job]
        with pytest.raises(error_class("NothingToSettle")):
            await sdk.chain.send([sdk.esc.settle(job=opened.job,
                                                 payees=[(0, sdk.token_account_of(workers[0].pubkey(), m.mint))])],
                                 [], m.payer)

        localnet.warp(HOUR + 5)
        dues = await sdk.due(opened.job)
        assert [(d.slot, d.hours, d.amount) for d in dues] == [(i, 1, r) for i, r in enumerate(RATES)]
        sent = await sdk.settle(opened.job, max_payees=2)
        assert [[p.slot for e in s.events_named("HoursSettled") for p in e.paid] for s in sent] == [[0, 1], [2]]
        for k, r in zip(workers, RATES):
            assert await env.token_balance(sdk.token_account_of(k.pubkey(), m.mint)) == r
        assert await sdk.settle(opened.job) == []

        sent = await sdk.end_job(customer, opened.job)
        # The started second hour is paid pro rata (by the cluster clock): less than hours 1..3 comes back.
        refund = sent.events_named("JobEnded")[0].refund
        assert sum(sum(span_cost(r, 250, 2, 3)) for r in RATES) <= refund < sum(sum(span_cost(r, 250, 1, 3))
                                                                             for r in RATES)
        assert sent.events_named("JobClosed")
        assert await sdk.running_jobs(m.mint) == []
        assert (await client.get_account_info(opened.job, Confirmed)).value is None
