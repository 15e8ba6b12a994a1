"""Batching: pack the due payouts of many jobs into as few transactions as
the limits allow.

A *payout* is one worker slot of one job with whole hours due. A batch is one
transaction: one ``settle`` instruction per job it touches (the job's paid
slots listed in it, one token account per slot in its remaining accounts),
so payouts of several jobs share a transaction when they fit.

The limits every batch is checked against (Solana's, not guesses):

* **size**: the transaction as it will be sent (payer signature, the
  compute-budget instructions ``TransactionSender`` adds, a v0 message when
  lookup tables are used) is compiled and serialized, and must be at most
  1,232 bytes;
* **account locks**: at most 64 accounts (static + loaded from tables);
* **instruction trace**: at most 64 instructions, top-level and CPIs, per
  transaction (``MaxInstructionTraceLengthExceeded``): each ``settle`` is 2
  (itself and its one ``emit_cpi!`` event carrying every payout) plus 1 per
  worker (the transfer), the compute-budget instructions 1 each
  (``payouts + 2 * jobs <= 62``);
* **compute**: a cost model (``CuModel``, fitted on ``bench/escrow/cu.py``:
  about 18k CU per ``settle`` plus 11k per paid worker) must stay under
  1.4M CU; the sender's simulation then measures every transaction before it
  is sent, and a transaction that still exceeds the limit is split by the
  keeper.

Packing is greedy in a stable order (jobs by address, slots by index): add
the next payout to the open batch if the batch still fits, else close it and
start a new one. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
from solders.hash import Hash
from solders.instruction import Instruction
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import Transaction, VersionedTransaction

from iopay.escrow.state import JobView, MarketView, SlotDue
from iopay.escrow.program import SECONDS_PER_HOUR, JobEscrow

TX_SIZE_LIMIT = 1_232
MAX_ACCOUNT_LOCKS = 64
MAX_COMPUTE_UNITS = 1_400_000
MAX_INSTRUCTION_TRACE = 64


@dataclass(frozen=True)
class CuModel:
    """Compute units of a settle transaction, rounded up from measurements
    (bench/escrow/cu.py: 1 worker 28.9k, 4 workers 61.5k, 16 workers
    191.9k, i.e. about 18k per instruction plus 10.9k per worker)."""

    per_tx: int = 1_000
    per_instruction: int = 20_000
    per_payee: int = 12_000

    def estimate(self, instructions: int, payees: int) -> int:
        return self.per_tx + self.per_instruction * instructions + self.per_payee * payees


def instruction_trace(budget_instructions: int, instructions: int, payees: int) -> int:
    """Instructions a settle transaction executes, CPIs included (a settle
    of k workers has k + 1 inner instructions: k transfers, one event)."""
    return budget_instructions + 2 * instructions + payees


@dataclass(frozen=True)
class Limits:
    tx_bytes: int = TX_SIZE_LIMIT
    account_locks: int = MAX_ACCOUNT_LOCKS
    compute_units: int = MAX_COMPUTE_UNITS
    instruction_trace: int = MAX_INSTRUCTION_TRACE
    #: optional cap on payouts per transaction (None: only the limits above)
    max_payees: Optional[int] = None


@dataclass(frozen=True)
class Payout:
    """One slot of one job with ``hours`` whole hours due."""

    job: Pubkey
    slot: int
    worker: Pubkey
    token_account: Pubkey
    hours: int
    amount: int
    fee: int
    #: cluster time at which the oldest unpaid hour became due
    due_since: int


def payouts_of(job: JobView, dues: Sequence[SlotDue], token_account_of) -> List[Payout]:  # type: ignore[no-untyped-def]
    out = []
    for d in dues:
        s = job.workers[d.slot]
        out.append(Payout(job.address, d.slot, d.worker, token_account_of(d.worker), d.hours, d.amount, d.fee,
                          s.start_ts + (s.hours_paid + 1) * SECONDS_PER_HOUR))
    return out


@dataclass
class Batch:
    """One transaction's worth of payouts."""

    instructions: List[Instruction]
    payouts: List[Payout]
    tx_bytes: int
    account_locks: int
    cu_estimate: int
    lookup_tables: Tuple[AddressLookupTableAccount, ...] = ()

    @property
    def jobs(self) -> List[Pubkey]:
        return list(dict.fromkeys(p.job for p in self.payouts))

    @property
    def worker_hours(self) -> int:
        return sum(p.hours for p in self.payouts)


_DUMMY_HASH = Hash.default()


