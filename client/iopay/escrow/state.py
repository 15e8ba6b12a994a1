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
from iopay.escrow.program import SECONDS_PER_HOUR, amount_span, cut_point, tail_pay

#: Byte offsets in the Job account (8-byte discriminator first); see
#: ``JOB_STATE_OFFSET`` in programs/job_escrow/src/state.rs.
JOB_MARKET_OFFSET = 8
JOB_CUSTOMER_OFFSET = 8 + 32
JOB_STATE_OFFSET = 8 + 32 + 32 + 8
JOB_STATES = ("Open", "Ended")
SLOT_STATUSES = ("Pending", "Active", "Quit", "Declined", "Released", "Lapsed")

#: Workers paid per ``settle``: a transaction without a lookup table fits 25
#: worker accounts (1232 bytes; settle has 5 fixed accounts) and each costs
#: about 9k CU (bench/escrow/cu.py), so 16 leaves room for both.
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
    tail_secs: int = 0
    tail_pay: int = 0
    tail_paid: bool = False

    @property
    def started(self) -> bool:
        """The worker accepted (the slot is or was running)."""
        return self.status in ("Active", "Quit", "Released")

    def finished(self, job_state: str) -> bool:
        """Earns no more (cut, or the job ended): all its booking is earned."""
        return job_state == "Ended" or self.status not in ("Pending", "Active")

    @property
    def booked_pay(self) -> int:
        """Base units the slot can earn in all: ``rate * hours`` plus the pro-rata tail of a cut booking."""
        return self.rate_per_hour * self.hours + self.tail_pay

    @property
    def paid_pay(self) -> int:
        """Base units already paid to the worker."""
        return self.rate_per_hour * self.hours_paid + (self.tail_pay if self.tail_paid else 0)

    @property
    def fully_paid(self) -> bool:
        """Every booked hour (and the tail) is paid: the slot owes nothing."""
        return self.hours_paid == self.hours and (self.tail_secs == 0 or self.tail_paid)


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
    accept_deadline: int = 0
    fees_accrued: int = 0

    @classmethod
    def from_decoded(cls, address: Pubkey, j: Any) -> "JobView":
        """The view of an already decoded ``Job`` (e.g. from an event or anchorpy)."""
        return cls(
            address=address, market=j.market, customer=j.customer, job_id=j.job_id, state=_variant(j.state),
            fee_bps=j.fee_bps, hours=j.hours, created_ts=j.created_ts, ended_ts=j.ended_ts,
            usd_price=j.usd_price, usd_expo=j.usd_expo, bump=j.bump, vault_bump=j.vault_bump,
            workers=tuple(
                SlotView(i, w.worker, w.rate_per_hour, w.usd_rate_per_hour, w.hours, w.hours_paid, w.start_ts,
                         _variant(w.status), w.tail_secs, w.tail_pay, w.tail_paid)
                for i, w in enumerate(j.workers)
            ),
            accept_deadline=j.accept_deadline, fees_accrued=j.fees_accrued,
        )

    @classmethod
    def decode(cls, program: ProgramIdl, address: Pubkey, data: bytes) -> "JobView":
        """Decode a ``Job`` account's bytes (``ValueError`` on another account type)."""
        return cls.from_decoded(address, program.decode_account_as("Job", data))

    def slot_of(self, worker: Pubkey) -> Optional[int]:
        """The slot index of ``worker``, or None if it is not booked on this job."""
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
    #: Proposed by ``set_market_authority``, not accepted yet.
    pending_authority: Optional[Pubkey] = None

    @classmethod
    def from_decoded(cls, address: Pubkey, m: Any) -> "MarketView":
        """The view of an already decoded ``Market``."""
        return cls(address, m.authority, m.mint, m.treasury, m.fee_bps, m.max_workers, m.max_hours, m.paused,
                   m.job_count, None if m.oracle == Pubkey.default() else m.oracle, m.max_staleness,
                   m.max_conf_bps, None if m.pending_authority == Pubkey.default() else m.pending_authority)

    @classmethod
    def decode(cls, program: ProgramIdl, address: Pubkey, data: bytes) -> "MarketView":
        """Decode a ``Market`` account's bytes (``ValueError`` on another account type)."""
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
        """Decode a ``PriceFeed`` account's bytes (``ValueError`` on another account type)."""
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
    """Whole hours a running slot has earned at ``now_ts`` (capped at its
    booking)."""
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
    #: seconds of a final partial hour included (0..3599)
    secs: int = 0


