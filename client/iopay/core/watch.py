"""Program accounts kept current without polling: one ``getProgramAccounts``
snapshot, then the program's account changes over websockets
(``programSubscribe``).

:class:`AccountWatch` keeps the accounts of one program that match a few
filter groups in memory (the escrow keeper: the Job accounts of each market;
the inference settler: the channels paying one provider). On (re)connect it
first subscribes (one ``programSubscribe`` per group), *then* takes the
snapshot (``getProgramAccounts`` with its context slot), so a change landing
between the two arrives as a notification: nothing falls in a gap. Every
entry carries the slot it was read at and a newer entry never gives way to an
older one (a notification delayed behind the snapshot, or behind
:meth:`AccountWatch.refresh`, is dropped).

A dropped connection (server restart, proxy, network) is retried with
backoff; the reconnect subscribes and snapshots again, so the accounts
created or changed while disconnected are in the cache once it is back;
readers meanwhile work from the cache. Closed accounts produce no program
notification (their owner is the system program by then): the periodic
resnapshot (``resync_interval``) drops them, and :meth:`refresh` of a closed
address drops it at once.

A reader calls :meth:`AccountWatch.refresh` on the accounts its own
transactions just changed (``getMultipleAccounts``, 100 a call), so its next
round never sees the state from before them while their notification is on
the way.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import random
import time
from typing import Any, Callable, Dict, Generic, Hashable, Iterable, List, Optional, Sequence, Tuple, TypeVar
from urllib.parse import urlsplit, urlunsplit

import base58
import httpx
from solders.pubkey import Pubkey

from iopay.core.chain import Memcmp

#: websocket message size limit (notifications carry one account; a snapshot never goes over the websocket)
MAX_MESSAGE = 8 << 20

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def ws_url_for(http_url: str) -> str:
    """The PubSub URL of a JSON-RPC URL, as the Solana CLI derives it:
    ``ws(s)://`` and the port + 1 when one is given."""
    u = urlsplit(http_url)
    scheme = "wss" if u.scheme == "https" else "ws"
    netloc = u.netloc
    if u.port is not None:
        host = u.hostname or "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{host}:{u.port + 1}"
    return urlunsplit((scheme, netloc, u.path, u.query, ""))


