"""Must-show: an epoch of 10,000 workers whose job hours all come from real
settlement events of jobs run on the compiled job_escrow in LiteSVM (770
jobs: 769 of 13 workers, the most a job may have (MAX_WORKERS_CAP), and one of
3; every worker accepted and paid by ``settle``), plus
an inputs file; computed, published on the compiled rewards program, claimed
by a sample of workers, then clawed back: claimed + clawed back == pool.

Nothing is synthesised: every worker's hours are read from the
``HoursSettled`` events of the transactions (one batched event per
``settle``, a payout per worker). Only the workers' empty token
accounts are written directly (``set_account`` with the SPL layout) instead
of 10,000 create-account transactions.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

from solders.account import Account
from solders.compute_budget import set_compute_unit_limit
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import Transaction
from solders.transaction_metadata import FailedTransactionMetadata

from iopay.core import spl
from iopay.core.harness import Harness
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import JobEscrow, booking_cost
from iopay.rewards.client import RewardsClient
from iopay.rewards.epoch import compute_epoch
from iopay.rewards.hours import hours_from_events
from iopay.rewards.points import RewardsConfig, read_inputs
from tests.escrow.env import FEE_BPS, make_market
from tests.rewards.env import DAY, load_rewards

N_WORKERS = 10_000
# job_escrow's MAX_WORKERS_CAP: the most workers a job (and a market's max_workers) may have.
PER_JOB = 13
#: workers per job: as many full jobs as fit, the remainder in a last, smaller one
JOB_SIZES = [PER_JOB] * (N_WORKERS // PER_JOB) + ([N_WORKERS % PER_JOB] if N_WORKERS % PER_JOB else [])
# Per transaction: accept 8 signers (payer + 8 signatures fit 1,232 bytes).
ACCEPTS_PER_TX = 8


def job_hours_of(j: int) -> int:
    """Hours booked by job ``j``: 1, 2 or 3, so workers' points differ."""
    return 1 + j % 3


#: job index of each worker, in order
JOB_OF = [j for j, n in enumerate(JOB_SIZES) for _ in range(n)]
POOL = 1_000_000 * 10**6  # 1M tokens, 6 decimals


def token_account_bytes(mint: Pubkey, owner: Pubkey) -> bytes:
    d = bytearray(spl.ACCOUNT_LEN)
    d[0:32] = bytes(mint)
    d[32:64] = bytes(owner)
    d[108] = 1  # initialized
    return bytes(d)


def send_quiet(h: Harness, ixs, signers) -> None:
    """Send without decoding events (opens and accepts: only the settlement
    events matter here, and decoding 10,000 of each would dominate the test)."""
    msg = Message.new_with_blockhash(list(ixs), h.payer.pubkey(), h.svm.latest_blockhash())
    res = h.svm.send_transaction(Transaction([h.payer, *signers], msg, h.svm.latest_blockhash()))
    h.svm.expire_blockhash()
    assert not isinstance(res, FailedTransactionMetadata), res


def run_jobs(h: Harness, esc: JobEscrow):
    """10,000 workers in jobs of at most 13 on the compiled escrow; returns
    workers, the settlement events and the market."""
    m = make_market(h, esc, max_workers=PER_JOB)
    customer = h.funded_keypair(100)
    ctok = h.create_token_account(m.mint, customer.pubkey())
    h.mint_to(m.mint, ctok, 10**15, m.mint_auth)
    rng = random.Random(10_000)
    workers = [Keypair.from_seed(rng.randbytes(32)) for _ in range(N_WORKERS)]
    rent = h.svm.minimum_balance_for_rent_exemption(spl.ACCOUNT_LEN)
    tokens = {}
    for w in workers:
        t = Keypair.from_seed(rng.randbytes(32)).pubkey()
        h.set_account(t, Account(rent, token_account_bytes(m.mint, w.pubkey()), spl.TOKEN_PROGRAM_ID, False, 0))
        tokens[w.pubkey()] = t
    jobs = []
    first = 0
    for j, n in enumerate(JOB_SIZES):
        ws = workers[first:first + n]
        first += n
        hours = job_hours_of(j)
        terms = [(w.pubkey(), 1_000_000 + 1000 * (j % 7)) for w in ws]
        principal, fee = booking_cost([r for _, r in terms], hours, FEE_BPS)
        ix = esc.open_job(customer=customer.pubkey(), mint=m.mint, customer_token=ctok, job_id=j, hours=hours,
                          workers=terms, max_total=principal + fee)
        send_quiet(h, [ix], [customer])
        job = esc.job_addresses(m.mint, customer.pubkey(), j).job
        for k in range(0, n, ACCEPTS_PER_TX):
            group = ws[k:k + ACCEPTS_PER_TX]
            send_quiet(h, [esc.accept(worker=w.pubkey(), job=job) for w in group], group)
        jobs.append((job, ws))
    h.warp_seconds(3 * 3600 + 60)
    events = []
    for job, ws in jobs:
        ix = esc.settle(job=job, payees=[(i, tokens[w.pubkey()]) for i, w in enumerate(ws)])
        res = h.send_ok([set_compute_unit_limit(1_400_000), ix])
        (batch,) = res.events_named("HoursSettled")  # one event for the whole job
        assert [p.worker for p in batch.paid] == [w.pubkey() for w in ws] and len(batch.skipped) == 0
        events.extend(res.events)
    return workers, events, m


