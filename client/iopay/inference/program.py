"""inference_pay SDK: instruction builders (pure, from the IDL), the voucher
bytes the program checks, the Ed25519 precompile instruction that carries
them, and the program's money math mirrored exactly.

A voucher is the payer's ed25519 signature over :data:`VOUCHER_LEN` bytes
(``programs/inference_pay/src/voucher.rs``)::

    "iopay-voucher-v1" | program id | channel | open_slot u64 | cumulative u64 | nonce u64

``settle`` redeems signature ``i`` of an Ed25519 precompile instruction for
remaining account (channel) ``i``; every offset of that instruction points at
its own data (instruction index ``u16::MAX``), which is what the program
insists on.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Tuple

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from iopay.core.idl import AccountFetcher, ProgramIdl
from iopay.escrow.program import fee_for, U64_MAX

IDL_NAME = "inference_pay"
DOMAIN = b"iopay-voucher-v1"
VOUCHER_LEN = 104
ED25519_PROGRAM_ID = Pubkey.from_string("Ed25519SigVerify111111111111111111111111111")
INSTRUCTIONS_SYSVAR_ID = Pubkey.from_string("Sysvar1nstructions1111111111111111111111111")
THIS_INSTRUCTION = 0xFFFF

POOL_SEED = b"pool"
POOL_VAULT_SEED = b"pool_vault"
CHANNEL_SEED = b"channel"
LISTING_SEED = b"listing"

MIN_DISPUTE_WINDOW = 60
MAX_DISPUTE_WINDOW = 30 * 86_400
MAX_CHANNEL_LIFE = 366 * 86_400
#: Byte offset of ``Channel.provider`` (settlers filter their channels on it).
CHANNEL_PROVIDER_OFFSET = 8 + 32
PRICE_UNITS = ("PerInference", "PerThousandTokens")


def _u64(name: str, x: int) -> int:
    if not isinstance(x, int) or isinstance(x, bool):
        raise TypeError(f"{name} must be an int")
    if not 0 <= x <= U64_MAX:
        raise ValueError(f"{name} out of u64 range: {x}")
    return x


# -- vouchers ----------------------------------------------------------------------

def voucher_message(program_id: Pubkey, channel: Pubkey, open_slot: int, cumulative: int, nonce: int) -> bytes:
    """The exact bytes a voucher signs."""
    return (DOMAIN + bytes(program_id) + bytes(channel)
            + struct.pack("<QQQ", _u64("open_slot", open_slot), _u64("cumulative", cumulative), _u64("nonce", nonce)))


@dataclass(frozen=True)
class Voucher:
    """A signed voucher: ``signature`` by ``signer`` over :func:`voucher_message`."""
    channel: Pubkey
    open_slot: int
    cumulative: int
    nonce: int
    signer: Pubkey
    signature: bytes

    def message(self, program_id: Pubkey) -> bytes:
        """The exact bytes the signature covers (:func:`voucher_message`) for ``program_id``."""
        return voucher_message(program_id, self.channel, self.open_slot, self.cumulative, self.nonce)


def ed25519_instruction(entries: Sequence[Tuple[bytes, bytes, bytes]]) -> Instruction:
    """An Ed25519 precompile instruction verifying ``(pubkey, signature,
    message)`` triples, every offset pointing into its own data."""
    if not entries or len(entries) > 255:
        raise ValueError("1..255 signatures per precompile instruction")
    head = bytearray([len(entries), 0])
    body = bytearray()
    base = 2 + 14 * len(entries)
    for pk, sig, msg in entries:
        if len(pk) != 32 or len(sig) != 64:
            raise ValueError("pubkey must be 32 bytes and signature 64")
        pk_off = base + len(body)
        body += pk
        sig_off = base + len(body)
        body += sig
        msg_off = base + len(body)
        body += msg
        head += struct.pack("<HHHHHHH", sig_off, THIS_INSTRUCTION, pk_off, THIS_INSTRUCTION, msg_off, len(msg),
                            THIS_INSTRUCTION)
    data = bytes(head + body)
    if base + len(body) > 0xFFFF:
        raise ValueError("precompile data too large")
    return Instruction(ED25519_PROGRAM_ID, data, [])


# -- money math (mirror of programs/inference_pay/src/math.rs) -----------------------

def settlement(settled: int, cumulative: int, fee_bps: int) -> Tuple[int, int]:
    """(to provider, fee) of moving a channel from ``settled`` to ``cumulative``:
    the fee is the difference of the cumulative ``fee_for``, rounded up."""
    if cumulative < settled:
        raise ValueError("cumulative below settled")
    fee = fee_for(cumulative, fee_bps) - fee_for(settled, fee_bps)
    return cumulative - settled - fee, fee


def price_of(price: int, unit: str, tokens: int = 0) -> int:
    """Base units owed for one request at a listing's price: ``price`` per
    inference, or ``ceil(tokens * price / 1000)`` per 1,000 tokens."""
    if unit == "PerInference":
        return price
    if unit == "PerThousandTokens":
        if tokens < 0:
            raise ValueError("tokens must be >= 0")
        return -(-tokens * price // 1000)
    raise ValueError(f"unknown price unit {unit!r}")


# -- addresses and builders -----------------------------------------------------------

class InferencePay:
    """Instruction builders for the inference_pay program."""

    def __init__(self, program: Optional[ProgramIdl] = None, fetch: Optional[AccountFetcher] = None) -> None:
        self.program = program or ProgramIdl.load(IDL_NAME)
        self.program_id = self.program.program_id
        self.fetch = fetch

    def pool_address(self, mint: Pubkey) -> Pubkey:
        """The pool PDA ``[b"pool", mint]``."""
        return Pubkey.find_program_address([POOL_SEED, bytes(mint)], self.program_id)[0]

    def vault_address(self, mint: Pubkey) -> Pubkey:
        """The pool's vault, a token account PDA ``[b"pool_vault", mint]``."""
        return Pubkey.find_program_address([POOL_VAULT_SEED, bytes(mint)], self.program_id)[0]

    def channel_address(self, payer: Pubkey, provider: Pubkey, mint: Pubkey, channel_id: int) -> Pubkey:
        """The channel PDA ``[b"channel", payer, provider, mint, id (u64 LE)]``. ``ValueError`` if
        ``channel_id`` is outside u64."""
        return Pubkey.find_program_address(
            [CHANNEL_SEED, bytes(payer), bytes(provider), bytes(mint), struct.pack("<Q", _u64("id", channel_id))],
            self.program_id)[0]

    def listing_address(self, provider: Pubkey, mint: Pubkey, model_id: int) -> Pubkey:
        """The listing PDA ``[b"listing", provider, mint, model_id (u64 LE)]``."""
        return Pubkey.find_program_address(
            [LISTING_SEED, bytes(provider), bytes(mint), struct.pack("<Q", _u64("model_id", model_id))],
            self.program_id)[0]

    def market_address(self, mint: Pubkey, escrow_program_id: Pubkey) -> Pubkey:
        """job_escrow's market of ``mint`` (the fee policy) under ``escrow_program_id``."""
        return Pubkey.find_program_address([b"market", bytes(mint)], escrow_program_id)[0]

    def _ix(self, name: str, args: dict[str, Any], accounts: dict[str, Pubkey],
            overrides: Optional[dict[str, Pubkey]] = None, remaining: Sequence[AccountMeta] = ()) -> Instruction:
        return self.program.build_instruction(name, args, accounts, fetch=self.fetch, overrides=overrides,
                                              remaining=remaining)

    def _pool(self, mint: Pubkey) -> dict[str, Pubkey]:
        return {"pool": self.pool_address(mint), "vault": self.vault_address(mint)}

    def init_pool(self, *, payer: Pubkey, mint: Pubkey, overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """``init_pool``: the pool and vault of ``mint``, rent paid by ``payer``."""
        return self._ix("init_pool", {}, {"payer": payer, "mint": mint, **self._pool(mint)}, overrides)

    def create_listing(self, *, provider: Pubkey, mint: Pubkey, model_id: int, price: int,
                       unit: str = "PerInference", overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """``create_listing``: ``price`` base units per ``unit`` (``"PerInference"`` or ``"PerThousandTokens"``;
        ``ValueError`` otherwise)."""
        return self._ix("create_listing", {"model_id": _u64("model_id", model_id), "price": _u64("price", price),
                                           "unit": _unit(self.program, unit)},
                        {"provider": provider, "mint": mint,
                         "listing": self.listing_address(provider, mint, model_id)}, overrides)

    def update_listing(self, *, provider: Pubkey, listing: Pubkey, price: int, unit: str, active: bool,
                       overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """``update_listing``: new ``price``/``unit`` and the ``active`` flag."""
        return self._ix("update_listing", {"price": _u64("price", price), "unit": _unit(self.program, unit),
                                           "active": bool(active)},
                        {"provider": provider, "listing": listing}, overrides)

    def close_listing(self, *, provider: Pubkey, listing: Pubkey,
                      overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """``close_listing``: remove the listing, rent back to ``provider``."""
        return self._ix("close_listing", {}, {"provider": provider, "listing": listing}, overrides)

    def open_channel(self, *, payer: Pubkey, provider: Pubkey, mint: Pubkey, market: Pubkey, payer_token: Pubkey,
                     channel_id: int, deposit: int, expires_at: int, dispute_window: int,
                     voucher_signer: Optional[Pubkey] = None, rent_payer: Optional[Pubkey] = None,
                     refund_to: Optional[Pubkey] = None,
                     overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """``market``: job_escrow's market of ``mint`` (the fee policy).
        ``voucher_signer``, ``rent_payer`` and ``refund_to`` default to the
        payer and its ``payer_token``."""
        return self._ix(
            "open_channel",
            {"id": _u64("channel_id", channel_id), "deposit": _u64("deposit", deposit),
             "expires_at": int(expires_at), "dispute_window": int(dispute_window),
             "voucher_signer": voucher_signer or payer},
            {"payer": payer, "rent_payer": rent_payer or payer, "provider": provider, "market": market,
             **self._pool(mint), "payer_token": payer_token, "refund_to": refund_to or payer_token,
             "channel": self.channel_address(payer, provider, mint, channel_id)},
            overrides)

    def top_up(self, *, payer: Pubkey, mint: Pubkey, market: Pubkey, payer_token: Pubkey, channel: Pubkey,
               amount: int, expires_at: int, overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """``top_up``: add ``amount`` base units from ``payer_token`` and set ``expires_at`` (unix seconds; the
        current value keeps it)."""
        return self._ix("top_up", {"amount": _u64("amount", amount), "expires_at": int(expires_at)},
                        {"payer": payer, "market": market, **self._pool(mint), "payer_token": payer_token,
                         "channel": channel}, overrides)

    def settle(self, *, provider: Pubkey, mint: Pubkey, provider_token: Pubkey, vouchers: Sequence[Voucher],
               overrides: Optional[dict[str, Pubkey]] = None) -> list[Instruction]:
        """``[precompile, settle]``: one signature per voucher, one channel
        each (send the two together, in this order)."""
        if not vouchers:
            raise ValueError("no vouchers to settle")
        ed = ed25519_instruction([(bytes(v.signer), v.signature, v.message(self.program_id)) for v in vouchers])
        ix = self._ix("settle", {"ed25519_back": 1},
                      {"provider": provider, **self._pool(mint), "provider_token": provider_token,
                       "instructions": INSTRUCTIONS_SYSVAR_ID},
                      overrides, [AccountMeta(v.channel, False, True) for v in vouchers])
        return [ed, ix]

    def start_close(self, *, payer: Pubkey, channel: Pubkey,
                    overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """``start_close``: the payer's close after expiry, opening the dispute window."""
        return self._ix("start_close", {}, {"payer": payer, "channel": channel}, overrides)

    def finish_close(self, *, channel: Pubkey, mint: Pubkey, rent_payer: Pubkey, refund_to: Pubkey,
                     overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """``finish_close`` (permissionless, after the window): refund to ``refund_to``, rent to ``rent_payer``
        (both as fixed at open)."""
        return self._ix("finish_close", {}, {"channel": channel, "rent_payer": rent_payer, "refund_to": refund_to,
                                             **self._pool(mint)}, overrides)

    def coop_close(self, *, payer: Pubkey, provider: Pubkey, channel: Pubkey, mint: Pubkey, rent_payer: Pubkey,
                   refund_to: Pubkey, overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """``coop_close``: payer and provider sign, the unsettled rest is refunded at once."""
        return self._ix("coop_close", {}, {"payer": payer, "provider": provider, "channel": channel,
                                           "rent_payer": rent_payer, "refund_to": refund_to, **self._pool(mint)},
                        overrides)

    def sweep_fees(self, *, mint: Pubkey, market: Pubkey, treasury: Pubkey,
                   overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """``sweep_fees`` (permissionless): the pool's accrued fees to the market's ``treasury``."""
        return self._ix("sweep_fees", {}, {"market": market, **self._pool(mint), "treasury": treasury}, overrides)


def _unit(program: ProgramIdl, unit: str) -> Any:
    """The borsh value of ``PriceUnit::<unit>`` for anchorpy's coder."""
    if unit not in PRICE_UNITS:
        raise ValueError(f"unit must be one of {PRICE_UNITS}")
    from anchorpy.coder.idl import _handle_enum_variants

    ty = next(t for t in program.idl.types if t.name == "PriceUnit")
    return getattr(_handle_enum_variants(ty.ty, program.idl.types, "PriceUnit").enum, unit)()
