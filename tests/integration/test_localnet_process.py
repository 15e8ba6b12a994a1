"""Local-validator behaviour, over a real process: a job's lifecycle with
time warped for hourly payouts, SIGKILL + restart on the same ledger, the
command line (``iopay localnet`` only); hostile clients and the fixture's
helpers against each validator (Agave's solana-test-validator too)."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import base58
import httpx
import pytest
import websockets
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed, Processed
from solana.rpc.types import TxOpts
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

from tests.integration.conftest import REPO, Validator
from iopay.core import spl
from iopay.core.errors import error_class
from iopay.core.events import EVENT_IX_TAG, EventDecoder
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import JobEscrow, booking_cost, settlement
from tests.integration.rpc_env import SOL, RpcEnv, make_market

HOUR = 3_600
UNIT = 10**6
SYSTEM = Pubkey.from_string("11111111111111111111111111111111")
LOADER = Pubkey.from_string("BPFLoaderUpgradeab1e11111111111111111111111")


def cpi_events(v: Validator, prog: ProgramIdl, sig: Any) -> List[Any]:
    """emit_cpi! events of a confirmed transaction, from getTransaction."""
    tx = v.rpc("getTransaction", str(sig), {"commitment": "confirmed", "encoding": "json",
                                            "maxSupportedTransactionVersion": 0})
    keys = tx["transaction"]["message"]["accountKeys"]
    dec = EventDecoder(prog)
    out = []
    for group in tx["meta"]["innerInstructions"]:
        for ix in group["instructions"]:
            data = base58.b58decode(ix["data"])
            if keys[ix["programIdIndex"]] == str(prog.program_id) and data[:8] == EVENT_IX_TAG:
                ev = dec.decode_bytes(data[8:], "cpi")
                if ev is not None:
                    out.append(ev)
    return out


async def test_job_lifecycle_over_rpc_with_warped_hours(localnet: Validator) -> None:
    prog = ProgramIdl.load("job_escrow")
    async with AsyncClient(localnet.url, commitment=Confirmed) as c:
        env = RpcEnv(localnet.url, c, prog)
        esc = JobEscrow(prog, fetch=env.fetch)
        fee_bps, rate, hours = 250, 1_500_000, 4
        m = await make_market(env, esc, localnet.upgrade_authority, fee_bps=fee_bps)
        customer, worker = await env.funded(5), await env.funded(1)
        ctok = await env.create_token_account(m.payer, m.mint, customer.pubkey())
        wtok = await env.create_token_account(m.payer, m.mint, worker.pubkey())
        minted = 1_000 * UNIT
        await env.send([spl.mint_to(m.mint, ctok, m.mint_authority.pubkey(), minted)], m.payer, m.mint_authority)

        # Job 1: opened, accepted, two hours pass, the crank settles, the customer ends it.
        await env.send([esc.open_job(customer=customer.pubkey(), mint=m.mint, customer_token=ctok, job_id=1,
                                     hours=hours, workers=[(worker.pubkey(), rate)],
                                     max_total=sum(booking_cost(rate, hours, fee_bps)))], customer)
        job = esc.job_addresses(m.mint, customer.pubkey(), 1)
        principal, fee = booking_cost(rate, hours, fee_bps)
        assert await env.token_balance(job.vault) == principal + fee
        await env.send([esc.accept(worker=worker.pubkey(), job=job.job)], worker)
        before = localnet.rpc("getBlockTime", localnet.rpc("getSlot", {"commitment": "processed"}))
        now = localnet.warp(2 * HOUR + 60)
        assert now >= before + 2 * HOUR + 60
        cranker = await env.funded(1)  # settle is permissionless
        res = await env.send([esc.settle(job=job.job, payees=[(0, wtok)])], cranker)
        (batch,) = [e for e in cpi_events(localnet, prog, res.signature) if e.name == "HoursSettled"]
        (ev,) = batch.paid
        pay, cut = settlement(rate, fee_bps, 0, 2)
        assert (ev.worker, ev.hours, ev.hours_paid, ev.amount, ev.fee) == (worker.pubkey(), 2, 2, pay, cut)
        # The fee share accrues in the job's vault (swept to the treasury separately).
        assert await env.token_balance(wtok) == pay and await env.token_balance(m.treasury) == 0
        # Settling again in the same hour pays nothing more: the preflight
        # simulation fails with the program's error, decoded.
        with pytest.raises(error_class("NothingToSettle")):
            await env.send([esc.settle(job=job.job, payees=[(0, wtok)])], cranker)
        assert await env.token_balance(wtok) == pay
        await env.send([esc.end_job(customer=customer.pubkey(), job=job.job, customer_token=ctok,
                                    payees=[(0, wtok)])], customer)
        # The started hour is paid pro rata (the cluster clock decides how much).
        paid_total = await env.token_balance(wtok)
        assert pay <= paid_total < pay + rate
        await env.send([esc.sweep_fees(mint=m.mint, treasury=m.treasury, job=job.job)], cranker)
        fees = await env.token_balance(m.treasury)
        assert fees == -(-paid_total * fee_bps // 10_000)
        assert await env.token_balance(job.vault) == 0
        spent = paid_total + fees
        assert await env.token_balance(ctok) == minted - spent

        # Job 2: cancelled before any worker accepted: everything comes back.
        await env.send([esc.open_job(customer=customer.pubkey(), mint=m.mint, customer_token=ctok, job_id=2,
                                     hours=hours, workers=[(worker.pubkey(), rate)], max_total=principal + fee)],
                       customer)
        job2 = esc.job_addresses(m.mint, customer.pubkey(), 2)
        assert await env.token_balance(ctok) == minted - spent - principal - fee
        res = await env.send([esc.cancel(customer=customer.pubkey(), job=job2.job, customer_token=ctok)], customer)
        (cancelled,) = [e for e in cpi_events(localnet, prog, res.signature) if e.name == "JobCancelled"]
        assert cancelled.refund == principal + fee
        assert await env.token_balance(ctok) == minted - spent
        # Conservation: nothing created or lost.
        total = sum([await env.token_balance(a) for a in (ctok, wtok, m.treasury)])
        assert total == minted == int((await c.get_token_supply(m.mint)).value.amount)


async def _snapshot(v: Validator, owners: List[Pubkey], extra: List[Pubkey]) -> Dict[str, Any]:
    """Every indexed account of ``owners`` plus ``extra``, as raw JSON."""
    out: Dict[str, Any] = {}
    for owner in owners:
        for item in v.rpc("getProgramAccounts", str(owner), {"encoding": "base64", "commitment": "processed"}):
            out[item["pubkey"]] = item["account"]
    for k, acc in zip(extra, v.rpc("getMultipleAccounts", [str(k) for k in extra],
                                   {"encoding": "base64", "commitment": "processed"})["value"]):
        out[str(k)] = acc
    return out


async def test_sigkill_and_restart_keep_every_account(start_localnet: Callable[..., Validator], tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    v = start_localnet(ledger)
    prog = ProgramIdl.load("job_escrow")
    async with AsyncClient(v.url, commitment=Confirmed) as c:
        env = RpcEnv(v.url, c, prog)
        esc = JobEscrow(prog, fetch=env.fetch)
        m = await make_market(env, esc, v.upgrade_authority)
        holder = Keypair().pubkey()
        tok = await env.create_token_account(m.payer, m.mint, holder)
        await env.send([spl.mint_to(m.mint, tok, m.mint_authority.pubkey(), 42)], m.payer, m.mint_authority)
        v.warp(HOUR)
        # A burst of transfers, sent without waiting; every one whose status
        # was visible before the kill must survive it.
        bh = (await c.get_latest_blockhash(Processed)).value.blockhash
        dests = [Keypair().pubkey() for _ in range(30)]
        sigs = []
        for i, d in enumerate(dests):
            tx = Transaction([m.payer], Message.new_with_blockhash(
                [transfer(TransferParams(from_pubkey=m.payer.pubkey(), to_pubkey=d, lamports=SOL + i))],
                m.payer.pubkey(), bh), bh)
            sigs.append((await c.send_raw_transaction(bytes(tx), TxOpts(skip_preflight=True))).value)
        seen = (await c.get_signature_statuses(sigs)).value
        assert all(s is not None for s in seen)
    owners = [SYSTEM, spl.TOKEN_PROGRAM_ID, prog.program_id, LOADER]
    before = await _snapshot(v, owners, [m.address, tok, *dests])
    slot_before = v.rpc("getSlot", {"commitment": "processed"})
    time_before = v.rpc("getBlockTime", slot_before)
    genesis = v.rpc("getGenesisHash")
    v.kill()
    assert v.proc.returncode == -9

    v2 = start_localnet(ledger, reset=False)
    assert v2.info["replayed_entries"] > 30
    after = await _snapshot(v2, owners, [m.address, tok, *dests])
    assert after == before and len(before) > 35
    assert all(after[str(d)]["lamports"] == SOL + i for i, d in enumerate(dests))
    st = v2.rpc("getSignatureStatuses", [str(s) for s in sigs], {"searchTransactionHistory": True})["value"]
    assert all(x is not None and x["err"] is None for x in st)
    assert v2.rpc("getGenesisHash") == genesis
    assert v2.rpc("getSlot", {"commitment": "processed"}) > slot_before
    # The warp survives too: the clock is still an hour ahead of wall time.
    assert v2.rpc("getBlockTime", v2.rpc("getSlot", {"commitment": "processed"})) >= time_before
    assert v2.rpc("getBlockTime", v2.rpc("getSlot", {"commitment": "processed"})) >= int(time.time()) + HOUR - 5
    assert v2.upgrade_authority.pubkey() == v.upgrade_authority.pubkey()
    tx = v2.rpc("getTransaction", str(sigs[0]), {"commitment": "confirmed"})
    assert tx["meta"]["postBalances"][1] == SOL

    # The restarted validator keeps working, and a clean stop keeps that too.
    async with AsyncClient(v2.url, commitment=Confirmed) as c:
        env = RpcEnv(v2.url, c, prog)
        await env.send([spl.mint_to(m.mint, tok, m.mint_authority.pubkey(), 8)], m.payer, m.mint_authority)
    assert v2.stop() == 0
    v3 = start_localnet(ledger, reset=False)
    assert v3.rpc("getTokenAccountBalance", str(tok))["value"]["amount"] == "50"
    v3.kill()
    v4 = start_localnet(ledger, reset=True)
    assert v4.rpc("getAccountInfo", str(tok))["value"] is None
    assert v4.rpc("getGenesisHash") != genesis


async def test_process_survives_hostile_clients(validator: Validator) -> None:
    host, port = validator.url.rsplit(":", 1)
    port_n = int(port)
    for raw in (b"\x00\x01\x02garbage\r\n\r\n", b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n{",
                b"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", b"GET / HTTP/1.1\r\n\r\n"):
        s = socket.create_connection(("127.0.0.1", port_n), timeout=5)
        s.sendall(raw)
        s.close()
    js = {"content-type": "application/json"}
    r = httpx.post(validator.url, content=b"{]", headers=js)
    assert r.status_code == 200 and r.json()["error"]["code"] == -32700
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    r = httpx.post(validator.url, content=b"42", headers=js)  # not a request: a parse error on both
    assert r.json() == {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None}
    r = httpx.post(validator.url, json=[])  # an empty batch: an empty answer
    assert (r.status_code, r.content) == (200, b"")
    # Not JSON by its Content-Type: refused unread.
    for headers in ({}, {"content-type": "text/plain"}):
        r = httpx.post(validator.url, content=b'{"jsonrpc":"2.0","id":1,"method":"getSlot"}', headers=headers)
        assert (r.status_code, r.text) == (415, "Supplied content type is not allowed. Content-Type: "
                                                "application/json is required\n")
    r = httpx.post(validator.url, content=b'{"jsonrpc":"2.0","id":1,"method":"x"' + b" " * 60_000 + b"}", headers=js)
    assert (r.status_code, r.text) == (413, "request body size exceeds allowed maximum")
    r = httpx.post(validator.url, json=[{"jsonrpc": "2.0", "id": i, "method": m} for i, m in
                                       enumerate(["getSlot", "nope", "getHealth"])])
    assert [("result" in x, x["id"]) for x in r.json()] == [(True, 0), (False, 1), (True, 2)]
    assert r.json()[1]["error"] == {"code": -32601, "message": "Method not found"}
    ws_url = validator.ws_url
    async with websockets.connect(ws_url) as ws:
        for bad, code, message in (
                (b"{oops", -32700, "Parse error"),
                ('{"jsonrpc":"2.0","id":1,"method":"nopeSubscribe","params":[]}', -32601, "Method not found"),
                ('{"jsonrpc":"2.0","id":2,"method":"accountSubscribe","params":["zzz"]}', -32602,
                 "Invalid Request: Invalid pubkey provided"),
                ('{"jsonrpc":"2.0","id":3,"method":"accountUnsubscribe","params":[424242]}', -32602,
                 "Invalid subscription id."),
                ('{"jsonrpc":"2.0","id":4,"method":"logsSubscribe","params":[{"mentions":[]}]}', -32602,
                 "Invalid Request: Only 1 address supported")):
            await ws.send(bad)
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["error"] == {"code": code, "message": message}
        # A known difference (iopay.localnet's docstring): no blockSubscribe; Agave has it and checks params first.
        await ws.send('{"jsonrpc":"2.0","id":5,"method":"blockSubscribe","params":[]}')
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["error"] == (
            {"code": -32601, "message": "Method not found"} if validator.kind == "localnet" else
            {"code": -32602, "message": "`params` should have at least 1 argument(s)"})
    # Subscribe and vanish without closing.
    ws = await websockets.connect(ws_url)
    await ws.send('{"jsonrpc":"2.0","id":1,"method":"slotSubscribe"}')
    await asyncio.wait_for(ws.recv(), 5)
    ws.transport.abort()
    async with websockets.connect(ws_url) as ws:
        await ws.send('{"jsonrpc":"2.0","id":1,"method":"slotSubscribe"}')
        sub = json.loads(await asyncio.wait_for(ws.recv(), 5))["result"]
        note = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert note["method"] == "slotNotification" and note["params"]["subscription"] == sub
    assert validator.alive() and validator.rpc("getHealth") == "ok"


def test_command_line(localnet: Validator, tmp_path: Path) -> None:
    from iopay.cli import main

    with pytest.raises(SystemExit) as e:
        main(["localnet", "--help"])
    assert e.value.code == 0
    # A second validator on a port in use fails cleanly.
    port = localnet.url.rsplit(":", 1)[1]
    r = subprocess.run([sys.executable, "-m", "iopay.cli", "localnet", "--ledger", str(tmp_path / "l2"),
                        "--rpc-port", port, "--ws-port", "0", "-q"], cwd=REPO, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1 and "cannot listen" in r.stderr
    r = subprocess.run([sys.executable, "-m", "iopay.localnet", "--ledger", str(tmp_path / "l3"),
                        "--bpf-program", str(Keypair().pubkey()), str(tmp_path / "missing.so")],
                       cwd=REPO, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "program file not found" in r.stderr
    info = json.loads((localnet.ledger / "localnet.json").read_text())
    assert info["upgrade_authority_keypair"] == str(localnet.upgrade_authority_path)
    # Every program built into target/deploy (one per crate under programs/).
    # Anchor programs at their IDL address, others (SPL Governance) at their [[test.genesis]] address.
    from iopay.localnet.server import genesis_programs

    genesis = {Path(p).stem: str(a) for p, a in genesis_programs(REPO).items()}

    def deployed(d: Path) -> bool:  # programs/token_cpi is a library linked into the programs
        return any(line.strip().startswith("crate-type") and "cdylib" in line
                   for line in (d / "Cargo.toml").read_text().splitlines())

    expected = {genesis.get(d.name) or str(ProgramIdl.load(d.name).program_id)
                for d in (REPO / "programs").iterdir() if d.is_dir() and deployed(d)}
    assert {p["address"] for p in info["programs"]} == expected
    assert str(ProgramIdl.load("job_escrow").program_id) in expected
    assert localnet.rpc("getAccountInfo", info["programs"][0]["address"], {"encoding": "base64"})["value"]["executable"]


def test_rpc_tps_benchmark_runs() -> None:
    r = subprocess.run([sys.executable, "bench/localnet/rpc_tps.py", "--n", "40", "--timeout", "30"], cwd=REPO,
                       capture_output=True, text=True, timeout=90)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["rpc"]["n"] == out["litesvm"]["n"] == 40 and out["rpc"]["tps_confirmed"] > 0
    assert 0 < out["ratio"] < 1


def test_fixture_helpers(validator: Validator, tmp_path: Path) -> None:
    kp = Keypair()
    validator.airdrop(kp.pubkey(), 2)
    assert validator.rpc("getBalance", str(kp.pubkey()), {"commitment": "confirmed"})["value"] == 2 * SOL
    path = validator.write_keypair(kp, tmp_path / "id.json")
    assert Keypair.from_bytes(bytes(json.loads(path.read_text()))) == kp


def test_account_dir_at_genesis_rpc_stats_and_dropped_websockets(start_localnet: Any, tmp_path: Path) -> None:
    import base64

    owner, addr = Keypair().pubkey(), Keypair().pubkey()
    accounts = tmp_path / "accounts"
    accounts.mkdir()
    (accounts / f"{addr}.json").write_text(json.dumps({"pubkey": str(addr), "account": {
        "lamports": 1_234_567, "data": [base64.b64encode(b"hello").decode(), "base64"], "owner": str(owner),
        "executable": False, "rentEpoch": 0, "space": 5}}))
    v = start_localnet(args=["--account-dir", str(accounts)])
    # At genesis: at every commitment at once, like solana-test-validator's --account-dir.
    for c in ("processed", "confirmed", "finalized"):
        got = v.rpc("getAccountInfo", str(addr), {"encoding": "base64", "commitment": c})["value"]
        assert got["lamports"] == 1_234_567 and got["owner"] == str(owner)
        assert base64.b64decode(got["data"][0]) == b"hello"
    before = v.rpc("iopay_rpcStats")["calls"]
    v.rpc("getSlot")
    v.rpc("getSlot")
    after = v.rpc("iopay_rpcStats")["calls"]
    assert after["getSlot"] - before.get("getSlot", 0) == 2 and after["getAccountInfo"] >= 3

    async def cut() -> None:
        async with websockets.connect(v.ws_url) as ws:
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "slotSubscribe"}))
            assert "result" in json.loads(await ws.recv())
            assert (await asyncio.to_thread(v.rpc, "iopay_dropWebsockets", {"refuseSeconds": 2}))["closed"] == 1
            with pytest.raises(websockets.ConnectionClosed):
                for _ in range(100):
                    await asyncio.wait_for(ws.recv(), 5)
        with pytest.raises((websockets.InvalidStatus, websockets.ConnectionClosed, OSError)):
            async with websockets.connect(v.ws_url) as ws2:  # refused for a while
                await ws2.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "slotSubscribe"}))
                await asyncio.wait_for(ws2.recv(), 5)
        await asyncio.sleep(2.2)
        async with websockets.connect(v.ws_url) as ws3:  # and back
            await ws3.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "slotSubscribe"}))
            assert "result" in json.loads(await asyncio.wait_for(ws3.recv(), 10))
    asyncio.run(cut())
    from tests.integration.conftest import RpcCallError

    with pytest.raises(RpcCallError):
        v.rpc("iopay_dropWebsockets", {"refuseSeconds": -1})
