"""A LiteSVM world for keeper tests: one market, a pool of workers with
associated token accounts, jobs opened with chosen workers/rates/hours, and
the exact expected ledger (what every slot must have been paid by now)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from tests.escrow.env import Env, make_env
from iopay.escrow.client import EscrowClient
from iopay.escrow.state import JobView
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import SECONDS_PER_HOUR, fee_for
from iopay.escrow.keeper import JsonLog, Keeper, KeeperConfig
from iopay.core.harness import Harness

HOUR = SECONDS_PER_HOUR


@dataclass
class Slot:
    worker: int  # index in the env's worker pool
    rate: int
    accepted_at: Optional[int] = None


@dataclass
class JobSpec:
    job: Pubkey
    hours: int
    slots: List[Slot]
    #: booking cut to this many hours per slot when the job was ended early
    cut: Dict[int, int] = field(default_factory=dict)
    #: pay for the started hour at the end (pro rata by the second, rounded up)
    tail: Dict[int, int] = field(default_factory=dict)


class KeeperWorld:
    def __init__(self, h: Harness, prog: ProgramIdl, n_workers: int = 24, max_workers: int = 13,
                 fee_bps: int = 250) -> None:
        self.h = h
        self.prog = prog
        self.env: Env = make_env(h, prog, n_workers=n_workers, max_workers=max_workers, fee_bps=fee_bps)
        self.fee_bps = fee_bps
        self.client = EscrowClient.for_harness(h, prog)
        self.specs: Dict[Pubkey, JobSpec] = {}
        self.t0 = h.now()
        self._next_id = 1

    @property
    def mint(self) -> Pubkey:
        return self.env.mint

    def keeper(self, log: Optional[JsonLog] = None, **cfg) -> Keeper:  # type: ignore[no-untyped-def]
        cfg.setdefault("lookup_activation_wait", 0.0)
        cfg.setdefault("min_sleep", 0.0)
        return Keeper(self.client, self.mint, KeeperConfig(**cfg), log=log or JsonLog(keep=10_000, level="error"))

    def open(self, workers: Sequence[int], rates: Sequence[int], hours: int) -> Pubkey:
        env = self.env
        jid = self._next_id
        self._next_id += 1
        ix = env.esc.open_job(customer=env.customer.pubkey(), mint=env.mint, customer_token=env.customer_token,
                              job_id=jid, hours=hours, max_total=2**64 - 1,
                              workers=[(env.workers[w].pubkey(), r) for w, r in zip(workers, rates)])
        env.ok(ix, env.customer)
        job = env.esc.job_addresses(env.mint, env.customer.pubkey(), jid).job
        env.jobs.add(job)
        self.specs[job] = JobSpec(job, hours, [Slot(w, r) for w, r in zip(workers, rates)])
        return job

    def accept(self, job: Pubkey, slot: int) -> None:
        s = self.specs[job].slots[slot]
        w = self.env.workers[s.worker]
        self.env.ok(self.env.esc.accept(worker=w.pubkey(), job=job), w)
        s.accepted_at = self.h.now()

    def end_unpaid(self, job: Pubkey) -> None:
        """end_job listing no payees: the earned hours stay owed for settle (the keeper)."""
        env = self.env
        now = self.h.now()
        env.ok(env.esc.end_job(customer=env.customer.pubkey(), job=job, customer_token=env.customer_token,
                               payees=[]), env.customer)
        spec = self.specs[job]
        for i, s in enumerate(spec.slots):
            spec.cut[i] = 0 if s.accepted_at is None else min(spec.hours, (now - s.accepted_at) // HOUR)
            if s.accepted_at is not None and spec.cut[i] < spec.hours:
                spec.tail[i] = -(-s.rate * ((now - s.accepted_at) % HOUR) // HOUR)

    def warp(self, seconds: int) -> int:
        return self.h.warp_seconds(seconds)

    # -- expectations --

    def earned(self, job: Pubkey, slot: int, now: Optional[int] = None) -> int:
        spec = self.specs[job]
        s = spec.slots[slot]
        if s.accepted_at is None:
            return 0
        now = self.h.now() if now is None else now
        booked = spec.cut.get(slot, spec.hours)
        return min(booked, max(0, now - s.accepted_at) // HOUR)

    def earned_amount(self, job: Pubkey, slot: int) -> int:
        """Pay earned so far: whole hours, plus the started hour's seconds once the job was ended."""
        spec = self.specs[job]
        return spec.slots[slot].rate * self.earned(job, slot) + spec.tail.get(slot, 0)

    def expected_worker_balances(self) -> Dict[int, int]:
        out: Dict[int, int] = {}
        for job, spec in self.specs.items():
            for i, s in enumerate(spec.slots):
                out[s.worker] = out.get(s.worker, 0) + self.earned_amount(job, i)
        return out

    def expected_fees(self) -> int:
        total = 0
        for job, spec in self.specs.items():
            for i, s in enumerate(spec.slots):
                total += fee_for(self.earned_amount(job, i), self.fee_bps)
        return total

    def fees_collected(self) -> int:
        """Fees of paid hours: accrued in live jobs, in the market fee vault, in the treasury."""
        total = self.h.token_balance(self.env.treasury) + self.h.token_balance(self.env.fee_vault)
        for job in self.specs:
            data = self.h.account_data(job)
            if data is not None:
                total += JobView.decode(self.prog, job, data).fees_accrued
        return total

    def worker_balances(self) -> Dict[int, int]:
        used = {s.worker for spec in self.specs.values() for s in spec.slots}
        return {w: self.h.token_balance(self.env.worker_tokens[w]) for w in sorted(used)}

    def hours_paid(self) -> Dict[Tuple[Pubkey, int], int]:
        out = {}
        for job in self.specs:
            data = self.h.account_data(job)
            if data is None:
                continue
            view = JobView.decode(self.prog, job, data)
            for s in view.workers:
                out[(job, s.index)] = s.hours_paid
        return out

    def assert_exact(self) -> None:
        exp = self.expected_worker_balances()
        got = self.worker_balances()
        assert got == {w: exp.get(w, 0) for w in got}, f"worker balances {got} != expected {exp}"
        assert self.fees_collected() == self.expected_fees()
        for (job, slot), paid in self.hours_paid().items():
            assert paid == self.earned(job, slot), (job, slot, paid)
        self.env.check_conservation()
