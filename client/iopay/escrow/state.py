"""Job escrow state for keepers and dashboards: pure functions over decoded
accounts, no I/O.

A keeper's loop, with these pieces:

1. list the running jobs of a market: ``getProgramAccounts`` with
   :func:`job_filters` (``Job`` discriminator + ``market`` + ``state``
   memcmps; the harness's :meth:`iopay.core.harness.Harness.program_accounts`
   accepts the same filters), decode each with :meth:`JobView.decode`;
2. read the cluster clock (the ``Clock`` sysvar's ``unix_timestamp``: the
   program pays by it, not by the keeper's wall clock);
3. :func:`due_slots` gives, per job, the worker slots with whole hours due
   and the exact amounts the program will pay; :func:`next_due_ts` says when
   to look again;
4. :func:`plan_settlements` cuts the due slots into ``settle`` instructions
   of at most ``max_payees`` workers each (one remaining account per worker,
   see ``JobEscrow.settle``).

Settling is idempotent on chain (``hours_paid`` only goes up; a replay fails
with ``NothingToSettle``), so a keeper that crashes and restarts, or two
keepers racing, never pay an hour twice.

The same module states the escrow's invariant, :func:`vault_owed`: the
vault's token balance equals the sum over slots of what is still owed
(unpaid pay + unpaid fee). Tests assert it after every instruction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, List, Optional, Sequence, Tuple

from solders.pubkey import Pubkey

from iopay.core.chain import Memcmp
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import SECONDS_PER_HOUR, settlement, slot_outstanding, span_cost

#: Byte offsets in the Job account (8-byte discriminator first); see
#: ``JOB_STATE_OFFSET`` in programs/job_escrow/src/state.rs.
JOB_MARKET_OFFSET = 8
JOB_CUSTOMER_OFFSET = 8 + 32
JOB_STATE_OFFSET = 8 + 32 + 32 + 8
JOB_STATES = ("Open", "Ended")
SLOT_STATUSES = ("Pending", "Active", "Quit", "Declined")

#: Workers paid per ``settle``: a transaction without a lookup table fits 23
#: worker accounts (1232 bytes) and 16 cost about 192k CU (about 11k per
#: extra worker; bench/escrow/cu.py), so 16 leaves room for both.
DEFAULT_MAX_PAYEES = 16


def _variant(value: Any) -> str:
    return type(value).__name__


# -- decoded views -------------------------------------------------------------------

@dataclass(frozen=True)
class SlotView:
    index: int
    worker: Pubkey
    rate_per_hour: int
    usd_rate_per_hour: int
    hours: int
    hours_paid: int
    start_ts: int
    status: str

    @property
    def started(self) -> bool:
        return self.status in ("Active", "Quit")


@dataclass(frozen=True)
class JobView:
    address: Pubkey
    market: Pubkey
    customer: Pubkey
    job_id: int
    state: str
    fee_bps: int
    hours: int
    created_ts: int
    ended_ts: int
    usd_price: int
    usd_expo: int
    bump: int
    vault_bump: int
    workers: Tuple[SlotView, ...]

    @classmethod
    def from_decoded(cls, address: Pubkey, j: Any) -> "JobView":
        return cls(
            address=address, market=j.market, customer=j.customer, job_id=j.job_id, state=_variant(j.state),
            fee_bps=j.fee_bps, hours=j.hours, created_ts=j.created_ts, ended_ts=j.ended_ts,
            usd_price=j.usd_price, usd_expo=j.usd_expo, bump=j.bump, vault_bump=j.vault_bump,
            workers=tuple(
                SlotView(i, w.worker, w.rate_per_hour, w.usd_rate_per_hour, w.hours, w.hours_paid, w.start_ts,
                         _variant(w.status))
                for i, w in enumerate(j.workers)
            ),
        )

    @classmethod
    def decode(cls, program: ProgramIdl, address: Pubkey, data: bytes) -> "JobView":
        return cls.from_decoded(address, program.decode_account_as("Job", data))

    def slot_of(self, worker: Pubkey) -> Optional[int]:
        for s in self.workers:
            if s.worker == worker:
                return s.index
        return None


@dataclass(frozen=True)
class MarketView:
    address: Pubkey
    authority: Pubkey
    mint: Pubkey
    treasury: Pubkey
    fee_bps: int
    max_workers: int
    max_hours: int
    paused: bool
    job_count: int
    oracle: Optional[Pubkey]
    max_staleness: int
    max_conf_bps: int

    @classmethod
    def from_decoded(cls, address: Pubkey, m: Any) -> "MarketView":
        return cls(address, m.authority, m.mint, m.treasury, m.fee_bps, m.max_workers, m.max_hours, m.paused,
                   m.job_count, None if m.oracle == Pubkey.default() else m.oracle, m.max_staleness,
                   m.max_conf_bps)

    @classmethod
    def decode(cls, program: ProgramIdl, address: Pubkey, data: bytes) -> "MarketView":
        return cls.from_decoded(address, program.decode_account_as("Market", data))


@dataclass(frozen=True)
class PriceFeedView:
    address: Pubkey
    market: Pubkey
    price: int
    conf: int
    expo: int
    publish_time: int

    @classmethod
    def decode(cls, program: ProgramIdl, address: Pubkey, data: bytes) -> "PriceFeedView":
        f = program.decode_account_as("PriceFeed", data)
        return cls(address, f.market, f.price, f.conf, f.expo, f.publish_time)


# -- filters -----------------------------------------------------------------------

def job_filters(program: ProgramIdl, market: Optional[Pubkey] = None, state: Optional[str] = "Open",
                customer: Optional[Pubkey] = None) -> List[Memcmp]:
    """memcmp filters selecting Job accounts (of ``market``, in ``state``,
    of ``customer``; ``None`` = any)."""
    out = [Memcmp(0, program.account_discriminator("Job"))]
    if market is not None:
        out.append(Memcmp(JOB_MARKET_OFFSET, bytes(market)))
    if customer is not None:
        out.append(Memcmp(JOB_CUSTOMER_OFFSET, bytes(customer)))
    if state is not None:
        out.append(Memcmp(JOB_STATE_OFFSET, bytes([JOB_STATES.index(state)])))
    return out


# -- what is due ---------------------------------------------------------------------

def earned_hours(slot: SlotView, now_ts: int) -> int:
    """Whole hours the slot has earned at ``now_ts`` (capped at its booking)."""
    if not slot.started or now_ts <= slot.start_ts:
        return 0
    return min(slot.hours, (now_ts - slot.start_ts) // SECONDS_PER_HOUR)


@dataclass(frozen=True)
class SlotDue:
    slot: int
    worker: Pubkey
    hours: int
    amount: int
    fee: int


def slot_due(job: JobView, slot: int, now_ts: int) -> SlotDue:
    s = job.workers[slot]
    hours = max(0, earned_hours(s, now_ts) - s.hours_paid)
    amount, fee = settlement(s.rate_per_hour, job.fee_bps, s.hours_paid, hours)
    return SlotDue(slot, s.worker, hours, amount, fee)


def due_slots(job: JobView, now_ts: int) -> List[SlotDue]:
    """Slots with at least one whole hour due at ``now_ts``, in slot order:
    exactly what ``settle`` would pay them."""
    return [d for d in (slot_due(job, i, now_ts) for i in range(len(job.workers))) if d.hours > 0]


def due_worker_hours(job: JobView, now_ts: int) -> int:
    return sum(d.hours for d in due_slots(job, now_ts))


def next_due_ts(job: JobView, now_ts: int) -> Optional[int]:
    """Earliest time > ``now_ts`` at which some slot has a new hour due
    (``None`` when no slot can earn any more). Due-now hours are not
    considered: check :func:`due_slots` first."""
    best: Optional[int] = None
    for s in job.workers:
        if not s.started or s.hours_paid >= s.hours:
            continue
        earned = earned_hours(s, now_ts)
        if earned >= s.hours:
            continue
        t = s.start_ts + (earned + 1) * SECONDS_PER_HOUR
        best = t if best is None else min(best, t)
    return best


def vault_owed(job: JobView) -> int:
    """Tokens the vault must hold: unpaid pay + unpaid fee of every slot."""
    total = 0
    for s in job.workers:
        pay, fee = slot_outstanding(s.rate_per_hour, job.fee_bps, s.hours, s.hours_paid)
        total += pay + fee
    return total


def unearned(job: JobView, now_ts: int) -> int:
    """What ``end_job`` at ``now_ts`` refunds: every slot's hours beyond what
    it has earned, pay and fee."""
    total = 0
    for s in job.workers:
        pay, fee = span_cost(s.rate_per_hour, job.fee_bps, earned_hours(s, now_ts), s.hours)
        total += pay + fee
    return total


def quit_refund(job: JobView, slot: int, now_ts: int) -> int:
    s = job.workers[slot]
    pay, fee = span_cost(s.rate_per_hour, job.fee_bps, earned_hours(s, now_ts), s.hours)
    return pay + fee


def is_closable(job: JobView) -> bool:
    """``close_job`` would succeed: nothing is owed out of the vault."""
    return all(s.hours_paid == s.hours for s in job.workers)


def any_accepted(job: JobView) -> bool:
    """``cancel`` is refused once this is true."""
    return any(s.started for s in job.workers)


def plan_settlements(dues: Sequence[SlotDue], max_payees: int = DEFAULT_MAX_PAYEES) -> List[List[SlotDue]]:
    """Chunks of at most ``max_payees`` due slots, one ``settle`` each."""
    if max_payees < 1:
        raise ValueError("max_payees must be >= 1")
    return [list(dues[i:i + max_payees]) for i in range(0, len(dues), max_payees)]


PayeeResolver = Callable[[Pubkey], Pubkey]
"""worker wallet -> the token account it is paid into (default: its ATA)."""


def payees_for(dues: Sequence[SlotDue], token_account_of: PayeeResolver) -> List[Tuple[int, Pubkey]]:
    return [(d.slot, token_account_of(d.worker)) for d in dues]
