"""The local validator's HTTP server in process, over real sockets: keep-alive,
chunked and gzip bodies, size limits, malformed and abandoned requests. The
server must answer every one of them and keep serving."""

from __future__ import annotations

import asyncio
import gzip
import json
from typing import Any, AsyncIterator, Dict, Optional, Tuple

import httpx
import pytest

from iopay.localnet.http import MAX_BODY, HttpServer
from iopay.localnet.jsonrpc import Dispatcher


@pytest.fixture
async def server() -> AsyncIterator[HttpServer]:
    d = Dispatcher({"echo": lambda p: p, "getHealth": lambda p: "ok"})
    srv = HttpServer(d.handle_payload, port=0)
    await srv.start()
    yield srv
    await srv.close()


async def _exchange(port: int, raw: bytes, read_all: bool = True) -> Tuple[int, Dict[str, str], bytes]:
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(raw)
    await w.drain()
    status, headers, body = await _read_response(r)
    w.close()
    return status, headers, body


async def _read_response(r: asyncio.StreamReader) -> Tuple[int, Dict[str, str], bytes]:
    line = await asyncio.wait_for(r.readuntil(b"\r\n"), 5)
    status = int(line.split()[1])
    headers: Dict[str, str] = {}
    while True:
        h = await r.readuntil(b"\r\n")
        if h == b"\r\n":
            break
        k, _, v = h.decode().partition(":")
        headers[k.lower()] = v.strip()
    body = await r.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


def _post(body: bytes, extra: str = "") -> bytes:
    return (f"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"{extra}\r\n").encode() + body


REQ = b'{"jsonrpc":"2.0","id":1,"method":"echo","params":[1,2]}'


async def test_keep_alive_and_pipelining(server: HttpServer) -> None:
    r, w = await asyncio.open_connection("127.0.0.1", server.port)
    w.write(_post(REQ) + _post(b'{"jsonrpc":"2.0","id":2,"method":"getHealth"}'))
    await w.drain()
    s1, h1, b1 = await _read_response(r)
    s2, _, b2 = await _read_response(r)
    assert (s1, s2) == (200, 200) and h1["connection"] == "keep-alive"
    assert json.loads(b1)["result"] == [1, 2] and json.loads(b2)["result"] == "ok"
    w.write(_post(REQ, "Connection: close\r\n"))
    s3, h3, _ = await _read_response(r)
    assert s3 == 200 and h3["connection"] == "close"
    assert await r.read() == b""  # server closed
    w.close()


async def test_malformed_json_and_rpc_errors_are_200(server: HttpServer) -> None:
    s, _, b = await _exchange(server.port, _post(b"{oops"))
    assert s == 200 and json.loads(b)["error"]["code"] == -32700
    s, _, b = await _exchange(server.port, _post(b'{"jsonrpc":"2.0","id":1,"method":"nope"}'))
    assert s == 200 and json.loads(b)["error"]["code"] == -32601
    s, _, b = await _exchange(server.port, _post(b'{"jsonrpc":"2.0","method":"echo"}'))  # notification
    assert s == 200 and b == b""


async def test_size_limits(server: HttpServer) -> None:
    big = b'{"jsonrpc":"2.0","id":1,"method":"echo","params":["' + b"x" * MAX_BODY + b'"]}'
    s, h, b = await _exchange(server.port, _post(big))
    # As Agave: a plain-text message.
    assert (s, b, h["content-type"]) == (413, b"request body size exceeds allowed maximum", "text/plain; charset=utf-8")
    assert h["connection"] == "close"
    # Announced but not sent: refused before reading.
    s, _, _ = await _exchange(server.port, b"POST / HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\n\r\n")
    assert s == 413
    chunked = b"POST / HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + b"".join(
        b"%x\r\n" % 8192 + b"y" * 8192 + b"\r\n" for _ in range(8)) + b"0\r\n\r\n"
    s, _, _ = await _exchange(server.port, chunked)
    assert s == 413
    bomb = gzip.compress(b" " * (MAX_BODY * 4))
    s, _, _ = await _exchange(server.port, _post(bomb, "Content-Encoding: gzip\r\n"))
    assert s == 413
    s, _, _ = await _exchange(server.port, b"POST / HTTP/1.1\r\nX: " + b"a" * 20_000 + b"\r\n\r\n")
    assert s == 431