@dataclass
class BatchPlanner:
    """Packs payouts into batches for ``market`` (all payouts of one plan
    must belong to jobs of that market)."""

    esc: JobEscrow
    payer: Pubkey
    limits: Limits = field(default_factory=Limits)
    cu: CuModel = field(default_factory=CuModel)
    #: price instruction included in the size (TransactionSender adds one when the fee is > 0)
    with_priority_fee: bool = True

    # -- measuring ---------------------------------------------------------------

    def budget_instructions(self, cu_limit: int = MAX_COMPUTE_UNITS) -> List[Instruction]:
        out = [set_compute_unit_limit(cu_limit)]
        if self.with_priority_fee:
            out.append(set_compute_unit_price(1_000_000))
        return out

    def compile(self, instructions: Sequence[Instruction],
                lookup_tables: Sequence[AddressLookupTableAccount] = ()) -> "VersionedTransaction | Transaction":
        """The transaction as the sender will build it, with placeholder
        signatures (same size as real ones)."""
        ixs = self.budget_instructions() + list(instructions)
        if lookup_tables:
            msg = MessageV0.try_compile(self.payer, ixs, list(lookup_tables), _DUMMY_HASH)
            n = msg.header.num_required_signatures
            return VersionedTransaction.populate(msg, [Signature.default()] * n)
        legacy = Message.new_with_blockhash(ixs, self.payer, _DUMMY_HASH)
        return Transaction.populate(legacy, [Signature.default()] * legacy.header.num_required_signatures)

    def measure(self, instructions: Sequence[Instruction],
                lookup_tables: Sequence[AddressLookupTableAccount] = ()) -> Tuple[int, int]:
        """(serialized bytes, account locks) of the transaction."""
        tx = self.compile(instructions, lookup_tables)
        msg = tx.message
        locks = len(msg.account_keys)
        if isinstance(msg, MessageV0):
            locks += sum(len(l.writable_indexes) + len(l.readonly_indexes) for l in msg.address_table_lookups)
        return len(bytes(tx)), locks

    # -- packing -----------------------------------------------------------------

    def settle_instruction(self, market: MarketView, job: Pubkey, payouts: Sequence[Payout]) -> Instruction:
        return self.esc.settle(job=job, payees=[(p.slot, p.token_account) for p in payouts])

    def _build(self, market: MarketView, groups: Dict[Pubkey, List[Payout]],
               cache: Dict[Pubkey, Instruction]) -> List[Instruction]:
        out = []
        for job, ps in groups.items():
            ix = cache.get(job)
            if ix is None:
                ix = cache[job] = self.settle_instruction(market, job, ps)
            out.append(ix)
        return out

    def fits(self, size: int, locks: int, instructions: int, payees: int) -> bool:
        lim = self.limits
        return (size <= lim.tx_bytes and locks <= lim.account_locks
                and self.cu.estimate(instructions, payees) <= lim.compute_units
                and instruction_trace(len(self.budget_instructions()), instructions, payees) <= lim.instruction_trace
                and (lim.max_payees is None or payees <= lim.max_payees))

    def plan(self, market: MarketView, payouts: Sequence[Payout],
             lookup_tables: Sequence[AddressLookupTableAccount] = ()) -> List[Batch]:
        """Greedy packing of ``payouts`` (any order in; jobs by address and
        slots by index out). Every returned batch fits every limit; a payout
        that cannot fit even alone raises ``ValueError``."""
        tables = tuple(t for t in lookup_tables if len(t.addresses))
        ordered = sorted(payouts, key=lambda p: (bytes(p.job), p.slot))
        batches: List[Batch] = []
        groups: Dict[Pubkey, List[Payout]] = {}
        cache: Dict[Pubkey, Instruction] = {}
        current: Optional[Tuple[List[Instruction], int, int]] = None

        def close() -> None:
            nonlocal groups, cache, current
            if current is not None and groups:
                ixs, size, locks = current
                ps = [p for g in groups.values() for p in g]
                batches.append(Batch(ixs, ps, size, locks, self.cu.estimate(len(ixs), len(ps)), tables))
            groups, cache, current = {}, {}, None

        for p in ordered:
            trial = {k: list(v) for k, v in groups.items()}
            trial.setdefault(p.job, []).append(p)
            trial_cache = {k: v for k, v in cache.items() if k != p.job}
            ixs = self._build(market, trial, trial_cache)
            n = sum(len(v) for v in trial.values())
            size, locks = self.measure(ixs, tables)
            if self.fits(size, locks, len(ixs), n):
                groups, cache, current = trial, trial_cache, (ixs, size, locks)
                continue
            if not groups:
                raise ValueError(f"a single payout does not fit a transaction ({size} bytes, {locks} accounts)")
            close()
            ixs = self._build(market, {p.job: [p]}, cache)
            size, locks = self.measure(ixs, tables)
            if not self.fits(size, locks, 1, 1):
                raise ValueError(f"a single payout does not fit a transaction ({size} bytes, {locks} accounts)")
            groups, current = {p.job: [p]}, (ixs, size, locks)
        close()
        return batches

    def split(self, market: MarketView, batch: Batch) -> List[Batch]:
        """Halve a batch (by payouts) that failed as a whole; each half is
        re-planned so it still carries one instruction per job."""
        if len(batch.payouts) < 2:
            return [batch]
        mid = len(batch.payouts) // 2
        return (self.plan(market, batch.payouts[:mid], batch.lookup_tables)
                + self.plan(market, batch.payouts[mid:], batch.lookup_tables))

    def per_job(self, market: MarketView, batch: Batch) -> List[Batch]:
        """One batch per job of ``batch`` (to isolate a failing instruction)."""
        out = []
        for job in batch.jobs:
            out += self.plan(market, [p for p in batch.payouts if p.job == job], batch.lookup_tables)
        return out
