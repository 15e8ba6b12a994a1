"""Chain state over LiteSVM: slots, clock, blockhashes, the account index and
transaction processing with a status history.

LiteSVM executes transactions but has no blocks, accepts only its single
latest blockhash and cannot list accounts. This module adds what a validator
has:

* **slots** advance (``advance_to``; the server ticks every ``slot_time``);
  the Clock sysvar follows wall time plus a warp offset (``warp_time``);
* **blockhashes**: one per slot, ``sha256(genesis_hash || slot)``; a
  transaction is accepted while ``block height <= slot_of(blockhash) + 150``
  (LiteSVM's own check is off) or when it uses a durable nonce;
* **commitment**: a transaction processed in slot ``s`` is ``confirmed`` once
  the chain reaches ``s + 1`` and ``finalized`` at ``s + finality_depth``;
  reads, blockhashes and simulations at a commitment see the state of that
  commitment's slot (``account_at``): every slot keeps the pre-state of the
  accounts it changed (an undo map, the last ``finality_depth`` slots), so
  the state at slot ``c`` is the latest state with the undo maps of the
  slots after ``c`` applied;
* **account index**: every account a transaction touches (all message keys,
  read back after execution), airdrops and loaded programs, by owner, so
  ``getProgramAccounts`` works; closed (zero-lamport) accounts leave it;
* **processing**: duplicates are refused, load failures (no fee charged) are
  dropped like a validator drops them, execution failures are committed with
  their fee; the priority fee (compute-unit price x limit) is charged too,
  which LiteSVM does not do; pre/post balances, token balances, logs, inner
  instructions, return data and compute units are kept for ``getTransaction``;
* **rent state** (``rent_violation``, which LiteSVM does not check): a
  transaction that leaves a writable account rent-paying (not empty, below
  the rent-exempt minimum) fails with ``InsufficientFundsForRent`` as on
  Agave, in simulation and preflight too, unless the account was already
  rent-paying with the same size and gained no lamports.

Listeners (the pubsub server) get ``on_commit(record, changed)`` and
``on_slot(slot)``; the ledger gets every committed record *before* it is
visible (write-ahead).
"""

from __future__ import annotations

import base64
import hashlib
import struct
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Deque, Dict, Iterable, List, Optional, Protocol, Set, Tuple

from solders.account import Account
from solders.epoch_schedule import EpochSchedule
from solders.hash import Hash
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction, VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata

from iopay.localnet import codec

LAMPORTS_PER_SIGNATURE = 5_000
MAX_PROCESSING_AGE = 150
STATUS_CACHE_SLOTS = 300
DEFAULT_FINALITY_DEPTH = 32
MAX_COMPUTE_UNITS = 1_400_000
DEFAULT_IX_COMPUTE_UNITS = 200_000

COMPUTE_BUDGET_ID = Pubkey.from_string("ComputeBudget111111111111111111111111111111")
SYSTEM_PROGRAM_ID = Pubkey.from_string("11111111111111111111111111111111")
PRECOMPILES = {
    Pubkey.from_string("Ed25519SigVerify111111111111111111111111111"),
    Pubkey.from_string("KeccakSecp256k11111111111111111111111111111"),
    Pubkey.from_string("Secp256r1SigVerify1111111111111111111111111"),
}
ALT_META_LEN = 56
NONCE_ACCOUNT_LEN = 80

COMMITMENTS = ("processed", "confirmed", "finalized")
CLOCK_SYSVAR = Pubkey.from_string("SysvarC1ock11111111111111111111111111111111")
#: what LiteSVM holds for an account that does not exist
ABSENT = Account(0, b"", SYSTEM_PROGRAM_ID)
#: exempt from the rent-state check (as on Agave): lamports sent there are burnt
INCINERATOR = Pubkey.from_string("1nc1nerator11111111111111111111111111111111")


def normalize_commitment(c: Optional[str]) -> str:
    c = c or "finalized"
    # Deprecated aliases Agave still maps.
    c = {"recent": "processed", "single": "confirmed", "singleGossip": "confirmed",
         "root": "finalized", "max": "finalized"}.get(c, c)
    if c not in COMMITMENTS:
        from iopay.localnet.jsonrpc import RpcError

        raise RpcError.invalid_params(f"Invalid params: unknown variant `{c}`, expected one of "
                                      "`processed`, `confirmed`, `finalized`")
    return c