async def test_chunked_gzip_and_expect_continue(server: HttpServer) -> None:
    chunked = (b"POST / HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
               + b"%x\r\n" % 10 + REQ[:10] + b"\r\n" + b"%x;ext=1\r\n" % (len(REQ) - 10) + REQ[10:] + b"\r\n0\r\n\r\n")
    s, _, b = await _exchange(server.port, chunked)
    assert s == 200 and json.loads(b)["result"] == [1, 2]
    s, _, b = await _exchange(server.port, _post(gzip.compress(REQ), "Content-Encoding: gzip\r\n"))
    assert s == 200 and json.loads(b)["result"] == [1, 2]
    # anchorpy sends plain JSON labelled gzip.
    s, _, b = await _exchange(server.port, _post(REQ, "Content-Encoding: gzip\r\n"))
    assert s == 200 and json.loads(b)["result"] == [1, 2]
    s, _, b = await _exchange(server.port, _post(b"\x1f\x8bnot gzip", "Content-Encoding: gzip\r\n"))
    assert s == 200 and json.loads(b)["error"]["code"] == -32700
    r, w = await asyncio.open_connection("127.0.0.1", server.port)
    w.write(f"POST / HTTP/1.1\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: {len(REQ)}\r\n\r\n".encode())
    await w.drain()
    assert (await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 5)).startswith(b"HTTP/1.1 100")
    w.write(REQ)
    s, _, b = await _read_response(r)
    assert s == 200 and json.loads(b)["result"] == [1, 2]
    w.close()


async def test_bad_http_is_refused(server: HttpServer) -> None:
    s, _, b = await _exchange(server.port, b"GET /health HTTP/1.1\r\n\r\n")
    assert (s, b) == (200, b"ok")
    assert (await _exchange(server.port, b"GET / HTTP/1.1\r\n\r\n"))[0] == 405
    assert (await _exchange(server.port, b"DELETE / HTTP/1.1\r\n\r\n"))[0] == 405
    assert (await _exchange(server.port, b"OPTIONS / HTTP/1.1\r\n\r\n"))[0] == 200
    assert (await _exchange(server.port, b"garbage\r\n\r\n"))[0] == 400
    assert (await _exchange(server.port, b"POST / HTTP/2.0\r\n\r\n"))[0] == 505
    assert (await _exchange(server.port, b"POST / HTTP/1.1\r\nContent-Type: application/json\r\n\r\n"))[0] == 411
    assert (await _exchange(server.port, b"POST / HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n"))[0] == 400
    assert (await _exchange(server.port, b"POST / HTTP/1.1\r\nbad header\r\n\r\n"))[0] == 400
    assert (await _exchange(server.port, b"POST / HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n"))[0] == 501


async def test_content_type_as_agave(server: HttpServer) -> None:
    """Agave 4.2 refuses a POST that is not ``application/json`` (any case, any parameters) with 415
    before reading it, and labels JSON answers ``application/json; charset=utf-8``, newline-ended."""
    refused = b"Supplied content type is not allowed. Content-Type: application/json is required\n"
    for ctype in ("", "Content-Type: text/plain\r\n", "Content-Type: application/jsonx\r\n"):
        raw = f"POST / HTTP/1.1\r\n{ctype}Content-Length: {len(REQ)}\r\n\r\n".encode() + REQ
        s, h, b = await _exchange(server.port, raw)
        assert (s, b, h["content-type"]) == (415, refused, "text/plain; charset=utf-8"), ctype
    for ctype in ("Application/JSON", "application/json; charset=utf-8"):
        raw = f"POST / HTTP/1.1\r\nContent-Type: {ctype}\r\nContent-Length: {len(REQ)}\r\n\r\n".encode() + REQ
        s, h, b = await _exchange(server.port, raw)
        assert (s, h["content-type"], b) == (200, "application/json; charset=utf-8",
                                             b'{"jsonrpc":"2.0","result":[1,2],"id":1}\n'), ctype


async def test_abrupt_disconnects_do_not_hurt(server: HttpServer) -> None:
    for raw in (b"POST / HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\"",
                b"POST / HTT", b"",
                b"POST / HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nff\r\nabc"):
        r, w = await asyncio.open_connection("127.0.0.1", server.port)
        w.write(raw)
        await w.drain()
        w.transport.abort()  # RST, no FIN handshake
    # Many clients at once, then one more: all answered.
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as c:
        rs = await asyncio.gather(*(c.post("/", content=REQ, headers={"content-type": "application/json"})
                                    for _ in range(50)))
        assert all(r.status_code == 200 and r.json()["result"] == [1, 2] for r in rs)
        batch = [{"jsonrpc": "2.0", "id": i, "method": "echo", "params": [i]} for i in range(20)]
        r = await c.post("/", json=batch)
        assert [x["result"] for x in r.json()] == [[i] for i in range(20)]
