"""Shared setup for the job_escrow program tests: a market, a funded
customer, four workers with associated token accounts, and helpers that
send instructions, assert exact error names/codes, and check conservation
(vault balance == what the job still owes) after every successful step."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.core.errors import ProgramError
from iopay.escrow.state import JobView, vault_owed
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import U64_MAX, JobEscrow
from iopay.core.harness import Harness, TxResult

HOUR = 3_600
FEE_BPS = 250
# Per-worker hourly rates (6 decimals): 1, 1.5, 2 and 0.333333 tokens; the
# last one makes the fee round up.
RATES = [1_000_000, 1_500_000, 2_000_000, 333_333]
CUSTOMER_FUNDS = 1_000_000_000_000
MAX_WORKERS = 8
MAX_HOURS = 720


def paid(res: TxResult) -> list:
    """Every payout of a transaction's batched ``HoursSettled`` events
    (slot, worker, hours, secs, hours_paid, amount, fee)."""
    return [p for e in res.events_named("HoursSettled") for p in e.paid]


def unsigned(ix: Instruction, key: Pubkey) -> Instruction:
    """The same instruction with ``key`` no longer marked as signer."""
    return Instruction(ix.program_id, ix.data, [
        AccountMeta(m.pubkey, False if m.pubkey == key else m.is_signer, m.is_writable) for m in ix.accounts
    ])


def readonly_remaining(ix: Instruction, n_fixed: int) -> Instruction:
    """The same instruction with its remaining accounts made read-only."""
    return Instruction(ix.program_id, ix.data, list(ix.accounts[:n_fixed]) + [
        AccountMeta(m.pubkey, m.is_signer, False) for m in ix.accounts[n_fixed:]])


@dataclass
class Market:
    mint: Pubkey
    mint_auth: Keypair
    authority: Keypair
    treasury: Pubkey
    address: Pubkey
    init: TxResult


def make_market(h: Harness, esc: JobEscrow, fee_bps: int = FEE_BPS, max_workers: int = MAX_WORKERS,
                max_hours: int = MAX_HOURS) -> Market:
    mint_auth, authority = Keypair(), h.funded_keypair()
    # With a freeze authority, as USDC has: the escrow must work with one.
    mint = h.create_mint(mint_auth, 6, freeze=mint_auth.pubkey())
    treasury = h.create_token_account(mint, authority.pubkey())
    ix = esc.init_market(payer=h.payer.pubkey(), upgrade_authority=h.payer.pubkey(), authority=authority.pubkey(),
                         mint=mint, treasury=treasury, fee_bps=fee_bps, max_workers=max_workers,
                         max_hours=max_hours)
    res = h.send([ix]).raise_for_error()
    return Market(mint, mint_auth, authority, treasury, esc.market_address(mint), res)


@dataclass
class Env:
    h: Harness
    prog: ProgramIdl
    esc: JobEscrow
    m: Market
    customer: Keypair
    customer_token: Pubkey
    workers: List[Keypair]
    worker_tokens: List[Pubkey]
    record: Optional[Callable[[str, int], None]] = None
    jobs: set = field(default_factory=set)

    # -- shorthands --
    @property
    def mint(self) -> Pubkey:
        return self.m.mint

    @property
    def market(self) -> Pubkey:
        return self.m.address

    @property
    def treasury(self) -> Pubkey:
        return self.m.treasury

    @property
    def authority(self) -> Keypair:
        return self.m.authority

    # -- sending --
    def ok(self, ix: Instruction, *signers: Keypair, name: Optional[str] = None) -> TxResult:
        res = self.h.send([ix], signers)
        if res.error:
            raise AssertionError(f"{res.error}\n" + "\n".join(res.logs))
        if self.record and name:
            self.record(name, res.compute_units)
        self.check_conservation()
        return res

    def fails(self, ix: Instruction, *signers: Keypair, name: str) -> ProgramError:
        before = self.snapshot()
        res = self.h.send([ix], signers)
        assert res.error is not None, f"expected {name}, transaction succeeded:\n" + "\n".join(res.logs)
        assert isinstance(res.error, ProgramError), res.error
        assert res.error.name == name, f"expected {name}, got {res.error}\n" + "\n".join(res.logs)
        if name in {e["name"] for e in self.prog.raw["errors"]}:
            assert res.error.code == self.prog.errors.code_of(name)
            assert res.error.program_id == self.prog.program_id
        assert self.snapshot() == before, "a failed transaction changed balances"
        return res.error

    # -- state --
    def job(self, job: Pubkey) -> JobView:
        data = self.h.account_data(job)
        assert data is not None, f"job {job} does not exist"
        return JobView.decode(self.prog, job, data)

    def vault(self, job: Pubkey) -> Pubkey:
        return self.esc.vault_address(job)

    def check_conservation(self) -> None:
        """Every live job's vault holds exactly what the job still owes."""
        for job in self.jobs:
            if self.h.account_data(job) is None:
                assert self.h.account_data(self.vault(job)) is None, "job closed but vault left open"
                continue
            view = self.job(job)
            assert self.h.token_balance(self.vault(job)) == vault_owed(view), f"conservation broken for {job}"

    @property
    def fee_vault(self) -> Pubkey:
        return self.esc.fee_vault_address(self.mint)

    def balance(self, token_account: Pubkey) -> int:
        """Token balance, -1 for a closed account."""
        return self.h.token_balance(token_account) if self.h.account_data(token_account) is not None else -1

    def balances(self) -> Dict[str, int]:
        out = {"customer": self.balance(self.customer_token), "treasury": self.balance(self.treasury),
               "fee_vault": self.balance(self.fee_vault)}
        for i, t in enumerate(self.worker_tokens):
            out[f"w{i}"] = self.balance(t)
        return out

    def snapshot(self) -> Dict[str, int]:
        snap = self.balances()
        for job in self.jobs:
            v = self.vault(job)
            snap[str(v)] = self.h.token_balance(v) if self.h.account_data(v) is not None else -1
        return snap

    # -- instructions --
    def open_ix(self, job_id: int = 1, hours: int = 3, rates: Sequence[int] = RATES,
                workers: Optional[Sequence[Pubkey]] = None, usd: bool = False, **kw) -> Instruction:
        ws = list(workers) if workers is not None else [w.pubkey() for w in self.workers[:len(rates)]]
        customer = kw.pop("customer", self.customer.pubkey())
        customer_token = kw.pop("customer_token", self.customer_token)
        kw.setdefault("max_total", U64_MAX)
        return self.esc.open_job(customer=customer, mint=self.mint, customer_token=customer_token, job_id=job_id,
                                 hours=hours, workers=list(zip(ws, rates)), usd=usd, **kw)

    def open(self, job_id: int = 1, hours: int = 3, rates: Sequence[int] = RATES, usd: bool = False,
             accept: bool = False, **kw) -> Pubkey:
        job = self.esc.job_addresses(self.mint, self.customer.pubkey(), job_id).job
        self.jobs.add(job)
        self.ok(self.open_ix(job_id, hours, rates, usd=usd, **kw), self.customer, name="open_job")
        if accept:
            for i in range(len(rates)):
                self.accept(job, i)
        return job

    def accept(self, job: Pubkey, i: int) -> TxResult:
        return self.ok(self.esc.accept(worker=self.workers[i].pubkey(), job=job), self.workers[i], name="accept")

    def payees(self, job: Pubkey, slots: Optional[Sequence[int]] = None) -> list:
        n = len(self.job(job).workers)
        return [(i, self.worker_tokens[i]) for i in (range(n) if slots is None else slots)]

    def settle_ix(self, job: Pubkey, /, slots: Optional[Sequence[int]] = None, payees: Optional[list] = None,
                  **overrides: Pubkey) -> Instruction:
        return self.esc.settle(job=job, payees=payees if payees is not None else self.payees(job, slots),
                               overrides=overrides or None)

    def end_ix(self, job: Pubkey, /, slots: Optional[Sequence[int]] = None, customer: Optional[Keypair] = None,
               payees: Optional[list] = None, **overrides: Pubkey) -> Instruction:
        c = customer or self.customer
        return self.esc.end_job(customer=c.pubkey(), job=job, customer_token=self.customer_token,
                                payees=payees if payees is not None else self.payees(job, slots),
                                overrides=overrides or None)

    def quit_ix(self, job: Pubkey, /, i: int, **overrides: Pubkey) -> Instruction:
        return self.esc.quit(worker=self.workers[i].pubkey(), job=job, worker_token=self.worker_tokens[i],
                             customer_token=self.customer_token, overrides=overrides or None)

    def release_ix(self, job: Pubkey, /, slot: int, pay: bool = True, customer: Optional[Keypair] = None,
                   **overrides: Pubkey) -> Instruction:
        c = customer or self.customer
        return self.esc.release(customer=c.pubkey(), job=job, customer_token=self.customer_token, slot=slot,
                                worker_token=self.worker_tokens[slot] if pay else None, overrides=overrides or None)

    def extend_ix(self, job: Pubkey, /, hours: int, customer: Optional[Keypair] = None, slots: Sequence[int] = (),
                  **overrides: Pubkey) -> Instruction:
        c = customer or self.customer
        return self.esc.extend(customer=c.pubkey(), mint=self.mint, job=job, customer_token=self.customer_token,
                               hours=hours, slots=slots, overrides=overrides or None)

    def sweep_ix(self, job: Optional[Pubkey] = None, **overrides: Pubkey) -> Instruction:
        return self.esc.sweep_fees(mint=self.mint, treasury=self.treasury, job=job, overrides=overrides or None)

    def cancel_ix(self, job: Pubkey, /, customer: Optional[Keypair] = None, **overrides: Pubkey) -> Instruction:
        c = customer or self.customer
        return self.esc.cancel(customer=c.pubkey(), job=job, customer_token=self.customer_token,
                               overrides=overrides or None)

    def close_ix(self, job: Pubkey, /, customer: Optional[Keypair] = None, **overrides: Pubkey) -> Instruction:
        c = customer or self.customer
        return self.esc.close_job(customer=c.pubkey(), mint=self.mint, job=job, customer_token=self.customer_token,
                                  overrides=overrides or None)

    def pause(self, paused: bool = True) -> None:
        self.ok(self.esc.set_market_paused(authority=self.authority.pubkey(), mint=self.mint, paused=paused),
                self.authority)


def make_env(h: Harness, prog: ProgramIdl, record=None, n_workers: int = 4, **market_kw) -> Env:
    esc = JobEscrow(prog, fetch=h.account_data)
    m = make_market(h, esc, **market_kw)
    if record:
        record("init_market", m.init.compute_units)
    customer = h.funded_keypair()
    ctok = h.create_token_account(m.mint, customer.pubkey())
    h.mint_to(m.mint, ctok, CUSTOMER_FUNDS, m.mint_auth)
    workers = [h.funded_keypair() for _ in range(n_workers)]
    wtoks = [h.create_ata(m.mint, w.pubkey()) for w in workers]
    return Env(h, prog, esc, m, customer, ctok, workers, wtoks, record)
