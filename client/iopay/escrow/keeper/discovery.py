"""Job discovery without polling every job every round: one
``getProgramAccounts`` snapshot, then the program's account changes over
websockets (``programSubscribe``).

:class:`JobWatch` keeps every Job account of the keeper's markets in
memory. On (re)connect it first subscribes (one ``programSubscribe`` per
market, filtered by the Job discriminator and the market), *then* takes the
snapshot (``getProgramAccounts`` with its context slot), so a change landing
between the two arrives as a notification: nothing falls in a gap. Every
entry carries the slot it was read at and a newer entry never gives way to
an older one (a notification delayed behind the snapshot, or behind
:meth:`JobWatch.refresh`, is dropped).

A dropped connection (server restart, proxy, network) is retried with
backoff; the reconnect subscribes and snapshots again, so the jobs opened or
changed while disconnected are in the cache once it is back; the keeper's
rounds meanwhile work from the cache. Closed accounts produce no program
notification (their owner is the system program by then): a job is closed
only once nothing is owed on it, its last notification already said so, and
the periodic resnapshot (``resync_interval``) drops it.

The keeper calls :meth:`JobWatch.refresh` on the jobs it just paid
(``getMultipleAccounts``, 100 a call) so its next round never sees the
state from before its own transactions while their notification is on the
way (which would resend and waste a ``NothingToSettle`` transaction).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import random
import time
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit, urlunsplit

import base58
import httpx
from solders.pubkey import Pubkey

from iopay.escrow.state import JobView, job_filters

#: websocket message size limit (a Job account is small; a snapshot never goes over the websocket)
MAX_MESSAGE = 8 << 20


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


class JobWatch:
    """The Job accounts of ``mints``' markets, kept current over websockets."""

    def __init__(self, client: Any, mints: Sequence[Pubkey], http_url: str, ws_url: Optional[str] = None, *,
                 commitment: str = "confirmed", log: Any = None, reconnect_min: float = 0.2,
                 reconnect_max: float = 5.0, resync_interval: float = 600.0, timeout: float = 30.0) -> None:
        self.client = client
        self.program = client.program
        self.mints = list(mints)
        self.http_url = http_url
        self.ws_url = ws_url or ws_url_for(http_url)
        self.commitment = commitment
        self.log = log
        self.reconnect_min = reconnect_min
        self.reconnect_max = reconnect_max
        self.resync_interval = resync_interval
        self.timeout = timeout
        self.markets = {m: client.esc.market_address(m) for m in self.mints}
        self._mint_of_market = {v: k for k, v in self.markets.items()}
        #: mint -> job address -> (slot read at, view)
        self.cache: Dict[Pubkey, Dict[Pubkey, Tuple[int, JobView]]] = {m: {} for m in self.mints}
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
        ``wait`` seconds for the first snapshot. Returns whether it is
        ready (until it is, the keeper scans with getProgramAccounts; a
        failing connection is retried with backoff)."""
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

    # -- what the keeper reads --------------------------------------------------------

    def jobs(self, mint: Pubkey) -> List[JobView]:
        return [view for _, (_, view) in sorted(self.cache.get(mint, {}).items(), key=lambda kv: bytes(kv[0]))]

    async def refresh(self, jobs: Iterable[Pubkey]) -> None:
        """Read ``jobs`` again now (after the keeper's own transactions)."""
        keys = list(dict.fromkeys(jobs))
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
        assert self._http is not None
        r = await self._http.post(self.http_url, json={"jsonrpc": "2.0", "id": next(self._ids), "method": method,
                                                       "params": list(params)})
        r.raise_for_status()
        body = r.json()
        if "error" in body:
            raise ConnectionError(f"{method}: {body['error']}")
        return body["result"]

    def _filters(self, mint: Pubkey) -> List[Dict[str, Any]]:
        return [{"memcmp": {"offset": f.offset, "bytes": base58.b58encode(f.bytes).decode()}}
                for f in job_filters(self.program, self.markets[mint], None, None)]

    def _apply(self, job: Pubkey, slot: int, data: Optional[bytes], acc: Any = None) -> None:
        if data is not None and acc is not None and acc.get("owner") != str(self.program.program_id):
            data = None
        view: Optional[JobView] = None
        if data is not None:
            try:
                view = JobView.decode(self.program, job, data)
            except Exception:  # noqa: BLE001 - not a job (or another version): ignore it
                return
        mint = self._mint_of_market.get(view.market) if view is not None else None
        for m, entries in self.cache.items():
            old = entries.get(job)
            if old is not None and old[0] > slot:
                return  # we hold something newer
            if view is None or m != mint:
                entries.pop(job, None)
        if view is not None and mint is not None:
            self.cache[mint][job] = (slot, view)

    async def _snapshot(self) -> None:
        for mint in self.mints:
            res = await self._rpc("getProgramAccounts", str(self.program.program_id),
                                  {"encoding": "base64", "commitment": self.commitment, "withContext": True,
                                   "filters": self._filters(mint)})
            slot = res["context"]["slot"]
            fresh: Dict[Pubkey, Tuple[int, JobView]] = {}
            old = self.cache.get(mint, {})
            for row in res["value"]:
                k = Pubkey.from_string(row["pubkey"])
                prev = old.get(k)
                if prev is not None and prev[0] > slot:
                    fresh[k] = prev
                    continue
                fresh[k] = (slot, JobView.decode(self.program, k, base64.b64decode(row["account"]["data"][0])))
            # Entries newer than the snapshot (a refresh racing it) are kept.
            for k, prev in old.items():
                if k not in fresh and prev[0] > slot:
                    fresh[k] = prev
            self.cache[mint] = fresh
        self.stats["snapshots"] += 1
        self._last_snapshot = time.monotonic()

    def _on_message(self, msg: Dict[str, Any], subs: Dict[int, Pubkey]) -> None:
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
            subs: Dict[int, Pubkey] = {}
            early: List[Dict[str, Any]] = []
            for mint in self.mints:
                rid = next(self._ids)
                await ws.send(json.dumps({"jsonrpc": "2.0", "id": rid, "method": "programSubscribe", "params": [
                    str(self.program.program_id),
                    {"encoding": "base64", "commitment": self.commitment, "filters": self._filters(mint)}]}))
                while True:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), self.timeout))
                    if msg.get("id") == rid:
                        if "error" in msg:
                            raise ConnectionError(f"programSubscribe: {msg['error']}")
                        subs[int(msg["result"])] = mint
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
            self._event("info", "discovery_subscribed", ws_url=self.ws_url, markets=len(self.mints),
                        jobs=sum(len(c) for c in self.cache.values()), connects=self.stats["connects"])
            while True:
                left = self.resync_interval - (time.monotonic() - self._last_snapshot)
                try:
                    raw = await asyncio.wait_for(ws.recv(), max(0.01, left))
                except asyncio.TimeoutError:
                    await self._snapshot()  # closed jobs leave the cache
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
                self._event("warning", "discovery_disconnected", error=repr(e)[:300], retry_in=round(delay, 2))
            self.connected.clear()
            self.stats["disconnects"] += 1
            await asyncio.sleep(self._rng.uniform(delay / 2, delay))
            delay = self.reconnect_min if time.monotonic() - t0 > 10 else min(self.reconnect_max, delay * 2)