class AccountWatch(Generic[K, V]):
    """The accounts of ``program_id`` matching each group's filters, decoded
    by ``decode(address, data)`` (None: not one of ours, ignored) and filed
    under ``group_of(view)`` (None: no longer in any group, dropped)."""

    def __init__(self, program_id: Pubkey, groups: Dict[K, Sequence[Memcmp]],
                 decode: Callable[[Pubkey, bytes], Optional[V]], group_of: Callable[[V], Optional[K]],
                 http_url: str, ws_url: Optional[str] = None, *, commitment: str = "confirmed", log: Any = None,
                 reconnect_min: float = 0.2, reconnect_max: float = 5.0, resync_interval: float = 600.0,
                 timeout: float = 30.0, name: str = "discovery",
                 on_change: Optional[Callable[[Pubkey, Optional[V]], None]] = None) -> None:
        self.program_id = program_id
        self.groups = dict(groups)
        self.decode = decode
        self.group_of = group_of
        self.http_url = http_url
        self.ws_url = ws_url or ws_url_for(http_url)
        self.commitment = commitment
        self.log = log
        self.reconnect_min = reconnect_min
        self.reconnect_max = reconnect_max
        self.resync_interval = resync_interval
        self.timeout = timeout
        self.name = name
        #: called with (address, view) when an entry is added or replaced and with
        #: (address, None) when one leaves the cache (a reader that keeps its own
        #: copy, such as the HTTP server's voucher verifier, follows the watch)
        self.on_change = on_change
        #: group -> address -> (slot read at, view)
        self.cache: Dict[K, Dict[Pubkey, Tuple[int, V]]] = {g: {} for g in self.groups}
        self.connected = asyncio.Event()
        self.ready = asyncio.Event()
        self.stats = {"connects": 0, "disconnects": 0, "snapshots": 0, "notifications": 0, "refreshed": 0}
        self._task: Optional[asyncio.Task] = None
        self._http: Optional[httpx.AsyncClient] = None
        self._ids = itertools.count(1)
        self._last_snapshot = 0.0
        self._rng = random.Random()

    # -- life cycle -------------------------------------------------------------------

    async def start(self, wait: float = 5.0) -> bool:
        """Connect, subscribe and snapshot in the background; wait up to
        ``wait`` seconds for the first snapshot. Returns whether it is ready
        (until it is, readers fall back to their own RPC reads; a failing
        connection is retried with backoff)."""
        self._http = httpx.AsyncClient(timeout=self.timeout)
        self._task = asyncio.create_task(self._run())
        try:
            await asyncio.wait_for(asyncio.shield(self.ready.wait()), wait)
        except asyncio.TimeoutError:
            pass
        return self.ready.is_set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
            self._task = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def __aenter__(self) -> "AccountWatch[K, V]":
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    # -- what readers read --------------------------------------------------------------

    def views(self, group: K) -> List[V]:
        """The group's accounts, in address order."""
        return [view for _, (_, view) in sorted(self.cache.get(group, {}).items(), key=lambda kv: bytes(kv[0]))]

    def get(self, address: Pubkey) -> Optional[V]:
        for entries in self.cache.values():
            hit = entries.get(address)
            if hit is not None:
                return hit[1]
        return None

    async def refresh(self, addresses: Iterable[Pubkey]) -> None:
        """Read ``addresses`` again now (after the reader's own transactions)."""
        keys = list(dict.fromkeys(addresses))
        for i in range(0, len(keys), 100):
            chunk = keys[i:i + 100]
            res = await self._rpc("getMultipleAccounts", [str(k) for k in chunk],
                                  {"encoding": "base64", "commitment": self.commitment})
            slot = res["context"]["slot"]
            for k, acc in zip(chunk, res["value"]):
                self._apply(k, slot, None if acc is None else base64.b64decode(acc["data"][0]), acc)
            self.stats["refreshed"] += len(chunk)

    # -- internals ------------------------------------------------------------------------

    def _event(self, level: str, event: str, **kw: Any) -> None:
        if self.log is not None:
            getattr(self.log, level)(event, **kw)

    async def _rpc(self, method: str, *params: Any) -> Any:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.timeout)
        r = await self._http.post(self.http_url, json={"jsonrpc": "2.0", "id": next(self._ids), "method": method,
                                                       "params": list(params)})
        r.raise_for_status()
        body = r.json()
        if "error" in body:
            raise ConnectionError(f"{method}: {body['error']}")
        return body["result"]

    def _filters(self, group: K) -> List[Dict[str, Any]]:
        return [{"memcmp": {"offset": f.offset, "bytes": base58.b58encode(f.bytes).decode()}}
                for f in self.groups[group]]

    def _apply(self, address: Pubkey, slot: int, data: Optional[bytes], acc: Any = None) -> None:
        if data is not None and acc is not None and acc.get("owner") != str(self.program_id):
            data = None  # closed (or reassigned): no longer ours
        view: Optional[V] = None
        if data is not None:
            try:
                view = self.decode(address, data)
            except Exception:  # noqa: BLE001 - not one of ours (or another version): ignore it
                return
            if view is None:
                return
        group = self.group_of(view) if view is not None else None
        for g, entries in self.cache.items():
            old = entries.get(address)
            if old is not None and old[0] > slot:
                return  # we hold something newer
        held = False
        for g, entries in self.cache.items():
            if view is None or g != group:
                held = entries.pop(address, None) is not None or held
        if view is not None and group is not None and group in self.cache:
            self.cache[group][address] = (slot, view)
            self._changed(address, view)
        elif held:
            self._changed(address, None)

    def _changed(self, address: Pubkey, view: Optional[V]) -> None:
        if self.on_change is not None:
            try:
                self.on_change(address, view)
            except Exception as e:  # noqa: BLE001 - a reader's bug must not stop the watch
                self._event("warning", f"{self.name}_on_change_failed", address=str(address), error=repr(e)[:300])

    async def _snapshot(self) -> None:
        for group in self.groups:
            res = await self._rpc("getProgramAccounts", str(self.program_id),
                                  {"encoding": "base64", "commitment": self.commitment, "withContext": True,
                                   "filters": self._filters(group)})
            slot = res["context"]["slot"]
            fresh: Dict[Pubkey, Tuple[int, V]] = {}
            old = self.cache.get(group, {})
            for row in res["value"]:
                k = Pubkey.from_string(row["pubkey"])
                prev = old.get(k)
                if prev is not None and prev[0] > slot:
                    fresh[k] = prev
                    continue
                try:
                    view = self.decode(k, base64.b64decode(row["account"]["data"][0]))
                except Exception:  # noqa: BLE001 - matched the filters but is not ours: skip
                    continue
                if view is not None:
                    fresh[k] = (slot, view)
            # Entries newer than the snapshot (a refresh racing it) are kept.
            for k, prev in old.items():
                if k not in fresh and prev[0] > slot:
                    fresh[k] = prev
            self.cache[group] = fresh
            for k, entry in fresh.items():
                if old.get(k) is not entry:
                    self._changed(k, entry[1])
            for k in old.keys() - fresh.keys():
                if self.get(k) is None:
                    self._changed(k, None)
        self.stats["snapshots"] += 1
        self._last_snapshot = time.monotonic()

    def _on_message(self, msg: Dict[str, Any], subs: Dict[int, K]) -> None:
        if msg.get("method") != "programNotification":
            return
        p = msg.get("params") or {}
        if p.get("subscription") not in subs:
            return
        res = p.get("result") or {}
        value = res.get("value") or {}
        acc = value.get("account") or {}
        data = acc.get("data")
        self.stats["notifications"] += 1
        raw = base64.b64decode(data[0]) if isinstance(data, list) and data else None
        if acc.get("lamports", 0) == 0:
            raw = None
        self._apply(Pubkey.from_string(value["pubkey"]), int((res.get("context") or {}).get("slot", 0)), raw, acc)

    async def _session(self) -> None:
        from websockets.asyncio.client import connect

        async with connect(self.ws_url, max_size=MAX_MESSAGE, open_timeout=self.timeout,
                           ping_interval=20, ping_timeout=20) as ws:
            self.stats["connects"] += 1
            subs: Dict[int, K] = {}
            early: List[Dict[str, Any]] = []
            for group in self.groups:
                rid = next(self._ids)
                await ws.send(json.dumps({"jsonrpc": "2.0", "id": rid, "method": "programSubscribe", "params": [
                    str(self.program_id),
                    {"encoding": "base64", "commitment": self.commitment, "filters": self._filters(group)}]}))
                while True:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), self.timeout))
                    if msg.get("id") == rid:
                        if "error" in msg:
                            raise ConnectionError(f"programSubscribe: {msg['error']}")
                        subs[int(msg["result"])] = group
                        break
                    early.append(msg)
            # Subscribed: whatever changes from here on is notified. Now the snapshot.
            snap = asyncio.create_task(self._snapshot())
            while not snap.done():
                recv = asyncio.create_task(ws.recv())
                done, _ = await asyncio.wait({snap, recv}, return_when=asyncio.FIRST_COMPLETED)
                if recv in done:
                    early.append(json.loads(recv.result()))
                else:
                    recv.cancel()
                    try:
                        await recv
                    except asyncio.CancelledError:
                        pass
            snap.result()
            for msg in early:
                self._on_message(msg, subs)
            self.connected.set()
            self.ready.set()
            self._event("info", f"{self.name}_subscribed", ws_url=self.ws_url, groups=len(self.groups),
                        accounts=sum(len(c) for c in self.cache.values()), connects=self.stats["connects"])
            while True:
                left = self.resync_interval - (time.monotonic() - self._last_snapshot)
                try:
                    raw = await asyncio.wait_for(ws.recv(), max(0.01, left))
                except asyncio.TimeoutError:
                    await self._snapshot()  # closed accounts leave the cache
                    continue
                self._on_message(json.loads(raw), subs)

    async def _run(self) -> None:
        delay = self.reconnect_min
        while True:
            t0 = time.monotonic()
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - dropped or refused: reconnect and resnapshot
                self._event("warning", f"{self.name}_disconnected", error=repr(e)[:300], retry_in=round(delay, 2))
            self.connected.clear()
            self.stats["disconnects"] += 1
            await asyncio.sleep(self._rng.uniform(delay / 2, delay))
            delay = self.reconnect_min if time.monotonic() - t0 > 10 else min(self.reconnect_max, delay * 2)