def slot_due(job: JobView, slot: int, now_ts: int) -> SlotDue:
    """What ``settle`` pays ``slot`` at ``now_ts``: whole hours while it runs,
    everything left (tail included) once it is finished."""
    s = job.workers[slot]
    tail = False
    if s.finished(job.state):
        hours, tail = s.hours - s.hours_paid, (not s.tail_paid and s.tail_secs > 0)
    elif s.status == "Active":
        hours = max(0, earned_hours(s, now_ts) - s.hours_paid)
    else:
        hours = 0
    after = s.rate_per_hour * (s.hours_paid + hours) + (s.tail_pay if s.tail_paid or tail else 0)
    amount, fee = amount_span(s.paid_pay, after, job.fee_bps)
    return SlotDue(slot, s.worker, hours, amount, fee, s.tail_secs if tail else 0)


def due_slots(job: JobView, now_ts: int) -> List[SlotDue]:
    """Slots with something due at ``now_ts``, in slot order: exactly what
    ``settle`` would pay them."""
    return [d for d in (slot_due(job, i, now_ts) for i in range(len(job.workers))) if d.hours > 0 or d.secs > 0]


def due_worker_hours(job: JobView, now_ts: int) -> int:
    """Whole worker-hours ``settle`` would pay on ``job`` at ``now_ts``."""
    return sum(d.hours for d in due_slots(job, now_ts))


def next_due_ts(job: JobView, now_ts: int) -> Optional[int]:
    """Earliest time > ``now_ts`` at which some slot has a new hour due
    (``None`` when no slot can earn any more). Due-now payouts are not
    considered: check :func:`due_slots` first."""
    best: Optional[int] = None
    for s in job.workers:
        if s.finished(job.state) or s.status != "Active" or s.hours_paid >= s.hours:
            continue
        earned = earned_hours(s, now_ts)
        if earned >= s.hours:
            continue
        t = s.start_ts + (earned + 1) * SECONDS_PER_HOUR
        best = t if best is None else min(best, t)
    return best


def vault_owed(job: JobView) -> int:
    """Tokens the vault must hold: unpaid pay + unpaid fee of every slot,
    plus the fees accrued and not swept yet."""
    total = job.fees_accrued
    for s in job.workers:
        pay, fee = amount_span(s.paid_pay, s.booked_pay, job.fee_bps)
        total += pay + fee
    return total


def cut_refund(job: JobView, slot: int, now_ts: int, round_up: bool) -> int:
    """What cutting ``slot`` at ``now_ts`` refunds (pay + fee): ``round_up``
    for the customer's cuts (end, release), down for a quit."""
    s = job.workers[slot]
    if s.finished(job.state):
        return 0
    if s.status == "Pending":
        hours, secs = 0, 0
    else:
        cut = cut_point(s.start_ts, now_ts, s.hours, s.hours_paid)
        if cut is None:
            return 0
        hours, secs = cut
    pay, fee = amount_span(s.rate_per_hour * hours + tail_pay(s.rate_per_hour, secs, round_up), s.booked_pay,
                           job.fee_bps)
    return pay + fee


def unearned(job: JobView, now_ts: int) -> int:
    """What ``end_job`` at ``now_ts`` refunds: every running slot's booking
    beyond what it has earned (pro rata by the second, rounded up for the
    worker), pay and fee."""
    return sum(cut_refund(job, i, now_ts, True) for i in range(len(job.workers)))


def quit_refund(job: JobView, slot: int, now_ts: int) -> int:
    """What a quit of ``slot`` at ``now_ts`` refunds to the customer (pay + fee, tail rounded down)."""
    return cut_refund(job, slot, now_ts, False)


def release_refund(job: JobView, slot: int, now_ts: int) -> int:
    """What releasing ``slot`` at ``now_ts`` refunds to the customer (pay + fee, tail rounded up for the
    worker)."""
    return cut_refund(job, slot, now_ts, True)


def is_closable(job: JobView) -> bool:
    """``close_job`` would succeed: nothing is owed to the workers."""
    return all(s.fully_paid for s in job.workers)


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
    """``(slot, token account)`` pairs for ``settle``/``end_job`` from due slots, the token account given by
    ``token_account_of(worker)``."""
    return [(d.slot, token_account_of(d.worker)) for d in dues]
