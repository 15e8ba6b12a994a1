"""Decoded views of the rewards program's accounts (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from solders.pubkey import Pubkey

from iopay.core.idl import ProgramIdl
from iopay.rewards import merkle
from iopay.rewards.program import CLAIMS_HEADER

DEFAULT_PUBKEY = Pubkey.default()


@dataclass(frozen=True)
class DistributorView:
    address: Pubkey
    creator: Pubkey
    mint: Pubkey
    epoch: int
    admin: Pubkey
    pending_admin: Optional[Pubkey]
    root: bytes
    num_leaves: int
    depth: int
    vault: Pubkey
    claims: Pubkey
    treasury: Pubkey
    total: int
    claimed: int
    num_claimed: int
    claim_deadline: int
    clawed_back: bool
    clawback_amount: int
    created_ts: int

    @classmethod
    def decode(cls, program: ProgramIdl, address: Pubkey, data: bytes) -> "DistributorView":
        """Decode a ``Distributor`` account's bytes (``ValueError`` on another account type)."""
        d = program.decode_account_as("Distributor", data)
        return cls(address, d.creator, d.mint, d.epoch, d.admin,
                   None if d.pending_admin == DEFAULT_PUBKEY else d.pending_admin, bytes(d.root), d.num_leaves,
                   d.depth, d.vault, d.claims, d.treasury, d.total, d.claimed, d.num_claimed, d.claim_deadline,
                   d.clawed_back, d.clawback_amount, d.created_ts)

    @property
    def unclaimed(self) -> int:
        """Still owed to claimants (0 once clawed back)."""
        return 0 if self.clawed_back else self.total - self.claimed

    def is_open(self, now: int) -> bool:
        """Whether claims are accepted at unix time ``now`` (deadline inclusive, not clawed back)."""
        return now <= self.claim_deadline and not self.clawed_back


def claimed_bits(bitmap_account_data: bytes, index: int) -> bool:
    """Whether leaf ``index`` is claimed, from the bitmap account's data."""
    return merkle.is_claimed(bitmap_account_data[CLAIMS_HEADER:], index)
