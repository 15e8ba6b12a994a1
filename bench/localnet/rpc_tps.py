"""Transactions per second: over JSON-RPC against the local validator vs the
same work in process.

    .venv/bin/python bench/localnet/rpc_tps.py [--n 600] [--concurrency 16] [--skip-preflight] [--timeout 60]

The work: ``n`` signed SOL transfers from one funded payer (distinct
amounts, so distinct signatures). Three measurements, one JSON object out:

* ``litesvm``: ``LiteSVM.send_transaction`` in a loop (the floor of the stack);
* ``chain``: the validator's chain layer in process (blockhash/age checks,
  pre/post balances, index, the journal written per transaction and fsync'd
  once at the end, as the server does once per slot), no HTTP;
* ``rpc``: a real ``python -m iopay.localnet`` process; transactions go out
  over ``sendTransaction`` (``concurrency`` in flight, a blockhash fetched at
  ``confirmed`` and preflight simulation at ``confirmed`` unless
  ``--skip-preflight``) and count once ``getSignatureStatuses`` reports them
  ``confirmed`` (one slot, 400 ms, after they landed);
* ``test_validator``: the same client against Agave's
  ``solana-test-validator`` when it is on PATH (or cached by ``make
  validator``), else ``{"skipped": reason}``.

Both validator columns have ``startup_seconds``: process start to a healthy
RPC answering ``getSlot`` > 0. ``ratio`` is ``rpc.tps_confirmed /
litesvm.tps``. Bounded: at most ``--n`` transactions (<= 5000) and
``--timeout`` seconds for each RPC part.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

import httpx
from solders.account import Account
from solders.hash import Hash
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction, VersionedTransaction

REPO = Path(__file__).resolve().parents[2]
SOL = 1_000_000_000
SYSTEM = Pubkey.from_string("11111111111111111111111111111111")


#: each transfer alone leaves the new destination rent-exempt (a validator
#: refuses one that would leave it rent-paying: InsufficientFundsForRent), and
#: they may land in any order
TRANSFER_LAMPORTS = 1_000_000


def make_txs(payer: Keypair, blockhash: Hash, n: int) -> List[Transaction]:
    dest = Keypair().pubkey()
    return [Transaction([payer], Message.new_with_blockhash(
        [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=dest, lamports=TRANSFER_LAMPORTS + i))],
        payer.pubkey(), blockhash), blockhash) for i in range(n)]


def bench_litesvm(n: int) -> Dict[str, Any]:
    svm = LiteSVM()
    payer = Keypair()
    svm.airdrop(payer.pubkey(), 1_000 * SOL)
    txs = make_txs(payer, svm.latest_blockhash(), n)
    t0 = time.perf_counter()
    for tx in txs:
        svm.send_transaction(tx)
    dt = time.perf_counter() - t0
    return {"n": n, "seconds": round(dt, 4), "tps": round(n / dt, 1)}


def bench_chain(n: int) -> Dict[str, Any]:
    sys.path.insert(0, str(REPO / "client"))
    from iopay.localnet.chain import Chain
    from iopay.localnet.ledger import Ledger

    with tempfile.TemporaryDirectory() as d:
        chain = Chain(Hash.new_unique())
        chain.advance_to(1)
        payer = Keypair()
        chain.set_account(payer.pubkey(), Account(1_000 * SOL, b"", SYSTEM))
        ledger = Ledger(Path(d) / "ledger")
        chain.journal = ledger
        txs = [VersionedTransaction.from_legacy(t) for t in make_txs(payer, chain.latest_blockhash("processed")[0], n)]
        t0 = time.perf_counter()
        for tx in txs:
            chain.process(tx)
        ledger.sync()
        dt = time.perf_counter() - t0
        ledger.close()
    return {"n": n, "seconds": round(dt, 4), "tps": round(n / dt, 1), "journal": "written per transaction, one fsync"}


def _healthy(url: str) -> bool:
    try:
        r = httpx.post(url, json=[{"jsonrpc": "2.0", "id": 1, "method": "getHealth"},
                                  {"jsonrpc": "2.0", "id": 2, "method": "getSlot", "params": [{"commitment": "processed"}]}],
                       timeout=2)
        out = {x["id"]: x.get("result") for x in r.json()}
        return out.get(1) == "ok" and (out.get(2) or 0) > 0
    except (OSError, ValueError, httpx.HTTPError, TypeError, KeyError):
        return False


def start_localnet(ledger: Path) -> tuple[subprocess.Popen, str, float]:
    cmd = [sys.executable, "-m", "iopay.localnet", "--ledger", str(ledger), "--reset", "--rpc-port", "0",
           "--ws-port", "0", "-q", "--no-workspace-programs"]
    env = dict(os.environ, PYTHONPATH=str(REPO / "client") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = t0 + 30
    while time.monotonic() < deadline:
        try:
            info = json.loads((ledger / "localnet.json").read_text())
            if info.get("pid") == proc.pid and _healthy(info["rpc_url"]):
                return proc, info["rpc_url"], time.monotonic() - t0
        except (OSError, ValueError):
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    proc.kill()
    raise RuntimeError("localnet did not start")


def test_validator_binary() -> str | None:
    found = shutil.which("solana-test-validator")
    cached = REPO / ".build" / "agave" / "bin" / "solana-test-validator"
    return found or (str(cached) if os.access(cached, os.X_OK) else None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_test_validator(binary: str, ledger: Path) -> tuple[subprocess.Popen, str, float]:
    rpc = _free_port()
    while True:  # the websocket port is rpc + 1
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", rpc + 1))
            break
        except OSError:
            rpc = _free_port()
    dyn = 42000 + (os.getpid() % 100) * 60
    cmd = [binary, "--ledger", str(ledger), "--reset", "--quiet", "--bind-address", "127.0.0.1",
           "--rpc-port", str(rpc), "--faucet-port", str(_free_port()), "--gossip-port", str(_free_port()),
           "--dynamic-port-range", f"{dyn}-{dyn + 50}"]
    url = f"http://127.0.0.1:{rpc}"
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ledger.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = t0 + 120
    while time.monotonic() < deadline:
        if _healthy(url):
            return proc, url, time.monotonic() - t0
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    proc.kill()
    raise RuntimeError("solana-test-validator did not start")


async def bench_rpc(n: int, concurrency: int, skip_preflight: bool, timeout: float,
                    test_validator: str | None = None) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory() as d:
        if test_validator:
            proc, url, startup = start_test_validator(test_validator, Path(d) / "test-ledger")
        else:
            proc, url, startup = start_localnet(Path(d) / "ledger")
        try:
            out = await asyncio.wait_for(_rpc_run(url, n, concurrency, skip_preflight), timeout)
            return {**out, "startup_seconds": round(startup, 3)}
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


async def _rpc_run(url: str, n: int, concurrency: int, skip_preflight: bool) -> Dict[str, Any]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        ids = iter(range(1, 10**9))

        async def call(method: str, *params: Any) -> Any:
            r = await http.post(url, json={"jsonrpc": "2.0", "id": next(ids), "method": method, "params": list(params)})
            body = r.json()
            if "error" in body:
                raise RuntimeError(f"{method}: {body['error']}")
            return body["result"]

        payer = Keypair()
        sig = await call("requestAirdrop", str(payer.pubkey()), 1_000 * SOL)
        while True:  # the preflight (at confirmed) must see the payer funded
            st = (await call("getSignatureStatuses", [sig]))["value"][0]
            if st and st["confirmationStatus"] in ("confirmed", "finalized"):
                break
            await asyncio.sleep(0.05)
        bh = Hash.from_string((await call("getLatestBlockhash", {"commitment": "confirmed"}))["value"]["blockhash"])
        txs = make_txs(payer, bh, n)
        raw = [base64.b64encode(bytes(t)).decode() for t in txs]
        sem = asyncio.Semaphore(concurrency)
        cfg = {"encoding": "base64", "skipPreflight": skip_preflight, "preflightCommitment": "confirmed"}

        async def send(r: str) -> str:
            async with sem:
                return await call("sendTransaction", r, cfg)

        t0 = time.perf_counter()
        sigs = await asyncio.gather(*(send(r) for r in raw))
        t_sent = time.perf_counter() - t0
        pending = set(sigs)
        while pending:
            batch = list(pending)
            for i in range(0, len(batch), 256):
                chunk = batch[i:i + 256]
                st = (await call("getSignatureStatuses", chunk))["value"]
                for s, x in zip(chunk, st):
                    if x and x["confirmationStatus"] in ("confirmed", "finalized"):
                        if x["err"] is not None:
                            raise RuntimeError(f"{s} failed: {x['err']}")
                        pending.discard(s)
            if pending:
                await asyncio.sleep(0.02)
        t_conf = time.perf_counter() - t0
    return {"n": n, "concurrency": concurrency, "preflight": not skip_preflight,
            "seconds_sent": round(t_sent, 4), "seconds_confirmed": round(t_conf, 4),
            "tps_sent": round(n / t_sent, 1), "tps_confirmed": round(n / t_conf, 1)}


def main(argv: List[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=600)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--skip-preflight", action="store_true")
    p.add_argument("--timeout", type=float, default=60.0)
    a = p.parse_args(argv)
    n = max(1, min(a.n, 5000))
    lite = bench_litesvm(n)
    chain = bench_chain(n)
    conc = max(1, min(a.concurrency, 128))
    rpc = asyncio.run(bench_rpc(n, conc, a.skip_preflight, a.timeout))
    binary = test_validator_binary()
    real: Dict[str, Any]
    if binary is None:
        real = {"skipped": "solana-test-validator is not on PATH (make validator builds it)"}
    else:
        try:
            real = asyncio.run(bench_rpc(n, conc, a.skip_preflight, a.timeout, test_validator=binary))
        except (RuntimeError, asyncio.TimeoutError) as e:
            real = {"failed": repr(e)}
    print(json.dumps({
        "work": f"{n} SOL transfers, one payer",
        "litesvm": lite, "chain": chain, "rpc": rpc, "test_validator": real,
        "ratio": round(rpc["tps_confirmed"] / lite["tps"], 4),
        "ratio_sent": round(rpc["tps_sent"] / lite["tps"], 4),
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
