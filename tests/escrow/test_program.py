"""The real job_escrow program (target/deploy/job_escrow.so) on LiteSVM,
driven through instructions built from idl/job_escrow.json: market
administration, the oracle, and opening jobs. The lifecycle (accept, settle,
extend, quit, end, cancel, close) is in test_job_escrow_lifecycle.py.

Nothing is mocked: the program, the SPL Token program and the clock are the
real ones. Every rejection is checked by exact error name and code, and
that it moved no tokens; after every successful step the vault of every job
holds exactly what the job still owes (``Env.ok``).
"""

from __future__ import annotations

import pytest
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from tests.escrow.env import (FEE_BPS, HOUR, MAX_HOURS, MAX_WORKERS, RATES, Env, make_env, make_market, unsigned)
from iopay.core import pda
from iopay.escrow.state import JobView, MarketView, PriceFeedView
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import MAX_WORKERS_CAP, JobEscrow, booking_cost, fee_for, usd_to_tokens
from iopay.core.harness import Harness

U64_MAX = 2**64 - 1


@pytest.fixture
def env(escrow_harness: Harness, escrow_idl: ProgramIdl, record_cu) -> Env:
    return make_env(escrow_harness, escrow_idl, record_cu)


# -- init_market ---------------------------------------------------------------

async def test_init_market_state_and_event(escrow_harness: Harness, escrow_idl: ProgramIdl, record_cu) -> None:
    h = escrow_harness
    esc = JobEscrow(escrow_idl, fetch=h.account_data)
    m = make_market(h, esc)
    record_cu("init_market", m.init.compute_units)
    market = MarketView.decode(escrow_idl, m.address, h.account_data(m.address))
    assert (market.authority, market.mint, market.treasury) == (m.authority.pubkey(), m.mint, m.treasury)
    assert (market.fee_bps, market.max_workers, market.max_hours, market.paused, market.job_count) == (
        FEE_BPS, MAX_WORKERS, MAX_HOURS, False, 0)
    assert (market.oracle, market.max_staleness, market.max_conf_bps) == (None, 0, 0)
    assert h.fetch(escrow_idl, m.address, "Market").bump == pda.market_pda(escrow_idl.program_id, m.mint)[1]
    (ev,) = m.init.events_named("MarketInitialized")
    assert ev.source == "cpi"
    assert (ev.market, ev.authority, ev.mint, ev.treasury, ev.fee_bps, ev.max_workers, ev.max_hours) == (
        m.address, m.authority.pubkey(), m.mint, m.treasury, FEE_BPS, MAX_WORKERS, MAX_HOURS)
    # A market exists once per mint.
    again = esc.init_market(payer=h.payer.pubkey(), upgrade_authority=h.payer.pubkey(),
                            authority=m.authority.pubkey(), mint=m.mint, treasury=m.treasury, fee_bps=0,
                            max_workers=1, max_hours=1)
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
    fails(ix(max_workers=MAX_WORKERS_CAP + 1), "InvalidMarketLimits")
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
    res = h.send([ix(fee_bps=10_000, max_workers=MAX_WORKERS_CAP, max_hours=87_600)])
    assert res.ok, res.logs


# -- open_job ------------------------------------------------------------------

async def test_open_job_locks_every_workers_pay_plus_fee(env: Env) -> None:
    before = env.balances()
    env.jobs.add(env.esc.job_addresses(env.mint, env.customer.pubkey(), 7).job)
    res = env.ok(env.open_ix(job_id=7, hours=3), env.customer, name="open_job")
    job, vault = env.esc.job_addresses(env.mint, env.customer.pubkey(), 7).job, None
    vault = env.vault(job)
    principal, fee = booking_cost(RATES, 3, FEE_BPS)
    assert principal == 3 * sum(RATES) == 14_499_999
    # Fee per slot, each rounded up: 75_000 + 112_500 + 150_000 + ceil(24_999.975).
    assert fee == 362_500 == sum(fee_for(3 * r, FEE_BPS) for r in RATES)
    assert env.h.token_balance(vault) == principal + fee
    assert env.balances() == {**before, "customer": before["customer"] - principal - fee}
    vt = env.h.token_account(vault)
    assert (vt.owner, vt.mint) == (job, env.mint)

    j = env.job(job)
    assert (j.market, j.customer, j.job_id, j.hours, j.fee_bps, j.state) == (
        env.market, env.customer.pubkey(), 7, 3, FEE_BPS, "Open")
    assert (j.created_ts, j.ended_ts, j.usd_price, j.usd_expo) == (env.h.now(), 0, 0, 0)
    assert [(s.worker, s.rate_per_hour, s.hours, s.hours_paid, s.start_ts, s.status) for s in j.workers] == [
        (w.pubkey(), r, 3, 0, 0, "Pending") for w, r in zip(env.workers, RATES)]
    assert (j.bump, j.vault_bump) == (pda.job_pda(env.prog.program_id, env.market, env.customer.pubkey(), 7)[1],
                                      pda.vault_pda(env.prog.program_id, job)[1])
    assert env.h.fetch(env.prog, env.market, "Market").job_count == 1

    (ev,) = res.events_named("JobOpened")
    assert (ev.market, ev.job, ev.customer, ev.job_id, ev.hours, ev.fee_bps) == (
        env.market, job, env.customer.pubkey(), 7, 3, FEE_BPS)
    assert [(w.worker, w.rate_per_hour) for w in ev.workers] == [(w.pubkey(), r) for w, r in zip(env.workers, RATES)]
    assert (ev.principal, ev.fee, ev.usd_price, ev.usd_expo, ev.created_ts) == (principal, fee, 0, 0, env.h.now())


