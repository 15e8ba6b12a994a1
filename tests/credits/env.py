"""Shared setup for the iosd_credits program tests: job_escrow, inference_pay
and iosd_credits loaded in LiteSVM, a job_escrow market for a 6-decimal
stablecoin, an inference_pay pool and a provider for it, a credits reserve
for it, users with stablecoin, workers; helpers that send, assert exact
error names with nothing moved, and check reserve == outstanding after every
successful step."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import pytest
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.core.errors import ProgramError
from iopay.core.harness import Harness, ProgramNotBuilt, TxResult, deploy_dir
from iopay.core.idl import IdlNotFound, ProgramIdl
from iopay.credits.program import IosdCredits
from iopay.credits.state import ConfigView, CreditAccountView
from iopay.escrow.program import JobEscrow
from iopay.escrow.state import JobView
from iopay.inference.program import InferencePay
from iopay.inference.state import ChannelView
from tests.escrow.env import make_market

HOUR = 3_600
DAY = 86_400
USD = 1_000_000
FEE_BPS = 250
CAP = 1_000_000 * USD
USER_FUNDS = 10_000 * USD


def load_programs(h: Harness):
    progs = []
    for name in ("job_escrow", "iosd_credits", "inference_pay"):
        try:
            prog = ProgramIdl.load(name)
        except IdlNotFound as e:
            pytest.fail(f"{e}\n-> make idl")
        try:
            h.load_program(prog, deploy_dir() / f"{name}.so")
        except ProgramNotBuilt as e:
            pytest.fail(f"{e}: `make programs`")
        progs.append(prog)
    return progs


@dataclass
class User:
    kp: Keypair
    token: Pubkey

    @property
    def key(self) -> Pubkey:
        return self.kp.pubkey()


@dataclass
class CEnv:
    h: Harness
    escrow_prog: ProgramIdl
    prog: ProgramIdl
    esc: JobEscrow
    cr: IosdCredits
    mint: Pubkey
    mint_auth: Keypair
    authority: Keypair
    treasury: Pubkey
    users: List[User]
    workers: List[User]
    pay_prog: ProgramIdl
    pay: InferencePay
    provider: User
    record: Optional[object] = None
    extra_tokens: List[Pubkey] = field(default_factory=list)

    # -- sending --
    def ok(self, ix: Instruction, *signers: Keypair, name: Optional[str] = None) -> TxResult:
        res = self.h.send([ix], signers)
        if res.error:
            raise AssertionError(f"{res.error}\n" + "\n".join(res.logs))
        if self.record and name:
            self.record(name, res.compute_units)
        self.check_reserve()
        return res

    def fails(self, ix: Instruction, *signers: Keypair, name: str) -> ProgramError:
        before = self.snapshot()
        res = self.h.send([ix], signers)
        assert res.error is not None, f"expected {name}, transaction succeeded:\n" + "\n".join(res.logs)
        assert isinstance(res.error, ProgramError), f"expected {name}, got {res.error!r}\n" + "\n".join(res.logs)
        assert res.error.name == name, f"expected {name}, got {res.error}\n" + "\n".join(res.logs)
        for prog in (self.prog, self.escrow_prog, self.pay_prog):
            if name in {e["name"] for e in prog.raw["errors"]} and res.error.program_id == prog.program_id:
                assert res.error.code == prog.errors.code_of(name)
        assert self.snapshot() == before, "a failed transaction changed balances"
        return res.error

    # -- state --
    @property
    def config(self) -> Pubkey:
        return self.cr.config_address(self.mint)

    @property
    def reserve(self) -> Pubkey:
        return self.cr.reserve_address(self.mint)

    def config_view(self) -> ConfigView:
        return ConfigView.decode(self.prog, self.config, self.h.account_data(self.config))

    def account(self, user: User) -> Optional[CreditAccountView]:
        addr = self.cr.credit_address(self.mint, user.key)
        data = self.h.account_data(addr)
        return None if data is None else CreditAccountView.decode(self.prog, addr, data)

    def credits(self, user: User) -> int:
        a = self.account(user)
        return 0 if a is None else a.balance

    def job(self, job: Pubkey) -> JobView:
        return JobView.decode(self.escrow_prog, job, self.h.account_data(job))

    def channel(self, channel: Pubkey) -> Optional[ChannelView]:
        data = self.h.account_data(channel)
        return None if data is None else ChannelView.decode(self.pay_prog, channel, data)

    def check_reserve(self) -> None:
        assert self.h.token_balance(self.reserve) == self.config_view().outstanding, "reserve != outstanding"

    def snapshot(self) -> Dict[str, int]:
        snap: Dict[str, int] = {"reserve": self.h.token_balance(self.reserve),
                                "outstanding": self.config_view().outstanding,
                                "treasury": self.h.token_balance(self.treasury),
                                "pool_vault": self.h.token_balance(self.pay.vault_address(self.mint)),
                                "provider": self.h.token_balance(self.provider.token)}
        for i, u in enumerate(self.users):
            snap[f"u{i}.token"] = self.h.token_balance(u.token)
            snap[f"u{i}.credits"] = self.credits(u)
            refund = self.cr.user_addresses(self.mint, u.key).refund_account
            if self.h.account_data(refund) is not None:
                snap[f"u{i}.refund"] = self.h.token_balance(refund)
        for i, w in enumerate(self.workers):
            snap[f"w{i}"] = self.h.token_balance(w.token)
        for t in self.extra_tokens:
            snap[str(t)] = self.h.token_balance(t)
        return snap

    # -- shorthands --
    def open_account(self, u: User) -> TxResult:
        return self.ok(self.cr.open_account(user=u.key, mint=self.mint), u.kp, name="open_account")

    def buy_ix(self, u: User, amount: int, **kw) -> Instruction:
        return self.cr.buy(user=u.key, mint=self.mint, user_token=kw.pop("user_token", u.token), amount=amount,
                           overrides=kw or None)

    def buy(self, u: User, amount: int) -> TxResult:
        return self.ok(self.buy_ix(u, amount), u.kp, name="buy")

    def redeem_ix(self, u: User, amount: int, **kw) -> Instruction:
        return self.cr.redeem(user=u.key, mint=self.mint, user_token=kw.pop("user_token", u.token), amount=amount,
                              overrides=kw or None)

    def open_job_ix(self, u: User, job_id: int, rates: Sequence[int], hours: int, *, signer: Optional[Keypair] = None,
                    **kw) -> Instruction:
        s = signer or u.kp
        ws = [w.key for w in self.workers[:len(rates)]]
        return self.cr.open_job_with_credits(authority=s.pubkey(), user=u.key, mint=self.mint, job_id=job_id,
                                             hours=hours, workers=list(zip(ws, rates)), delegate=s.pubkey() != u.key,
                                             overrides=kw or None)

    def job_address(self, u: User, job_id: int) -> Pubkey:
        return self.cr.job_address(self.mint, u.key, job_id)

    def accept_all(self, job: Pubkey) -> None:
        for i, _ in enumerate(self.job(job).workers):
            self.ok(self.esc.accept(worker=self.workers[i].key, job=job), self.workers[i].kp, name="accept")

    def payees(self, job: Pubkey) -> list:
        return [(i, self.workers[i].token) for i, _ in enumerate(self.job(job).workers)]

    def settle(self, job: Pubkey) -> TxResult:
        return self.ok(self.esc.settle(job=job, payees=self.payees(job)),
                       name="settle")

    def end_ix(self, u: User, job: Pubkey, *, signer: Optional[Keypair] = None, **kw) -> Instruction:
        s = signer or u.kp
        return self.cr.end_job_with_credits(authority=s.pubkey(), user=u.key, mint=self.mint, job=job,
                                            payees=self.payees(job),
                                            delegate=s.pubkey() != u.key, overrides=kw or None)

    def close_ix(self, u: User, job: Pubkey, *, signer: Optional[Keypair] = None, **kw) -> Instruction:
        s = signer or u.kp
        return self.cr.close_job_with_credits(authority=s.pubkey(), user=u.key, mint=self.mint, job=job,
                                              delegate=s.pubkey() != u.key, overrides=kw or None)

    def cancel_ix(self, u: User, job: Pubkey, *, signer: Optional[Keypair] = None, **kw) -> Instruction:
        s = signer or u.kp
        return self.cr.cancel_job_with_credits(authority=s.pubkey(), user=u.key, mint=self.mint, job=job,
                                               delegate=s.pubkey() != u.key, overrides=kw or None)

    def set_delegate_ix(self, u: User, delegate: Pubkey, allowance: int, period: int = DAY) -> Instruction:
        return self.cr.set_delegate(user=u.key, mint=self.mint, delegate=delegate, allowance=allowance,
                                    period_secs=period)

    def pause(self, paused: bool = True) -> None:
        self.ok(self.cr.set_paused(authority=self.authority.pubkey(), mint=self.mint, paused=paused), self.authority,
                name="set_paused")


def make_env(h: Harness, record=None, n_users: int = 3, n_workers: int = 4, cap: int = CAP,
             fund_users: bool = True) -> CEnv:
    escrow_prog, prog, pay_prog = load_programs(h)
    esc = JobEscrow(escrow_prog, fetch=h.account_data)
    m = make_market(h, esc, fee_bps=FEE_BPS)
    pay = InferencePay(pay_prog, fetch=h.account_data)
    h.send_ok([pay.init_pool(payer=h.payer.pubkey(), mint=m.mint)])
    cr = IosdCredits(prog, esc, fetch=h.account_data, inference=pay)
    authority = m.authority
    res = h.send([cr.init_config(payer=h.payer.pubkey(), upgrade_authority=h.payer.pubkey(),
                                 authority=authority.pubkey(), mint=m.mint, cap=cap)])
    res.raise_for_error()
    if record:
        record("init_config", res.compute_units)
    users = []
    for _ in range(n_users):
        kp = h.funded_keypair()
        tok = h.create_ata(m.mint, kp.pubkey())
        if fund_users:
            h.mint_to(m.mint, tok, USER_FUNDS, m.mint_auth)
        users.append(User(kp, tok))
    workers = []
    for _ in range(n_workers):
        kp = h.funded_keypair()
        workers.append(User(kp, h.create_ata(m.mint, kp.pubkey())))
    pkp = h.funded_keypair()
    provider = User(pkp, h.create_ata(m.mint, pkp.pubkey()))
    return CEnv(h, escrow_prog, prog, esc, cr, m.mint, m.mint_auth, authority, m.treasury, users, workers, pay_prog,
                pay, provider, record)
