"""Randomized sequences on the compiled job_escrow against an independent
model of its rules, written here from the rules in
programs/job_escrow/README.md (not the SDK's math, which mirrors the
program's code).

Each sequence opens a job (random fee, 1..3 workers, 1..5 hours, rates
from 1 to near ``u64::MAX / hours``, random accept window and ``max_total``)
and runs random accept / settle / extend / quit / release / end / cancel /
close / sweep steps over warped time: hour boundaries of a running slot
+-1 s, odd seconds, long jumps, and the clock moved back. The model says
what every step must do (or the exact error it must fail with); after every
step every balance (customer, each worker, vault, fee vault, treasury) and
every slot field is compared with the model, and the vault must hold
exactly what the model says is owed.

``ESCROW_MODEL_SEQUENCES`` (default 1000) and ``ESCROW_MODEL_SEED`` set the
run; a failure prints the seed and the steps so far.
"""

from __future__ import annotations

import os
import random
import struct
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import pytest
from solders.account import Account
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.core.harness import Harness
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import JobEscrow

SEQUENCES = int(os.environ.get("ESCROW_MODEL_SEQUENCES", "1000"))
SEED = int(os.environ.get("ESCROW_MODEL_SEED", "1128"))
U64 = 2**64 - 1
H = 3_600
MAX_HOURS = 12
N_WORKERS = 3
FEES = [0, 1, 250, 3_333, 9_999, 10_000]