class TxRejected(Exception):
    """A transaction that cannot land (dropped before execution)."""

    def __init__(self, err_json: Any, logs: Optional[List[str]] = None) -> None:
        super().__init__(codec.tx_err_text(err_json))
        self.err = err_json
        self.logs = logs or []


@dataclass
class TxRecord:
    signature: str
    slot: int
    block_time: int
    raw: bytes
    err: Any
    fee: int
    keys: List[str]
    loaded: Dict[str, List[str]]
    version: Any  # "legacy" or 0
    pre_balances: List[int]
    post_balances: List[int]
    pre_token_balances: List[Dict[str, Any]]
    post_token_balances: List[Dict[str, Any]]
    logs: List[str]
    inner: List[Dict[str, Any]]
    cu: int
    return_data: Optional[Dict[str, Any]]
    seq: int = 0

    def to_json(self) -> Dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self)}  # shallow: only serialized
        d["raw"] = base64.b64encode(self.raw).decode()
        return d

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "TxRecord":
        d = dict(d)
        d["raw"] = base64.b64decode(d["raw"])
        return cls(**d)

    def status_json(self) -> Dict[str, Any]:
        return {"Ok": None} if self.err is None else {"Err": self.err}


@dataclass
class SimResult:
    err: Any
    logs: List[str]
    cu: int
    return_data: Optional[Dict[str, Any]]
    inner: List[Dict[str, Any]]
    post: Dict[Pubkey, Account] = field(default_factory=dict)


class Listener(Protocol):
    def on_commit(self, record: TxRecord, changed: Dict[Pubkey, Optional[Account]]) -> None: ...
    def on_slot(self, slot: int) -> None: ...


class Journal(Protocol):
    def append(self, entry: Dict[str, Any], sync: bool = True) -> None: ...


def account_is_live(acc: Optional[Account]) -> bool:
    return acc is not None and acc.lamports > 0


def blockhash_of_slot(genesis_hash: Hash, slot: int) -> Hash:
    return Hash(hashlib.sha256(bytes(genesis_hash) + struct.pack("<Q", slot)).digest())


def compute_budget(msg: Any) -> Tuple[int, int]:
    """(compute-unit limit, micro-lamports per CU) of a message."""
    keys = list(msg.account_keys)
    limit: Optional[int] = None
    price = 0
    n_other = 0
    for ci in msg.instructions:
        pid = keys[ci.program_id_index] if ci.program_id_index < len(keys) else None
        data = bytes(ci.data)
        if pid == COMPUTE_BUDGET_ID and data:
            if data[0] == 2 and len(data) >= 5:
                limit = struct.unpack_from("<I", data, 1)[0]
            elif data[0] == 3 and len(data) >= 9:
                price = struct.unpack_from("<Q", data, 1)[0]
        else:
            n_other += 1
    if limit is None:
        limit = DEFAULT_IX_COMPUTE_UNITS * n_other
    return min(limit, MAX_COMPUTE_UNITS), price


def message_fee(msg: Any) -> Tuple[int, int]:
    """(base fee, priority fee) in lamports, as Agave computes them."""
    keys = list(msg.account_keys)
    sigs = msg.header.num_required_signatures
    for ci in msg.instructions:
        pid = keys[ci.program_id_index] if ci.program_id_index < len(keys) else None
        if pid in PRECOMPILES and len(ci.data) > 0:
            sigs += ci.data[0]
    return sigs * LAMPORTS_PER_SIGNATURE, priority_fee(*compute_budget(msg))


