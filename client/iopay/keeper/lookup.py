"""Address lookup tables owned by the keeper.

Without a table every account of a settle transaction costs 32 bytes, so the
1,232-byte limit allows about 23 payees in one transaction, fewer when they
belong to several jobs. With the accounts in a table each costs one byte and
the limit that binds is 64 account locks per transaction (about 9 jobs of 4
workers, 36 payees). Jobs run for hours, so the table entries written for a
job (its job and vault accounts, its workers' token accounts and the market's
shared accounts) are reused at every hour boundary.

The keeper's payer pays the tables' rent. Table ``i`` has its own authority,
a keypair derived from the payer's secret key and ``i`` (a table's address
derives from its authority and a recent slot, and LiteSVM's and localnet's
``SlotHashes`` hold only slot 0, so one authority could own one table
there). Tables are found again after a restart (``getProgramAccounts`` on
the lookup-table program filtered by each derived authority), so a restarted
keeper reuses them instead of creating new ones. Entries written in the current slot are not usable until
the next slot (the runtime's rule), so :meth:`LookupTables.active` only hands
out the active prefix of every table.

Supported by LiteSVM (the program is a builtin; ``SlotHashes`` holds slot 0,
which ``create`` accepts as its recent slot) and by ``iopay.localnet``
(which resolves v0 transactions' tables for execution and indexing).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence

from solders.address_lookup_table_account import (AddressLookupTable, AddressLookupTableAccount,
                                                  derive_lookup_table_address)
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.escrow_state import Memcmp

LOOKUP_TABLE_PROGRAM_ID = Pubkey.from_string("AddressLookupTab1e1111111111111111111111111")
SYSTEM_PROGRAM_ID = Pubkey.from_string("11111111111111111111111111111111")
SLOT_HASHES_SYSVAR = Pubkey.from_string("SysvarS1otHashes111111111111111111111111111")
MAX_ADDRESSES = 256
#: addresses per extend transaction (32 bytes each; 20 keeps it well under 1,232 bytes)
EXTEND_CHUNK = 20
#: ``LookupTableMeta``: u32 state, u64 deactivation_slot, u64 last_extended_slot,
#: u8 start index, Option<Pubkey> authority (tag at 21, key at 22), u16 padding
AUTHORITY_TAG_OFFSET = 21
U64_MAX = 2**64 - 1
#: tables per keeper at most (x 256 addresses)
MAX_TABLES = 64


def table_authority(payer: Keypair, index: int) -> Keypair:
    """The authority of the keeper's ``index``-th table: deterministic, so a
    restarted keeper finds and extends its tables again."""
    seed = hashlib.sha256(b"iopay-keeper-lookup-table" + bytes(payer)[:32] + index.to_bytes(4, "little")).digest()
    return Keypair.from_seed(seed)


def create_lookup_table(authority: Pubkey, payer: Pubkey, recent_slot: int) -> tuple[Instruction, Pubkey]:
    table, bump = derive_lookup_table_address(authority, recent_slot)
    data = struct.pack("<IQB", 0, recent_slot, bump)
    return Instruction(LOOKUP_TABLE_PROGRAM_ID, data, [
        AccountMeta(table, False, True), AccountMeta(authority, True, False), AccountMeta(payer, True, True),
        AccountMeta(SYSTEM_PROGRAM_ID, False, False)]), table


def extend_lookup_table(table: Pubkey, authority: Pubkey, payer: Pubkey, addresses: Sequence[Pubkey]) -> Instruction:
    data = struct.pack("<IQ", 2, len(addresses)) + b"".join(bytes(a) for a in addresses)
    return Instruction(LOOKUP_TABLE_PROGRAM_ID, data, [
        AccountMeta(table, False, True), AccountMeta(authority, True, False), AccountMeta(payer, True, True),
        AccountMeta(SYSTEM_PROGRAM_ID, False, False)])


def deactivate_lookup_table(table: Pubkey, authority: Pubkey) -> Instruction:
    return Instruction(LOOKUP_TABLE_PROGRAM_ID, struct.pack("<I", 3), [
        AccountMeta(table, False, True), AccountMeta(authority, True, False)])


def close_lookup_table(table: Pubkey, authority: Pubkey, recipient: Pubkey) -> Instruction:
    return Instruction(LOOKUP_TABLE_PROGRAM_ID, struct.pack("<I", 4), [
        AccountMeta(table, False, True), AccountMeta(authority, True, False), AccountMeta(recipient, False, True)])


def recent_slots(slot_hashes_data: bytes) -> List[int]:
    """Slots listed in the ``SlotHashes`` sysvar, newest first."""
    (n,) = struct.unpack_from("<Q", slot_hashes_data, 0)
    return [struct.unpack_from("<Q", slot_hashes_data, 8 + 40 * i)[0] for i in range(n)]


@dataclass
class TableState:
    address: Pubkey
    addresses: List[Pubkey]
    last_extended_slot: int
    start_index: int
    deactivated: bool

    @classmethod
    def decode(cls, address: Pubkey, data: bytes) -> "TableState":
        t = AddressLookupTable.deserialize(data)
        m = t.meta
        return cls(address, list(t.addresses), m.last_extended_slot, m.last_extended_slot_start_index,
                   m.deactivation_slot != U64_MAX)

    def active_len(self, current_slot: int) -> int:
        """Entries usable by a transaction executing at ``current_slot``."""
        return self.start_index if current_slot <= self.last_extended_slot else len(self.addresses)


class LookupTables:
    """The keeper's tables: which addresses they hold, extending them with
    the accounts of new jobs, and the active view for a transaction."""

    def __init__(self, chain: Any, payer: Keypair, *, on_event: Any = None) -> None:
        self.chain = chain
        self.payer = payer
        self.tables: Dict[Pubkey, TableState] = {}
        self.authority_of: Dict[Pubkey, Keypair] = {}
        self._next_index = 0
        self._loaded = False
        self._on_event = on_event or (lambda *a, **k: None)

    async def load(self) -> None:
        """Find the tables of this payer's derived authorities (after a restart too)."""
        for i in range(MAX_TABLES):
            auth = table_authority(self.payer, i)
            rows = await self.chain.get_program_accounts(
                LOOKUP_TABLE_PROGRAM_ID, [Memcmp(AUTHORITY_TAG_OFFSET, b"\x01" + bytes(auth.pubkey()))])
            if not rows:
                break
            for addr, data in rows:
                st = TableState.decode(addr, data)
                if not st.deactivated:
                    self.tables[addr] = st
                    self.authority_of[addr] = auth
            self._next_index = i + 1
        self._loaded = True

    async def refresh(self, table: Pubkey) -> TableState:
        acc = await self.chain.get_account(table)
        if acc is None:
            raise LookupError(f"lookup table {table} does not exist")
        st = self.tables[table] = TableState.decode(table, acc[1])
        return st

    def known(self) -> Dict[Pubkey, Pubkey]:
        """address -> table holding it."""
        out: Dict[Pubkey, Pubkey] = {}
        for t in self.tables.values():
            for a in t.addresses:
                out.setdefault(a, t.address)
        return out

    async def _send(self, ixs: List[Instruction], authority: Keypair) -> None:
        await self.chain.send(ixs, [authority], self.payer)

    async def _create(self) -> TableState:
        if self._next_index >= MAX_TABLES:
            raise RuntimeError(f"the keeper already owns {MAX_TABLES} lookup tables")
        auth = table_authority(self.payer, self._next_index)
        acc = await self.chain.get_account(SLOT_HASHES_SYSVAR)
        slots = (recent_slots(acc[1]) if acc is not None else []) or [0]
        for rs in slots[:8]:
            ix, table = create_lookup_table(auth.pubkey(), self.payer.pubkey(), rs)
            if await self.chain.get_account(table) is None:
                await self._send([ix], auth)
                self._next_index += 1
                self.authority_of[table] = auth
                self._on_event("lookup_table_created", table=str(table), recent_slot=rs)
                return await self.refresh(table)
        raise RuntimeError("no recent slot left to derive a new lookup table from (wait for the next slot)")

    async def ensure(self, addresses: Iterable[Pubkey]) -> int:
        """Put every address of ``addresses`` not yet in a table into one
        (creating tables as they fill). Returns how many were added."""
        if not self._loaded:
            await self.load()
        known = self.known()
        missing = [a for a in dict.fromkeys(addresses) if a not in known]
        added = 0
        while missing:
            table = next((t for t in self.tables.values() if len(t.addresses) < MAX_ADDRESSES), None)
            if table is None:
                table = await self._create()
            room = MAX_ADDRESSES - len(table.addresses)
            chunk = missing[:min(room, EXTEND_CHUNK)]
            auth = self.authority_of[table.address]
            await self._send([extend_lookup_table(table.address, auth.pubkey(), self.payer.pubkey(), chunk)], auth)
            await self.refresh(table.address)
            self._on_event("lookup_table_extended", table=str(table.address), added=len(chunk),
                           size=len(self.tables[table.address].addresses))
            missing = missing[len(chunk):]
            added += len(chunk)
        return added

    def active(self, current_slot: int, needed: Optional[Iterable[Pubkey]] = None) -> List[AddressLookupTableAccount]:
        """Table views usable at ``current_slot`` (only tables holding some of
        ``needed`` when given)."""
        want = set(needed) if needed is not None else None
        out = []
        for t in self.tables.values():
            n = t.active_len(current_slot)
            addrs = t.addresses[:n]
            if not addrs or (want is not None and not want.intersection(addrs)):
                continue
            out.append(AddressLookupTableAccount(t.address, addrs))
        return out

    def pending(self, current_slot: int) -> bool:
        """Some entries are not active yet (written in this slot)."""
        return any(t.active_len(current_slot) < len(t.addresses) for t in self.tables.values())