def write_inputs(path, workers, config) -> None:
    rng = random.Random(7)
    gpus = sorted(config.gpu_tiers)
    lines = ["wallet,gpu_model,download_mbps,upload_mbps,uptime_bps"]
    for w in workers:
        lines.append(f"{w.pubkey()},{rng.choice(gpus)},{rng.randint(0, 1500)},{rng.randint(0, 1500)},"
                     f"{rng.randint(3000, 10_000)}")
    path.write_text("\n".join(lines) + "\n")


def test_epoch_of_10000_workers_from_real_escrow_events(tmp_path):
    t0 = time.perf_counter()
    h = Harness()
    esc_idl = ProgramIdl.load("job_escrow")
    h.load_program(esc_idl)
    load_rewards(h)
    workers, events, m = run_jobs(h, JobEscrow(esc_idl))
    t_jobs = time.perf_counter() - t0

    config = RewardsConfig.load()
    start, end = config.epoch_range(0)
    hours = hours_from_events(events, start, end)
    # Every worker was paid its booked hours by real settlements.
    assert len(JOB_SIZES) == 770 and max(JOB_SIZES) == 13 and len(hours) == N_WORKERS == 10_000
    assert Counter(hours.values()) == Counter(job_hours_of(JOB_OF[i]) for i in range(N_WORKERS))
    assert all(hours[w.pubkey()] == job_hours_of(JOB_OF[i]) for i, w in enumerate(workers))
    # Events outside the epoch's range do not count.
    assert hours_from_events(events, end, end + config.epoch_seconds) == {}

    inputs_path = tmp_path / "inputs.csv"
    write_inputs(inputs_path, workers, config)
    inputs = read_inputs(inputs_path, config)
    r = compute_epoch(0, inputs, hours, POOL, config)
    assert sum(r.amounts.values()) == POOL and len(r.leaves) == 10_000 and r.tree.depth == 14
    # Byte for byte again from the same inputs.
    assert compute_epoch(0, read_inputs(inputs_path, config), hours_from_events(events, start, end), POOL,
                         config).to_json() == r.to_json()

    # Hand computation of one worker from its row: (100*h + uptime) * gpu% * band%.
    w = workers[4321]
    row = next(line for line in inputs_path.read_text().splitlines() if line.startswith(str(w.pubkey())))
    _, gpu, down, up, uptime = row.split(",")
    down, up, uptime = int(down), int(up), int(uptime)
    job_hours = job_hours_of(JOB_OF[4321])
    gpu_pct = config.gpu_tiers[gpu]
    band_pct = (125 if down >= 1000 and up >= 1000 else 110 if down >= 500 and up >= 250
                else 100 if down >= 100 and up >= 50 else 90)
    uptime_term = uptime if uptime >= 5000 else 0
    pts = (100 * job_hours + uptime_term) * gpu_pct * band_pct
    assert r.points_of(w.pubkey()).points == pts
    floor = POOL * pts // r.total_points
    assert r.amounts[w.pubkey()] in (floor, floor + 1)
    # and the remainder rule decides which: +1 iff its fractional part ranks among the top `remainder`.
    remainder = POOL - sum(POOL * p.points // r.total_points for p in r.workers)
    fracs = sorted(((-(POOL * p.points % r.total_points), bytes(p.wallet)) for p in r.workers))
    gets_one = (-(POOL * pts % r.total_points), bytes(w.pubkey())) in fracs[:remainder]
    assert r.amounts[w.pubkey()] == floor + gets_one

    # Publish, claim a sample, claw back.
    async def chain_part():
        rc = RewardsClient.for_harness(h)
        creator = h.funded_keypair(10)
        ctok = h.create_token_account(m.mint, creator.pubkey())
        h.mint_to(m.mint, ctok, POOL, m.mint_auth)
        pub = await rc.publish(r, creator=creator, mint=m.mint, treasury=m.treasury,
                               claim_deadline=h.now() + 7 * DAY, creator_token=ctok)
        fixed = (0, 1, 4321, 5000, 9999)
        rest = [wk for i, wk in enumerate(workers) if i not in fixed]
        sample = [workers[i] for i in fixed] + random.Random(3).sample(rest, 15)
        claimed = 0
        for wk in sample:
            sent = await rc.claim(wk, pub.distributor, r)
            amount = r.amounts[wk.pubkey()]
            ata = spl.associated_token_address(wk.pubkey(), m.mint)
            assert h.token_balance(ata) == amount
            assert sent.events_named("Claimed")[0].amount == amount
            claimed += amount
        st = await rc.status(pub.distributor, sample[0].pubkey(), r)
        assert st.leaf_claimed and st.distributor.claimed == claimed and st.distributor.num_claimed == len(sample)
        treasury_before = h.token_balance(m.treasury)
        h.warp_seconds(7 * DAY + 1)
        sent = await rc.clawback(pub.distributor)
        clawed = sent.events_named("ClawedBack")[0].amount
        assert claimed + clawed == POOL
        assert h.token_balance(m.treasury) - treasury_before == POOL - claimed
        assert h.token_balance(pub.vault) == 0

    asyncio.run(chain_part())
    print(f"\n10k epoch: jobs+settlements {t_jobs:.1f}s, total {time.perf_counter() - t0:.1f}s")
