"""Program-derived addresses.

Two layers:

* named helpers for the job escrow (seeds of ``programs/job_escrow/src/state.rs``:
  ``market = [b"market", mint]``, ``job = [b"job", market, customer, job_id u64 LE]``,
  ``vault = [b"vault", job]``, ``price_feed = [b"price_feed", market]``), plus Anchor's ``__event_authority`` and the
  upgradeable loader's program-data address;
* a data-driven resolver that reads an instruction account's ``pda`` entry
  of an Anchor 0.30+ IDL (seed kinds ``const``, ``arg``, ``account``) so
  new programs need no hand-written seed code. Tests cross-check the two.
"""

from __future__ import annotations

import struct
from typing import Any, Callable, Mapping, Optional, Sequence

from solders.pubkey import Pubkey

BPF_LOADER_UPGRADEABLE_ID = Pubkey.from_string("BPFLoaderUpgradeab1e11111111111111111111111")

MARKET_SEED = b"market"
JOB_SEED = b"job"
VAULT_SEED = b"vault"
FEE_VAULT_SEED = b"fee_vault"
PRICE_FEED_SEED = b"price_feed"
EVENT_AUTHORITY_SEED = b"__event_authority"


def market_pda(program_id: Pubkey, mint: Pubkey) -> tuple[Pubkey, int]:
    return Pubkey.find_program_address([MARKET_SEED, bytes(mint)], program_id)


def job_pda(program_id: Pubkey, market: Pubkey, customer: Pubkey, job_id: int) -> tuple[Pubkey, int]:
    return Pubkey.find_program_address(
        [JOB_SEED, bytes(market), bytes(customer), struct.pack("<Q", job_id)], program_id
    )


def vault_pda(program_id: Pubkey, job: Pubkey) -> tuple[Pubkey, int]:
    return Pubkey.find_program_address([VAULT_SEED, bytes(job)], program_id)


def fee_vault_pda(program_id: Pubkey, market: Pubkey) -> tuple[Pubkey, int]:
    """The market's fee vault (token account owned by the market PDA)."""
    return Pubkey.find_program_address([FEE_VAULT_SEED, bytes(market)], program_id)


def price_feed_pda(program_id: Pubkey, market: Pubkey) -> tuple[Pubkey, int]:
    return Pubkey.find_program_address([PRICE_FEED_SEED, bytes(market)], program_id)


def event_authority_pda(program_id: Pubkey) -> Pubkey:
    return Pubkey.find_program_address([EVENT_AUTHORITY_SEED], program_id)[0]


def program_data_address(program_id: Pubkey) -> Pubkey:
    return Pubkey.find_program_address([bytes(program_id)], BPF_LOADER_UPGRADEABLE_ID)[0]


# --- IDL-driven resolution ---------------------------------------------------

_INT_FMT = {
    "u8": "<B", "i8": "<b", "u16": "<H", "i16": "<h", "u32": "<I", "i32": "<i",
    "u64": "<Q", "i64": "<q",
}


class UnresolvedSeed(LookupError):
    """A seed needs a value the caller did not provide."""


def encode_seed_value(value: Any, ty: Any) -> bytes:
    """Encode an arg/field value as Anchor does for seeds (``to_le_bytes`` for
    integers, raw 32 bytes for pubkeys, utf-8 for strings)."""
    if isinstance(ty, str):
        if ty in _INT_FMT:
            return struct.pack(_INT_FMT[ty], value)
        if ty in ("u128", "i128"):
            return int(value).to_bytes(16, "little", signed=ty == "i128")
        if ty == "pubkey" or ty == "publicKey":
            return bytes(value)
        if ty == "string":
            return value.encode()
        if ty == "bytes":
            return bytes(value)
        if ty == "bool":
            return b"\x01" if value else b"\x00"
    if isinstance(value, Pubkey):
        return bytes(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    raise TypeError(f"cannot encode seed value {value!r} of type {ty!r}")


FieldReader = Callable[[Pubkey, str], "tuple[Any, Any]"]
"""(account address, field path) -> (field value, IDL type of the field)."""


def resolve_pda(
    pda: Mapping[str, Any],
    program_id: Pubkey,
    *,
    args: Mapping[str, Any],
    arg_types: Mapping[str, Any],
    accounts: Mapping[str, Pubkey],
    read_field: Optional[FieldReader] = None,
) -> tuple[Pubkey, int]:
    """Derive the address of an IDL ``pda`` entry.

    ``account`` seeds with a dotted path (``market.mint``) need the account's
    data: ``read_field(address, "mint")`` supplies it with its IDL type. Raises
    :class:`UnresolvedSeed` when a value is missing."""
    seeds: list[bytes] = []
    for seed in pda["seeds"]:
        kind = seed["kind"]
        if kind == "const":
            seeds.append(bytes(seed["value"]))
        elif kind == "arg":
            root, *rest = seed["path"].split(".")
            if root not in args:
                raise UnresolvedSeed(f"arg {seed['path']}")
            if rest:
                raise UnresolvedSeed(f"nested arg path {seed['path']} not supported")
            seeds.append(encode_seed_value(args[root], arg_types.get(root)))
        elif kind == "account":
            root, *rest = seed["path"].split(".")
            if root not in accounts:
                raise UnresolvedSeed(f"account {root}")
            if not rest:
                seeds.append(bytes(accounts[root]))
            else:
                if read_field is None:
                    raise UnresolvedSeed(f"account field {seed['path']}")
                value, fty = read_field(accounts[root], ".".join(rest))
                seeds.append(encode_seed_value(value, fty))
        else:
            raise UnresolvedSeed(f"unknown seed kind {kind!r}")
    prog = pda.get("program")
    if prog is not None:
        if prog.get("kind") == "const":
            program_id = Pubkey.from_bytes(bytes(prog["value"]))
        elif prog.get("kind") == "account" and prog.get("path") in accounts:
            program_id = accounts[prog["path"]]
        else:
            raise UnresolvedSeed(f"pda program {prog}")
    return Pubkey.find_program_address(seeds, program_id)


def seeds_to_bytes(seeds: Sequence[bytes | Pubkey]) -> list[bytes]:
    return [bytes(s) for s in seeds]