def priority_fee(limit: int, price: int) -> int:
    """Lamports for ``limit`` compute units at ``price`` micro-lamports each, rounded up."""
    return -(-price * limit // 1_000_000)


def effective_cu_price(msg: Any) -> Optional[int]:
    """The micro-lamports per compute unit a message actually pays, as Agave's prioritization-fee
    cache records it: the priority fee (rounded up to whole lamports) over the unit limit, so a
    price whose fee rounds up reports more than its ``SetComputeUnitPrice``; ``None`` for a zero
    limit (Agave leaves such transactions out)."""
    limit, price = compute_budget(msg)
    if limit == 0:
        return None
    return priority_fee(limit, price) * 1_000_000 // limit


def replace_blockhash(raw: bytes, blockhash: Hash) -> bytes:
    """Rewrite the recent blockhash inside a serialized transaction."""

    def short_u16(buf: bytes, off: int) -> Tuple[int, int]:
        val = shift = 0
        while True:
            b = buf[off]
            off += 1
            val |= (b & 0x7F) << shift
            if not b & 0x80:
                return val, off
            shift += 7

    nsig, off = short_u16(raw, 0)
    off += 64 * nsig
    if raw[off] & 0x80:  # versioned message prefix
        off += 1
    off += 3  # header
    nkeys, off = short_u16(raw, off)
    off += 32 * nkeys
    return raw[:off] + bytes(blockhash) + raw[off + 32:]


class Chain:
    def __init__(
        self,
        genesis_hash: Hash,
        *,
        slot: int = 0,
        time_offset: float = 0.0,
        finality_depth: int = DEFAULT_FINALITY_DEPTH,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.genesis_hash = genesis_hash
        self.svm = LiteSVM().with_blockhash_check(False).with_transaction_history(0)
        self.epoch_schedule = EpochSchedule.without_warmup()
        self.svm.set_epoch_schedule(self.epoch_schedule)
        self.finality_depth = finality_depth
        self.now = now
        self.time_offset = time_offset
        self.slot = slot
        self.blockhashes: "OrderedDict[Hash, int]" = OrderedDict()
        self.slot_times: "OrderedDict[int, int]" = OrderedDict()
        self.txs: Dict[str, TxRecord] = {}
        self.addr_sigs: Dict[str, List[str]] = {}
        self.owner_of: Dict[Pubkey, Pubkey] = {}
        self.by_owner: Dict[Pubkey, Set[Pubkey]] = {}
        self.tx_count = 0
        self.seq = 0
        # (slot, min CU price) per slot and per writable account, last 150 slots.
        self.prio_fees: Deque[Tuple[int, int, Dict[Pubkey, int]]] = deque(maxlen=MAX_PROCESSING_AGE)
        self.listeners: List[Listener] = []
        self.journal: Optional[Journal] = None
        #: slot -> {address: the account before that slot changed it (None: absent)}
        self.undo: "OrderedDict[int, Dict[Pubkey, Optional[Account]]]" = OrderedDict()
        #: data length -> rent-exempt minimum (the rent never changes here)
        self._rent_minimums: Dict[int, int] = {}
        self._enter_slot(slot)

    # -- clock and slots -----------------------------------------------------

    def unix_timestamp(self) -> int:
        return int(self.now() + self.time_offset)

    def _enter_slot(self, slot: int) -> None:
        self.slot = slot
        while self.undo and next(iter(self.undo)) <= slot - self.finality_depth:
            self.undo.popitem(last=False)
        bh = blockhash_of_slot(self.genesis_hash, slot)
        self.blockhashes[bh] = slot
        while len(self.blockhashes) > STATUS_CACHE_SLOTS:
            self.blockhashes.popitem(last=False)
        self._set_clock()
        self.svm.expire_blockhash()  # durable nonces advance once per slot

    def _set_clock(self) -> None:
        self._remember(CLOCK_SYSVAR, self.svm.get_account(CLOCK_SYSVAR))
        c = self.svm.get_clock()
        epoch = self.epoch_schedule.get_epoch(self.slot)
        c.slot = self.slot
        c.epoch = epoch
        c.leader_schedule_epoch = epoch + 1
        c.unix_timestamp = self.unix_timestamp()
        self.svm.set_clock(c)
        self.slot_times[self.slot] = c.unix_timestamp
        while len(self.slot_times) > 4 * STATUS_CACHE_SLOTS:
            self.slot_times.popitem(last=False)

    def advance_to(self, slot: int) -> List[int]:
        """Move to ``slot`` (no-op if not ahead); returns the new slots."""
        new: List[int] = []
        while self.slot < slot:
            # A long stall skips ahead: only the last STATUS_CACHE_SLOTS get hashes.
            nxt = max(self.slot + 1, slot - STATUS_CACHE_SLOTS)
            self._enter_slot(nxt)
            new.append(nxt)
        for s in new:
            for lst in self.listeners:
                lst.on_slot(s)
        return new

    def warp_time(self, seconds: float) -> int:
        """Move the Clock's unix_timestamp forward (slots keep real time)."""
        if seconds < 0:
            raise ValueError("time can only move forward")
        self.time_offset += seconds
        self._set_clock()
        if self.journal is not None:
            self.journal.append({"t": "clock", "time_offset": self.time_offset, "slot": self.slot})
        return self.unix_timestamp()

    def block_time(self, slot: int) -> Optional[int]:
        if slot in self.slot_times:
            return self.slot_times[slot]
        if 0 <= slot <= self.slot:
            return int(self.unix_timestamp() - (self.slot - slot) * 0.4)
        return None

    def commitment_slot(self, commitment: Optional[str]) -> int:
        c = normalize_commitment(commitment)
        if c == "processed":
            return self.slot
        if c == "confirmed":
            return max(0, self.slot - 1)
        return max(0, self.slot - self.finality_depth)

    def confirmation_status(self, tx_slot: int) -> str:
        if tx_slot <= self.slot - self.finality_depth:
            return "finalized"
        if tx_slot <= self.slot - 1:
            return "confirmed"
        return "processed"

    @property
    def block_height(self) -> int:
        return self.slot  # no skipped slots

    # -- blockhashes ----------------------------------------------------------

    def blockhash_at(self, slot: int) -> Hash:
        return blockhash_of_slot(self.genesis_hash, slot)

    def latest_blockhash(self, commitment: Optional[str] = None) -> Tuple[Hash, int]:
        s = self.commitment_slot(commitment)
        if self.blockhash_at(s) not in self.blockhashes:
            s = self.slot
        return self.blockhash_at(s), s + MAX_PROCESSING_AGE

    def last_valid_block_height(self, blockhash: Hash, at: Optional[int] = None) -> Optional[int]:
        """The blockhash's last valid block height, if the bank of slot ``at``
        (default: the latest) knows it: a blockhash of a later slot is not
        known there (``BlockhashNotFound`` at that commitment)."""
        s = self.blockhashes.get(blockhash)
        if s is None or (at is not None and s > at):
            return None
        return s + MAX_PROCESSING_AGE

    def blockhash_valid(self, blockhash: Hash, at: Optional[int] = None) -> bool:
        """Valid in the bank of slot ``at`` (default: the latest)."""
        lv = self.last_valid_block_height(blockhash, at)
        height = self.block_height if at is None else min(at, self.block_height)
        return lv is not None and height <= lv

    def _nonce_ok(self, tx: VersionedTransaction, at: Optional[int] = None) -> bool:
        msg = tx.message
        if not msg.instructions:
            return False
        ci = msg.instructions[0]
        keys = list(msg.account_keys)
        if keys[ci.program_id_index] != SYSTEM_PROGRAM_ID or bytes(ci.data)[:4] != b"\x04\x00\x00\x00" \
                or not ci.accounts:
            return False
        acc = self.get_account(keys[ci.accounts[0]], at)
        if acc is None or acc.owner != SYSTEM_PROGRAM_ID or len(acc.data) != NONCE_ACCOUNT_LEN:
            return False
        data = bytes(acc.data)
        return struct.unpack_from("<I", data, 4)[0] == 1 and data[40:72] == bytes(msg.recent_blockhash)

    # -- accounts ---------------------------------------------------------------

    def get_account(self, address: Pubkey, at: Optional[int] = None) -> Optional[Account]:
        """The account in the bank of slot ``at`` (default: the latest)."""
        if at is not None and at < self.slot:
            for s, changes in self.undo.items():
                if s > at and address in changes:
                    acc = changes[address]
                    return acc if account_is_live(acc) else None
        acc = self.svm.get_account(address)
        return acc if account_is_live(acc) else None

    def _remember(self, address: Pubkey, before: Optional[Account]) -> None:
        """Keep the state of ``address`` before the current slot changed it."""
        changes = self.undo.get(self.slot)
        if changes is None:
            changes = self.undo[self.slot] = {}
        if address not in changes:
            changes[address] = before if account_is_live(before) else None

    def _index(self, address: Pubkey, acc: Optional[Account]) -> None:
        old = self.owner_of.pop(address, None)
        if old is not None:
            s = self.by_owner.get(old)
            if s is not None:
                s.discard(address)
                if not s:
                    del self.by_owner[old]
        if account_is_live(acc):
            assert acc is not None
            self.owner_of[address] = acc.owner
            self.by_owner.setdefault(acc.owner, set()).add(address)

    def index_existing(self, addresses: Iterable[Pubkey]) -> None:
        for a in addresses:
            if a not in self.owner_of:
                self._index(a, self.svm.get_account(a))

    def set_account(self, address: Pubkey, acc: Account, journal: bool = True) -> None:
        """Write an account outside a transaction (genesis, programs, faucet)."""
        self._remember(address, self.svm.get_account(address))
        self.svm.set_account(address, acc)
        self._index(address, acc)
        if journal and self.journal is not None:
            self.journal.append({"t": "accounts", "slot": self.slot, "accounts": {str(address): encode_account(acc)}})

    def set_accounts(self, accounts: Dict[Pubkey, Account]) -> None:
        """Many accounts at once outside a transaction (genesis): one journal entry."""
        for address, acc in accounts.items():
            self._remember(address, self.svm.get_account(address))
            self.svm.set_account(address, acc)
            self._index(address, acc)
        if self.journal is not None and accounts:
            self.journal.append({"t": "accounts", "slot": self.slot,
                                 "accounts": {str(k): encode_account(v) for k, v in accounts.items()}})

    def program_accounts(self, owner: Pubkey, at: Optional[int] = None) -> List[Tuple[Pubkey, Account]]:
        """The accounts ``owner`` owns in the bank of slot ``at`` (default: the latest)."""
        candidates: Set[Pubkey] = set(self.by_owner.get(owner, ()))
        if at is not None and at < self.slot:
            for s, changes in self.undo.items():
                if s > at:
                    candidates.update(changes)
        out: List[Tuple[Pubkey, Account]] = []
        for a in sorted(candidates, key=bytes):
            acc = self.get_account(a, at)
            if acc is not None and acc.owner == owner:
                out.append((a, acc))
        return out

    def mint_lookup(self, mint: Pubkey) -> Optional[Account]:
        return self.get_account(mint)

    def changed_since(self, at: int) -> Set[Pubkey]:
        """Accounts whose state in the latest bank differs from slot ``at``'s (a superset)."""
        out: Set[Pubkey] = set()
        for s, changes in self.undo.items():
            if s > at:
                out.update(changes)
        return out

    # -- transactions ---------------------------------------------------------

    def message_keys(self, tx: VersionedTransaction,
                     at: Optional[int] = None) -> Tuple[List[Pubkey], Dict[str, List[str]]]:
        """All account keys (static, then loaded writable, then loaded
        read-only) and the loaded addresses (tables as of slot ``at``)."""
        msg = tx.message
        keys = list(msg.account_keys)
        loaded: Dict[str, List[str]] = {"writable": [], "readonly": []}
        if isinstance(msg, MessageV0):
            w: List[Pubkey] = []
            r: List[Pubkey] = []
            for lut in msg.address_table_lookups:
                acc = self.get_account(lut.account_key, at)
                if acc is None or len(acc.data) < ALT_META_LEN:
                    raise TxRejected("AddressLookupTableNotFound")
                data = bytes(acc.data)
                addrs = [Pubkey.from_bytes(data[i:i + 32]) for i in range(ALT_META_LEN, len(data) - 31, 32)]
                try:
                    w += [addrs[i] for i in lut.writable_indexes]
                    r += [addrs[i] for i in lut.readonly_indexes]
                except IndexError:
                    raise TxRejected("InvalidAddressLookupTableIndex") from None
            keys += w + r
            loaded = {"writable": [str(k) for k in w], "readonly": [str(k) for k in r]}
        return keys, loaded

    def check_age_and_status(self, tx: VersionedTransaction, at: Optional[int] = None) -> None:
        """Raise :class:`TxRejected` for an unknown/expired blockhash or a
        signature already processed (what the bank of slot ``at``, default
        the latest, checks before loading)."""
        if not (self.blockhash_valid(tx.message.recent_blockhash, at) or self._nonce_ok(tx, at)):
            raise TxRejected("BlockhashNotFound")
        if str(tx.signatures[0]) in self.txs:
            raise TxRejected("AlreadyProcessed")

    def _check_fee_payer(self, tx: VersionedTransaction, at: Optional[int] = None) -> Tuple[int, int]:
        base, prio = message_fee(tx.message)
        payer = self.get_account(tx.message.account_keys[0], at)
        if payer is None or payer.lamports == 0:
            raise TxRejected("AccountNotFound")
        if payer.lamports < base + prio:
            raise TxRejected("InsufficientFundsForFee")
        return base, prio

    def simulate(self, tx: VersionedTransaction, *, sig_verify: bool, check_age: bool = True,
                 at: Optional[int] = None) -> SimResult:
        """Run ``tx`` without committing it, in the bank of slot ``at``
        (default: the latest): its blockhash, fee payer, lookup tables and
        accounts as of that slot."""
        try:
            if check_age:
                self.check_age_and_status(tx, at)
            self._check_fee_payer(tx, at)
            keys, loaded = self.message_keys(tx, at)
        except TxRejected as e:
            return SimResult(e.err, [], 0, None, [])
        # The accounts as of slot `at`: the run's starting state, and the rent check's "before".
        pre = [self.get_account(k, at) for k in keys]
        # Older bank: put the transaction's accounts back to that slot's state for the run.
        restore: Dict[Pubkey, Optional[Account]] = {}
        if at is not None and at < self.slot:
            changed = self.changed_since(at)
            for k, old in zip(keys, pre):
                if k in changed and k not in restore:
                    restore[k] = self.svm.get_account(k)
                    self._put(k, old)
        self.svm.with_sigverify(sig_verify)
        try:
            res = self.svm.simulate_transaction(tx)
        finally:
            self.svm.with_sigverify(True)
            for k, acc in restore.items():
                self._put(k, acc)
        if isinstance(res, FailedTransactionMetadata):
            meta = res.meta()
            err = codec.tx_err_json(res.err())
            post: Dict[Pubkey, Account] = {}
        else:
            meta = res.meta()
            err = None
            post = {k: v for k, v in res.post_accounts()}
            bad = self.rent_violation(tx, keys, len(loaded["writable"]), pre, [post.get(k) for k in keys])
            if bad is not None:
                err, post = {"InsufficientFundsForRent": {"account_index": bad}}, {}
        return SimResult(err, list(meta.logs()), meta.compute_units_consumed(),
                         _return_data(meta), _inner(meta), post)

    def _put(self, address: Pubkey, acc: Optional[Account]) -> None:
        """Set ``address`` in LiteSVM to ``acc``; ``None``: the account does not exist."""
        self.svm.set_account(address, acc if acc is not None else ABSENT)

    def _rent_exempt_minimum(self, data_len: int) -> int:
        m = self._rent_minimums.get(data_len)
        if m is None:
            m = self._rent_minimums[data_len] = self.svm.minimum_balance_for_rent_exemption(data_len)
        return m

    def rent_violation(self, tx: VersionedTransaction, keys: List[Pubkey], n_loaded_writable: int,
                       pre: List[Optional[Account]], post: List[Optional[Account]]) -> Optional[int]:
        """The index of the first writable account whose rent state moved the
        way Agave refuses (``InsufficientFundsForRent``), else None. LiteSVM
        does not check this; a validator does after every transaction: an
        account may end empty or rent-exempt; it may end rent-paying only if
        it already was, with the same data size and no more lamports.
        ``keys`` and ``n_loaded_writable`` are ``message_keys``' (static keys,
        then the loaded writable ones, then the loaded read-only ones)."""
        writable = set(static_writable_keys(tx.message))
        n_static = len(tx.message.account_keys)
        for i, (k, a, b) in enumerate(zip(keys, pre, post)):
            if b is None or b.lamports == 0 or k == INCINERATOR:
                continue
            if i < n_static and k not in writable:
                continue
            if i >= n_static + n_loaded_writable:
                continue  # loaded read-only
            if b.lamports >= self._rent_exempt_minimum(len(b.data)):
                continue
            if a is not None and a.lamports > 0 and a.lamports < self._rent_exempt_minimum(len(a.data)) \
                    and len(a.data) == len(b.data) and b.lamports <= a.lamports:
                continue  # rent-paying before, same size, not topped up
            return i
        return None

    def process(self, tx: VersionedTransaction) -> TxRecord:
        """Execute and commit ``tx``; raises :class:`TxRejected` when it is
        dropped (nothing charged, no status)."""
        self.check_age_and_status(tx)
        base_fee, prio_fee = self._check_fee_payer(tx)
        keys, loaded = self.message_keys(tx)
        pre = [self.svm.get_account(k) for k in keys]
        res = self.svm.send_transaction(tx)
        failed = isinstance(res, FailedTransactionMetadata)
        meta = res.meta() if failed else res
        post = [self.svm.get_account(k) for k in keys]
        if failed and all(_same(a, b) for a, b in zip(pre, post)):
            raise TxRejected(codec.tx_err_json(res.err()), list(meta.logs()))
        err: Any = codec.tx_err_json(res.err()) if failed else None
        if not failed:
            bad = self.rent_violation(tx, keys, len(loaded["writable"]), pre, post)
            if bad is not None:
                # As Agave: the transaction fails after running; its changes
                # are undone, the fee is still charged.
                failed, err = True, {"InsufficientFundsForRent": {"account_index": bad}}
                for k, a in zip(keys, pre):
                    self._put(k, a)
                payer = pre[0]
                assert payer is not None
                post = list(pre)
                post[0] = Account(payer.lamports - base_fee, bytes(payer.data), payer.owner,
                                  payer.executable, payer.rent_epoch)
                self.svm.set_account(keys[0], post[0])
        if prio_fee:
            payer = post[0]
            assert payer is not None
            prio_fee = min(prio_fee, payer.lamports)
            post[0] = Account(payer.lamports - prio_fee, bytes(payer.data), payer.owner,
                              payer.executable, payer.rent_epoch)
            self.svm.set_account(keys[0], post[0])
        changed: Dict[Pubkey, Optional[Account]] = {}
        for k, a, b in zip(keys, pre, post):
            if not _same(a, b):
                changed[k] = b if account_is_live(b) else None
                self._remember(k, a)
        self.seq += 1
        rec = TxRecord(
            signature=str(tx.signatures[0]), slot=self.slot, block_time=self.slot_times.get(self.slot, self.unix_timestamp()),
            raw=bytes(tx), err=err,
            fee=base_fee + prio_fee, keys=[str(k) for k in keys], loaded=loaded,
            version="legacy" if isinstance(tx.message, Message) else 0,
            pre_balances=[a.lamports if a else 0 for a in pre],
            post_balances=[b.lamports if b else 0 for b in post],
            pre_token_balances=self._token_balances(keys, pre),
            post_token_balances=self._token_balances(keys, post),
            logs=list(meta.logs()), inner=_inner(meta), cu=meta.compute_units_consumed(),
            return_data=_return_data(meta), seq=self.seq,
        )
        if self.journal is not None:
            # Written before it is visible (survives SIGKILL); fsync'd with its slot (ledger.py).
            self.journal.append({"t": "tx", "rec": rec.to_json(),
                                 "accounts": {str(k): encode_account(v) for k, v in changed.items()}}, sync=False)
        self._apply_record(rec, keys, post, tx)
        for lst in self.listeners:
            lst.on_commit(rec, changed)
        return rec

    def _apply_record(self, rec: TxRecord, keys: List[Pubkey], post: List[Optional[Account]],
                      tx: Optional[VersionedTransaction]) -> None:
        self.txs[rec.signature] = rec
        self.tx_count += 1
        for k in dict.fromkeys(rec.keys):
            self.addr_sigs.setdefault(k, []).append(rec.signature)
        for k, acc in zip(keys, post):
            self._index(k, acc)
        if tx is not None:
            price = effective_cu_price(tx.message)
            if price is not None:
                self._record_prio_fee(rec.slot, price, static_writable_keys(tx.message))

    def _record_prio_fee(self, slot: int, price: int, writable: List[Pubkey]) -> None:
        if not self.prio_fees or self.prio_fees[-1][0] != slot:
            self.prio_fees.append((slot, price, {}))
        s, mn, accs = self.prio_fees[-1]
        self.prio_fees[-1] = (s, min(mn, price), accs)
        for k in writable:
            accs[k] = min(accs.get(k, price), price)

    def recent_prioritization_fees(self, accounts: List[Pubkey]) -> List[Dict[str, int]]:
        out = []
        for slot, mn, accs in self.prio_fees:
            fee = max([mn] + [accs[a] for a in accounts if a in accs])
            out.append({"slot": slot, "prioritizationFee": fee})
        return out

    def _token_balances(self, keys: List[Pubkey], accs: List[Optional[Account]]) -> List[Dict[str, Any]]:
        out = []
        for i, (k, a) in enumerate(zip(keys, accs)):
            if a is None or not codec.is_token_account(a):
                continue
            f = codec.token_account_fields(bytes(a.data))
            dec = codec.mint_decimals(f["mint"], self.mint_lookup)
            if dec is None:
                continue
            out.append({"accountIndex": i, "mint": str(f["mint"]), "owner": str(f["owner"]),
                        "programId": str(a.owner), "uiTokenAmount": codec.ui_amount(f["amount"], dec)})
        return out

    # -- replay (ledger) --------------------------------------------------------

    def replay(self, entry: Dict[str, Any]) -> None:
        """Apply one journal entry at startup (no journaling, no listeners)."""
        t = entry.get("t")
        for addr, enc in (entry.get("accounts") or {}).items():
            pk = Pubkey.from_string(addr)
            acc = decode_account(enc)
            self._put(pk, acc)
            self._index(pk, acc)
        if t == "tx":
            rec = TxRecord.from_json(entry["rec"])
            self.seq = max(self.seq, rec.seq)
            try:
                tx: Optional[VersionedTransaction] = VersionedTransaction.from_bytes(rec.raw)
            except ValueError:
                tx = None
            keys = [Pubkey.from_string(k) for k in rec.keys]
            self._apply_record(rec, keys, [self.svm.get_account(k) for k in keys], tx)
        if t == "clock":
            self.time_offset = float(entry["time_offset"])
        slot = entry.get("slot") if t != "tx" else entry["rec"]["slot"]
        if isinstance(slot, int) and slot > self.slot:
            self._enter_slot(slot)

    def root_everything(self) -> None:
        """Make the current state the state of every commitment (start-up:
        genesis accounts and programs loaded at start are rooted)."""
        self.undo.clear()

    # -- faucet -----------------------------------------------------------------

    def airdrop_tx(self, faucet: Keypair, to: Pubkey, lamports: int) -> Transaction:
        """A faucet transfer signed with a recent blockhash not yet used for
        an identical transfer (so repeated airdrops are distinct)."""
        ix = transfer(TransferParams(from_pubkey=faucet.pubkey(), to_pubkey=to, lamports=lamports))
        for s in range(self.slot, max(-1, self.slot - MAX_PROCESSING_AGE), -1):
            bh = self.blockhash_at(s)
            tx = Transaction([faucet], Message.new_with_blockhash([ix], faucet.pubkey(), bh), bh)
            if str(tx.signatures[0]) not in self.txs:
                return tx
        raise TxRejected("AlreadyProcessed")


def static_writable_keys(msg: Any) -> List[Pubkey]:
    """The message's writable static keys (from the header)."""
    h = msg.header
    keys = list(msg.account_keys)
    nreq, ro_signed, ro_unsigned = (h.num_required_signatures, h.num_readonly_signed_accounts,
                                    h.num_readonly_unsigned_accounts)
    return [k for i, k in enumerate(keys)
            if (i < nreq - ro_signed) or (nreq <= i < len(keys) - ro_unsigned)]


def _same(a: Optional[Account], b: Optional[Account]) -> bool:
    if not account_is_live(a) and not account_is_live(b):
        return True
    return a == b


def _inner(meta: Any) -> List[Dict[str, Any]]:
    out = []
    for i, group in enumerate(meta.inner_instructions()):
        if not group:
            continue
        items = []
        for ii in group:
            ci = ii.instruction() if callable(ii.instruction) else ii.instruction
            height = ii.stack_height() if callable(ii.stack_height) else ii.stack_height
            items.append({"programIdIndex": ci.program_id_index, "accounts": list(ci.accounts),
                          "data": codec.b58(bytes(ci.data)), "stackHeight": height})
        out.append({"index": i, "instructions": items})
    return out


def _return_data(meta: Any) -> Optional[Dict[str, Any]]:
    rd = meta.return_data()
    if rd is None or not bytes(rd.data):
        return None
    return {"programId": str(rd.program_id), "data": [base64.b64encode(bytes(rd.data)).decode(), "base64"]}


def encode_account(acc: Optional[Account]) -> Optional[List[Any]]:
    if acc is None or not account_is_live(acc):
        return None
    return [acc.lamports, str(acc.owner), acc.executable, acc.rent_epoch, base64.b64encode(bytes(acc.data)).decode()]


def decode_account(enc: Optional[List[Any]]) -> Optional[Account]:
    if enc is None:
        return None
    lamports, owner, executable, rent_epoch, data = enc
    return Account(int(lamports), base64.b64decode(data), Pubkey.from_string(owner), bool(executable), int(rent_epoch))
