"""Vouchers off-chain: the payer's :class:`VoucherSigner`, the provider's
:class:`VoucherVerifier` (no RPC per voucher) and :class:`VoucherStore`, a
durable SQLite record of the best voucher per channel.

The provider's rule, in order: the channel is known (cached
:class:`ChannelInfo`), pays this provider and is not about to stop accepting
vouchers; the voucher is signed by the channel's voucher signer over the
exact bytes the program checks; its nonce is above the best one held and its
cumulative amount covers the best one plus the price, within the deposit.
The voucher is then written to the store (committed) *before* the caller
serves the inference, so a crash right after serving loses nothing earned.
"""

from __future__ import annotations

import asyncio
import sqlite3
import struct
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple, Union

from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature

from iopay.inference.program import DOMAIN, Voucher, voucher_message

#: open_slot | cumulative | nonce, the tail of the voucher message (:func:`voucher_message`)
_PACK_TAIL = struct.Struct("<QQQ").pack


class VoucherRejected(ValueError):
    """A voucher the provider will not accept; ``reason`` is a short code
    (``unknown_channel``, ``wrong_signer``, ``bad_signature``, ``stale_nonce``,
    ``underpaid``, ``exceeds_deposit``, ``channel_closing``, ``wrong_provider``)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason


class DepositExhausted(ValueError):
    """The payer's signer refuses to sign past the channel's deposit."""


# -- payer -------------------------------------------------------------------------------

class VoucherSigner:
    """Signs one voucher per inference for one channel: the cumulative amount
    grows by each price, the nonce by one; never past the deposit."""

    def __init__(self, keypair: Keypair, program_id: Pubkey, channel: Pubkey, open_slot: int, deposit: int,
                 cumulative: int = 0, nonce: int = 0) -> None:
        if cumulative > deposit:
            raise ValueError("cumulative above deposit")
        self.keypair = keypair
        self.program_id = program_id
        self.channel = channel
        self.open_slot = open_slot
        self.deposit = deposit
        self.cumulative = cumulative
        self.nonce = nonce
        self._lock = threading.Lock()

    def pay(self, amount: int) -> Voucher:
        """The voucher for one more inference costing ``amount``."""
        if not isinstance(amount, int) or amount < 0:
            raise ValueError("amount must be a non-negative int")
        with self._lock:
            cumulative = self.cumulative + amount
            if cumulative > self.deposit:
                raise DepositExhausted(f"{cumulative} would exceed the deposit {self.deposit}: top up first")
            nonce = self.nonce + 1
            msg = voucher_message(self.program_id, self.channel, self.open_slot, cumulative, nonce)
            sig = bytes(self.keypair.sign_message(msg))
            self.cumulative, self.nonce = cumulative, nonce
        return Voucher(self.channel, self.open_slot, cumulative, nonce, self.keypair.pubkey(), sig)

    def topped_up(self, deposit: int) -> None:
        """Raise the deposit the signer may sign up to after a top-up (``ValueError`` if ``deposit`` is lower
        than the known one)."""
        if deposit < self.deposit:
            raise ValueError("deposit only grows")
        self.deposit = deposit


# -- provider ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ChannelInfo:
    """What the verifier needs to know of a channel (from the chain)."""
    address: Pubkey
    provider: Pubkey
    mint: Pubkey
    voucher_signer: Pubkey
    open_slot: int
    deposit: int
    settled: int
    nonce: int
    fee_bps: int
    expires_at: int
    state: str = "Open"
    close_at: int = 0


class VoucherStore:
    """Best voucher per channel in SQLite (WAL, ``synchronous=FULL`` by
    default: a committed voucher survives a process kill and a power cut).

    :meth:`save_many` commits a group of vouchers in one transaction (group
    commit); rows only move forward (higher nonce and cumulative), so a
    late or replayed write never replaces a better voucher."""

    def __init__(self, path: Union[str, Path], synchronous: str = "FULL") -> None:
        self.path = str(path)
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={synchronous}")
        self.db.execute("""CREATE TABLE IF NOT EXISTS vouchers (
            channel TEXT PRIMARY KEY, open_slot INTEGER NOT NULL, cumulative INTEGER NOT NULL,
            nonce INTEGER NOT NULL, signer TEXT NOT NULL, signature BLOB NOT NULL,
            settled_cumulative INTEGER NOT NULL DEFAULT 0, settled_nonce INTEGER NOT NULL DEFAULT 0,
            updated REAL NOT NULL)""")
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the SQLite connection."""
        self.db.close()

    def save_many(self, vouchers: Iterable[Voucher]) -> None:
        """Commit ``vouchers`` in one transaction (one fsync); a row only moves forward (higher nonce,
        cumulative not lower), so a stale write never replaces a better voucher."""
        rows = [(str(v.channel), v.open_slot, v.cumulative, v.nonce, str(v.signer), v.signature, time.time())
                for v in vouchers]
        if not rows:
            return
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                # SQLite integers are signed 64-bit: amounts and nonces stay
                # below 2^63 in practice (u64 on chain); larger ones are refused.
                self.db.executemany("""INSERT INTO vouchers (channel, open_slot, cumulative, nonce, signer, signature, updated)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(channel) DO UPDATE SET open_slot=excluded.open_slot, cumulative=excluded.cumulative,
                      nonce=excluded.nonce, signer=excluded.signer, signature=excluded.signature, updated=excluded.updated
                    WHERE excluded.nonce > vouchers.nonce AND excluded.cumulative >= vouchers.cumulative""", rows)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    def save(self, voucher: Voucher) -> None:
        """Commit one voucher (see :meth:`save_many`); durable when it returns."""
        self.save_many([voucher])

    def mark_settled(self, channel: Pubkey, cumulative: int, nonce: int) -> None:
        """Record that ``channel`` is settled on chain up to ``cumulative``/``nonce`` (only ever raised)."""
        with self._lock:
            self.db.execute("UPDATE vouchers SET settled_cumulative=MAX(settled_cumulative, ?), "
                            "settled_nonce=MAX(settled_nonce, ?) WHERE channel=?", (cumulative, nonce, str(channel)))

    def forget(self, channel: Pubkey) -> None:
        """Drop ``channel``'s row (a closed channel)."""
        with self._lock:
            self.db.execute("DELETE FROM vouchers WHERE channel=?", (str(channel),))

    @staticmethod
    def _voucher(row: Tuple) -> Voucher:
        return Voucher(Pubkey.from_string(row[0]), row[1], row[2], row[3], Pubkey.from_string(row[4]), bytes(row[5]))

    def best(self, channel: Pubkey) -> Optional[Voucher]:
        """The best voucher held for ``channel``, or None."""
        with self._lock:
            row = self.db.execute("SELECT channel, open_slot, cumulative, nonce, signer, signature FROM vouchers "
                                  "WHERE channel=?", (str(channel),)).fetchone()
        return self._voucher(row) if row else None

    def unsettled(self) -> List[Tuple[Voucher, int]]:
        """``(best voucher, settled cumulative known)`` of every channel whose
        best voucher is above what is known to be settled, largest first."""
        with self._lock:
            rows = self.db.execute("SELECT channel, open_slot, cumulative, nonce, signer, signature, settled_cumulative "
                                   "FROM vouchers WHERE nonce > settled_nonce "
                                   "ORDER BY cumulative - settled_cumulative DESC").fetchall()
        return [(self._voucher(r[:6]), r[6]) for r in rows]

    def all(self) -> List[Voucher]:
        """The best voucher of every channel in the store."""
        with self._lock:
            rows = self.db.execute("SELECT channel, open_slot, cumulative, nonce, signer, signature FROM vouchers").fetchall()
        return [self._voucher(r) for r in rows]


