"""A small HTTP/1.1 server on asyncio streams for JSON-RPC.

Enough HTTP for every JSON-RPC client (httpx, curl, web3.js): keep-alive,
``Content-Length`` and chunked bodies, ``Expect: 100-continue``, gzip request
bodies (and anchorpy's plain bodies mislabelled gzip), CORS preflight,
``GET /health``. As Agave's: a POST without ``Content-Type:
application/json`` is refused with ``415``, JSON answers are
``application/json; charset=utf-8`` and end with a newline. Defensive by
construction: bounded request line, headers and body (``413`` above
``max_body``, Agave's 50 KiB limit, with its plain-text message), timeouts
for idle and slow clients, and any failure in one connection closes that
connection only.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Callable, Dict, Optional, Tuple

from iopay.localnet.codec import maybe_gunzip
from iopay.localnet.jsonrpc import PARSE_ERROR

log = logging.getLogger("iopay.localnet.http")

MAX_BODY = 50 * 1024
JSON = "application/json; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
TOO_LARGE = b"request body size exceeds allowed maximum"
BAD_CTYPE = b"Supplied content type is not allowed. Content-Type: application/json is required\n"
MAX_LINE = 8 * 1024
MAX_HEADERS = 100
IDLE_TIMEOUT = 120.0
REQUEST_TIMEOUT = 30.0

_REASONS = {100: "Continue", 200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            408: "Request Timeout", 411: "Length Required", 413: "Payload Too Large",
            415: "Unsupported Media Type", 431: "Request Header Fields Too Large",
            500: "Internal Server Error", 501: "Not Implemented", 505: "HTTP Version Not Supported"}


class HttpError(Exception):
    def __init__(self, status: int, body: bytes = b"", close: bool = True) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.close = close


def _rpc_error_body(code: int, message: str) -> bytes:
    return (f'{{"jsonrpc":"2.0","error":{{"code":{code},"message":"{message}"}},"id":null}}').encode()


Handler = Callable[[bytes], Optional[bytes]]


class HttpServer:
    def __init__(self, handler: Handler, *, host: str = "127.0.0.1", port: int = 8899,
                 max_body: int = MAX_BODY, health: Callable[[], str] = lambda: "ok") -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self.max_body = max_body
        self.health = health
        self._server: Optional[asyncio.base_events.Server] = None
        self._conns: set = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, self.host, self.port, limit=MAX_LINE)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for w in list(self._conns):
                w.close()
            try:
                await asyncio.wait_for(self._server.wait_closed(), 2)
            except (asyncio.TimeoutError, Exception):  # noqa: BLE001
                pass

    # -- connection -------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._conns.add(writer)
        try:
            while True:
                try:
                    line = await asyncio.wait_for(reader.readuntil(b"\r\n"), IDLE_TIMEOUT)
                except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError):
                    return
                except asyncio.LimitOverrunError:
                    await self._send(writer, 431, b"", close=True)
                    return
                try:
                    status, body, keep, ctype = await asyncio.wait_for(
                        self._request(line, reader, writer), REQUEST_TIMEOUT)
                except HttpError as e:
                    await self._send(writer, e.status, e.body, close=e.close, ctype=TEXT)
                    if e.close:
                        return
                    continue
                except asyncio.TimeoutError:
                    await self._send(writer, 408, b"", close=True)
                    return
                await self._send(writer, status, body, close=not keep, ctype=ctype)
                if not keep:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        except Exception:  # noqa: BLE001 - one bad connection never stops the server
            log.exception("http connection failed")
        finally:
            self._conns.discard(writer)
            try:
                writer.close()
            except Exception:  # noqa: BLE001
                pass

    async def _send(self, writer: asyncio.StreamWriter, status: int, body: bytes, *, close: bool,
                    ctype: str = "application/json") -> None:
        head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}",
                f"Content-Length: {len(body)}",
                "Access-Control-Allow-Origin: *",
                f"Connection: {'close' if close else 'keep-alive'}"]
        if body:
            head.append(f"Content-Type: {ctype}")
        if status == 405:
            head.append("Allow: POST, OPTIONS, GET")
        if ctype == "text/plain" and not body:  # CORS preflight
            head += ["Access-Control-Allow-Methods: POST, OPTIONS", "Access-Control-Allow-Headers: *",
                     "Access-Control-Max-Age: 86400"]
        try:
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
            await asyncio.wait_for(writer.drain(), REQUEST_TIMEOUT)
        except (ConnectionError, asyncio.TimeoutError, RuntimeError):
            pass

    async def _read_headers(self, reader: asyncio.StreamReader) -> Dict[str, str]:
        headers: Dict[str, str] = {}
        total = 0
        while True:
            try:
                line = await reader.readuntil(b"\r\n")
            except asyncio.LimitOverrunError:
                raise HttpError(431) from None
            total += len(line)
            if line == b"\r\n":
                return headers
            if total > 4 * MAX_LINE or len(headers) >= MAX_HEADERS:
                raise HttpError(431)
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep or not name.strip() or name != name.strip():
                raise HttpError(400)
            key = name.lower()
            v = value.strip()
            headers[key] = f"{headers[key]}, {v}" if key in headers else v

    async def _read_body(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                         headers: Dict[str, str]) -> bytes:
        te = headers.get("transfer-encoding", "").lower()
        too_large = HttpError(413, TOO_LARGE)
        if headers.get("expect", "").lower() == "100-continue":
            cl = headers.get("content-length")
            if cl is not None and cl.isdigit() and int(cl) > self.max_body:
                raise too_large
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if te:
            if te != "chunked":
                raise HttpError(501)
            chunks = bytearray()
            while True:
                try:
                    size_line = await reader.readuntil(b"\r\n")
                    size = int(size_line.split(b";")[0].strip(), 16)
                except (ValueError, asyncio.LimitOverrunError):
                    raise HttpError(400) from None
                if size == 0:
                    await self._read_headers(reader)  # trailers
                    return bytes(chunks)
                if len(chunks) + size > self.max_body:
                    raise too_large
                chunks += await reader.readexactly(size)
                if await reader.readexactly(2) != b"\r\n":
                    raise HttpError(400)
        cl = headers.get("content-length")
        if cl is None:
            raise HttpError(411)
        if not cl.isdigit():
            raise HttpError(400)
        n = int(cl)
        if n > self.max_body:
            raise too_large
        return await reader.readexactly(n)

    async def _request(self, line: bytes, reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter) -> Tuple[int, bytes, bool, str]:
        parts = line.decode("latin-1").strip().split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise HttpError(400 if len(parts) != 3 else 505)
        method, target, version = parts
        headers = await self._read_headers(reader)
        conn = headers.get("connection", "").lower()
        keep = ("close" not in conn) if version == "HTTP/1.1" else ("keep-alive" in conn)
        if method == "GET":
            if target.split("?")[0] == "/health":
                return 200, self.health().encode(), keep, "text/plain"
            raise HttpError(405, b"Used HTTP Method is not allowed. POST or OPTIONS is required\n", close=not keep)
        if method == "OPTIONS":
            return 200, b"", keep, "text/plain"
        if method != "POST":
            raise HttpError(405, b"Used HTTP Method is not allowed. POST or OPTIONS is required\n")
        if headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            raise HttpError(415, BAD_CTYPE)  # before reading the body, as Agave
        body = await self._read_body(reader, writer, headers)
        if "gzip" in headers.get("content-encoding", "").lower():
            try:
                body = maybe_gunzip(body, self.max_body)
            except OverflowError:
                raise HttpError(413, TOO_LARGE) from None
            except ValueError:
                return 200, _rpc_error_body(PARSE_ERROR, "Parse error") + b"\n", keep, JSON
        out = self.handler(body)
        return 200, out + b"\n" if out else b"", keep, JSON