class Fail(Exception):
    """The model expects the step to fail with error ``name``."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


# -- the model --------------------------------------------------------------------------

def fee(x: int, bps: int) -> int:
    """The protocol fee on cumulative pay ``x``: rounded up, charged on top."""
    return -(-x * bps // 10_000)


@dataclass
class Slot:
    rate: int
    hours: int
    paid: int = 0
    start: int = 0
    status: str = "Pending"
    tail_secs: int = 0
    tail_pay: int = 0
    tail_paid: bool = False

    def booked(self) -> int:
        return self.rate * self.hours + self.tail_pay

    def paid_amount(self) -> int:
        return self.rate * self.paid + (self.tail_pay if self.tail_paid else 0)


@dataclass
class Model:
    fee_bps: int
    slots: List[Slot]
    deadline: int
    state: str = "Open"
    fees: int = 0
    hours: int = 0
    # balances
    customer: int = U64
    workers: List[int] = field(default_factory=lambda: [0] * N_WORKERS)
    vault: int = 0
    fee_vault: int = 0
    treasury: int = 0
    closed: bool = False

    def cost(self, lo: int, hi: int) -> Tuple[int, int]:
        """Pay and fee between two points of a slot's cumulative pay."""
        return hi - lo, fee(hi, self.fee_bps) - fee(lo, self.fee_bps)

    def owed(self) -> int:
        return self.fees + sum(sum(self.cost(s.paid_amount(), s.booked())) for s in self.slots)

    def finished(self, s: Slot) -> bool:
        return self.state == "Ended" or s.status not in ("Pending", "Active")

    def move(self, amount: int, frm: str, to: str, index: Optional[int] = None) -> None:
        if frm == "vault":
            assert self.vault >= amount, "model: vault underflow"
            self.vault -= amount
        if to == "worker":
            self.workers[index] += amount
        else:
            setattr(self, to, getattr(self, to) + amount)

    # -- the rules --
    def pay_due(self, i: int, now: int) -> bool:
        """settle's rule for one slot: whole hours while it runs, everything
        (the cut tail too) once it is finished. True if anything was paid."""
        s = self.slots[i]
        tail = False
        if self.finished(s):
            hours = s.hours - s.paid
            tail = s.tail_secs > 0 and not s.tail_paid
        elif s.status == "Active":
            earned = min(s.hours, max(0, now - s.start) // H)
            hours = max(0, earned - s.paid)
        else:
            hours = 0
        if hours == 0 and not tail:
            return False
        before = s.paid_amount()
        s.paid += hours
        s.tail_paid = s.tail_paid or tail
        pay, f = self.cost(before, s.paid_amount())
        self.fees += f
        self.move(pay, "vault", "worker", i)
        return True

    def cut(self, i: int, now: int, round_up: bool) -> int:
        """Cut a running slot to its earned time (never below what was paid);
        returns the refund (unearned pay + fee)."""
        s = self.slots[i]
        if self.finished(s):
            return 0
        if s.status == "Pending":
            hours, secs = 0, 0
        else:
            elapsed = max(0, now - s.start)
            whole, secs = divmod(elapsed, H)
            if whole >= s.hours:
                return 0
            if whole < s.paid:
                hours, secs = s.paid, 0
            else:
                hours = whole
        before = s.booked()
        s.hours, s.tail_secs = hours, secs
        num = s.rate * secs
        s.tail_pay = -(-num // H) if round_up else num // H
        assert s.paid <= s.hours
        return sum(self.cost(s.booked(), before))

    def refund(self, amount: int) -> None:
        self.move(amount, "vault", "customer")


# -- the chain ---------------------------------------------------------------------------

@dataclass
class MarketFixture:
    fee_bps: int
    mint: Pubkey
    treasury: Pubkey
    fee_vault: Pubkey
    customer_token: Pubkey
    worker_tokens: List[Pubkey]


class Runner:
    def __init__(self, h: Harness, prog: ProgramIdl) -> None:
        self.h, self.prog = h, prog
        self.esc = JobEscrow(prog, fetch=h.account_data)
        self.customer = h.funded_keypair(1_000)
        self.workers = [h.funded_keypair() for _ in range(N_WORKERS)]
        self.authority = h.funded_keypair()
        self.markets = [self._market(f) for f in FEES]
        self.job_id = 0

    def _market(self, fee_bps: int) -> MarketFixture:
        h = self.h
        mint_auth = Keypair()
        mint = h.create_mint(mint_auth, 6, freeze=mint_auth.pubkey())
        treasury = h.create_token_account(mint, self.authority.pubkey())
        h.send_ok([self.esc.init_market(payer=h.payer.pubkey(), upgrade_authority=h.payer.pubkey(),
                                        authority=self.authority.pubkey(), mint=mint, treasury=treasury,
                                        fee_bps=fee_bps, max_workers=N_WORKERS, max_hours=MAX_HOURS)])
        return MarketFixture(fee_bps, mint, treasury, self.esc.fee_vault_address(mint),
                             h.create_token_account(mint, self.customer.pubkey()),
                             [h.create_ata(mint, w.pubkey()) for w in self.workers])

    def set_balance(self, token_account: Pubkey, amount: int) -> None:
        """Test setup only: start every sequence from known balances."""
        acc = self.h.account(token_account)
        data = bytearray(acc.data)
        data[64:72] = amount.to_bytes(8, "little")
        self.h.set_account(token_account, Account(acc.lamports, bytes(data), acc.owner, acc.executable,
                                                  acc.rent_epoch))

    def balance(self, token_account: Pubkey) -> Optional[int]:
        return self.h.token_balance(token_account) if self.h.account_data(token_account) is not None else None


STATUSES = ("Pending", "Active", "Quit", "Declined", "Released", "Lapsed")
JOB_HEAD = struct.Struct("<8x32x32xQBHIqqqiBBqQ16xI")
SLOT = struct.Struct("<32xQQIIqBHQ?")


def decode_job(data: bytes) -> Tuple[str, int, int, list]:
    """The Job account read by hand from its documented layout (not the IDL decoder)."""
    (_, state, _, hours, _, _, _, _, _, _, _, fees, n) = JOB_HEAD.unpack_from(data, 0)
    slots = []
    for k in range(n):
        rate, _, h, paid, start, status, tail_secs, tail_pay, tail_paid = SLOT.unpack_from(
            data, JOB_HEAD.size + k * SLOT.size)
        slots.append((rate, h, paid, start, STATUSES[status], tail_secs, tail_pay, tail_paid))
    return ("Open", "Ended")[state], hours, fees, slots


def check(r: Runner, m: MarketFixture, model: Model, job: Pubkey) -> None:
    h = r.h
    vault = r.esc.vault_address(job)
    got = {"customer": h.token_balance(m.customer_token), "treasury": h.token_balance(m.treasury),
           "fee_vault": h.token_balance(m.fee_vault), "vault": r.balance(vault),
           "workers": [h.token_balance(t) for t in m.worker_tokens]}
    want = {"customer": model.customer, "treasury": model.treasury, "fee_vault": model.fee_vault,
            "vault": None if model.closed else model.vault, "workers": model.workers}
    assert got == want
    data = h.account_data(job)
    if model.closed:
        assert data is None
        return
    state, hours, fees, got_slots = decode_job(data)
    assert (state, fees, hours) == (model.state, model.fees, model.hours)
    want_slots = [(s.rate, s.hours, s.paid, s.start, s.status, s.tail_secs, s.tail_pay, s.tail_paid)
                  for s in model.slots]
    assert got_slots == want_slots
    assert model.vault == model.owed(), "model: vault != owed"


def run_sequence(r: Runner, rng: random.Random, log: List[str]) -> None:
    h, esc = r.h, r.esc
    m = rng.choice(r.markets)
    for t in [m.treasury, m.fee_vault, *m.worker_tokens]:
        r.set_balance(t, 0)
    r.set_balance(m.customer_token, U64)
    r.job_id += 1
    jid = r.job_id
    job = esc.job_addresses(m.mint, r.customer.pubkey(), jid).job

    # -- open --
    n = rng.randint(1, N_WORKERS)
    hours = rng.randint(1, 5)
    big = rng.random() < 0.3
    if big:
        n = 1
        top = U64 // hours * 10_000 // (10_000 + m.fee_bps)
        rates = [min(U64, max(1, top - rng.randint(-2, 3)))]
    else:
        rates = [rng.choice([1, 7, 333_333, rng.randint(1, 10**7), rng.randint(1, 10**12)]) for _ in range(n)]
    window = rng.choice([1, H - 1, H, 2 * H + 1, rng.randint(1, 3 * H)])
    principal = sum(rt * hours for rt in rates)
    fee_total = sum(fee(rt * hours, m.fee_bps) for rt in rates)
    deposit = principal + fee_total
    max_total = rng.choice([U64, U64, deposit, max(0, deposit - 1)])
    now = h.now()
    log.append(f"open fee={m.fee_bps} hours={hours} rates={rates} window={window} max_total={max_total}")
    ix = esc.open_job(customer=r.customer.pubkey(), mint=m.mint, customer_token=m.customer_token, job_id=jid,
                      hours=hours, workers=[(w.pubkey(), rt) for w, rt in zip(r.workers, rates)],
                      max_total=min(max_total, U64), accept_window=window)
    expect: Optional[str] = None
    if any(rt * hours > U64 for rt in rates) or deposit > U64:
        expect = "MathOverflow"
    elif deposit > max_total:
        expect = "MaxTotalExceeded"
    res = h.send([ix], [r.customer])
    if expect:
        assert res.error is not None and res.error.name == expect, (expect, res.error)
        return
    assert res.error is None, res.error
    model = Model(m.fee_bps, [Slot(rt, hours) for rt in rates], deadline=now + window, hours=hours,
                  customer=U64 - deposit, vault=deposit)
    check(r, m, model, job)

    for _ in range(rng.randint(4, 14)):
        if model.closed:
            return
        # -- time --
        roll = rng.random()
        active = [s for s in model.slots if s.status == "Active"]
        if roll < 0.05:
            now = max(1, h.now() - rng.randint(1, 2 * H))  # the clock moves back
        elif roll < 0.45 and active:
            s = rng.choice(active)
            k = max(0, (h.now() - s.start) // H) + rng.randint(0, 1)
            now = s.start + k * H + rng.choice([-1, 0, 1])
        else:
            now = h.now() + rng.choice([0, 1, 59, H - 1, H, H + 1, rng.randint(1, 3 * H)])
        now = max(now, 1)
        h.set_unix_timestamp(now)
        step(r, m, model, job, rng, now, log)
        check(r, m, model, job)

    # -- wind down: end, settle everything, close, sweep --
    now = h.now()
    if not model.closed:
        if model.state == "Open":
            step(r, m, model, job, rng, now, log, force="end")
            check(r, m, model, job)
        step(r, m, model, job, rng, now, log, force="settle_all")
        check(r, m, model, job)
        step(r, m, model, job, rng, now, log, force="close")
        check(r, m, model, job)
    step(r, m, model, job, rng, now, log, force="sweep")
    check(r, m, model, job)


def step(r: Runner, m: MarketFixture, model: Model, job: Pubkey, rng: random.Random, now: int, log: List[str],
         force: Optional[str] = None) -> None:
    h, esc = r.h, r.esc
    n = len(model.slots)
    op = force or rng.choice(["accept", "accept", "settle", "settle", "extend", "quit", "release", "end",
                              "cancel", "close", "sweep"])
    signer: Keypair = r.customer
    ix = None
    expect: Optional[str] = None
    snapshot = (model.customer, list(model.workers), model.vault, model.fee_vault, model.treasury, model.fees,
                [Slot(**vars(s)) for s in model.slots], model.state, model.closed, model.hours)

    try:
        if op == "accept":
            i = rng.randrange(n)
            signer = r.workers[i]
            ix = esc.accept(worker=signer.pubkey(), job=job)
            s = model.slots[i]
            if model.state != "Open":
                raise Fail("JobNotOpen")
            if s.status == "Active":
                raise Fail("AlreadyAccepted")
            if s.status != "Pending":
                raise Fail("WorkerNotActive")
            if now > model.deadline:
                raise Fail("AcceptDeadlinePassed")
            s.status, s.start = "Active", now
        elif op in ("settle", "settle_all"):
            slots = list(range(n)) if op == "settle_all" else rng.sample(range(n), rng.randint(1, n))
            ix = esc.settle(job=job, payees=[(i, m.worker_tokens[i]) for i in slots])
            paid = [model.pay_due(i, now) for i in slots]
            if not any(paid):
                raise Fail("NothingToSettle")
        elif op == "extend":
            add = rng.choice([1, 1, 2, MAX_HOURS])
            named = [] if rng.random() < 0.5 else rng.sample(range(n), rng.randint(1, n))
            ix = esc.extend(customer=r.customer.pubkey(), mint=m.mint, job=job, customer_token=m.customer_token,
                            hours=add, slots=named)
            if model.state != "Open":
                raise Fail("JobNotOpen")

            def why_not(s: Slot) -> Optional[str]:
                if s.status == "Pending":
                    return "AcceptDeadlinePassed" if now > model.deadline else None
                if s.status == "Active":
                    return "BookingExpired" if max(0, now - s.start) // H >= s.hours else None
                return "WorkerNotActive"

            if named:
                for i in named:
                    if why_not(model.slots[i]):
                        raise Fail(why_not(model.slots[i]))
                targets = named
            else:
                targets = [i for i in range(n) if why_not(model.slots[i]) is None]
            if not targets:
                raise Fail("NothingToExtend")
            pay_total = fee_total = 0
            for i in targets:
                s = model.slots[i]
                if s.hours + add > MAX_HOURS:
                    raise Fail("TooManyHours")
                hi = s.rate * (s.hours + add)
                if hi > U64:
                    raise Fail("MathOverflow")
                p, f = model.cost(s.rate * s.hours, hi)
                pay_total, fee_total = pay_total + p, fee_total + f
                if pay_total > U64 or fee_total > U64 or pay_total + fee_total > U64:
                    raise Fail("MathOverflow")
            total = pay_total + fee_total
            if total > model.customer:
                raise Fail("InsufficientFunds")
            for i in targets:
                model.slots[i].hours += add
                model.hours = max(model.hours, model.slots[i].hours)
            model.customer -= total
            model.vault += total
        elif op == "quit":
            i = rng.randrange(n)
            signer = r.workers[i]
            ix = esc.quit(worker=signer.pubkey(), job=job, worker_token=m.worker_tokens[i],
                          customer_token=m.customer_token)
            s = model.slots[i]
            if s.status not in ("Pending", "Active"):
                raise Fail("WorkerNotActive")
            refund = model.cut(i, now, round_up=False)
            s.status = "Declined" if s.status == "Pending" else "Quit"
            model.pay_due(i, now)
            model.refund(refund)
        elif op == "release":
            i = rng.randrange(n)
            pay = rng.random() < 0.7
            ix = esc.release(customer=r.customer.pubkey(), job=job, customer_token=m.customer_token, slot=i,
                             worker_token=m.worker_tokens[i] if pay else None)
            s = model.slots[i]
            if model.state != "Open":
                raise Fail("JobNotOpen")
            if s.status == "Pending":
                if now <= model.deadline:
                    raise Fail("AcceptWindowOpen")
                new = "Lapsed"
            elif s.status == "Active":
                new = "Released"
            else:
                raise Fail("WorkerNotActive")
            refund = model.cut(i, now, round_up=True)
            s.status = new
            if pay:
                model.pay_due(i, now)
            model.refund(refund)
        elif op == "end":
            listed = rng.sample(range(n), rng.randint(0, n))
            ix = esc.end_job(customer=r.customer.pubkey(), job=job, customer_token=m.customer_token,
                             payees=[(i, m.worker_tokens[i]) for i in listed])
            if model.state != "Open":
                raise Fail("JobNotOpen")
            refund = sum(model.cut(i, now, round_up=True) for i in range(n))
            model.state = "Ended"
            for i in listed:
                model.pay_due(i, now)
            model.refund(refund)
        elif op == "cancel":
            ix = esc.cancel(customer=r.customer.pubkey(), job=job, customer_token=m.customer_token)
            if any(s.status in ("Active", "Quit", "Released") for s in model.slots):
                raise Fail("JobStarted")
            model.refund(model.vault)
            model.closed = True
        elif op == "close":
            ix = esc.close_job(customer=r.customer.pubkey(), mint=m.mint, job=job, customer_token=m.customer_token)
            if not all(s.paid == s.hours and (s.tail_secs == 0 or s.tail_paid) for s in model.slots):
                raise Fail("OutstandingPayments")
            model.move(model.fees, "vault", "fee_vault")
            model.fees = 0
            model.refund(model.vault)
            model.closed = True
        elif op == "sweep":
            with_job = not model.closed and rng.random() < 0.8
            ix = esc.sweep_fees(mint=m.mint, treasury=m.treasury, job=job if with_job else None)
            from_job = model.fees if with_job else 0
            if from_job == 0 and model.fee_vault == 0:
                raise Fail("NothingToSweep")
            model.move(from_job, "vault", "treasury")
            model.fees -= from_job
            model.treasury += model.fee_vault
            model.fee_vault = 0
    except Fail as f:
        expect = f.name
        (model.customer, model.workers, model.vault, model.fee_vault, model.treasury, model.fees, model.slots,
         model.state, model.closed, model.hours) = snapshot

    log.append(f"t={now} {op} -> {expect or 'ok'}")
    assert ix is not None
    res = h.send([ix], [] if op in ("settle", "settle_all", "sweep") else [signer])  # those are permissionless
    if expect is None:
        assert res.error is None, f"{op}: expected success, got {res.error}"
    else:
        assert res.error is not None, f"{op}: expected {expect}, transaction succeeded"
        assert res.error.name == expect, f"{op}: expected {expect}, got {res.error}"


def test_random_sequences_match_the_model(escrow_harness: Harness, escrow_idl: ProgramIdl) -> None:
    r = Runner(escrow_harness, escrow_idl)
    rng = random.Random(SEED)
    for k in range(SEQUENCES):
        log: List[str] = []
        seed = rng.randrange(2**32)
        try:
            run_sequence(r, random.Random(seed), log)
        except AssertionError as e:
            pytest.fail(f"sequence {k} (ESCROW_MODEL_SEED={SEED}, sequence seed {seed}) diverged from the model: "
                        f"{e}\nsteps:\n  " + "\n  ".join(log))