class GroupCommitter:
    """Batches concurrent :meth:`VoucherStore.save` calls of an asyncio
    server into one SQLite transaction (one fsync) per round, in a worker
    thread; each caller resumes once its voucher is committed."""

    def __init__(self, store: VoucherStore) -> None:
        self.store = store
        self._pending: List[Tuple[Voucher, asyncio.Future]] = []
        self._task: Optional[asyncio.Task] = None
        self._wake: Optional[asyncio.Event] = None

    async def save(self, voucher: Voucher) -> None:
        """Queue ``voucher`` for the next group commit and return once it is committed (re-raises the store's
        error)."""
        loop = asyncio.get_running_loop()
        if self._task is None:
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._run())
        fut: asyncio.Future = loop.create_future()
        self._pending.append((voucher, fut))
        assert self._wake is not None
        self._wake.set()
        await fut

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if not batch:
                continue
            try:
                await asyncio.to_thread(self.store.save_many, [v for v, _ in batch])
            except BaseException as e:  # noqa: BLE001 - handed to every waiter
                for _, f in batch:
                    if not f.done():
                        f.set_exception(e)
                continue
            for _, f in batch:
                if not f.done():
                    f.set_result(None)

    async def aclose(self) -> None:
        """Stop the commit task (pending waiters are not committed)."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None


class VoucherVerifier:
    """Checks vouchers for ``provider`` against cached channel state, with no
    RPC per voucher. ``channels`` is filled by the caller (from
    getProgramAccounts or events: :meth:`update`); ``store`` keeps the best
    voucher per channel and is the verifier's memory across restarts.

    ``margin`` (seconds): vouchers are refused once a closing channel is
    this close to the end of its dispute window, so there is time to settle."""

    def __init__(self, program_id: Pubkey, provider: Pubkey, store: VoucherStore, *, margin: int = 120,
                 clock=time.time) -> None:
        self.program_id = program_id
        self.provider = provider
        self.store = store
        self.margin = margin
        self.clock = clock
        self.channels: Dict[Pubkey, ChannelInfo] = {}
        #: per channel, the first 80 bytes of its voucher message (domain | program | channel)
        self._prefix: Dict[Pubkey, bytes] = {}
        self.best: Dict[Pubkey, Tuple[int, int]] = {v.channel: (v.cumulative, v.nonce) for v in store.all()}

    def update(self, info: ChannelInfo) -> None:
        """Cache ``info`` (from the chain) for its channel: a new channel, a top-up or a settlement."""
        self.channels[info.address] = info
        if info.address not in self._prefix:
            self._prefix[info.address] = DOMAIN + bytes(self.program_id) + bytes(info.address)
        cum, nonce = self.best.get(info.address, (0, 0))
        if info.nonce > nonce:
            self.best[info.address] = (info.settled, info.nonce)

    def remove(self, channel: Pubkey) -> None:
        """Forget a closed channel (its vouchers are refused as ``unknown_channel``)."""
        self.channels.pop(channel, None)
        self._prefix.pop(channel, None)
        self.best.pop(channel, None)

    def check(self, v: Voucher, price: int) -> ChannelInfo:
        """Raises :class:`VoucherRejected` unless ``v`` pays at least ``price``
        more than the best voucher held for its channel."""
        info = self.channels.get(v.channel)
        if info is None:
            raise VoucherRejected("unknown_channel", f"channel {v.channel} is not known to this provider")
        if info.provider != self.provider:
            raise VoucherRejected("wrong_provider", "channel pays another provider")
        if info.state != "Open" and self.clock() + self.margin >= info.close_at:
            raise VoucherRejected("channel_closing", "dispute window ends too soon to settle")
        if v.open_slot != info.open_slot:
            raise VoucherRejected("wrong_channel", "voucher is for another opening of this channel")
        if v.signer != info.voucher_signer:
            raise VoucherRejected("wrong_signer", "not signed by the channel's voucher signer")
        cum, nonce = self.best.get(v.channel, (info.settled, info.nonce))
        if v.nonce <= nonce:
            raise VoucherRejected("stale_nonce", f"nonce {v.nonce} <= {nonce}")
        if v.cumulative - cum < price:
            raise VoucherRejected("underpaid", f"pays {v.cumulative - cum}, price {price}")
        if v.cumulative > info.deposit:
            raise VoucherRejected("exceeds_deposit", f"{v.cumulative} > deposit {info.deposit}")
        # voucher_message's bytes, its constant 80-byte head cached per channel
        prefix = self._prefix.get(v.channel)
        if prefix is None:
            prefix = self._prefix[v.channel] = DOMAIN + bytes(self.program_id) + bytes(v.channel)
        try:
            msg = prefix + _PACK_TAIL(v.open_slot, v.cumulative, v.nonce)
        except struct.error:
            raise VoucherRejected("malformed_payment", "open slot, amount and nonce must be u64") from None
        if len(v.signature) != 64 or not Signature.from_bytes(v.signature).verify(v.signer, msg):
            raise VoucherRejected("bad_signature", "signature does not verify")
        return info

    def accept(self, v: Voucher, price: int) -> None:
        """check + durable save (synchronous); serve only after it returns."""
        self.check(v, price)
        self.store.save(v)
        self.best[v.channel] = (v.cumulative, v.nonce)

    async def accept_async(self, v: Voucher, price: int, committer: GroupCommitter) -> None:
        """check, reserve, then group-commit; serve only after it returns.
        The reservation (``best`` updated before the commit) stops two
        concurrent requests spending the same increment."""
        self.check(v, price)
        prev = self.best.get(v.channel)
        self.best[v.channel] = (v.cumulative, v.nonce)
        try:
            await committer.save(v)
        except BaseException:
            if self.best.get(v.channel) == (v.cumulative, v.nonce):
                if prev is None:
                    self.best.pop(v.channel, None)
                else:
                    self.best[v.channel] = prev
            raise


def info_from_view(view) -> ChannelInfo:  # ChannelView -> ChannelInfo
    """The :class:`ChannelInfo` the verifier caches, from a decoded :class:`~iopay.inference.state.ChannelView`."""
    return ChannelInfo(view.address, view.provider, view.mint, view.voucher_signer, view.open_slot, view.deposit,
                       view.settled, view.nonce, view.fee_bps, view.expires_at, view.state, view.close_at)


__all__ = ["ChannelInfo", "DepositExhausted", "GroupCommitter", "VoucherRejected", "VoucherSigner", "VoucherStore",
           "VoucherVerifier", "info_from_view", "replace"]
