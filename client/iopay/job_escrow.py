"""Job escrow SDK: instruction builders (pure, from the IDL) and the money
math the program uses, mirrored exactly so callers can predict payouts.

Builders return ``solders`` instructions and work with any sender: the
LiteSVM harness (``iopay.litesvm``) or a real RPC (``iopay.tx``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from solders.instruction import Instruction
from solders.pubkey import Pubkey

from iopay import pda
from iopay.idl import AccountFetcher, ProgramIdl

BPS_DENOMINATOR = 10_000
SECONDS_PER_HOUR = 3_600
IDL_NAME = "job_escrow"


# -- money math (mirror of programs/job_escrow/src/math.rs) --------------------

def fee_for(amount: int, fee_bps: int) -> int:
    """ceil(amount * fee_bps / 10_000): rounding never favours the payer."""
    if not 0 <= fee_bps <= BPS_DENOMINATOR:
        raise ValueError("fee_bps out of range")
    return -(-amount * fee_bps // BPS_DENOMINATOR)


def booking_cost(rate_per_hour: int, hours: int, n_workers: int, fee_bps: int) -> tuple[int, int]:
    per_slot = rate_per_hour * hours
    return per_slot * n_workers, fee_for(per_slot, fee_bps) * n_workers


def elapsed_hours(start_ts: int, now_ts: int) -> int:
    return 0 if now_ts <= start_ts else (now_ts - start_ts) // SECONDS_PER_HOUR


def settlement(rate_per_hour: int, fee_bps: int, paid_before: int, hours: int) -> tuple[int, int]:
    """(worker amount, fee) for paying ``hours`` more after ``paid_before``."""
    after = paid_before + hours
    return (
        rate_per_hour * hours,
        fee_for(rate_per_hour * after, fee_bps) - fee_for(rate_per_hour * paid_before, fee_bps),
    )


# -- addresses ---------------------------------------------------------------

@dataclass(frozen=True)
class JobAddresses:
    market: Pubkey
    job: Pubkey
    vault: Pubkey


class JobEscrow:
    """Instruction builders for the job escrow program."""

    def __init__(self, program: Optional[ProgramIdl] = None, fetch: Optional[AccountFetcher] = None) -> None:
        self.program = program or ProgramIdl.load(IDL_NAME)
        self.program_id = self.program.program_id
        self.fetch = fetch

    def market_address(self, mint: Pubkey) -> Pubkey:
        return pda.market_pda(self.program_id, mint)[0]

    def job_addresses(self, mint: Pubkey, customer: Pubkey, job_id: int) -> JobAddresses:
        market = self.market_address(mint)
        job = pda.job_pda(self.program_id, market, customer, job_id)[0]
        return JobAddresses(market, job, pda.vault_pda(self.program_id, job)[0])

    def _ix(self, name: str, args: dict[str, Any], accounts: dict[str, Pubkey], overrides: Optional[dict[str, Pubkey]]) -> Instruction:
        return self.program.build_instruction(name, args, accounts, fetch=self.fetch, overrides=overrides)

    def init_market(
        self, *, payer: Pubkey, upgrade_authority: Pubkey, authority: Pubkey, mint: Pubkey,
        treasury: Pubkey, fee_bps: int, max_workers: int, max_hours: int,
        overrides: Optional[dict[str, Pubkey]] = None,
    ) -> Instruction:
        return self._ix(
            "init_market",
            {"fee_bps": fee_bps, "max_workers": max_workers, "max_hours": max_hours},
            {"payer": payer, "upgrade_authority": upgrade_authority, "authority": authority,
             "mint": mint, "treasury": treasury},
            overrides,
        )

    def set_market_paused(self, *, authority: Pubkey, mint: Pubkey, paused: bool,
                          overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        return self._ix("set_market_paused", {"paused": paused},
                        {"authority": authority, "market": self.market_address(mint)}, overrides)

    def update_market(self, *, authority: Pubkey, mint: Pubkey, treasury: Pubkey, fee_bps: int,
                      max_workers: int, max_hours: int,
                      overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        return self._ix(
            "update_market",
            {"fee_bps": fee_bps, "max_workers": max_workers, "max_hours": max_hours},
            {"authority": authority, "market": self.market_address(mint), "treasury": treasury},
            overrides,
        )

    def set_market_authority(self, *, authority: Pubkey, mint: Pubkey, new_authority: Pubkey,
                             overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        return self._ix("set_market_authority", {"new_authority": new_authority},
                        {"authority": authority, "market": self.market_address(mint)}, overrides)

    def open_job(
        self, *, customer: Pubkey, mint: Pubkey, worker: Pubkey, customer_token: Pubkey,
        job_id: int, rate_per_hour: int, hours: int, overrides: Optional[dict[str, Pubkey]] = None,
    ) -> Instruction:
        a = self.job_addresses(mint, customer, job_id)
        return self._ix(
            "open_job",
            {"job_id": job_id, "rate_per_hour": rate_per_hour, "hours": hours},
            {"customer": customer, "market": a.market, "mint": mint, "worker": worker,
             "job": a.job, "vault": a.vault, "customer_token": customer_token},
            overrides,
        )

    def settle(self, *, mint: Pubkey, job: Pubkey, worker_token: Pubkey, treasury: Pubkey,
               overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        return self._ix(
            "settle", {},
            {"market": self.market_address(mint), "job": job,
             "vault": pda.vault_pda(self.program_id, job)[0],
             "worker_token": worker_token, "treasury": treasury},
            overrides,
        )

    def cancel(self, *, customer: Pubkey, mint: Pubkey, job: Pubkey, customer_token: Pubkey,
               worker_token: Pubkey, treasury: Pubkey,
               overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        return self._ix(
            "cancel", {},
            {"customer": customer, "market": self.market_address(mint), "job": job,
             "vault": pda.vault_pda(self.program_id, job)[0], "customer_token": customer_token,
             "worker_token": worker_token, "treasury": treasury},
            overrides,
        )
