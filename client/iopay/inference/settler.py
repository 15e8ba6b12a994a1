"""The provider's settler: redeems the best voucher of every channel held in
the :class:`VoucherStore`, several channels per transaction.

A round: read the store's unsettled vouchers; read each channel once (skip
those the chain already has at or past that nonce: a transaction that landed
before a crash); keep those worth settling now (``threshold`` base units
unsettled, or a closing channel whose dispute window is near its end, or
``force``); send them ``batch_size`` per transaction (one Ed25519 precompile
instruction with one signature per channel, one ``settle``); record what
landed. With a :class:`iopay.inference.watch.ChannelWatch` (``watch=``), the
channels are read from its websocket-fed cache instead of one RPC read per
channel per round (a channel the cache does not hold yet is read directly),
and the channels a batch settled are refreshed right after it. Restart-safe: the store is durable, settled totals only go up on
chain, and a replay fails with ``VoucherReplayed``, which the settler counts
as already settled. A failed batch is split to isolate the channel at fault.
Logs are JSON lines; :class:`SettlerMetrics` counts everything.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from typing import Any, List, Optional, Sequence, Tuple

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.core.chain import Chain
from iopay.core.errors import ProgramError
from iopay.escrow.keeper.logs import JsonLog
from iopay.inference.program import InferencePay, Voucher, settlement
from iopay.inference.state import ChannelView
from iopay.inference.vouchers import VoucherStore
from iopay.inference.watch import ChannelWatch

#: Channels per settle transaction: each costs 214 bytes of precompile data
#: (offsets, key, signature, 104-byte message) plus its account key, so three
#: fit a 1,232-byte transaction with the fixed accounts and a compute budget.
DEFAULT_BATCH = 3
ALREADY_SETTLED = {"VoucherReplayed", "VoucherOutdated"}


@dataclass
class SettlerMetrics:
    rounds: int = 0
    channels_settled: int = 0
    transactions_sent: int = 0
    transactions_failed: int = 0
    already_settled: int = 0
    paid: int = 0
    fees: int = 0
    compute_units: int = 0
    splits: int = 0
    unsettled_channels: int = 0
    unsettled_amount: int = 0
    #: channels read over RPC one by one (without a watch: every channel, every round)
    channel_reads: int = 0
    #: channels read from the websocket-fed watch
    channel_cache_hits: int = 0
    watch_reconnects: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


class Settler:
    def __init__(self, chain: Chain, pay: InferencePay, provider: Keypair, provider_token: Pubkey, mint: Pubkey,
                 store: VoucherStore, *, batch_size: int = DEFAULT_BATCH, threshold: int = 0,
                 close_margin: int = 600, log: Optional[JsonLog] = None, clock=time.time,
                 watch: Optional[ChannelWatch] = None) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.chain = chain
        self.pay = pay
        self.provider = provider
        self.provider_token = provider_token
        self.mint = mint
        self.store = store
        self.batch_size = batch_size
        self.threshold = threshold
        self.close_margin = close_margin
        self.log = log or JsonLog()
        self.clock = clock
        self.metrics = SettlerMetrics()
        #: started and stopped by :meth:`run`; until it is ready, channels are read over RPC
        self.watch = watch

    async def _due(self, force: bool) -> List[Voucher]:
        due: List[Voucher] = []
        self.metrics.unsettled_channels = 0
        self.metrics.unsettled_amount = 0
        for v, _known in self.store.unsettled():
            view = self._cached(v.channel)
            if view is None:
                acc = await self.chain.get_account(v.channel)
                self.metrics.channel_reads += 1
                if acc is None:
                    self.log.event("channel_gone", level="warning", channel=str(v.channel), nonce=v.nonce)
                    self.store.mark_settled(v.channel, v.cumulative, v.nonce)
                    continue
                view = ChannelView.decode(self.pay.program, v.channel, acc[1])
            else:
                self.metrics.channel_cache_hits += 1
            if view.open_slot != v.open_slot or view.nonce >= v.nonce:
                self.store.mark_settled(v.channel, view.settled, max(view.nonce, v.nonce))
                self.metrics.already_settled += 1
                continue
            amount = v.cumulative - view.settled
            self.metrics.unsettled_channels += 1
            self.metrics.unsettled_amount += amount
            closing_soon = view.state == "Closing" and self.clock() + self.close_margin >= view.close_at
            if force or closing_soon or amount >= max(self.threshold, 1):
                due.append(v)
        return due

    def _cached(self, channel: Pubkey) -> Optional[ChannelView]:
        if self.watch is None or not self.watch.ready.is_set():
            return None
        return self.watch.get(channel)

    async def _send(self, batch: Sequence[Voucher]) -> None:
        ixs = self.pay.settle(provider=self.provider.pubkey(), mint=self.mint, provider_token=self.provider_token,
                              vouchers=batch)
        try:
            sent = await self.chain.send(ixs, [self.provider], self.provider)
        except ProgramError as e:
            self.metrics.transactions_failed += 1
            if e.name in ALREADY_SETTLED and len(batch) == 1:
                self.metrics.already_settled += 1
                self.store.mark_settled(batch[0].channel, batch[0].cumulative, batch[0].nonce)
                self.log.event("already_settled", channel=str(batch[0].channel), nonce=batch[0].nonce)
                return
            if len(batch) > 1:
                self.metrics.splits += 1
                self.log.event("batch_split", level="warning", error=e.name, channels=len(batch))
                for v in batch:
                    await self._send([v])
                return
            self.log.event("settle_failed", level="error", channel=str(batch[0].channel), error=e.name or str(e))
            return
        self.metrics.transactions_sent += 1
        self.metrics.compute_units += sent.compute_units or 0
        for ev in sent.events_named("ChannelsSettled"):
            self.metrics.paid += ev.paid
            self.metrics.fees += ev.fees
        for v in batch:
            self.store.mark_settled(v.channel, v.cumulative, v.nonce)
        self.metrics.channels_settled += len(batch)
        if self.watch is not None:
            try:  # the next round must not see these channels from before this transaction
                await self.watch.refresh(v.channel for v in batch)
            except Exception as e:  # noqa: BLE001 - the notification will follow; nothing is lost
                self.log.event("watch_refresh_failed", level="warning", error=repr(e)[:300])
        self.log.event("batch_sent", signature=str(sent.signature), channels=len(batch),
                       compute_units=sent.compute_units)

    async def run_once(self, force: bool = False) -> SettlerMetrics:
        self.metrics.rounds += 1
        due = await self._due(force)
        for i in range(0, len(due), self.batch_size):
            await self._send(due[i:i + self.batch_size])
        self.log.event("round", due=len(due), **self.metrics.as_dict())
        return self.metrics

    async def run(self, interval: float, stop: Optional[asyncio.Event] = None) -> None:
        stop = stop or asyncio.Event()
        self.log.event("settler_started", provider=str(self.provider.pubkey()), mint=str(self.mint),
                       batch_size=self.batch_size, threshold=self.threshold, interval=interval)
        if self.watch is not None and not await self.watch.start():
            # Not fatal: rounds read channels over RPC until the websocket is up.
            self.log.event("channel_watch_pending", level="warning", ws_url=self.watch.ws_url)
        try:
            while not stop.is_set():
                try:
                    await self.run_once()
                except Exception as e:  # noqa: BLE001 - a bad round must not stop the service
                    self.log.event("round_failed", level="error", error=repr(e))
                if self.watch is not None:
                    self.metrics.watch_reconnects = max(0, self.watch.stats["connects"] - 1)
                try:
                    await asyncio.wait_for(stop.wait(), interval)
                except asyncio.TimeoutError:
                    pass
        finally:
            if self.watch is not None:
                await self.watch.stop()
        self.log.event("settler_stopped", **self.metrics.as_dict())


def expected_payout(vouchers: Sequence[Tuple[int, int]], fee_bps: int) -> Tuple[int, int]:
    """(to provider, fees) of settling channels from ``settled`` to
    ``cumulative`` (pairs), as the program computes it."""
    paid = fees = 0
    for settled, cumulative in vouchers:
        p, f = settlement(settled, cumulative, fee_bps)
        paid, fees = paid + p, fees + f
    return paid, fees
