"""Several keepers on one market without double work: ``keeper run --shard I/N``.

**Split.** Job ``J`` belongs to shard ``owner(J) = H(J) mod N``, where ``H``
is the first 8 bytes (little-endian) of ``sha256(J)``: deterministic, the
same in every process, and even over job addresses (PDAs). A keeper pays
the jobs of its own shard as soon as they are due; with all ``N`` keepers
alive no payout is sent by two of them.

**Takeover.** A keeper also watches the other shards' jobs. Shard ``I``'s
*rank* for a job owned by ``o`` is ``(I - o) mod N``: 1 for the next shard,
2 for the one after, ... A payout (job, slot, hour) of another shard that
this keeper has seen due and still unpaid for ``rank x grace`` seconds is
paid by it, unless the owner showed it is alive meanwhile: a payout of its
shard that this keeper saw due went away (paid) less than ``rank x grace``
ago (a slow owner working through a large boundary is not taken over as
long as it pays something every grace period). If the owner is alive it
pays within seconds of the boundary, so
the payout is gone before anyone else's deadline (no wasted transaction); if
the owner crashed, the next shard pays after ``grace`` (and the one after
that after ``2 x grace`` if the next one is down too): a crashed keeper
delays its payouts by about ``grace`` and never loses them. Nothing is
shared between the processes: the deadlines are counted on each keeper's
own monotonic clock from when it first saw the payout due (robust to
cluster clock jumps), and the chain stays the only state (``hours_paid``
only goes up; a payout paid twice is refused with ``NothingToSettle``,
counted in the metrics as a wasted transaction).
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple

from solders.pubkey import Pubkey

from iopay.escrow.keeper.planner import Payout

DEFAULT_TAKEOVER_GRACE = 30.0


def shard_of(job: Pubkey, count: int) -> int:
    """The shard (``0 <= s < count``) that owns ``job``."""
    if not isinstance(count, int) or count < 1:
        raise ValueError("count must be a positive int")
    return int.from_bytes(hashlib.sha256(bytes(job)).digest()[:8], "little") % count


@dataclass(frozen=True)
class Shard:
    """This keeper's part: shard ``index`` of ``count``."""

    index: int
    count: int
    #: seconds a payout of another shard stays unpaid (as seen by this keeper) before rank 1 pays it
    grace: float = DEFAULT_TAKEOVER_GRACE

    def __post_init__(self) -> None:
        if not isinstance(self.index, int) or not isinstance(self.count, int):
            raise TypeError("index and count must be ints")
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index}/{self.count}: need 0 <= I < N")
        if not self.grace >= 0:
            raise ValueError("grace must be >= 0 seconds")

    @classmethod
    def parse(cls, text: str, grace: float = DEFAULT_TAKEOVER_GRACE) -> "Shard":
        """``"I/N"`` (e.g. ``"0/3"``)."""
        m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
        if not m:
            raise ValueError(f"shard must be I/N (e.g. 0/3), got {text!r}")
        return cls(int(m.group(1)), int(m.group(2)), grace)

    def owner(self, job: Pubkey) -> int:
        return shard_of(job, self.count)

    def rank(self, job: Pubkey) -> int:
        """0 for this shard's own jobs; r > 0: this keeper takes over after r x grace."""
        return (self.index - self.owner(job)) % self.count

    def owns(self, job: Pubkey) -> bool:
        return self.rank(job) == 0

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass
class Selection:
    #: payouts to send this round (own shard, then taken over)
    payouts: List[Payout]
    #: of which taken over from another shard
    taken_over: int
    #: other shards' payouts left to their owner for now
    deferred: int
    #: seconds until the first deferred payout's takeover deadline (None: nothing deferred)
    next_takeover_in: Optional[float]


@dataclass
class Takeover:
    """Which due payouts a sharded keeper sends now (see the module doc)."""

    shard: Shard
    clock: Callable[[], float] = time.monotonic
    #: (job, slot, due_since) -> when this keeper first saw it due and unpaid
    first_seen: Dict[Tuple[Pubkey, int, int], float] = field(default_factory=dict)
    #: owner shard -> when one of its payouts this keeper saw due was last paid by someone else
    last_progress: Dict[int, float] = field(default_factory=dict)
    _taken: Set[Tuple[Pubkey, int, int]] = field(default_factory=set)

    def select(self, payouts: Sequence[Payout]) -> Selection:
        now = self.clock()
        current = {(p.job, p.slot, p.due_since) for p in payouts}
        for key in self.first_seen:
            if key not in current and key not in self._taken:
                self.last_progress[self.shard.owner(key[0])] = now  # its owner paid it: alive
        mine: List[Payout] = []
        taken: List[Payout] = []
        deferred = 0
        wait: Optional[float] = None
        seen: Dict[Tuple[Pubkey, int, int], float] = {}
        for p in payouts:
            r = self.shard.rank(p.job)
            if r == 0:
                mine.append(p)
                continue
            key = (p.job, p.slot, p.due_since)
            first = seen[key] = self.first_seen.get(key, now)
            since = max(first, self.last_progress.get(self.shard.owner(p.job), first))
            deadline = since + r * self.shard.grace
            if now >= deadline:
                taken.append(p)
            else:
                deferred += 1
                wait = deadline - now if wait is None else min(wait, deadline - now)
        self.first_seen = seen  # paid (or no longer due) payouts are forgotten
        self._taken = {(p.job, p.slot, p.due_since) for p in taken}
        return Selection(mine + taken, len(taken), deferred, wait)
