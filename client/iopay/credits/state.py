"""Decoded views of every credits account and the program's accounting,
mirrored as pure functions (no I/O).

Invariants the tests check after every step:

* the reserve vault's token balance equals ``ConfigView.outstanding``
  (= every user's balance);
* a delegate's spending in its current period never exceeds its allowance
  (:func:`delegate_window`, the mirror of ``math::delegate_spend``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Tuple

from solders.pubkey import Pubkey

from iopay.core.idl import ProgramIdl


@dataclass(frozen=True)
class ConfigView:
    address: Pubkey
    authority: Pubkey
    pending_authority: Optional[Pubkey]
    mint: Pubkey
    reserve_vault: Pubkey
    outstanding: int
    cap: int
    paused: bool
    accounts: int

    @classmethod
    def decode(cls, program: ProgramIdl, address: Pubkey, data: bytes) -> "ConfigView":
        """Decode a ``Config`` account's bytes (``ValueError`` on another account type)."""
        c = program.decode_account_as("Config", data)
        return cls(address, c.authority, None if c.pending_authority == Pubkey.default() else c.pending_authority,
                   c.mint, c.reserve_vault, c.outstanding, c.cap, c.paused, c.accounts)

    @property
    def room(self) -> int:
        """Credits that can still be bought before the cap."""
        return max(0, self.cap - self.outstanding)


@dataclass(frozen=True)
class CreditAccountView:
    address: Pubkey
    config: Pubkey
    user: Pubkey
    balance: int
    deposited: int
    redeemed: int
    spent: int
    refunded: int
    in_flight: int
    jobs_opened: int
    customer: Pubkey
    refund_account: Pubkey
    #: inference channels opened with credits
    channels_opened: int = 0

    @classmethod
    def decode(cls, program: ProgramIdl, address: Pubkey, data: bytes) -> "CreditAccountView":
        """Decode a ``CreditAccount`` account's bytes (``ValueError`` on another account type)."""
        a = program.decode_account_as("CreditAccount", data)
        return cls(address, a.config, a.user, a.balance, a.deposited, a.redeemed, a.spent, a.refunded, a.in_flight,
                   a.jobs_opened, a.customer, a.refund_account, a.channels_opened)


@dataclass(frozen=True)
class DelegationView:
    address: Pubkey
    credit_account: Pubkey
    delegate: Pubkey
    allowance: int
    period_secs: int
    period_start: int
    spent_in_period: int

    @classmethod
    def decode(cls, program: ProgramIdl, address: Pubkey, data: bytes) -> "DelegationView":
        """Decode a ``Delegation`` account's bytes (``ValueError`` on another account type)."""
        d = program.decode_account_as("Delegation", data)
        return cls(address, d.credit_account, d.delegate, d.allowance, d.period_secs, d.period_start,
                   d.spent_in_period)

    def available(self, now_ts: int) -> int:
        """What the delegate may still spend in the period containing ``now_ts``."""
        _, spent = delegate_window(self.period_start, self.period_secs, self.spent_in_period, now_ts)
        return max(0, self.allowance - spent)


def delegate_window(period_start: int, period_secs: int, spent: int, now_ts: int) -> Tuple[int, int]:
    """(start, spent) of the delegate period containing ``now_ts``
    (mirror of ``math::current_period``)."""
    if period_secs <= 0:
        raise ValueError("period_secs must be positive")
    if now_ts < period_start + period_secs:
        return period_start, spent
    return period_start + (now_ts - period_start) // period_secs * period_secs, 0


def decode_any(program: ProgramIdl, address: Pubkey, data: bytes) -> Any:
    """The view of any credits account, by its discriminator."""
    name, _ = program.decode_account(data)
    views = {"Config": ConfigView, "CreditAccount": CreditAccountView, "Delegation": DelegationView}
    return views[name].decode(program, address, data)
