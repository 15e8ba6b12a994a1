"""HTTP 402 for inference: the provider's paid endpoint and a client that
pays as it calls.

Conventions follow x402 (coinbase/x402) where they fit:

* no or insufficient payment -> ``402 Payment Required`` with an x402 v1 body
  ``{"x402Version": 1, "error": ..., "accepts": [PaymentRequirements]}``
  (also base64 in a ``PAYMENT-REQUIRED`` header, as x402 v2 does);
* the client pays with an ``X-PAYMENT`` header: base64 JSON
  ``{"x402Version": 1, "scheme": "iopay-channel", "network": ..., "payload": {voucher}}``;
* a paid response carries ``X-PAYMENT-RESPONSE`` (base64 JSON).

Where it differs, and why: the scheme is ``iopay-channel``, not ``exact``:
the payload is a cumulative voucher on a payment channel, verified by the
provider itself with no facilitator and no transaction per request, and
settled later in batches, so ``X-PAYMENT-RESPONSE`` reports the accepted
voucher (channel, cumulative, nonce) rather than a transaction hash.
``maxAmountRequired`` is the price of *this* request (the increment the next
voucher must add); ``extra`` names the program, the voucher domain, the
channel and the best voucher the provider holds for it (so a client can
resync its cumulative amount downwards after a refused voucher).

The server speaks HTTP/1.1 through h11 (the sans-IO protocol library httpx
is built on, already installed with it) over asyncio streams, so no request
parsing is written by hand; the client is httpx.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, Optional

import h11
from solders.pubkey import Pubkey

from iopay.inference.program import DOMAIN, U64_MAX, Voucher, price_of
from iopay.inference.vouchers import (ChannelInfo, GroupCommitter, VoucherRejected, VoucherSigner, VoucherVerifier)

log = logging.getLogger("iopay.inference.http")

X402_VERSION = 1
SCHEME = "iopay-channel"
PAYMENT_HEADER = "x-payment"
PAYMENT_RESPONSE_HEADER = "x-payment-response"
PAYMENT_REQUIRED_HEADER = "payment-required"
MAX_BODY = 64 * 1024
#: channels whose last chain read is remembered before old entries are pruned
LOOKUP_MEMORY = 4096


def b64json(obj: Any) -> str:
    """Compact JSON of ``obj``, base64-encoded (the x402 header encoding)."""
    return base64.b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode()


def unb64json(s: str | bytes) -> Any:
    """Inverse of :func:`b64json`; ``ValueError`` on bad base64 or JSON."""
    return json.loads(base64.b64decode(s, validate=True))


def voucher_payload(v: Voucher, network: str) -> Dict[str, Any]:
    """The ``X-PAYMENT`` object (x402 v1 shape, scheme ``iopay-channel``) carrying ``v``; encode it with
    :func:`b64json`."""
    return {"x402Version": X402_VERSION, "scheme": SCHEME, "network": network,
            "payload": {"channel": str(v.channel), "openSlot": v.open_slot, "cumulative": str(v.cumulative),
                        "nonce": str(v.nonce), "signer": str(v.signer), "signature": base64.b64encode(v.signature).decode()}}


def parse_payment(header: str) -> Voucher:
    """The :class:`Voucher` in an ``X-PAYMENT`` header value; :class:`VoucherRejected` (``malformed_payment``)
    on anything else."""
    try:
        p = unb64json(header)
        if p.get("scheme") != SCHEME:
            raise ValueError(f"scheme {p.get('scheme')!r}")
        x = p["payload"]
        v = Voucher(Pubkey.from_string(x["channel"]), int(x["openSlot"]), int(x["cumulative"]), int(x["nonce"]),
                    Pubkey.from_string(x["signer"]), base64.b64decode(x["signature"], validate=True))
        if not all(0 <= n <= U64_MAX for n in (v.open_slot, v.cumulative, v.nonce)):
            raise ValueError("open slot, amount and nonce must be u64")
        if len(v.signature) != 64:
            raise ValueError("signature must be 64 bytes")
        return v
    except (ValueError, KeyError, TypeError) as e:
        raise VoucherRejected("malformed_payment", str(e)) from None


@dataclass
class ModelOffer:
    """What the endpoint sells: one listing (price per inference or per 1,000 tokens)."""
    provider: Pubkey
    mint: Pubkey
    program_id: Pubkey
    price: int
    unit: str = "PerInference"
    model: str = "stand-in-echo"
    network: str = "solana-localnet"

    def price_for(self, request: Dict[str, Any]) -> int:
        """Base units one request costs: the listing price per inference, or per 1,000 of the request's
        ``max_tokens``."""
        return price_of(self.price, self.unit, int(request.get("max_tokens", 0) or 0))


@dataclass
class ServerStats:
    served: int = 0
    payment_required: int = 0
    rejected: Dict[str, int] = field(default_factory=dict)
    earned: int = 0
    #: channels read from the chain one by one (unknown to the cache, or a voucher above its deposit)
    channel_reads: int = 0
    #: chain reads skipped because the global budget (``max_reads_per_s``) was spent
    reads_refused: int = 0


class PaidInferenceServer:
    """``POST /v1/infer`` answers only with a valid voucher covering the
    price (``require_payment=False`` serves everything: the baseline the
    benchmark compares against). ``GET /health`` and ``GET /v1/offer``
    are free."""

    def __init__(self, offer: ModelOffer, verifier: Optional[VoucherVerifier], *, host: str = "127.0.0.1",
                 port: int = 8402, require_payment: bool = True,
                 resolver: Optional[Callable[[Pubkey], Awaitable[Optional[ChannelInfo]]]] = None,
                 refresh_every: float = 2.0, max_reads_per_s: float = 20.0) -> None:
        """``resolver`` loads one channel from the chain: used for a channel
        the cache does not know, or a voucher above the cached deposit (a
        top-up), at most once per ``refresh_every`` seconds per channel, never
        per voucher, and at most ``max_reads_per_s`` reads a second in all
        (with bursts of as many): vouchers naming made-up channels cost the
        sender a 402 each, never the provider an RPC call each."""
        if max_reads_per_s <= 0:
            raise ValueError("max_reads_per_s must be positive")
        self.resolver = resolver
        self.refresh_every = refresh_every
        self.max_reads_per_s = max_reads_per_s
        #: channel -> when it was last read; pruned (entries older than refresh_every) as it grows
        self._looked_up: Dict[Pubkey, float] = {}
        self._read_tokens = max_reads_per_s
        self._read_refilled = time.monotonic()
        self.offer = offer
        self.verifier = verifier
        self.committer = GroupCommitter(verifier.store) if verifier else None
        self.host = host
        self.port = port
        self.require_payment = require_payment
        self.stats = ServerStats()
        self._server: Optional[asyncio.base_events.Server] = None
        #: open connections -> whether one is inside a request right now
        self._conns: Dict[asyncio.Task, bool] = {}

    async def start(self) -> int:
        """Listen on ``host``:``port`` (0 picks a free port); returns the port."""
        self._server = await asyncio.start_server(self._conn, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self, grace: float = 5.0) -> None:
        """Stop listening, let requests in flight finish (up to ``grace`` seconds), close idle keep-alive
        connections, and stop the group-commit task."""
        if self._server is not None:
            self._server.close()
        for task, busy in list(self._conns.items()):
            if not busy:
                task.cancel()
        if self._conns:
            await asyncio.wait(list(self._conns), timeout=grace)
            for task in list(self._conns):
                task.cancel()
            await asyncio.gather(*self._conns, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        if self.committer is not None:
            await self.committer.aclose()

    # -- protocol --

    def requirements(self, resource: str, price: int, error: str, channel: Optional[Pubkey] = None) -> Dict[str, Any]:
        """The x402 ``402`` body: ``maxAmountRequired`` = ``price`` (base units), ``payTo`` the provider,
        ``asset`` the mint, ``extra`` the program, voucher domain, price unit and, for a known ``channel``,
        the best voucher held (so the client can resync)."""
        extra: Dict[str, Any] = {"program": str(self.offer.program_id), "voucherDomain": DOMAIN.decode(),
                                 "priceUnit": self.offer.unit, "unitPrice": str(self.offer.price),
                                 "model": self.offer.model}
        if channel is not None and self.verifier is not None:
            extra["channel"] = str(channel)
            info = self.verifier.channels.get(channel)
            best = self.verifier.best.get(channel) or (info and (info.settled, info.nonce))
            if best:
                extra["best"] = {"cumulative": str(best[0]), "nonce": str(best[1])}
        return {"x402Version": X402_VERSION, "error": error, "accepts": [{
            "scheme": SCHEME, "network": self.offer.network, "maxAmountRequired": str(price), "resource": resource,
            "description": f"one inference on {self.offer.model}", "mimeType": "application/json",
            "payTo": str(self.offer.provider), "maxTimeoutSeconds": 60, "asset": str(self.offer.mint),
            "extra": extra}]}

    async def handle(self, method: str, target: str, headers: Dict[str, str], body: bytes):
        """-> (status, headers, body)"""
        if method == "GET" and target == "/health":
            return 200, {}, b'{"ok":true}'
        if target != "/v1/infer":
            return 404, {}, b'{"error":"not found"}'
        if method != "POST":
            return 405, {}, b'{"error":"method not allowed"}'
        try:
            request = json.loads(body or b"{}")
            price = self.offer.price_for(request)
        except (ValueError, TypeError):
            return 400, {}, b'{"error":"bad request body"}'
        out_headers: Dict[str, str] = {}
        if self.require_payment:
            assert self.verifier is not None and self.committer is not None
            header = headers.get(PAYMENT_HEADER)
            if header is None:
                self.stats.payment_required += 1
                req = self.requirements(target, price, "X-PAYMENT header is required")
                return 402, {PAYMENT_REQUIRED_HEADER: b64json(req)}, json.dumps(req).encode()
            voucher: Optional[Voucher] = None
            try:
                voucher = parse_payment(header)
                try:
                    await self.verifier.accept_async(voucher, price, self.committer)
                except VoucherRejected as e:
                    if e.reason not in ("unknown_channel", "exceeds_deposit") or not await self._refresh(voucher.channel):
                        raise
                    await self.verifier.accept_async(voucher, price, self.committer)
            except VoucherRejected as e:
                self.stats.rejected[e.reason] = self.stats.rejected.get(e.reason, 0) + 1
                req = self.requirements(target, price, str(e), voucher.channel if voucher else None)
                return 402, {PAYMENT_REQUIRED_HEADER: b64json(req)}, json.dumps(req).encode()
            self.stats.earned += price
            out_headers[PAYMENT_RESPONSE_HEADER] = b64json({
                "success": True, "scheme": SCHEME, "network": self.offer.network, "channel": str(voucher.channel),
                "cumulative": str(voucher.cumulative), "nonce": str(voucher.nonce)})
        self.stats.served += 1
        # The model stand-in: echoes the prompt.
        answer = {"model": self.offer.model, "output": str(request.get("prompt", ""))[::-1], "price": price}
        return 200, out_headers, json.dumps(answer).encode()

    async def _refresh(self, channel: Pubkey) -> bool:
        if self.resolver is None or self.verifier is None:
            return False
        now = time.monotonic()
        if now - self._looked_up.get(channel, -1e9) < self.refresh_every:
            return False
        # The global budget (a token bucket) bounds the chain reads that
        # unknown channels can cause, whoever names them.
        self._read_tokens = min(self.max_reads_per_s,
                                self._read_tokens + (now - self._read_refilled) * self.max_reads_per_s)
        self._read_refilled = now
        if self._read_tokens < 1:
            self.stats.reads_refused += 1
            return False
        self._read_tokens -= 1
        if len(self._looked_up) >= LOOKUP_MEMORY:
            # Forget lookups old enough to be allowed again anyway, so the
            # table stays bounded however many addresses are named.
            self._looked_up = {c: t for c, t in self._looked_up.items() if now - t < self.refresh_every}
        self._looked_up[channel] = now
        self.stats.channel_reads += 1
        info = await self.resolver(channel)
        if info is None:
            return False
        self.verifier.update(info)
        return True

    async def _conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_BODY)
        task = asyncio.current_task()
        assert task is not None
        self._conns[task] = False
        try:
            while True:
                req: Optional[h11.Request] = None
                body = bytearray()
                while True:
                    ev = conn.next_event()
                    if ev is h11.NEED_DATA:
                        data = await asyncio.wait_for(reader.read(65536), 120)
                        conn.receive_data(data)
                        if not data and conn.their_state is not h11.DONE:
                            return
                        continue
                    if isinstance(ev, h11.Request):
                        req = ev
                    elif isinstance(ev, h11.Data):
                        body += ev.data
                        if len(body) > MAX_BODY:
                            raise h11.RemoteProtocolError("body too large", error_status_hint=413)
                    elif isinstance(ev, h11.EndOfMessage):
                        break
                    elif isinstance(ev, h11.ConnectionClosed):
                        return
                assert req is not None
                headers = {k.decode().lower(): v.decode() for k, v in req.headers}
                self._conns[task] = True
                try:
                    status, hdrs, payload = await self.handle(req.method.decode(), req.target.decode(), headers,
                                                              bytes(body))
                except Exception:  # noqa: BLE001 - one request fails, not the server
                    log.exception("request failed")
                    status, hdrs, payload = 500, {}, b'{"error":"internal"}'
                out = [("content-type", "application/json"), ("content-length", str(len(payload)))]
                out += list(hdrs.items())
                # One write: head and body in one segment (no small-segment wait between them).
                writer.write(b"".join((conn.send(h11.Response(status_code=status, headers=out)) or b"",
                                       conn.send(h11.Data(data=payload)) or b"",
                                       conn.send(h11.EndOfMessage()) or b"")))
                await writer.drain()
                self._conns[task] = False
                if conn.our_state is h11.MUST_CLOSE:
                    return
                conn.start_next_cycle()
        except h11.RemoteProtocolError as e:
            try:
                writer.write(conn.send(h11.Response(status_code=e.error_status_hint, headers=[("content-length", "0")])))
                writer.write(conn.send(h11.EndOfMessage()))
            except h11.LocalProtocolError:
                pass
        except (asyncio.TimeoutError, ConnectionError):
            pass
        finally:
            self._conns.pop(task, None)
            writer.close()


class PaymentFailed(RuntimeError):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"payment refused ({status}): {body.get('error') if isinstance(body, dict) else body}")
        self.status = status
        self.body = body


class PayingClient:
    """Calls a paid endpoint with httpx, paying each call with the next
    voucher of ``signer``. The price is learnt from the first 402 (or given);
    a 402 after paying resyncs the signer to the provider's best voucher
    (only ever downwards, so nothing is paid twice) and retries once."""

    def __init__(self, base_url: str, signer: VoucherSigner, *, network: str = "solana-localnet",
                 price: Optional[int] = None, client: Any = None) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        self.signer = signer
        self.network = network
        self.price = price
        self.http = client or httpx.AsyncClient(timeout=30)

    async def aclose(self) -> None:
        """Close the underlying httpx client."""
        await self.http.aclose()

    def _learn(self, body: Dict[str, Any]) -> int:
        acc = next(a for a in body["accepts"] if a["scheme"] == SCHEME)
        best = acc.get("extra", {}).get("best")
        if best is not None and int(best["cumulative"]) < self.signer.cumulative:
            self.signer.cumulative = int(best["cumulative"])
        return int(acc["maxAmountRequired"])

    async def infer(self, prompt: str, **params: Any) -> Dict[str, Any]:
        """POST ``/v1/infer`` paying with the next voucher; learns the price from a 402 and retries (at most
        three attempts). Returns the JSON answer; raises :class:`PaymentFailed` on a non-402 error or a
        payment still refused, :class:`DepositExhausted` when the deposit cannot cover the price."""
        body = {"prompt": prompt, **params}
        url = f"{self.base_url}/v1/infer"
        for attempt in range(3):
            headers = {}
            if self.price is not None:
                headers["X-PAYMENT"] = b64json(voucher_payload(self.signer.pay(self.price), self.network))
            r = await self.http.post(url, json=body, headers=headers)
            if r.status_code == 200:
                return r.json()
            if r.status_code != 402:
                raise PaymentFailed(r.status_code, r.text)
            info = r.json()
            if attempt == 2:
                raise PaymentFailed(402, info)
            self.price = self._learn(info)
        raise AssertionError("unreachable")
