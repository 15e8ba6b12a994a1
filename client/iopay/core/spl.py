"""Classic SPL Token program: instruction builders and account layouts.

Hand-coded (tags and layouts of `spl-token` are stable) so that the harness
and the SDK do not depend on the shape of `spl.token` helpers across
`solana-py` releases. Only the classic Token program is supported, matching
the on-chain programs.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Optional

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

TOKEN_PROGRAM_ID = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
ASSOCIATED_TOKEN_PROGRAM_ID = Pubkey.from_string("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL")
SYSTEM_PROGRAM_ID = Pubkey.from_string("11111111111111111111111111111111")

MINT_LEN = 82
ACCOUNT_LEN = 165

# Instruction tags of the classic Token program.
_IX_MINT_TO = 7
_IX_TRANSFER = 3
_IX_CLOSE_ACCOUNT = 9
_IX_FREEZE_ACCOUNT = 10
_IX_THAW_ACCOUNT = 11
_IX_INITIALIZE_ACCOUNT3 = 18
_IX_INITIALIZE_MINT2 = 20

# TokenError codes (spl-token `error.rs`), used to name Custom(n) failures.
TOKEN_ERRORS: dict[int, str] = {
    0: "NotRentExempt",
    1: "InsufficientFunds",
    2: "InvalidMint",
    3: "MintMismatch",
    4: "OwnerMismatch",
    5: "FixedSupply",
    6: "AlreadyInUse",
    7: "InvalidNumberOfProvidedSigners",
    8: "InvalidNumberOfRequiredSigners",
    9: "UninitializedState",
    10: "NativeNotSupported",
    11: "NonNativeHasBalance",
    12: "InvalidInstruction",
    13: "InvalidState",
    14: "Overflow",
    15: "AuthorityTypeNotSupported",
    16: "MintCannotFreeze",
    17: "AccountFrozen",
    18: "MintDecimalsMismatch",
    19: "NonNativeNotSupported",
}


def initialize_mint2(
    mint: Pubkey, decimals: int, mint_authority: Pubkey, freeze_authority: Optional[Pubkey] = None
) -> Instruction:
    data = struct.pack("<BB", _IX_INITIALIZE_MINT2, decimals) + bytes(mint_authority)
    data += (b"\x01" + bytes(freeze_authority)) if freeze_authority else b"\x00"
    return Instruction(TOKEN_PROGRAM_ID, data, [AccountMeta(mint, False, True)])


def initialize_account3(account: Pubkey, mint: Pubkey, owner: Pubkey) -> Instruction:
    data = bytes([_IX_INITIALIZE_ACCOUNT3]) + bytes(owner)
    return Instruction(
        TOKEN_PROGRAM_ID,
        data,
        [AccountMeta(account, False, True), AccountMeta(mint, False, False)],
    )


def mint_to(mint: Pubkey, dest: Pubkey, authority: Pubkey, amount: int) -> Instruction:
    return Instruction(
        TOKEN_PROGRAM_ID,
        struct.pack("<BQ", _IX_MINT_TO, amount),
        [
            AccountMeta(mint, False, True),
            AccountMeta(dest, False, True),
            AccountMeta(authority, True, False),
        ],
    )


def transfer(source: Pubkey, dest: Pubkey, owner: Pubkey, amount: int) -> Instruction:
    return Instruction(
        TOKEN_PROGRAM_ID,
        struct.pack("<BQ", _IX_TRANSFER, amount),
        [
            AccountMeta(source, False, True),
            AccountMeta(dest, False, True),
            AccountMeta(owner, True, False),
        ],
    )


def close_account(account: Pubkey, dest: Pubkey, owner: Pubkey) -> Instruction:
    return Instruction(
        TOKEN_PROGRAM_ID,
        bytes([_IX_CLOSE_ACCOUNT]),
        [
            AccountMeta(account, False, True),
            AccountMeta(dest, False, True),
            AccountMeta(owner, True, False),
        ],
    )


def freeze_account(account: Pubkey, mint: Pubkey, freeze_authority: Pubkey) -> Instruction:
    """``FreezeAccount`` (the mint's freeze authority signs)."""
    return Instruction(TOKEN_PROGRAM_ID, bytes([_IX_FREEZE_ACCOUNT]), [
        AccountMeta(account, False, True), AccountMeta(mint, False, False), AccountMeta(freeze_authority, True, False)])


def thaw_account(account: Pubkey, mint: Pubkey, freeze_authority: Pubkey) -> Instruction:
    """``ThawAccount`` (the mint's freeze authority signs)."""
    return Instruction(TOKEN_PROGRAM_ID, bytes([_IX_THAW_ACCOUNT]), [
        AccountMeta(account, False, True), AccountMeta(mint, False, False), AccountMeta(freeze_authority, True, False)])


def associated_token_address(owner: Pubkey, mint: Pubkey) -> Pubkey:
    return Pubkey.find_program_address(
        [bytes(owner), bytes(TOKEN_PROGRAM_ID), bytes(mint)], ASSOCIATED_TOKEN_PROGRAM_ID
    )[0]


def create_associated_token_account_idempotent(payer: Pubkey, owner: Pubkey, mint: Pubkey) -> Instruction:
    ata = associated_token_address(owner, mint)
    return Instruction(
        ASSOCIATED_TOKEN_PROGRAM_ID,
        bytes([1]),  # CreateIdempotent
        [
            AccountMeta(payer, True, True),
            AccountMeta(ata, False, True),
            AccountMeta(owner, False, False),
            AccountMeta(mint, False, False),
            AccountMeta(SYSTEM_PROGRAM_ID, False, False),
            AccountMeta(TOKEN_PROGRAM_ID, False, False),
        ],
    )


@dataclass(frozen=True)
class TokenAccount:
    mint: Pubkey
    owner: Pubkey
    amount: int
    delegate: Optional[Pubkey]
    state: int  # 0 uninitialized, 1 initialized, 2 frozen
    is_native: Optional[int]
    delegated_amount: int
    close_authority: Optional[Pubkey]

    @classmethod
    def decode(cls, data: bytes) -> "TokenAccount":
        if len(data) != ACCOUNT_LEN:
            raise ValueError(f"not a token account: {len(data)} bytes, expected {ACCOUNT_LEN}")
        mint = Pubkey.from_bytes(data[0:32])
        owner = Pubkey.from_bytes(data[32:64])
        (amount,) = struct.unpack_from("<Q", data, 64)
        delegate = Pubkey.from_bytes(data[76:108]) if struct.unpack_from("<I", data, 72)[0] else None
        state = data[108]
        is_native = struct.unpack_from("<Q", data, 113)[0] if struct.unpack_from("<I", data, 109)[0] else None
        (delegated_amount,) = struct.unpack_from("<Q", data, 121)
        close_auth = Pubkey.from_bytes(data[133:165]) if struct.unpack_from("<I", data, 129)[0] else None
        return cls(mint, owner, amount, delegate, state, is_native, delegated_amount, close_auth)


@dataclass(frozen=True)
class Mint:
    mint_authority: Optional[Pubkey]
    supply: int
    decimals: int
    is_initialized: bool
    freeze_authority: Optional[Pubkey]

    @classmethod
    def decode(cls, data: bytes) -> "Mint":
        if len(data) != MINT_LEN:
            raise ValueError(f"not a mint: {len(data)} bytes, expected {MINT_LEN}")
        auth = Pubkey.from_bytes(data[4:36]) if struct.unpack_from("<I", data, 0)[0] else None
        (supply,) = struct.unpack_from("<Q", data, 36)
        decimals = data[44]
        initialized = bool(data[45])
        freeze = Pubkey.from_bytes(data[50:82]) if struct.unpack_from("<I", data, 46)[0] else None
        return cls(auth, supply, decimals, initialized, freeze)
