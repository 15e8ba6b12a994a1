"""Shared setup for the inference_pay program tests on LiteSVM: job_escrow's
market (the fee policy) and inference_pay loaded from target/deploy, a pool,
a provider, payers with channels, and helpers asserting exact error names
and pool conservation after every step."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import pytest
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.core.errors import ProgramError
from iopay.core.harness import Harness, ProgramNotBuilt, TxResult
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import JobEscrow
from iopay.inference.program import InferencePay, Voucher
from iopay.inference.state import ChannelView, PoolView
from iopay.inference.vouchers import VoucherSigner
from tests.escrow.env import make_market

FEE_BPS = 250
FUNDS = 1_000_000_000_000
DEPOSIT = 10_000_000
WINDOW = 3_600
LIFE = 86_400


@dataclass
class Env:
    h: Harness
    prog: ProgramIdl
    pay: InferencePay
    esc: JobEscrow
    mint: Pubkey
    mint_auth: Keypair
    market: Pubkey
    treasury: Pubkey
    provider: Keypair
    provider_token: Pubkey
    payers: List[Keypair]
    payer_tokens: List[Pubkey]
    authority: Optional[Keypair] = None
    channels: set = field(default_factory=set)
    record: Optional[object] = None

    @property
    def vault(self) -> Pubkey:
        return self.pay.vault_address(self.mint)

    def ok(self, ixs, *signers: Keypair, name: Optional[str] = None) -> TxResult:
        ixs = ixs if isinstance(ixs, list) else [ixs]
        res = self.h.send(ixs, signers)
        if res.error:
            raise AssertionError(f"{res.error}\n" + "\n".join(res.logs))
        if self.record and name:
            self.record(name, res.compute_units)  # type: ignore[operator]
        self.check_conservation()
        return res

    def fails(self, ixs, *signers: Keypair, name: str) -> ProgramError:
        ixs = ixs if isinstance(ixs, list) else [ixs]
        before = self.snapshot()
        res = self.h.send(ixs, signers)
        assert res.error is not None, f"expected {name}, transaction succeeded:\n" + "\n".join(res.logs)
        assert isinstance(res.error, ProgramError), res.error
        assert res.error.name == name, f"expected {name}, got {res.error}\n" + "\n".join(res.logs)
        if name in {e["name"] for e in self.prog.raw["errors"]}:
            assert res.error.code == self.prog.errors.code_of(name)
            assert res.error.program_id == self.prog.program_id
        assert self.snapshot() == before, "a failed transaction changed balances"
        return res.error

    def channel(self, address: Pubkey) -> ChannelView:
        data = self.h.account_data(address)
        assert data is not None, f"channel {address} does not exist"
        return ChannelView.decode(self.prog, address, data)

    def pool(self) -> PoolView:
        addr = self.pay.pool_address(self.mint)
        return PoolView.decode(self.prog, addr, self.h.account_data(addr))

    def check_conservation(self) -> None:
        """The pool vault holds every live channel's unsettled deposit plus the unswept fees."""
        if self.h.account_data(self.vault) is None:
            return
        owed = self.pool().fees_accrued
        for c in self.channels:
            if self.h.account_data(c) is not None:
                owed += self.channel(c).remaining
        assert self.h.token_balance(self.vault) == owed, "pool conservation broken"

    def snapshot(self) -> Dict[str, int]:
        snap = {"provider": self.h.token_balance(self.provider_token), "treasury": self.h.token_balance(self.treasury),
                "vault": self.h.token_balance(self.vault)}
        for i, t in enumerate(self.payer_tokens):
            snap[f"p{i}"] = self.h.token_balance(t)
        return snap

    # -- instructions --
    def open_ix(self, i: int = 0, channel_id: int = 1, deposit: int = DEPOSIT, life: int = LIFE,
                window: int = WINDOW, **kw) -> Instruction:
        payer = kw.pop("payer", self.payers[i])
        return self.pay.open_channel(
            payer=payer.pubkey(), provider=kw.pop("provider", self.provider.pubkey()), mint=self.mint,
            market=kw.pop("market", self.market), payer_token=kw.pop("payer_token", self.payer_tokens[i]),
            channel_id=channel_id,
            deposit=deposit, expires_at=self.h.now() + life, dispute_window=window, **kw)

    def open(self, i: int = 0, channel_id: int = 1, deposit: int = DEPOSIT, **kw) -> Pubkey:
        payer = kw.get("payer", self.payers[i])
        provider = kw.get("provider", self.provider.pubkey())
        ch = self.pay.channel_address(payer.pubkey(), provider, self.mint, channel_id)
        self.channels.add(ch)
        signers = [payer] + [s for s in kw.pop("signers", [])]
        self.ok(self.open_ix(i, channel_id, deposit, **kw), *signers, name="open_channel")
        return ch

    def signer(self, channel: Pubkey, key: Optional[Keypair] = None) -> VoucherSigner:
        c = self.channel(channel)
        owner = key or next(p for p in self.payers if p.pubkey() == c.voucher_signer)
        return VoucherSigner(owner, self.pay.program_id, channel, c.open_slot, c.deposit)

    def settle_ix(self, vouchers: Sequence[Voucher], provider: Optional[Keypair] = None, **overrides) -> List[Instruction]:
        p = provider or self.provider
        return self.pay.settle(provider=p.pubkey(), mint=self.mint, provider_token=self.provider_token,
                               vouchers=vouchers, overrides=overrides or None)


def make_env(h: Harness, escrow_idl: ProgramIdl, pay_idl: ProgramIdl, n_payers: int = 3, record=None,
             fee_bps: int = FEE_BPS) -> Env:
    esc = JobEscrow(escrow_idl, fetch=h.account_data)
    m = make_market(h, esc, fee_bps=fee_bps)
    pay = InferencePay(pay_idl, fetch=h.account_data)
    h.send_ok([pay.init_pool(payer=h.payer.pubkey(), mint=m.mint)])
    provider = h.funded_keypair()
    ptok = h.create_ata(m.mint, provider.pubkey())
    payers = [h.funded_keypair() for _ in range(n_payers)]
    toks = []
    for p in payers:
        t = h.create_ata(m.mint, p.pubkey())
        h.mint_to(m.mint, t, FUNDS, m.mint_auth)
        toks.append(t)
    return Env(h, pay_idl, pay, esc, m.mint, m.mint_auth, m.address, m.treasury, provider, ptok, payers, toks,
               authority=m.authority, record=record)


def load(h: Harness, name: str) -> ProgramIdl:
    try:
        prog = ProgramIdl.load(name)
    except Exception as e:  # noqa: BLE001
        pytest.fail(f"{e}\n-> make idl")
    try:
        h.load_program(prog)
    except ProgramNotBuilt as e:
        pytest.fail(f"{e}: run `make programs`")
    return prog
