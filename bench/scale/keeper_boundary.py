"""One hour boundary at network scale over JSON-RPC:
``.venv/bin/python bench/scale/keeper_boundary.py [--jobs 2500] [--workers 4]``
(``make bench-scale``).

A local validator (``iopay localnet``), one market, ``jobs x workers``
worker slots all accepted at the same moment, so every worker-hour of the
first hour (10,000 by default) falls due at one boundary; worker token
accounts exist beforehand. The state is built in process on LiteSVM with
the real program (fast) and loaded into the validator at genesis
(``--account-dir``, the format solana-test-validator reads).

The keeper runs as a process (``iopay keeper run``, defaults but
``--grace 0 --max-sleep 1``), started before the boundary like a service:
its first round finds the jobs and writes its lookup tables (``prepare``).
Then the validator's clock is warped to 3 s before the boundary (the keeper
sleeps until the boundary itself, as in real time) and the bench follows
the keeper's log until every worker-hour is paid.

Prints one JSON object: wall time from the boundary to the last payout
confirmed (the keeper logs each transaction once confirmed), worker-hours
per second, payouts and compute units per transaction, RPC calls per round
(``iopay_rpcStats`` before and after, minus the bench's own), CPU seconds of
the keeper and of the validator over the same window, and the machine's
load average (the machine may be shared). Verified on chain at the end: the
sum of ``hours_paid`` over every job is ``jobs x workers``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import httpx
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.core import spl
from iopay.core.harness import Harness, ProgramNotBuilt
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import MAX_WORKERS_CAP, JobEscrow, booking_cost
from iopay.escrow.state import JobView, job_filters

REPO = Path(__file__).resolve().parents[2]
HOUR = 3600
RATE = 1_000_000
SYSVAR_OWNER = Pubkey.from_string("Sysvar1111111111111111111111111111111111111")
TICK = os.sysconf("SC_CLK_TCK")
LEAD = 3
#: keeper options of the bench (the rest are the defaults): see the module doc
KEEPER_ARGS = ["--max-sleep", "1"]


def build_state(jobs: int, workers: int) -> Tuple[Harness, Any, Dict[str, Any]]:
    prog = ProgramIdl.load("job_escrow")
    h = Harness(start_ts=int(time.time()))
    h.load_program(prog)
    esc = JobEscrow(prog, fetch=h.account_data)
    mint_auth, authority, customer = Keypair(), h.funded_keypair(), h.funded_keypair(10 + jobs // 50)
    mint = h.create_mint(mint_auth, 6)
    treasury = h.create_token_account(mint, authority.pubkey())
    h.send_ok([esc.init_market(payer=h.payer.pubkey(), upgrade_authority=h.payer.pubkey(),
                               authority=authority.pubkey(), mint=mint, treasury=treasury,
                               fee_bps=250, max_workers=MAX_WORKERS_CAP, max_hours=720)])
    ctok = h.create_token_account(mint, customer.pubkey())
    h.mint_to(mint, ctok, 10**17, mint_auth)
    keeper = h.funded_keypair(1_000)
    h.known_addresses.add(keeper.pubkey())
    pool = [Keypair() for _ in range(jobs * workers)]
    for i in range(0, len(pool), 8):
        h.send_ok([spl.create_associated_token_account_idempotent(h.payer.pubkey(), w.pubkey(), mint)
                   for w in pool[i:i + 8]])
    for j in range(jobs):
        ws = pool[j * workers:(j + 1) * workers]
        terms = [(w.pubkey(), RATE + i) for i, w in enumerate(ws)]
        cost = sum(booking_cost([r for _, r in terms], 3, 250))
        h.send_ok([esc.open_job(customer=customer.pubkey(), mint=mint, customer_token=ctok, job_id=j + 1, hours=3,
                                workers=terms, max_total=cost)], [customer])
        job = esc.job_addresses(mint, customer.pubkey(), j + 1).job
        h.send_ok([esc.accept(worker=w.pubkey(), job=job) for w in ws], list(ws))
    return h, prog, {"mint": mint, "keeper": keeper, "accepted_at": h.now()}


def export_accounts(h: Harness, prog: Any, out: Path) -> int:
    """Every account the harness touched but programs and sysvars, as
    ``solana account --output json`` files."""
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for addr in h.known_addresses:
        acc = h.account(addr)
        if acc is None or acc.lamports == 0 or acc.executable or acc.owner == SYSVAR_OWNER:
            continue
        if str(acc.owner).startswith("BPFLoader"):
            continue  # program data: the validator deploys the programs itself
        doc = {"pubkey": str(addr), "account": {
            "lamports": acc.lamports, "data": [base64.b64encode(bytes(acc.data)).decode(), "base64"],
            "owner": str(acc.owner), "executable": False, "rentEpoch": 0, "space": len(acc.data)}}
        (out / f"{addr}.json").write_text(json.dumps(doc))
        n += 1
    return n


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0.0


class Rpc:
    def __init__(self, url: str) -> None:
        self.url = url
        self.calls = 0

    def __call__(self, method: str, *params: Any, timeout: float = 60) -> Any:
        self.calls += 1
        r = httpx.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)},
                       timeout=timeout)
        body = r.json()
        if "error" in body:
            raise RuntimeError(f"{method}: {body['error']}")
        return body["result"]


def log_records(path: Path, offset: int = 0) -> Tuple[List[Dict[str, Any]], int]:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except OSError:
        return [], offset
    end = data.rfind(b"\n") + 1
    out = []
    for line in data[:end].splitlines():
        if line.startswith(b"{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out, offset + end


def start_localnet(ledger: Path, accounts: Path) -> Tuple[subprocess.Popen, str, str]:
    cmd = [sys.executable, "-m", "iopay.localnet", "--ledger", str(ledger), "--reset", "--rpc-port", "0",
           "--ws-port", "0", "-q", "--account-dir", str(accounts)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=open(ledger.parent / "localnet.log", "wb"))
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            info = json.loads((ledger / "localnet.json").read_text())
            if info.get("pid") == proc.pid and Rpc(info["rpc_url"])("getHealth", timeout=5) == "ok":
                return proc, info["rpc_url"], info["ws_url"]
        except (OSError, ValueError, httpx.HTTPError, RuntimeError):
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"localnet did not start: {(ledger.parent / 'localnet.log').read_text()[-2000:]}")


def stop(proc: Optional[subprocess.Popen]) -> None:
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def run(jobs: int, workers: int, timeout: float, keeper_args: List[str]) -> Dict[str, Any]:
    total = jobs * workers
    load_start = os.getloadavg()
    t = time.monotonic()
    h, prog, st = build_state(jobs, workers)
    build_s = time.monotonic() - t
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        n_accounts = export_accounts(h, prog, tmp / "accounts")
        del h
        t = time.monotonic()
        validator, url, ws_url = start_localnet(tmp / "ledger", tmp / "accounts")
        startup_s = time.monotonic() - t
        rpc = Rpc(url)
        keeper_proc: Optional[subprocess.Popen] = None
        try:
            kp_path = tmp / "keeper.json"
            kp_path.write_text(json.dumps(list(bytes(st["keeper"]))))
            log_path = tmp / "keeper.log"
            argv = [sys.executable, "-m", "iopay.cli", "-u", url, "-k", str(kp_path), "keeper", "run",
                    "--mint", str(st["mint"]), "--ws-url", ws_url, "--grace", "0", "--metrics-interval", "0",
                    *KEEPER_ARGS, *keeper_args]
            t = time.monotonic()
            keeper_proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=open(log_path, "wb"))
            # Prepared: its first round is done (jobs found, lookup tables written).
            offset = 0
            rounds_before = 0
            while time.monotonic() - t < timeout:
                recs, offset = log_records(log_path, offset)
                rounds_before += sum(r.get("event") == "round" for r in recs)
                if rounds_before:
                    break
                if keeper_proc.poll() is not None:
                    raise RuntimeError(f"keeper exited: {log_path.read_text()[-2000:]}")
                time.sleep(0.2)
            prepare_s = time.monotonic() - t
            subscribed = '"discovery_subscribed"' in log_path.read_text()
            # The boundary.
            before = rpc("iopay_rpcStats")["calls"]
            cpu0 = (cpu_seconds(keeper_proc.pid), cpu_seconds(validator.pid))
            rpc_calls0 = rpc.calls
            clock = base64.b64decode(rpc("getAccountInfo", "SysvarC1ock11111111111111111111111111111111",
                                         {"encoding": "base64", "commitment": "processed"})["value"]["data"][0])
            now = int.from_bytes(clock[32:40], "little", signed=True)
            # To LEAD seconds before the boundary: the keeper (rounds every --max-sleep) sleeps
            # until the boundary itself, as it does in real time.
            rpc("iopay_warpTime", max(0, st["accepted_at"] + HOUR - LEAD - now))
            t0_wall = time.time() + LEAD
            t0 = time.monotonic() + LEAD
            paid = 0
            sent: List[Dict[str, Any]] = []
            rounds = 0
            last_ts = t0_wall
            while paid < total and time.monotonic() - t0 < timeout:
                recs, offset = log_records(log_path, offset)
                for r in recs:
                    if r.get("event") == "batch_sent":
                        sent.append(r)
                        paid += int(r.get("worker_hours", 0))
                        last_ts = max(last_ts, float(r["ts"]))
                    elif r.get("event") == "round":
                        rounds += 1
                if keeper_proc.poll() is not None:
                    raise RuntimeError(f"keeper exited: {log_path.read_text()[-2000:]}")
                time.sleep(0.1)
            wall = last_ts - t0_wall
            observed = time.monotonic() - t0
            cpu1 = (cpu_seconds(keeper_proc.pid), cpu_seconds(validator.pid))
            own = rpc.calls - rpc_calls0 + 1  # + this stats call
            after = rpc("iopay_rpcStats")["calls"]
            delta = {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}
            for k in ("iopay_rpcStats", "iopay_warpTime", "getAccountInfo"):
                if k in delta:
                    delta[k] -= {"iopay_rpcStats": 1, "iopay_warpTime": 1, "getAccountInfo": 1}[k]
            delta = {k: v for k, v in delta.items() if v > 0}
            # Verify on chain.
            filters = [{"memcmp": {"offset": f.offset, "bytes": __import__("base58").b58encode(f.bytes).decode()}}
                       for f in job_filters(prog, None, None, None)]
            rows = rpc("getProgramAccounts", str(prog.program_id),
                       {"encoding": "base64", "commitment": "confirmed", "filters": filters}, timeout=300)
            hours_paid = sum(s.hours_paid for row in rows
                             for s in JobView.decode(prog, Pubkey.from_string(row["pubkey"]),
                                                     base64.b64decode(row["account"]["data"][0])).workers)
        finally:
            stop(keeper_proc)
            stop(validator)
    txs = len(sent)
    cu = [int(r.get("compute_units") or 0) for r in sent]
    calls_total = sum(delta.values())
    return {
        "work": f"{jobs} jobs x {workers} workers, one boundary ({total} worker-hours)",
        "keeper_args": KEEPER_ARGS + keeper_args,
        "worker_hours_due": total,
        "worker_hours_paid_seen_in_log": paid,
        "hours_paid_on_chain": hours_paid,
        "all_paid": hours_paid == total,
        "seconds_boundary_to_last_payout_confirmed": round(wall, 2),
        "seconds_observed": round(observed, 2),
        "worker_hours_per_second": round(paid / wall, 1) if wall > 0 else None,
        "transactions": txs,
        "payouts_per_tx": round(sum(int(r.get("payouts", 0)) for r in sent) / txs, 2) if txs else None,
        "compute_units_per_tx_avg": round(sum(cu) / txs) if txs else None,
        "compute_units_per_tx_max": max(cu) if cu else None,
        "lookup_table_txs": sum(1 for r in sent if r.get("lookup_tables")),
        "keeper_rounds_after_boundary": rounds,
        "rpc_calls_after_boundary": calls_total,
        "rpc_calls_per_round": round(calls_total / max(1, rounds), 1),
        "rpc_calls_by_method": dict(sorted(delta.items(), key=lambda kv: -kv[1])),
        "cpu_seconds_keeper": round(cpu1[0] - cpu0[0], 2),
        "cpu_seconds_validator": round(cpu1[1] - cpu0[1], 2),
        "setup": {"build_state_s": round(build_s, 1), "accounts_loaded": n_accounts,
                  "validator_startup_s": round(startup_s, 1), "keeper_prepare_s": round(prepare_s, 1),
                  "keeper_rounds_before_boundary": rounds_before, "keeper_subscribed": subscribed},
        "bench_own_rpc_calls_excluded": own,
        "machine": {"cpus": os.cpu_count(), "loadavg_start": [round(x, 2) for x in load_start],
                    "loadavg_end": [round(x, 2) for x in os.getloadavg()]},
    }


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, default=2500)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--timeout", type=float, default=900.0, help="seconds for the keeper to prepare, and to pay")
    p.add_argument("keeper_args", nargs="*", help="extra `iopay keeper run` options (after --)")
    a = p.parse_args(argv)
    if not 1 <= a.jobs <= 10_000 or not 1 <= a.workers <= MAX_WORKERS_CAP:
        p.error(f"--jobs in [1, 10000], --workers in [1, {MAX_WORKERS_CAP}]")
    try:
        out = run(a.jobs, a.workers, a.timeout, a.keeper_args)
    except ProgramNotBuilt as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(json.dumps(out, indent=2))
    return 0 if out["all_paid"] else 1


if __name__ == "__main__":
    sys.exit(main())
