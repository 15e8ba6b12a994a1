"""Websocket PubSub (Agave's ``*Subscribe`` / ``*Unsubscribe`` API).

Subscriptions: account, program (with filters), signature (one shot, with
``enableReceivedNotification``), logs (``all``, ``allWithVotes``,
``{"mentions": [one address]}``), slot and root. Each subscription has a
commitment: ``processed`` notifications go out when the transaction
commits; ``confirmed``/``finalized`` ones are held until the slot reaches
that commitment. Account and program notifications carry the account's
state at delivery in the bank of the subscription's commitment. A ``signatureSubscribe`` for a signature that already
reached the commitment is answered at once (and ends).

Every connection has a bounded outgoing queue written by its own task, so a
slow or vanished client never blocks the chain; malformed messages get
JSON-RPC errors; a disconnect drops the connection's subscriptions.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from solders.account import Account
from solders.pubkey import Pubkey
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from iopay.localnet import codec
from iopay.localnet.chain import SYSTEM_PROGRAM_ID, Chain, TxRecord, normalize_commitment
from iopay.localnet.jsonrpc import Dispatcher, RpcError
from iopay.localnet.methods import cfg_of, pubkey

log = logging.getLogger("iopay.localnet.pubsub")

MAX_SUBS_PER_CONNECTION = 10_000
OUT_QUEUE = 10_000
MAX_MESSAGE = 1 << 20

_ids = itertools.count(1)


@dataclass(eq=False)
class Sub:
    id: int
    kind: str  # account | program | signature | logs | slot | root
    client: "Client"
    level: str = "finalized"
    key: Any = None  # pubkey (account/program), signature str, logs filter
    encoding: str = "binary"
    data_slice: Optional[Tuple[int, int]] = None
    filters: List[Callable[[Account], bool]] = field(default_factory=list)
    received: bool = False
    pending: List[Tuple[int, Any]] = field(default_factory=list)


class Client:
    def __init__(self, ws: ServerConnection) -> None:
        self.ws = ws
        self.out: "asyncio.Queue[Optional[str]]" = asyncio.Queue(OUT_QUEUE)
        self.subs: Dict[int, Sub] = {}
        self.closed = False

    def send(self, obj: Any) -> None:
        if self.closed:
            return
        try:
            self.out.put_nowait(obj if isinstance(obj, str) else json.dumps(obj, separators=(",", ":")))
        except asyncio.QueueFull:
            log.warning("pubsub client too slow: closing the connection")
            self.closed = True
            asyncio.ensure_future(self.ws.close(1008, "too slow"))


class PubSub:
    def __init__(self, chain: Chain, *, host: str = "127.0.0.1", port: int = 8900) -> None:
        self.chain = chain
        self.host = host
        self.port = port
        self.subs: Dict[int, Sub] = {}
        self.by_account: Dict[Pubkey, Set[Sub]] = {}
        self.by_program: Dict[Pubkey, Set[Sub]] = {}
        self.by_signature: Dict[str, Set[Sub]] = {}
        self.logs: Set[Sub] = set()
        self.slots: Set[Sub] = set()
        self.roots: Set[Sub] = set()
        self._server: Any = None
        self.clients: Set[Client] = set()
        self._refuse_until = 0.0
        chain.listeners.append(self)

    async def start(self) -> int:
        self._server = await serve(self._serve, self.host, self.port, max_size=MAX_MESSAGE,
                                   max_queue=64, compression=None)
        self.port = self._server.sockets[0].getsockname()[1] if hasattr(self._server, "sockets") else self.port
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            try:
                await asyncio.wait_for(self._server.wait_closed(), 2)
            except (asyncio.TimeoutError, Exception):  # noqa: BLE001
                pass

    # -- connections -------------------------------------------------------------

    def drop_all(self, refuse_seconds: float = 0.0) -> int:
        """Close every connection (code 1001) and refuse new ones for
        ``refuse_seconds`` (code 1013): a network cut, for tests of clients
        that must resubscribe. Returns how many were closed."""
        loop = asyncio.get_running_loop()
        self._refuse_until = loop.time() + max(0.0, refuse_seconds)
        n = 0
        for c in list(self.clients):
            if not c.closed:
                c.closed = True
                asyncio.ensure_future(c.ws.close(1001, "dropped by iopay_dropWebsockets"))
                n += 1
        return n

    async def _serve(self, ws: ServerConnection) -> None:
        if asyncio.get_running_loop().time() < self._refuse_until:
            await ws.close(1013, "refusing connections (iopay_dropWebsockets)")
            return
        client = Client(ws)
        self.clients.add(client)
        writer = asyncio.create_task(self._writer(client))
        rpc = Dispatcher(self._methods(client))
        try:
            async for message in ws:
                if isinstance(message, bytes):
                    try:
                        message = message.decode()
                    except UnicodeDecodeError:
                        message = "\x00"  # -> parse error
                out = rpc.handle_payload(message)
                if out is not None:
                    client.send(out.decode())
        except ConnectionClosed:
            pass
        except Exception:  # noqa: BLE001 - one connection never stops the server
            log.exception("pubsub connection failed")
        finally:
            client.closed = True
            self.clients.discard(client)
            for sub in list(client.subs.values()):
                self._drop(sub)
            writer.cancel()
            try:
                await writer
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass

    async def _writer(self, client: Client) -> None:
        try:
            while True:
                msg = await client.out.get()
                if msg is None:
                    return
                await client.ws.send(msg)
        except ConnectionClosed:
            client.closed = True

    # -- subscribe / unsubscribe ---------------------------------------------------

    def _methods(self, client: Client) -> Dict[str, Callable[[List[Any]], Any]]:
        def sub(kind: str, parse: Callable[[List[Any], Sub], None]) -> Callable[[List[Any]], int]:
            def f(p: List[Any]) -> int:
                if len(client.subs) >= MAX_SUBS_PER_CONNECTION:
                    raise RpcError(-32603, "Internal error: too many subscriptions")
                s = Sub(next(_ids), kind, client)
                parse(p, s)
                self._add(s)
                return s.id
            return f

        def unsub(kind: str) -> Callable[[List[Any]], bool]:
            def f(p: List[Any]) -> bool:
                sid = p[0] if p else None
                s = client.subs.get(sid) if isinstance(sid, int) else None
                if s is None or s.kind != kind:
                    raise RpcError.invalid_params("Invalid subscription id.")
                self._drop(s)
                return True
            return f

        table: Dict[str, Callable[[List[Any]], Any]] = {}
        for kind, parse in [("account", self._p_account), ("program", self._p_program),
                            ("signature", self._p_signature), ("logs", self._p_logs),
                            ("slot", self._p_none), ("root", self._p_none)]:
            table[f"{kind}Subscribe"] = sub(kind, parse)
            table[f"{kind}Unsubscribe"] = unsub(kind)
        return table

    def _level(self, cfg: Dict[str, Any]) -> str:
        return normalize_commitment(cfg.get("commitment"))

    def _p_account(self, p: List[Any], s: Sub) -> None:
        if not p:
            raise RpcError.invalid_params("Invalid params: missing pubkey")
        s.key = _sub_pubkey(p[0])
        cfg = cfg_of(p, 1)
        s.level = self._level(cfg)
        s.encoding = codec.check_encoding(cfg.get("encoding"), "binary")
        s.data_slice = codec.parse_data_slice(cfg)

    def _p_program(self, p: List[Any], s: Sub) -> None:
        self._p_account(p, s)
        s.filters = codec.parse_filters(cfg_of(p, 1).get("filters"))

    def _p_signature(self, p: List[Any], s: Sub) -> None:
        from iopay.localnet.methods import _check_signature

        if not p:
            raise RpcError.invalid_params("Invalid params: missing signature")
        _check_signature(p[0])
        s.key = p[0]
        cfg = cfg_of(p, 1)
        s.level = self._level(cfg)
        s.received = bool(cfg.get("enableReceivedNotification"))

    def _p_logs(self, p: List[Any], s: Sub) -> None:
        if not p:
            raise RpcError.invalid_params("Invalid params: missing filter")
        f = p[0]
        if f in ("all", "allWithVotes"):
            s.key = None
        elif isinstance(f, dict) and isinstance(f.get("mentions"), list):
            if len(f["mentions"]) != 1:
                raise RpcError.invalid_params("Invalid Request: Only 1 address supported")
            s.key = str(_sub_pubkey(f["mentions"][0]))
        else:
            raise RpcError.invalid_params("Invalid params: filter must be \"all\", \"allWithVotes\" or {\"mentions\": [address]}")
        s.level = self._level(cfg_of(p, 1))

    def _p_none(self, p: List[Any], s: Sub) -> None:
        s.level = "processed"

    def _add(self, s: Sub) -> None:
        self.subs[s.id] = s
        s.client.subs[s.id] = s
        if s.kind == "account":
            self.by_account.setdefault(s.key, set()).add(s)
        elif s.kind == "program":
            self.by_program.setdefault(s.key, set()).add(s)
        elif s.kind == "signature":
            rec = self.chain.txs.get(s.key)
            if rec is not None:
                asyncio.get_running_loop().call_soon(self._signature_ready, s, rec)
            self.by_signature.setdefault(s.key, set()).add(s)
        elif s.kind == "logs":
            self.logs.add(s)
        elif s.kind == "slot":
            self.slots.add(s)
        elif s.kind == "root":
            self.roots.add(s)

    def _signature_ready(self, s: Sub, rec: TxRecord) -> None:
        if s.id in self.subs and rec.slot <= self.chain.commitment_slot(s.level):
            self._notify_signature(s, rec)

    def _drop(self, s: Sub) -> None:
        self.subs.pop(s.id, None)
        s.client.subs.pop(s.id, None)
        for index, key in ((self.by_account, s.key), (self.by_program, s.key), (self.by_signature, s.key)):
            group = index.get(key) if key is not None else None
            if group is not None and s in group:
                group.discard(s)
                if not group:
                    del index[key]
        for group in (self.logs, self.slots, self.roots):
            group.discard(s)

    # -- notifications -----------------------------------------------------------------

    @staticmethod
    def _note(s: Sub, method: str, result: Any) -> None:
        s.client.send({"jsonrpc": "2.0", "method": method, "params": {"result": result, "subscription": s.id}})

    def _ui(self, s: Sub, acc: Account) -> Dict[str, Any]:
        enc = s.encoding
        if enc in ("binary", "base58") and s.data_slice is None and len(acc.data) > codec.MAX_BASE58_BYTES:
            return {**codec.ui_account(acc, "base64", None, self.chain.mint_lookup),
                    "data": codec.encode_data(bytes(acc.data), enc)}
        return codec.ui_account(acc, enc, s.data_slice, self.chain.mint_lookup)

    def _send_account(self, s: Sub, slot: int) -> None:
        acc = self.chain.get_account(s.key, self.chain.commitment_slot(s.level))
        if acc is None or acc.lamports == 0:
            acc = Account(0, b"", SYSTEM_PROGRAM_ID)
        self._note(s, "accountNotification", {"context": {"slot": slot}, "value": self._ui(s, acc)})

    def _send_program(self, s: Sub, slot: int, key: Pubkey) -> None:
        acc = self.chain.get_account(key, self.chain.commitment_slot(s.level))
        if acc is None or acc.owner != s.key or not all(f(acc) for f in s.filters):
            return
        self._note(s, "programNotification",
                   {"context": {"slot": slot}, "value": {"pubkey": str(key), "account": self._ui(s, acc)}})

    def _send_logs(self, s: Sub, slot: int, value: Dict[str, Any]) -> None:
        self._note(s, "logsNotification", {"context": {"slot": slot}, "value": value})

    def _notify_signature(self, s: Sub, rec: TxRecord) -> None:
        self._note(s, "signatureNotification", {"context": {"slot": rec.slot}, "value": {"err": rec.err}})
        self._drop(s)

    def on_commit(self, rec: TxRecord, changed: Dict[Pubkey, Optional[Account]]) -> None:
        if not self.subs:
            return
        slot = rec.slot
        for k in changed:
            for s in list(self.by_account.get(k, ())):
                if s.level == "processed":
                    self._send_account(s, slot)
                else:
                    s.pending.append((slot, None))
        owners: Dict[Pubkey, List[Pubkey]] = {}
        for k, acc in changed.items():
            if acc is not None:
                owners.setdefault(acc.owner, []).append(k)
        for owner, keys in owners.items():
            for s in list(self.by_program.get(owner, ())):
                for k in keys:
                    if s.level == "processed":
                        self._send_program(s, slot, k)
                    else:
                        s.pending.append((slot, k))
        if self.logs:
            value = {"signature": rec.signature, "err": rec.err, "logs": rec.logs}
            for s in list(self.logs):
                if s.key is not None and s.key not in rec.keys:
                    continue
                if s.level == "processed":
                    self._send_logs(s, slot, value)
                else:
                    s.pending.append((slot, value))
        for s in list(self.by_signature.get(rec.signature, ())):
            if s.received:
                self._note(s, "signatureNotification", {"context": {"slot": slot}, "value": "receivedSignature"})
                s.received = False
            if s.level == "processed":
                self._notify_signature(s, rec)

    def on_slot(self, slot: int) -> None:
        if not self.subs:
            return
        root = max(0, slot - self.chain.finality_depth)
        for s in list(self.slots):
            self._note(s, "slotNotification", {"parent": max(0, slot - 1), "root": root, "slot": slot})
        for s in list(self.roots):
            self._note(s, "rootNotification", root)
        levels = {"confirmed": self.chain.commitment_slot("confirmed"),
                  "finalized": self.chain.commitment_slot("finalized")}
        for s in list(self.subs.values()):
            if s.level == "processed":
                continue
            upto = levels[s.level]
            if s.kind == "signature":
                rec = self.chain.txs.get(s.key)
                if rec is not None and rec.slot <= upto:
                    self._notify_signature(s, rec)
                continue
            if not s.pending or s.pending[0][0] > upto:
                continue
            due = [x for x in s.pending if x[0] <= upto]
            s.pending = [x for x in s.pending if x[0] > upto]
            if s.kind == "account":
                self._send_account(s, due[-1][0])
            elif s.kind == "program":
                for k in dict.fromkeys(k for _, k in due):
                    self._send_program(s, due[-1][0], k)
            elif s.kind == "logs":
                for sl, value in due:
                    self._send_logs(s, sl, value)


def _sub_pubkey(v: Any) -> Pubkey:
    """A subscription's address, refused in Agave's pubsub words (its HTTP side says ``Invalid param``)."""
    try:
        return pubkey(v)
    except RpcError:
        raise RpcError.invalid_params("Invalid Request: Invalid pubkey provided") from None
