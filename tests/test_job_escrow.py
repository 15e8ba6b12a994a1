"""The real job_escrow program (target/deploy/job_escrow.so) on LiteSVM,
driven through instructions built from idl/job_escrow.json.

Nothing is mocked: the program, the SPL Token program and the clock are the
real ones. Every custom error reachable through the accounts/args is
triggered and checked by name and code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pytest
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.errors import ProgramError
from iopay.idl import ProgramIdl
from iopay.job_escrow import JobEscrow, booking_cost, fee_for, settlement
from iopay.litesvm import Harness, TxResult
from iopay import pda

HOUR = 3_600
RATE = 1_500_000  # 1.5 tokens/h at 6 decimals
HOURS = 5
FEE_BPS = 250


@dataclass
class Env:
    h: Harness
    prog: ProgramIdl
    esc: JobEscrow
    mint: Pubkey
    mint_auth: Keypair
    authority: Keypair
    treasury: Pubkey
    customer: Keypair
    customer_token: Pubkey
    worker: Keypair
    worker_token: Pubkey
    market: Pubkey

    def ok(self, ix: Instruction, *signers: Keypair, name: Optional[str] = None, record=None) -> TxResult:
        res = self.h.send([ix], signers)
        if res.error:
            raise AssertionError(f"{res.error}\n" + "\n".join(res.logs))
        if record and name:
            record(name, res.compute_units)
        return res

    def fails(self, ix: Instruction, *signers: Keypair, name: str) -> ProgramError:
        res = self.h.send([ix], signers)
        assert res.error is not None, f"expected {name}, transaction succeeded:\n" + "\n".join(res.logs)
        assert isinstance(res.error, ProgramError), res.error
        assert res.error.name == name, f"expected {name}, got {res.error}\n" + "\n".join(res.logs)
        if name in {e["name"] for e in self.prog.raw["errors"]}:
            assert res.error.code == self.prog.errors.code_of(name)
            assert res.error.program_id == self.prog.program_id
        return res.error

    def balances(self) -> dict[str, int]:
        return {
            "customer": self.h.token_balance(self.customer_token),
            "worker": self.h.token_balance(self.worker_token),
            "treasury": self.h.token_balance(self.treasury),
        }

    def open_job(self, job_id: int = 1, rate: int = RATE, hours: int = HOURS, record=None) -> tuple[Pubkey, Pubkey, TxResult]:
        ix = self.esc.open_job(customer=self.customer.pubkey(), mint=self.mint, worker=self.worker.pubkey(),
                               customer_token=self.customer_token, job_id=job_id, rate_per_hour=rate, hours=hours)
        res = self.ok(ix, self.customer, name="open_job", record=record)
        a = self.esc.job_addresses(self.mint, self.customer.pubkey(), job_id)
        return a.job, a.vault, res

    def settle_ix(self, job_key: Pubkey, /, **overrides: Pubkey) -> Instruction:
        return self.esc.settle(mint=self.mint, job=job_key, worker_token=self.worker_token, treasury=self.treasury,
                               overrides=overrides or None)

    def cancel_ix(self, job_key: Pubkey, /, customer: Optional[Keypair] = None, **overrides: Pubkey) -> Instruction:
        c = customer or self.customer
        return self.esc.cancel(customer=c.pubkey(), mint=self.mint, job=job_key, customer_token=self.customer_token,
                               worker_token=self.worker_token, treasury=self.treasury, overrides=overrides or None)


def unsigned(ix: Instruction, key: Pubkey) -> Instruction:
    """The same instruction with ``key`` no longer marked as signer."""
    return Instruction(ix.program_id, ix.data, [
        AccountMeta(m.pubkey, False if m.pubkey == key else m.is_signer, m.is_writable) for m in ix.accounts
    ])


def make_market(h: Harness, esc: JobEscrow, fee_bps: int = FEE_BPS, record=None) -> tuple[Pubkey, Keypair, Keypair, Pubkey, TxResult]:
    mint_auth, authority = Keypair(), h.funded_keypair()
    mint = h.create_mint(mint_auth, 6)
    treasury = h.create_token_account(mint, authority.pubkey())
    ix = esc.init_market(payer=h.payer.pubkey(), upgrade_authority=h.payer.pubkey(), authority=authority.pubkey(),
                         mint=mint, treasury=treasury, fee_bps=fee_bps, max_workers=8, max_hours=720)
    res = h.send([ix])
    res.raise_for_error()
    if record:
        record("init_market", res.compute_units)
    return mint, mint_auth, authority, treasury, res


@pytest.fixture
def env(escrow_harness: Harness, escrow_idl: ProgramIdl, record_cu) -> Env:
    h = escrow_harness
    esc = JobEscrow(escrow_idl, fetch=h.account_data)
    mint, mint_auth, authority, treasury, _ = make_market(h, esc, record=record_cu)
    customer, worker = h.funded_keypair(), h.funded_keypair()
    ctok = h.create_token_account(mint, customer.pubkey())
    wtok = h.create_token_account(mint, worker.pubkey())
    h.mint_to(mint, ctok, 1_000_000_000, mint_auth)
    return Env(h, escrow_idl, esc, mint, mint_auth, authority, treasury, customer, ctok, worker, wtok,
               esc.market_address(mint))


# -- init_market ---------------------------------------------------------------

async def test_init_market_state_and_event(escrow_harness: Harness, escrow_idl: ProgramIdl, record_cu) -> None:
    h = escrow_harness
    esc = JobEscrow(escrow_idl, fetch=h.account_data)
    mint, _, authority, treasury, res = make_market(h, esc, record=record_cu)
    market = h.fetch(escrow_idl, esc.market_address(mint), "Market")
    assert (market.authority, market.mint, market.treasury) == (authority.pubkey(), mint, treasury)
    assert (market.fee_bps, market.max_workers, market.max_hours, market.paused, market.job_count) == (FEE_BPS, 8, 720, False, 0)
    assert market.bump == pda.market_pda(escrow_idl.program_id, mint)[1]
    (ev,) = res.events_named("MarketInitialized")
    assert ev.source == "cpi"
    assert (ev.market, ev.authority, ev.mint, ev.treasury, ev.fee_bps, ev.max_workers, ev.max_hours) == (
        esc.market_address(mint), authority.pubkey(), mint, treasury, FEE_BPS, 8, 720)
    # A market exists once per mint.
    again = esc.init_market(payer=h.payer.pubkey(), upgrade_authority=h.payer.pubkey(), authority=authority.pubkey(),
                            mint=mint, treasury=treasury, fee_bps=0, max_workers=1, max_hours=1)
    assert h.send([again]).error is not None


async def test_init_market_rejections(escrow_harness: Harness, escrow_idl: ProgramIdl) -> None:
    h = escrow_harness
    esc = JobEscrow(escrow_idl, fetch=h.account_data)
    mint = h.create_mint()
    other_mint = h.create_mint()
    treasury = h.create_token_account(mint, h.payer.pubkey())
    foreign_treasury = h.create_token_account(other_mint, h.payer.pubkey())
    auth = Keypair().pubkey()

    def ix(**kw):  # type: ignore[no-untyped-def]
        base = dict(payer=h.payer.pubkey(), upgrade_authority=h.payer.pubkey(), authority=auth, mint=mint,
                    treasury=treasury, fee_bps=FEE_BPS, max_workers=8, max_hours=720)
        overrides = kw.pop("overrides", None)
        base.update(kw)
        return esc.init_market(**base, overrides=overrides)

    def fails(instr: Instruction, name: str, *signers: Keypair) -> None:
        res = h.send([instr], signers)
        assert res.error is not None and getattr(res.error, "name", None) == name, f"{name}: {res.error}\n" + "\n".join(res.logs)

    fails(ix(fee_bps=10_001), "InvalidFee")
    fails(ix(max_workers=0), "InvalidMarketLimits")
    fails(ix(max_workers=65), "InvalidMarketLimits")
    fails(ix(max_hours=0), "InvalidMarketLimits")
    fails(ix(max_hours=87_601), "InvalidMarketLimits")
    fails(ix(authority=Pubkey.default()), "InvalidAuthority")
    fails(ix(treasury=foreign_treasury), "WrongMint")
    # A token account is not a mint (owner is Token, size is not 82).
    fails(ix(mint=treasury, overrides={"market": esc.market_address(treasury)}), "InvalidMint")
    # Someone who is not the upgrade authority cannot create (squat) a market.
    squatter = h.funded_keypair()
    fails(ix(upgrade_authority=squatter.pubkey()), "Unauthorized", squatter)
    # Upgrade authority must sign.
    fails(unsigned(ix(upgrade_authority=squatter.pubkey()), squatter.pubkey()), "AccountNotSigner")
    # A fake program-data account is refused.
    assert h.send([ix(overrides={"program_data": Keypair().pubkey()})]).error is not None
    # Boundary values are accepted.
    res = h.send([ix(fee_bps=10_000, max_workers=64, max_hours=87_600)])
    assert res.ok, res.logs


# -- open_job ------------------------------------------------------------------

async def test_open_job_locks_principal_plus_fee(env: Env, record_cu) -> None:
    before = env.balances()
    job, vault, res = env.open_job(job_id=7, record=record_cu)
    principal, fee = booking_cost(RATE, HOURS, 1, FEE_BPS)
    assert (principal, fee) == (7_500_000, 187_500)
    assert env.h.token_balance(vault) == principal + fee
    assert env.balances() == {**before, "customer": before["customer"] - principal - fee}
    vt = env.h.token_account(vault)
    assert (vt.owner, vt.mint) == (job, env.mint)

    j = env.h.fetch(env.prog, job, "Job")
    assert (j.market, j.customer, j.job_id, j.rate_per_hour, j.hours, j.fee_bps) == (
        env.market, env.customer.pubkey(), 7, RATE, HOURS, FEE_BPS)
    assert type(j.state).__name__ == "Open"
    assert j.start_ts == env.h.now()
    assert [(w.worker, w.hours_paid) for w in j.workers] == [(env.worker.pubkey(), 0)]
    assert (j.bump, j.vault_bump) == (pda.job_pda(env.prog.program_id, env.market, env.customer.pubkey(), 7)[1],
                                      pda.vault_pda(env.prog.program_id, job)[1])
    assert env.h.fetch(env.prog, env.market, "Market").job_count == 1

    (ev,) = res.events_named("JobOpened")
    assert (ev.market, ev.job, ev.customer, ev.job_id, ev.worker) == (env.market, job, env.customer.pubkey(), 7, env.worker.pubkey())
    assert (ev.rate_per_hour, ev.hours, ev.fee_bps, ev.principal, ev.fee, ev.start_ts) == (
        RATE, HOURS, FEE_BPS, principal, fee, env.h.now())


async def test_open_job_rejections(env: Env) -> None:
    def ix(**kw):  # type: ignore[no-untyped-def]
        base = dict(customer=env.customer.pubkey(), mint=env.mint, worker=env.worker.pubkey(),
                    customer_token=env.customer_token, job_id=1, rate_per_hour=RATE, hours=HOURS)
        overrides = kw.pop("overrides", None)
        base.update(kw)
        return env.esc.open_job(**base, overrides=overrides)

    env.fails(ix(rate_per_hour=0), env.customer, name="ZeroRate")
    env.fails(ix(hours=0), env.customer, name="ZeroHours")
    env.fails(ix(hours=721), env.customer, name="TooManyHours")
    env.fails(ix(rate_per_hour=2**64 - 1, hours=2), env.customer, name="MathOverflow")
    env.fails(ix(rate_per_hour=2**64 - 1, hours=1), env.customer, name="MathOverflow")  # fee pushes it over
    env.fails(ix(worker=Pubkey.default()), env.customer, name="InvalidWorker")
    job1 = env.esc.job_addresses(env.mint, env.customer.pubkey(), 1).job
    env.fails(ix(worker=job1), env.customer, name="InvalidWorker")
    # Substitutions: another mint, a token account of another mint, someone else's account.
    other_mint = env.h.create_mint(env.mint_auth)
    env.fails(ix(overrides={"mint": other_mint}), env.customer, name="WrongMint")
    foreign = env.h.create_token_account(other_mint, env.customer.pubkey())
    env.fails(ix(customer_token=foreign), env.customer, name="WrongMint")
    env.fails(ix(customer_token=env.worker_token), env.customer, name="WrongOwner")
    env.fails(ix(customer_token=env.mint), env.customer, name="InvalidTokenAccount")
    # Vault at a non-canonical address.
    env.fails(ix(overrides={"vault": Keypair().pubkey()}), env.customer, name="ConstraintSeeds")
    # The customer must sign.
    env.fails(unsigned(ix(), env.customer.pubkey()), name="AccountNotSigner")
    # Paused market: no new jobs.
    env.ok(env.esc.set_market_paused(authority=env.authority.pubkey(), mint=env.mint, paused=True), env.authority)
    env.fails(ix(), env.customer, name="Paused")
    env.ok(env.esc.set_market_paused(authority=env.authority.pubkey(), mint=env.mint, paused=False), env.authority)
    # Not enough tokens: the Token program's error, named from its table.
    err = env.fails(ix(rate_per_hour=10**9), env.customer, name="InsufficientFunds")
    assert err.code == 1
    # Nothing above moved money.
    assert env.h.token_balance(env.customer_token) == 1_000_000_000
    env.open_job(job_id=1)


# -- settle --------------------------------------------------------------------

async def test_settle_streams_hour_by_hour_exactly_once(env: Env, record_cu) -> None:
    job, vault, _ = env.open_job()
    principal, fee = booking_cost(RATE, HOURS, 1, FEE_BPS)
    start = env.balances()
    env.fails(env.settle_ix(job), name="NothingToSettle")
    env.h.warp_seconds(HOUR - 1)
    env.fails(env.settle_ix(job), name="NothingToSettle")  # an hour in progress is not earned
    paid_fee = 0
    for hour in range(1, HOURS + 1):
        env.h.set_unix_timestamp(env.h.fetch(env.prog, job, "Job").start_ts + hour * HOUR)
        res = env.ok(env.settle_ix(job), name="settle", record=record_cu)
        amount, hfee = settlement(RATE, FEE_BPS, hour - 1, 1)
        paid_fee += hfee
        (ev,) = res.events_named("HoursSettled")
        assert (ev.job, ev.worker, ev.hours, ev.hours_paid, ev.amount, ev.fee, ev.settled_ts) == (
            job, env.worker.pubkey(), 1, hour, amount, hfee, env.h.now())
        assert env.balances() == {"customer": start["customer"], "worker": start["worker"] + RATE * hour,
                                  "treasury": start["treasury"] + paid_fee}
        assert env.h.token_balance(vault) == principal + fee - RATE * hour - paid_fee
        # Replaying the crank at the same instant pays nothing.
        env.fails(env.settle_ix(job), name="NothingToSettle")
    assert paid_fee == fee
    assert env.h.token_balance(vault) == 0
    j = env.h.fetch(env.prog, job, "Job")
    assert type(j.state).__name__ == "Completed" and j.workers[0].hours_paid == HOURS
    env.h.warp_seconds(100 * HOUR)
    env.fails(env.settle_ix(job), name="NothingToSettle")  # never beyond the booking


async def test_settle_catches_up_several_hours_and_rounds_fee_up(env: Env) -> None:
    rate, hours = 333_333, 7
    job, vault, _ = env.open_job(job_id=3, rate=rate, hours=hours)
    principal, fee = booking_cost(rate, hours, 1, FEE_BPS)
    assert fee == fee_for(rate * hours, FEE_BPS) == 58_334  # 58_333.275 rounded up
    env.h.warp_seconds(3 * HOUR + 59)
    res = env.ok(env.settle_ix(job))
    (ev,) = res.events_named("HoursSettled")
    assert (ev.hours, ev.hours_paid, ev.amount, ev.fee) == (3, 3, 3 * rate, fee_for(3 * rate, FEE_BPS))
    env.h.warp_seconds(10 * HOUR)
    env.ok(env.settle_ix(job))
    b = env.balances()
    assert b["worker"] == principal
    assert b["treasury"] == fee
    assert env.h.token_balance(vault) == 0


async def test_settle_is_permissionless_and_rejects_substitutions(env: Env) -> None:
    job, vault, _ = env.open_job(job_id=1)
    env.h.warp_seconds(2 * HOUR)
    # Other accounts of the same customer/market to substitute.
    job2, vault2, _ = env.open_job(job_id=2)
    other_mint = env.h.create_mint(env.mint_auth)
    stranger = env.h.funded_keypair()
    stranger_token = env.h.create_token_account(env.mint, stranger.pubkey())
    foreign_worker_token = env.h.create_token_account(other_mint, env.worker.pubkey())

    env.fails(env.settle_ix(job, treasury=stranger_token), name="WrongTreasury")
    env.fails(env.settle_ix(job, worker_token=stranger_token), name="WrongOwner")
    env.fails(env.settle_ix(job, worker_token=foreign_worker_token), name="WrongMint")
    env.fails(env.settle_ix(job, worker_token=vault), name="WrongOwner")
    env.fails(env.settle_ix(job, vault=vault2), name="ConstraintSeeds")
    env.fails(env.settle_ix(job, worker_token=env.mint), name="InvalidTokenAccount")
    # A job of another market.
    m2_mint, _, m2_auth, m2_treasury, _ = make_market(env.h, env.esc)
    other_market = env.esc.market_address(m2_mint)
    env.fails(env.settle_ix(job, market=other_market, treasury=m2_treasury), name="WrongMarket")
    # A Market account passed as the job (type cosplay).
    env.fails(env.settle_ix(job, job=env.market), name="AccountDiscriminatorMismatch")
    # Settle works with the paused market and without any signer but the fee payer.
    env.ok(env.esc.set_market_paused(authority=env.authority.pubkey(), mint=env.mint, paused=True), env.authority)
    res = env.h.send([env.settle_ix(job)], payer=stranger)
    assert res.ok, res.logs
    assert env.h.token_balance(env.worker_token) == 2 * RATE
    assert env.h.token_balance(vault2) == sum(booking_cost(RATE, HOURS, 1, FEE_BPS))


# -- cancel --------------------------------------------------------------------

async def test_cancel_pays_earned_hours_and_refunds_the_rest(env: Env, record_cu) -> None:
    start = env.balances()
    job, vault, _ = env.open_job()
    principal, fee = booking_cost(RATE, HOURS, 1, FEE_BPS)
    env.h.warp_seconds(2 * HOUR + 1_800)  # 2.5 h: the half hour is not earned
    rent = env.h.lamports(job) + env.h.lamports(vault)
    lamports_before = env.h.lamports(env.customer.pubkey())
    res = env.ok(env.cancel_ix(job), env.customer, name="cancel", record=record_cu)
    earned_fee = fee_for(2 * RATE, FEE_BPS)
    refund = principal + fee - 2 * RATE - earned_fee
    assert env.balances() == {"customer": start["customer"] - 2 * RATE - earned_fee,
                              "worker": start["worker"] + 2 * RATE,
                              "treasury": start["treasury"] + earned_fee}
    # Job and vault are closed; their rent went back to the customer
    # (the fee payer is the harness payer, not the customer).
    assert env.h.account_data(job) is None and env.h.account_data(vault) is None
    assert env.h.lamports(env.customer.pubkey()) == lamports_before + rent
    (settled,) = res.events_named("HoursSettled")
    assert (settled.hours, settled.amount, settled.fee) == (2, 2 * RATE, earned_fee)
    (ev,) = res.events_named("JobCancelled")
    assert (ev.job, ev.customer, ev.refund, ev.hours_paid, ev.hours_booked) == (job, env.customer.pubkey(), refund, 2, HOURS)
    # Conservation: everything locked went somewhere.
    assert settled.amount + settled.fee + ev.refund == principal + fee


async def test_cancel_before_any_hour_refunds_everything(env: Env) -> None:
    start = env.balances()
    job, _, _ = env.open_job()
    res = env.ok(env.cancel_ix(job), env.customer)
    assert env.balances() == start
    assert res.events_named("HoursSettled") == []
    (ev,) = res.events_named("JobCancelled")
    assert ev.refund == sum(booking_cost(RATE, HOURS, 1, FEE_BPS))


async def test_cancel_after_completion_and_settle_after_cancel(env: Env) -> None:
    job, vault, _ = env.open_job()
    env.h.warp_seconds(HOURS * HOUR)
    env.ok(env.settle_ix(job))
    res = env.ok(env.cancel_ix(job), env.customer)
    (ev,) = res.events_named("JobCancelled")
    assert ev.refund == 0 and ev.hours_paid == HOURS
    # The job is gone: nothing can be settled or cancelled twice.
    assert env.h.send([env.settle_ix(job)]).error is not None
    assert env.h.send([env.cancel_ix(job)], [env.customer]).error is not None


async def test_cancel_rejections(env: Env) -> None:
    job, vault, _ = env.open_job(job_id=1)
    job2, vault2, _ = env.open_job(job_id=2)
    mallory = env.h.funded_keypair()
    mallory_token = env.h.create_token_account(env.mint, mallory.pubkey())
    env.fails(env.cancel_ix(job, customer=mallory, customer_token=mallory_token), mallory, name="Unauthorized")
    env.fails(unsigned(env.cancel_ix(job), env.customer.pubkey()), name="AccountNotSigner")
    env.fails(env.cancel_ix(job, customer_token=mallory_token), env.customer, name="WrongOwner")
    env.fails(env.cancel_ix(job, customer_token=vault), env.customer, name="WrongOwner")
    env.fails(env.cancel_ix(job, worker_token=mallory_token), env.customer, name="WrongOwner")
    env.fails(env.cancel_ix(job, treasury=mallory_token), env.customer, name="WrongTreasury")
    env.fails(env.cancel_ix(job, vault=vault2), env.customer, name="ConstraintSeeds")
    # Cancel still works while the market is paused.
    env.ok(env.esc.set_market_paused(authority=env.authority.pubkey(), mint=env.mint, paused=True), env.authority)
    env.ok(env.cancel_ix(job), env.customer)


# -- market administration -------------------------------------------------------

async def test_market_admin(env: Env, record_cu) -> None:
    a = env.authority
    mallory = env.h.funded_keypair()
    env.fails(env.esc.set_market_paused(authority=mallory.pubkey(), mint=env.mint, paused=True), mallory, name="Unauthorized")
    res = env.ok(env.esc.set_market_paused(authority=a.pubkey(), mint=env.mint, paused=True), a,
                 name="set_market_paused", record=record_cu)
    (ev,) = res.events_named("MarketPaused")
    assert (ev.market, ev.paused) == (env.market, True)
    assert env.h.fetch(env.prog, env.market, "Market").paused is True

    new_treasury = env.h.create_token_account(env.mint, a.pubkey())
    env.fails(env.esc.update_market(authority=a.pubkey(), mint=env.mint, treasury=new_treasury, fee_bps=10_001,
                                    max_workers=8, max_hours=10), a, name="InvalidFee")
    env.fails(env.esc.update_market(authority=mallory.pubkey(), mint=env.mint, treasury=new_treasury, fee_bps=1,
                                    max_workers=8, max_hours=10), mallory, name="Unauthorized")
    res = env.ok(env.esc.update_market(authority=a.pubkey(), mint=env.mint, treasury=new_treasury, fee_bps=100,
                                       max_workers=4, max_hours=10), a, name="update_market", record=record_cu)
    (ev,) = res.events_named("MarketUpdated")
    assert (ev.treasury, ev.fee_bps, ev.max_workers, ev.max_hours) == (new_treasury, 100, 4, 10)
    m = env.h.fetch(env.prog, env.market, "Market")
    assert (m.treasury, m.fee_bps, m.max_workers, m.max_hours) == (new_treasury, 100, 4, 10)

    env.fails(env.esc.set_market_authority(authority=a.pubkey(), mint=env.mint, new_authority=Pubkey.default()), a,
              name="InvalidAuthority")
    gov = Keypair()
    res = env.ok(env.esc.set_market_authority(authority=a.pubkey(), mint=env.mint, new_authority=gov.pubkey()), a,
                 name="set_market_authority", record=record_cu)
    (ev,) = res.events_named("AuthorityChanged")
    assert (ev.old_authority, ev.new_authority) == (a.pubkey(), gov.pubkey())
    env.fails(env.esc.set_market_paused(authority=a.pubkey(), mint=env.mint, paused=False), a, name="Unauthorized")


async def test_fee_snapshot_at_open(env: Env) -> None:
    """A later fee change does not reprice an open job."""
    job, vault, _ = env.open_job()
    env.ok(env.esc.update_market(authority=env.authority.pubkey(), mint=env.mint, treasury=env.treasury,
                                 fee_bps=5_000, max_workers=8, max_hours=720), env.authority)
    env.h.warp_seconds(HOURS * HOUR)
    env.ok(env.settle_ix(job))
    assert env.h.token_balance(env.treasury) == booking_cost(RATE, HOURS, 1, FEE_BPS)[1]


async def test_events_survive_log_truncation(env: Env) -> None:
    """emit_cpi! events are read from inner instructions, so they are still
    decoded when the logs are truncated."""
    job, _, _ = env.open_job()
    env.h.warp_seconds(HOUR)
    env.h.svm.with_log_bytes_limit(64)
    res = env.ok(env.settle_ix(job))
    assert any("Log truncated" in line for line in res.logs)
    (ev,) = res.events_named("HoursSettled")
    assert ev.source == "cpi" and ev.amount == RATE
