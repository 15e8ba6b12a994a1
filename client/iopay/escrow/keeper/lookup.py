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

Retiring (:meth:`LookupTables.retire`): a table none of whose entries a
live job needs any more (its jobs are closed, or ended and fully paid) is
deactivated and dropped from the active set at once, so no transaction
built afterwards references it. It can be closed, its rent going back to
the payer, once the runtime calls it deactivated: its deactivation slot is
not the current slot and no longer listed in ``SlotHashes`` (on a cluster
that holds the last 512 slots, so 513 slots after deactivating; without a
readable ``SlotHashes`` the keeper waits those 513 slots). Close is tried on
later rounds until it lands. A restarted keeper finds its tables in every
state (active, deactivating, closable); closed tables leave their
authority index free for a new table, so every index is searched.

Supported by LiteSVM (the program is a builtin; ``SlotHashes`` holds slot 0,
which ``create`` accepts as its recent slot) and by ``iopay.localnet``
(which resolves v0 transactions' tables for execution and indexing).
"""

from __future__ import annotations

import asyncio
import hashlib
import struct
from dataclasses import dataclass
from typing import Any, Collection, Dict, Iterable, List, Optional, Sequence

from solders.address_lookup_table_account import (AddressLookupTable, AddressLookupTableAccount,
                                                  derive_lookup_table_address)
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.core.chain import Memcmp

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
#: ``SlotHashes`` entries on a cluster: a table deactivated at slot ``d`` closes from ``d + 513`` on
SLOT_HASHES_MAX_ENTRIES = 512


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
    deactivation_slot: int = U64_MAX

    @classmethod
    def decode(cls, address: Pubkey, data: bytes) -> "TableState":
        t = AddressLookupTable.deserialize(data)
        m = t.meta
        return cls(address, list(t.addresses), m.last_extended_slot, m.last_extended_slot_start_index,
                   m.deactivation_slot != U64_MAX, m.deactivation_slot)

    def active_len(self, current_slot: int) -> int:
        """Entries usable by a transaction executing at ``current_slot``."""
        return self.start_index if current_slot <= self.last_extended_slot else len(self.addresses)

    def closable(self, current_slot: int, slot_hashes: Optional[Collection[int]]) -> bool:
        """The runtime's rule (``LookupTableMeta::status`` is ``Deactivated``):
        deactivated, not in the current slot, and the deactivation slot no
        longer in ``SlotHashes`` (``None``: unknown, wait out the whole window)."""
        d = self.deactivation_slot
        if not self.deactivated or current_slot == d:
            return False
        if slot_hashes is None:
            return current_slot > d + SLOT_HASHES_MAX_ENTRIES
        return d not in slot_hashes


class LookupTables:
    """The keeper's tables: which addresses they hold, extending them with
    the accounts of new jobs, and the active view for a transaction."""

    def __init__(self, chain: Any, payer: Keypair, *, on_event: Any = None) -> None:
        self.chain = chain
        self.payer = payer
        #: active tables: the only ones transactions use and extends write to
        self.tables: Dict[Pubkey, TableState] = {}
        #: deactivated tables waiting to be closed (never used again)
        self.deactivating: Dict[Pubkey, TableState] = {}
        self.authority_of: Dict[Pubkey, Keypair] = {}
        self.index_of: Dict[Pubkey, int] = {}
        #: tables closed and lamports returned to the payer by this instance
        self.closed = 0
        self.lamports_recovered = 0
        #: addresses of tables closed (not to be created again)
        self._spent: set = set()
        self._loaded = False
        self._on_event = on_event or (lambda *a, **k: None)

    async def load(self) -> None:
        """Find the tables of this payer's derived authorities (after a
        restart too), active and deactivating. Every index is searched:
        closing tables leaves gaps."""
        sem = asyncio.Semaphore(16)

        async def search(i: int) -> tuple:
            auth = table_authority(self.payer, i)
            async with sem:
                return i, auth, await self.chain.get_program_accounts(
                    LOOKUP_TABLE_PROGRAM_ID, [Memcmp(AUTHORITY_TAG_OFFSET, b"\x01" + bytes(auth.pubkey()))])

        for i, auth, rows in await asyncio.gather(*(search(i) for i in range(MAX_TABLES))):
            for addr, data in rows:
                st = TableState.decode(addr, data)
                (self.deactivating if st.deactivated else self.tables)[addr] = st
                self.authority_of[addr] = auth
                self.index_of[addr] = i
        self._loaded = True

    async def refresh(self, table: Pubkey) -> TableState:
        acc = await self.chain.get_account(table)
        if acc is None:
            raise LookupError(f"lookup table {table} does not exist")
        st = TableState.decode(table, acc[1])
        (self.deactivating if st.deactivated else self.tables)[table] = st
        if st.deactivated:
            self.tables.pop(table, None)
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

    def _free_indexes(self) -> List[int]:
        used = set(self.index_of.values())
        free = [i for i in range(MAX_TABLES) if i not in used]
        if not free:
            raise RuntimeError(f"the keeper already owns {MAX_TABLES} lookup tables")
        return free

    async def _create(self, indexes: Optional[Sequence[int]] = None) -> TableState:
        """A new table under the lowest free authority index. A closed
        table's address is not used again: on a cluster its recent slot has
        left ``SlotHashes`` anyway, but LiteSVM (and our localnet) keep
        ``SlotHashes`` at slot 0 and a closed table as a 0-lamport account
        the program still owns, and ``create`` on it succeeds doing nothing
        ("Table account must not be allocated"): such an index is skipped."""
        acc = await self.chain.get_account(SLOT_HASHES_SYSVAR)
        slots = (recent_slots(acc[1]) if acc is not None else []) or [0]
        sends = 0
        for index in (self._free_indexes() if indexes is None else indexes):
            auth = table_authority(self.payer, index)
            for rs in slots[:8]:
                ix, table = create_lookup_table(auth.pubkey(), self.payer.pubkey(), rs)
                if table in self._spent or await self.chain.get_account(table) is not None:
                    continue
                if sends >= 8:
                    raise RuntimeError("no lookup table address left to create one at (wait for the next slot)")
                sends += 1
                await self._send([ix], auth)
                if await self.chain.get_account(table) is None:
                    self._spent.add(table)
                    self._on_event("lookup_table_address_spent", table=str(table), index=index, recent_slot=rs)
                    continue
                self.authority_of[table] = auth
                self.index_of[table] = index
                self._on_event("lookup_table_created", table=str(table), index=index, recent_slot=rs)
                return await self.refresh(table)
        raise RuntimeError("no recent slot left to derive a new lookup table from (wait for the next slot)")

    async def ensure(self, addresses: Iterable[Pubkey], concurrency: int = 16) -> int:
        """Put every address of ``addresses`` not yet in a table into one
        (creating tables as they fill). Returns how many were added.

        Pipelined: the tables needed are created together (one authority
        index each), then every extend (``EXTEND_CHUNK`` addresses) is sent
        with up to ``concurrency`` in flight, several to one table in the
        same slot (the runtime appends them one after the other); each
        table is read back once at the end."""
        if not self._loaded:
            await self.load()
        known = self.known()
        missing = [a for a in dict.fromkeys(addresses) if a not in known]
        if not missing:
            return 0
        room = sum(MAX_ADDRESSES - len(t.addresses) for t in self.tables.values())
        new = -(-max(0, len(missing) - room) // MAX_ADDRESSES)
        if new:
            free = self._free_indexes()
            if len(free) < new:
                raise RuntimeError(f"the keeper already owns {MAX_TABLES} lookup tables")
            # Create i tries the i-th lowest free index first, then every new-th one after it
            # (an address spent by a closed table skips ahead): no two creates share an index.
            made = await asyncio.gather(*(self._create(free[i::new]) for i in range(new)), return_exceptions=True)
            errors = [e for e in made if isinstance(e, BaseException)]
            if errors and len(errors) == len(made):
                raise errors[0]
        # Plan the extends: fill each table's room, EXTEND_CHUNK addresses a transaction.
        plan: List[tuple] = []
        left = list(missing)
        for t in list(self.tables.values()):
            free_room = MAX_ADDRESSES - len(t.addresses)
            while left and free_room > 0:
                chunk = left[:min(free_room, EXTEND_CHUNK)]
                left = left[len(chunk):]
                free_room -= len(chunk)
                plan.append((t.address, chunk))
        sem = asyncio.Semaphore(max(1, concurrency))

        async def extend(table: Pubkey, chunk: List[Pubkey]) -> int:
            auth = self.authority_of[table]
            async with sem:
                await self._send([extend_lookup_table(table, auth.pubkey(), self.payer.pubkey(), chunk)], auth)
            return len(chunk)

        results = await asyncio.gather(*(extend(t, c) for t, c in plan), return_exceptions=True)
        for table in dict.fromkeys(t for t, _ in plan):
            st = await self.refresh(table)
            self._on_event("lookup_table_extended", table=str(table), size=len(st.addresses))
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            raise failed[0]  # the rest landed; the next round adds what is still missing
        if left:
            raise RuntimeError(f"{len(left)} addresses found no lookup table room")
        return sum(r for r in results if isinstance(r, int))

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

    async def _slot_hashes(self) -> Optional[List[int]]:
        acc = await self.chain.get_account(SLOT_HASHES_SYSVAR)
        try:
            return recent_slots(acc[1]) if acc is not None else None
        except struct.error:
            return None

    def _forget(self, table: Pubkey) -> None:
        self.tables.pop(table, None)
        self.deactivating.pop(table, None)
        self.authority_of.pop(table, None)
        self.index_of.pop(table, None)

    async def retire(self, live: Collection[Pubkey], current_slot: int) -> Dict[str, int]:
        """Close the deactivated tables the runtime lets go (rent back to the
        payer), then deactivate the active tables holding none of ``live``
        (the accounts the payouts of jobs still paying out use).
        Deactivated tables leave the active set before anything else is
        built. Returns counts of this call."""
        if not self._loaded:
            await self.load()
        out = {"deactivated": 0, "closed": 0, "lamports": 0}
        if self.deactivating:
            hashes = await self._slot_hashes()
            recent = set(hashes) if hashes is not None else None
            for t in list(self.deactivating.values()):
                if not t.closable(current_slot, recent):
                    continue
                auth = self.authority_of[t.address]
                get_lamports = getattr(self.chain, "get_lamports", None)
                lamports = await get_lamports(t.address) if get_lamports is not None else 0
                try:
                    await self._send([close_lookup_table(t.address, auth.pubkey(), self.payer.pubkey())], auth)
                except Exception as e:  # noqa: BLE001 - not closable yet (slot skew) or transient: next round
                    if await self.chain.get_account(t.address) is not None:
                        self._on_event("lookup_table_close_deferred", table=str(t.address), error=repr(e)[:300])
                        continue
                    # gone: closed by an earlier attempt whose confirmation was lost
                    lamports = 0
                self._forget(t.address)
                self._spent.add(t.address)
                self.closed += 1
                self.lamports_recovered += lamports
                out["closed"] += 1
                out["lamports"] += lamports
                self._on_event("lookup_table_closed", table=str(t.address), lamports=lamports,
                               deactivation_slot=t.deactivation_slot, slot=current_slot)
        keep = set(live)
        for t in list(self.tables.values()):
            if keep.intersection(t.addresses):
                continue
            # Out of the active set before the transaction: nothing built from
            # here on references it, even if deactivating fails half-way.
            del self.tables[t.address]
            auth = self.authority_of[t.address]
            try:
                await self._send([deactivate_lookup_table(t.address, auth.pubkey())], auth)
            except Exception as e:  # noqa: BLE001 - maybe it landed: the chain says
                self._on_event("lookup_table_deactivate_failed", table=str(t.address), error=repr(e)[:300])
            try:
                st = await self.refresh(t.address)
            except LookupError:
                self._forget(t.address)
                continue
            if st.deactivated:
                out["deactivated"] += 1
                self._on_event("lookup_table_deactivated", table=str(t.address), slot=st.deactivation_slot,
                               entries=len(st.addresses))
        return out