async def test_open_job_rejections(env: Env) -> None:
    c = env.customer
    w = [x.pubkey() for x in env.workers]
    env.fails(env.open_ix(rates=[1, 0]), c, name="ZeroRate")
    env.fails(env.open_ix(hours=0), c, name="ZeroHours")
    env.fails(env.open_ix(hours=MAX_HOURS + 1), c, name="TooManyHours")
    env.fails(env.open_ix(rates=[]), c, name="NoWorkers")
    env.fails(env.open_ix(rates=[1] * (MAX_WORKERS + 1), workers=[Keypair().pubkey() for _ in range(MAX_WORKERS + 1)]),
              c, name="TooManyWorkers")
    env.fails(env.open_ix(rates=[1, 2], workers=[w[0], w[0]]), c, name="DuplicateWorker")
    # Overflows: one slot's pay, the fee on top, the sum over workers.
    env.fails(env.open_ix(rates=[U64_MAX], hours=2), c, name="MathOverflow")
    env.fails(env.open_ix(rates=[U64_MAX], hours=1), c, name="MathOverflow")
    env.fails(env.open_ix(rates=[U64_MAX // 2, U64_MAX // 2], hours=1), c, name="MathOverflow")
    env.fails(env.open_ix(rates=[1], workers=[Pubkey.default()]), c, name="InvalidWorker")
    job1 = env.esc.job_addresses(env.mint, c.pubkey(), 1)
    env.fails(env.open_ix(rates=[1], workers=[job1.job]), c, name="InvalidWorker")
    env.fails(env.open_ix(rates=[1], workers=[job1.vault]), c, name="InvalidWorker")
    # Substitutions: another mint, a token account of another mint, someone else's account.
    other_mint = env.h.create_mint(env.m.mint_auth)
    env.fails(env.open_ix(overrides={"mint": other_mint}), c, name="WrongMint")
    foreign = env.h.create_token_account(other_mint, c.pubkey())
    env.fails(env.open_ix(customer_token=foreign), c, name="WrongMint")
    env.fails(env.open_ix(customer_token=env.worker_tokens[0]), c, name="WrongOwner")
    env.fails(env.open_ix(customer_token=env.mint), c, name="InvalidTokenAccount")
    # Vault or job at a non-canonical address.
    env.fails(env.open_ix(overrides={"vault": Keypair().pubkey()}), c, name="ConstraintSeeds")
    env.fails(env.open_ix(overrides={"job": Keypair().pubkey()}), c, name="ConstraintSeeds")
    # Another market's account as the market.
    m2 = make_market(env.h, env.esc)
    a2 = env.esc.job_addresses(m2.mint, c.pubkey(), 1)
    env.fails(env.open_ix(overrides={"market": m2.address, "job": a2.job, "vault": a2.vault}), c, name="WrongMint")
    # The customer must sign.
    env.fails(unsigned(env.open_ix(), c.pubkey()), name="AccountNotSigner")
    # Paused market: no new jobs.
    env.pause(True)
    env.fails(env.open_ix(), c, name="Paused")
    env.pause(False)
    # Not enough tokens: the Token program's error, named from its table.
    err = env.fails(env.open_ix(rates=[10**12]), c, name="InsufficientFunds")
    assert err.code == 1
    # A job id cannot be reused while the job exists.
    env.open(job_id=1)
    res = env.h.send([env.open_ix(job_id=1)], [c])
    assert res.error is not None


async def test_open_job_with_the_max_workers(env: Env) -> None:
    workers = [Keypair().pubkey() for _ in range(MAX_WORKERS)]
    job = env.esc.job_addresses(env.mint, env.customer.pubkey(), 9).job
    env.jobs.add(job)
    env.ok(env.open_ix(job_id=9, rates=list(range(1, MAX_WORKERS + 1)), workers=workers), env.customer)
    assert [s.worker for s in env.job(job).workers] == workers


# -- market administration -------------------------------------------------------

async def test_market_admin(env: Env, record_cu) -> None:
    a = env.authority
    mallory = env.h.funded_keypair()
    env.fails(env.esc.set_market_paused(authority=mallory.pubkey(), mint=env.mint, paused=True), mallory, name="Unauthorized")
    env.fails(unsigned(env.esc.set_market_paused(authority=a.pubkey(), mint=env.mint, paused=True), a.pubkey()),
              name="AccountNotSigner")
    res = env.ok(env.esc.set_market_paused(authority=a.pubkey(), mint=env.mint, paused=True), a, name="set_market_paused")
    (ev,) = res.events_named("MarketPaused")
    assert (ev.market, ev.paused) == (env.market, True)
    assert env.h.fetch(env.prog, env.market, "Market").paused is True

    new_treasury = env.h.create_token_account(env.mint, a.pubkey())
    foreign = env.h.create_token_account(env.h.create_mint(), a.pubkey())
    upd = dict(authority=a.pubkey(), mint=env.mint, treasury=new_treasury, fee_bps=100, max_workers=4, max_hours=10)
    env.fails(env.esc.update_market(**{**upd, "fee_bps": 10_001}), a, name="InvalidFee")
    env.fails(env.esc.update_market(**{**upd, "max_workers": 0}), a, name="InvalidMarketLimits")
    env.fails(env.esc.update_market(**{**upd, "treasury": foreign}), a, name="WrongMint")
    env.fails(env.esc.update_market(**{**upd, "authority": mallory.pubkey()}), mallory, name="Unauthorized")
    res = env.ok(env.esc.update_market(**upd), a, name="update_market")
    (ev,) = res.events_named("MarketUpdated")
    assert (ev.treasury, ev.fee_bps, ev.max_workers, ev.max_hours) == (new_treasury, 100, 4, 10)
    m = env.h.fetch(env.prog, env.market, "Market")
    assert (m.treasury, m.fee_bps, m.max_workers, m.max_hours) == (new_treasury, 100, 4, 10)

    env.fails(env.esc.set_market_authority(authority=a.pubkey(), mint=env.mint, new_authority=Pubkey.default()), a,
              name="InvalidAuthority")
    env.fails(env.esc.set_market_authority(authority=mallory.pubkey(), mint=env.mint, new_authority=mallory.pubkey()),
              mallory, name="Unauthorized")
    # Proposing a PDA (e.g. a governance program's) needs no signature from it;
    # it takes over only once it signs accept_market_authority.
    gov_pda = Pubkey.find_program_address([b"governance"], Keypair().pubkey())[0]
    res = env.ok(env.esc.set_market_authority(authority=a.pubkey(), mint=env.mint, new_authority=gov_pda), a,
                 name="set_market_authority")
    (ev,) = res.events_named("AuthorityProposed")
    assert (ev.authority, ev.proposed) == (a.pubkey(), gov_pda)
    market = env.h.fetch(env.prog, env.market, "Market")
    assert (market.authority, market.pending_authority) == (a.pubkey(), gov_pda)
    env.ok(env.esc.set_market_paused(authority=a.pubkey(), mint=env.mint, paused=False), a)


async def test_fee_snapshot_at_open(env: Env) -> None:
    """A later fee change does not reprice an open job."""
    job = env.open(hours=2, rates=RATES[:1], accept=True)
    env.ok(env.esc.update_market(authority=env.authority.pubkey(), mint=env.mint, treasury=env.treasury,
                                 fee_bps=5_000, max_workers=8, max_hours=720), env.authority)
    env.h.warp_seconds(2 * HOUR)
    env.ok(env.settle_ix(job))
    assert env.job(job).fees_accrued == booking_cost(RATES[:1], 2, FEE_BPS)[1]


async def test_events_survive_log_truncation(env: Env) -> None:
    """emit_cpi! events are read from inner instructions, so they are still
    decoded when the logs are truncated."""
    job = env.open(accept=True)
    env.h.warp_seconds(HOUR)
    env.h.svm.with_log_bytes_limit(64)
    res = env.ok(env.settle_ix(job))
    assert any("Log truncated" in line for line in res.logs)
    (ev,) = res.events_named("HoursSettled")
    assert ev.source == "cpi" and [p.amount for p in ev.paid] == RATES


# -- oracle ----------------------------------------------------------------------------

PRICE, CONF, EXPO = 25_000_000, 100_000, -8  # 0.25 USD per token, +- 0.001 (0.4%)


def init_oracle(env: Env, max_staleness: int = 120, max_conf_bps: int = 100):
    a = env.authority
    return env.ok(env.esc.init_price_feed(payer=env.h.payer.pubkey(), authority=a.pubkey(), mint=env.mint,
                                          max_staleness=max_staleness, max_conf_bps=max_conf_bps), a,
                  name="init_price_feed")


def set_price(env: Env, price: int = PRICE, conf: int = CONF, expo: int = EXPO, publish_time=None, signer=None):
    a = signer or env.authority
    ix = env.esc.set_price(authority=a.pubkey(), mint=env.mint, price=price, conf=conf, expo=expo,
                           publish_time=env.h.now() if publish_time is None else publish_time)
    return ix, a


async def test_oracle_admin(env: Env) -> None:
    a, mallory = env.authority, env.h.funded_keypair()
    feed = env.esc.price_feed_address(env.mint)
    ix = lambda **kw: env.esc.init_price_feed(**{"payer": env.h.payer.pubkey(), "authority": a.pubkey(),  # noqa: E731
                                               "mint": env.mint, "max_staleness": 60, "max_conf_bps": 100, **kw})
    env.fails(ix(max_staleness=0), a, name="InvalidOracleLimits")
    env.fails(ix(max_conf_bps=0), a, name="InvalidOracleLimits")
    env.fails(ix(max_conf_bps=10_001), a, name="InvalidOracleLimits")
    env.fails(ix(authority=mallory.pubkey()), mallory, name="Unauthorized")
    env.fails(ix(overrides={"price_feed": Keypair().pubkey()}), a, name="ConstraintSeeds")
    # No oracle yet: limits cannot be set.
    env.fails(env.esc.set_oracle_limits(authority=a.pubkey(), mint=env.mint, max_staleness=1, max_conf_bps=1), a,
              name="OracleRequired")
    res = init_oracle(env, 60, 100)
    (ev,) = res.events_named("OracleConfigured")
    assert (ev.market, ev.price_feed, ev.max_staleness, ev.max_conf_bps) == (env.market, feed, 60, 100)
    m = MarketView.decode(env.prog, env.market, env.h.account_data(env.market))
    assert (m.oracle, m.max_staleness, m.max_conf_bps) == (feed, 60, 100)

    env.fails(env.esc.set_oracle_limits(authority=mallory.pubkey(), mint=env.mint, max_staleness=1, max_conf_bps=1),
              mallory, name="Unauthorized")
    env.fails(env.esc.set_oracle_limits(authority=a.pubkey(), mint=env.mint, max_staleness=0, max_conf_bps=1), a,
              name="InvalidOracleLimits")
    res = env.ok(env.esc.set_oracle_limits(authority=a.pubkey(), mint=env.mint, max_staleness=300, max_conf_bps=50), a,
                 name="set_oracle_limits")
    assert res.events_named("OracleConfigured")[0].max_staleness == 300

    # set_price: authority only, sane values, monotonic publish times not in the future.
    ix, _ = set_price(env, signer=mallory)
    env.fails(ix, mallory, name="Unauthorized")
    for bad in (dict(price=0), dict(price=-1), dict(expo=-19), dict(expo=19)):
        ix, s = set_price(env, **bad)
        env.fails(ix, s, name="InvalidPrice")
    ix, s = set_price(env, publish_time=env.h.now() + 1)
    env.fails(ix, s, name="InvalidPublishTime")
    ix, s = set_price(env, publish_time=env.h.now() - 10)
    res = env.ok(ix, s, name="set_price")
    (ev,) = res.events_named("PriceUpdated")
    assert (ev.market, ev.price_feed, ev.price, ev.conf, ev.expo, ev.publish_time) == (
        env.market, feed, PRICE, CONF, EXPO, env.h.now() - 10)
    ix, s = set_price(env, publish_time=env.h.now() - 11)
    env.fails(ix, s, name="InvalidPublishTime")
    f = PriceFeedView.decode(env.prog, feed, env.h.account_data(feed))
    assert (f.market, f.price, f.conf, f.expo, f.publish_time) == (env.market, PRICE, CONF, EXPO, env.h.now() - 10)


async def test_usd_priced_job_converts_with_the_oracle(env: Env) -> None:
    init_oracle(env, max_staleness=120, max_conf_bps=100)
    ix, s = set_price(env)
    env.ok(ix, s)
    usd_rates = [2_000_000, 1_000_001, 333_333]  # micro-USD per hour: 2 USD, 1.000001 USD, 0.333333 USD
    job = env.esc.job_addresses(env.mint, env.customer.pubkey(), 1).job
    env.jobs.add(job)
    res = env.ok(env.open_ix(rates=usd_rates, usd=True, hours=2), env.customer, name="open_job_usd")
    # At 0.25 USD per token: x4, rounded up to the base unit.
    rates = [usd_to_tokens(r, PRICE, EXPO, 6) for r in usd_rates]
    assert rates == [8_000_000, 4_000_004, 1_333_332]
    j = env.job(job)
    assert [(s.rate_per_hour, s.usd_rate_per_hour) for s in j.workers] == list(zip(rates, usd_rates))
    assert (j.usd_price, j.usd_expo) == (PRICE, EXPO)
    (ev,) = res.events_named("JobOpened")
    assert [w.rate_per_hour for w in ev.workers] == rates and (ev.usd_price, ev.usd_expo) == (PRICE, EXPO)
    assert env.h.token_balance(env.vault(job)) == sum(booking_cost(rates, 2, FEE_BPS))
    # Rounding is against the customer: 1 micro-USD at 0.3 USD = 3.33.. base units -> 4.
    assert usd_to_tokens(1, 30_000_000, -8, 6) == 4


async def test_usd_priced_job_rejections(env: Env) -> None:
    c = env.customer
    usd = dict(rates=[2_000_000], usd=True)
    # Market without an oracle: no feed to pass, or some account that is not it.
    env.fails(env.open_ix(**usd, price_feed=env.esc.program_id), c, name="OracleRequired")
    init_oracle(env, max_staleness=120, max_conf_bps=100)
    ix, s = set_price(env)
    env.ok(ix, s)
    env.fails(env.open_ix(**usd, price_feed=env.esc.program_id), c, name="OracleRequired")
    # Another market's feed (substitution).
    other = make_env(env.h, env.prog)
    init_oracle(other)
    ix, s = set_price(other)
    other.ok(ix, s)
    env.fails(env.open_ix(**usd, price_feed=other.esc.price_feed_address(other.mint)), c, name="WrongOracle")
    # Stale: published 121 s ago with a 120 s limit.
    env.h.warp_seconds(121)
    env.fails(env.open_ix(**usd), c, name="StalePrice")
    # Too uncertain: conf 1.01% with a 1% limit.
    ix, s = set_price(env, conf=PRICE // 100 + PRICE // 10_000)
    env.ok(ix, s)
    env.fails(env.open_ix(**usd), c, name="PriceTooUncertain")
    # Exactly at the limits is accepted.
    ix, s = set_price(env, conf=PRICE // 100, publish_time=env.h.now())
    env.ok(ix, s)
    env.h.warp_seconds(120)
    job = env.esc.job_addresses(env.mint, c.pubkey(), 1).job
    env.jobs.add(job)
    env.ok(env.open_ix(**usd), c)
    # Overflow of the conversion: u64::MAX micro-USD cannot be paid.
    ix, s = set_price(env, price=1, conf=0, expo=-18, publish_time=env.h.now())
    env.ok(ix, s)
    env.fails(env.open_ix(job_id=2, rates=[U64_MAX], usd=True), c, name="MathOverflow")
    # A feed without any price yet (price 0) is refused.
    fresh = make_env(env.h, env.prog)
    init_oracle(fresh)
    fresh.fails(fresh.open_ix(**usd), fresh.customer, name="InvalidPrice")


async def test_market_without_oracle_rejects_even_a_real_feed_account(env: Env) -> None:
    """The market's `oracle` is the default key until init_price_feed: any
    feed passed is the wrong one."""
    other = make_env(env.h, env.prog)
    init_oracle(other)
    env.fails(env.open_ix(rates=[1], usd=True, price_feed=other.esc.price_feed_address(other.mint)), env.customer,
              name="WrongOracle")
