"""``open_job_funded``: ``open_job`` with the deposit paid from a token
account of a second signer (the funder). The job is the customer's in every
other way; refunds reach the customer, never the funder. (iosd_credits opens
its jobs this way: the reserve pays, the user's customer PDA is the
customer.)"""

from __future__ import annotations

import pytest
from solders.keypair import Keypair

from iopay.core.harness import Harness
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import U64_MAX, booking_cost
from tests.escrow.env import FEE_BPS, RATES, Env, make_env, unsigned

FUNDS = 10**12


@pytest.fixture
def env(escrow_harness: Harness, escrow_idl: ProgramIdl, record_cu) -> Env:
    return make_env(escrow_harness, escrow_idl, record_cu)


def funder(env: Env) -> tuple:
    f = env.h.funded_keypair()
    tok = env.h.create_token_account(env.mint, f.pubkey())
    env.h.mint_to(env.mint, tok, FUNDS, env.m.mint_auth)
    return f, tok


def funded_ix(env: Env, f: Keypair, ftok, job_id: int = 1, hours: int = 3, rates=RATES, **kw):
    kw.setdefault("max_total", U64_MAX)
    ws = [w.pubkey() for w in env.workers[:len(rates)]]
    return env.esc.open_job_funded(customer=env.customer.pubkey(), funder=f.pubkey(), funder_token=ftok,
                                   mint=env.mint, job_id=job_id, hours=hours, workers=list(zip(ws, rates)), **kw)


async def test_the_funder_pays_the_job_is_the_customers(env: Env) -> None:
    f, ftok = funder(env)
    job = env.esc.job_addresses(env.mint, env.customer.pubkey(), 1).job
    env.jobs.add(job)
    before = env.balances()
    res = env.ok(funded_ix(env, f, ftok), env.customer, f, name="open_job_funded")
    principal, fee = booking_cost(RATES, 3, FEE_BPS)
    assert env.h.token_balance(env.vault(job)) == principal + fee
    assert env.h.token_balance(ftok) == FUNDS - principal - fee
    assert env.balances() == before  # the customer's tokens did not move
    j = env.job(job)
    assert (j.customer, j.job_id, j.hours, j.state) == (env.customer.pubkey(), 1, 3, "Open")
    (ev,) = res.events_named("JobOpened")
    assert (ev.job, ev.customer, ev.principal, ev.fee) == (job, env.customer.pubkey(), principal, fee)
    # The funder has no say over the job; the refund of a cancel is the customer's.
    env.fails(env.cancel_ix(job, customer=f), f, name="Unauthorized")
    env.ok(env.cancel_ix(job), env.customer, name="cancel")
    assert env.balances()["customer"] == before["customer"] + principal + fee
    assert env.h.token_balance(ftok) == FUNDS - principal - fee


async def test_open_job_funded_rejections(env: Env) -> None:
    f, ftok = funder(env)
    c = env.customer

    def fails(ix, *signers, name):
        env.fails(ix, *signers, name=name)
        assert env.h.token_balance(ftok) == FUNDS

    # The source must be the funder's, of the market's mint; both must sign.
    fails(funded_ix(env, f, env.customer_token), c, f, name="WrongOwner")
    other_mint = env.h.create_mint(env.m.mint_auth)
    foreign = env.h.create_token_account(other_mint, f.pubkey())
    fails(funded_ix(env, f, foreign), c, f, name="WrongMint")
    fails(unsigned(funded_ix(env, f, ftok), f.pubkey()), c, name="AccountNotSigner")
    fails(unsigned(funded_ix(env, f, ftok), c.pubkey()), f, name="AccountNotSigner")
    # open_job's own checks, the same code.
    fails(funded_ix(env, f, ftok, rates=[1, 0]), c, f, name="ZeroRate")
    principal, fee = booking_cost(RATES, 3, FEE_BPS)
    fails(funded_ix(env, f, ftok, max_total=principal + fee - 1), c, f, name="MaxTotalExceeded")
    fails(funded_ix(env, f, ftok, rates=[10**12]), c, f, name="InsufficientFunds")
    env.pause(True)
    fails(funded_ix(env, f, ftok), c, f, name="Paused")
