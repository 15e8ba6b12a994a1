"""Job hours per worker wallet for an epoch, from job_escrow's own events.

:func:`hours_from_events` is the one place that knows the shape of the
escrow's settlement event; it takes decoded events (from LiteSVM results,
the keeper's stream, or :func:`fetch_settlement_events` over JSON-RPC) and
sums the time paid per worker wallet by the events whose settlement time is
in ``[start_ts, end_ts)``.

job_escrow emits one ``HoursSettled`` per instruction that pays (settle,
end_job, quit, release): ``job``, ``settled_ts`` and ``paid``, a list of
``SlotPaid`` entries each carrying ``worker``, ``hours`` (whole hours paid by
this settlement) and ``secs`` (seconds of a final partial hour, 0..3599,
paid once when a booking is cut mid-hour). An event may be a
:class:`iopay.core.events.DecodedEvent` or anything with ``name`` and those
attributes (the CLI's ``--events`` JSON file).

A worker's job hours are its paid seconds over the epoch in whole hours,
rounded down: partial hours of several cut bookings add up, and a fraction
left over earns no points (points never exceed the time paid).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Dict, Iterable, List, Sequence

from solders.pubkey import Pubkey

from iopay.core.events import DecodedEvent

SETTLEMENT_EVENT = "HoursSettled"
SECONDS_PER_HOUR = 3_600


def _field(obj: Any, name: str, what: str) -> Any:
    v = getattr(obj, name, None)
    if v is None:
        raise ValueError(f"{what} has no {name!r}")
    return v


def _uint(obj: Any, name: str, what: str, hi: int) -> int:
    v = _field(obj, name, what)
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= hi:
        raise ValueError(f"{what}: {name} must be an integer in 0..{hi}, got {v!r}")
    return v


def paid_seconds(ev: Any) -> List[tuple[Pubkey, int]]:
    """(worker, seconds paid) for each payout of one ``HoursSettled``
    event; ValueError when the event does not have the program's shape."""
    paid = _field(ev, "paid", SETTLEMENT_EVENT)
    if isinstance(paid, (bytes, str)) or not isinstance(paid, Sequence):
        raise ValueError(f"{SETTLEMENT_EVENT}: paid must be a list of payouts, got {type(paid).__name__}")
    out = []
    for i, p in enumerate(paid):
        what = f"{SETTLEMENT_EVENT} paid[{i}]"
        worker = _field(p, "worker", what)
        if not isinstance(worker, Pubkey):
            raise ValueError(f"{what}: worker must be a public key, got {worker!r}")
        hours = _uint(p, "hours", what, 2**32 - 1)
        secs = _uint(p, "secs", what, SECONDS_PER_HOUR - 1)
        out.append((worker, hours * SECONDS_PER_HOUR + secs))
    return out


def hours_from_events(events: Iterable[Any], start_ts: int, end_ts: int) -> Dict[Pubkey, int]:
    """Whole hours paid per worker wallet by the ``HoursSettled`` events
    whose ``settled_ts`` is in ``[start_ts, end_ts)`` (other events are
    ignored). Workers with less than an hour paid are left out."""
    secs: Dict[Pubkey, int] = defaultdict(int)
    for ev in events:
        if getattr(ev, "name", None) != SETTLEMENT_EVENT:
            continue
        ts = _field(ev, "settled_ts", SETTLEMENT_EVENT)
        if not isinstance(ts, int) or isinstance(ts, bool):
            raise ValueError(f"{SETTLEMENT_EVENT}: settled_ts must be an integer, got {ts!r}")
        pairs = paid_seconds(ev)  # checked whatever the time: a wrong shape is never silently skipped
        if not start_ts <= ts < end_ts:
            continue
        for worker, s in pairs:
            secs[worker] += s
    return {w: s // SECONDS_PER_HOUR for w, s in secs.items() if s >= SECONDS_PER_HOUR}


async def fetch_settlement_events(chain: Any, program_id: Pubkey, start_ts: int, end_ts: int,
                                  *, page: int = 1000) -> List[DecodedEvent]:
    """Every event job_escrow emitted in transactions of the time range, over
    JSON-RPC: ``getSignaturesForAddress(program)`` newest first, paged with
    ``before`` until the block time is older than ``start_ts``, then
    ``getTransaction`` for each successful one (events from the inner
    ``emit_cpi!`` instructions, so log truncation loses nothing). ``chain``
    is an :class:`iopay.core.chain.RpcChain` knowing the escrow IDL."""
    from solana.rpc.commitment import Commitment

    before = None
    sigs = []
    while True:
        resp = await chain.sender.call("get_signatures_for_address", program_id, before, None, page,
                                       Commitment(chain.commitment))
        rows = list(resp.value)
        if not rows:
            break
        for r in rows:
            bt = r.block_time
            if r.err is None and (bt is None or start_ts - 60 <= bt < end_ts + 60):
                sigs.append(r.signature)
        before = rows[-1].signature
        last_bt = rows[-1].block_time
        if len(rows) < page or (last_bt is not None and last_bt < start_ts - 60):
            break
    events: List[DecodedEvent] = []
    for sig in reversed(sigs):  # oldest first
        events.extend(await chain.fetch_events(sig))
    return events


__all__: Sequence[str] = ("hours_from_events", "paid_seconds", "fetch_settlement_events", "SETTLEMENT_EVENT")
