"""inference_pay state: decoded channel/listing/pool views and the pure
rules a provider applies before serving (no I/O).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from solders.pubkey import Pubkey

from iopay.core.chain import Memcmp
from iopay.core.idl import ProgramIdl
from iopay.inference.program import CHANNEL_PROVIDER_OFFSET


def _variant(value: Any) -> str:
    return type(value).__name__


@dataclass(frozen=True)
class ChannelView:
    address: Pubkey
    payer: Pubkey
    provider: Pubkey
    mint: Pubkey
    voucher_signer: Pubkey
    refund_to: Pubkey
    rent_payer: Pubkey
    id: int
    open_slot: int
    deposit: int
    settled: int
    nonce: int
    fee_bps: int
    expires_at: int
    dispute_window: int
    close_at: int
    state: str

    @classmethod
    def decode(cls, program: ProgramIdl, address: Pubkey, data: bytes) -> "ChannelView":
        """Decode a ``Channel`` account's bytes (``ValueError`` on another account type)."""
        c = program.decode_account_as("Channel", data)
        return cls(address=address, payer=c.payer, provider=c.provider, mint=c.mint, voucher_signer=c.voucher_signer,
                   refund_to=c.refund_to, rent_payer=c.rent_payer, id=c.id, open_slot=c.open_slot, deposit=c.deposit,
                   settled=c.settled, nonce=c.nonce, fee_bps=c.fee_bps, expires_at=c.expires_at,
                   dispute_window=c.dispute_window, close_at=c.close_at, state=_variant(c.state))

    @property
    def remaining(self) -> int:
        """Base units of the deposit not settled yet."""
        return self.deposit - self.settled

    def settle_deadline(self) -> Optional[int]:
        """Last moment (exclusive) a voucher can be settled, or None while open."""
        return self.close_at if self.state == "Closing" else None


@dataclass(frozen=True)
class ListingView:
    address: Pubkey
    provider: Pubkey
    mint: Pubkey
    model_id: int
    price: int
    unit: str
    active: bool

    @classmethod
    def decode(cls, program: ProgramIdl, address: Pubkey, data: bytes) -> "ListingView":
        """Decode a ``Listing`` account's bytes (``ValueError`` on another account type)."""
        x = program.decode_account_as("Listing", data)
        return cls(address, x.provider, x.mint, x.model_id, x.price, _variant(x.unit), x.active)


@dataclass(frozen=True)
class PoolView:
    address: Pubkey
    mint: Pubkey
    vault: Pubkey
    fees_accrued: int
    fees_swept: int
    channels_opened: int

    @classmethod
    def decode(cls, program: ProgramIdl, address: Pubkey, data: bytes) -> "PoolView":
        """Decode a ``Pool`` account's bytes (``ValueError`` on another account type)."""
        x = program.decode_account_as("Pool", data)
        return cls(address, x.mint, x.vault, x.fees_accrued, x.fees_swept, x.channels_opened)


def channel_filters(program: ProgramIdl, provider: Pubkey) -> list[Memcmp]:
    """getProgramAccounts filters for every channel paying ``provider``."""
    return [Memcmp(0, program.account_discriminator("Channel")), Memcmp(CHANNEL_PROVIDER_OFFSET, bytes(provider))]
