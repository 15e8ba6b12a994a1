"""Job hours per worker wallet for an epoch, from job_escrow's own events.

:func:`hours_from_events` is the one place that knows the shape of the
escrow's settlement events; it takes decoded events (from LiteSVM results,
the keeper's stream, or :func:`fetch_settlement_events` over JSON-RPC) and
sums the hours paid per worker wallet whose settlement time is in
``[start_ts, end_ts)``.

Handled shapes (an event may be a :class:`iopay.core.events.DecodedEvent`
or anything with ``name`` and attributes):

* ``HoursSettled`` (one per worker paid): ``worker``, ``hours``, ``settled_ts``;
* a batched settlement event with a list of payouts (``payouts`` or
  ``workers`` items carrying ``worker`` and ``hours``) and one timestamp
  (``settled_ts`` or ``ts``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Dict, Iterable, List, Optional, Sequence

from solders.pubkey import Pubkey

from iopay.core.events import DecodedEvent

SETTLEMENT_EVENT = "HoursSettled"


def _ts(ev: Any) -> Optional[int]:
    for name in ("settled_ts", "ts", "timestamp"):
        v = getattr(ev, name, None)
        if v is not None:
            return int(v)
    return None


def _payouts(ev: Any) -> List[tuple[Pubkey, int]]:
    """(worker, hours) pairs carried by one settlement event."""
    if ev.name == SETTLEMENT_EVENT:
        return [(ev.worker, int(ev.hours))]
    for field in ("payouts", "workers", "paid"):
        items = getattr(ev, field, None)
        if items is not None and not isinstance(items, (bytes, str)):
            try:
                return [(it.worker, int(it.hours)) for it in items if int(getattr(it, "hours", 0)) > 0]
            except AttributeError:
                return []
    return []


def hours_from_events(events: Iterable[Any], start_ts: int, end_ts: int) -> Dict[Pubkey, int]:
    """Hours paid per worker wallet by the settlement events whose
    timestamp is in ``[start_ts, end_ts)``."""
    out: Dict[Pubkey, int] = defaultdict(int)
    for ev in events:
        pairs = _payouts(ev)
        if not pairs:
            continue
        ts = _ts(ev)
        if ts is None or not start_ts <= ts < end_ts:
            continue
        for worker, hours in pairs:
            out[worker] += hours
    return dict(out)


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


__all__: Sequence[str] = ("hours_from_events", "fetch_settlement_events", "SETTLEMENT_EVENT")
