"""The must-show of the keeper: ``iopay keeper run`` as a process against the
local validator, SIGKILLed at random points (including mid-round, after some
of its transactions landed) and restarted, while hours are warped by: every
due worker-hour is paid exactly once (token balances, ``hours_paid`` and the
``HoursSettled`` events on chain all agree with rate x elapsed hours)."""

from __future__ import annotations

import base64
import json
import random
import signal
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed

from tests.integration.cli_env import UNIT, iopay_cmd, make_world, run_async, settled_events, spawn, token_balance, wait_until
from tests.integration.conftest import Validator
from iopay.escrow.client import EscrowClient, RpcChain
from iopay.escrow.state import JobView
from iopay.core.events import EventDecoder
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import JobEscrow, span_cost
from tests.integration.rpc_env import RpcEnv, make_market

HOUR = 3_600
FEE_BPS = 250


def log_events(path: Path) -> List[str]:
    try:
        return [json.loads(x)["event"] for x in path.read_text().splitlines() if x.startswith("{")]
    except (OSError, ValueError):
        return []


async def setup(v: Validator, tmp: Path, seed: int) -> Tuple[Any, Any, Dict[Any, List[Tuple[int, int, int]]]]:
    """A market and 6 jobs of 1..4 workers; returns (world, market, {job: [(slot, worker idx, rate)]})."""
    rng = random.Random(seed)
    names = ["keeper", "customer"] + [f"w{i}" for i in range(10)]
    w = await make_world(v, tmp, names, {"customer": 100_000 * UNIT})
    prog = ProgramIdl.load("job_escrow")
    async with AsyncClient(v.url, commitment=Confirmed) as c:
        env = RpcEnv(v.url, c, prog)
        esc = JobEscrow(prog, fetch=env.fetch)
        m = await make_market(env, esc, v.upgrade_authority, fee_bps=FEE_BPS)
        # make_market made its own mint: move the world onto it.
        w.mint, w.treasury = m.mint, m.treasury
        from iopay.core import spl

        ixs = [spl.create_associated_token_account_idempotent(m.payer.pubkey(), w.pk(n), m.mint) for n in names]
        for i in range(0, len(ixs), 6):
            await env.send(ixs[i:i + 6], m.payer)
        await env.send([spl.mint_to(m.mint, w.ata("customer"), m.mint_authority.pubkey(), 100_000 * UNIT)],
                       m.payer, m.mint_authority)
        sdk = EscrowClient(RpcChain(c, env.sender, [EventDecoder(prog)]), m.payer, prog)
        jobs: Dict[Any, List[Tuple[int, int, int]]] = {}
        k = 0
        for j in range(6):
            n = 1 + (j + seed) % 4
            slots = [(i, (k + i) % 10, 100_000 * (j + 1) + 1_000 * i + seed) for i in range(n)]
            k += n
            opened = await sdk.open_job(w.keys["customer"], m.mint, [(w.pk(f"w{wi}"), r) for _, wi, r in slots],
                                        3 + j % 2)
            for _, wi, _ in slots:
                await sdk.accept(w.keys[f"w{wi}"], opened.job)
            jobs[opened.job] = slots
        return w, m, jobs


@pytest.mark.parametrize("seed,lookup_tables", [(7, True), (8, False)], ids=["seed7-lookup-tables", "seed8-plain"])
def test_keeper_killed_and_restarted_pays_every_hour_exactly_once(start_localnet: Any, tmp_path: Path, seed: int,
                                                                  lookup_tables: bool) -> None:
    v: Validator = start_localnet(args=["--slot-time", "200"])
    rng = random.Random(seed)
    w, m, jobs = run_async(setup(v, tmp_path, seed))
    prog = ProgramIdl.load("job_escrow")
    accepted_at: Dict[Any, List[int]] = {}
    hours_of: Dict[Any, int] = {}
    for job in jobs:
        # (At confirmed: the default, finalized, may not have the accepts yet.)
        info = v.rpc("getAccountInfo", str(job), {"encoding": "base64", "commitment": "confirmed"})
        view = JobView.decode(prog, job, base64.b64decode(info["value"]["data"][0]))
        hours_of[job] = view.hours
        accepted_at[job] = [s.start_ts for s in view.workers]

    argv = iopay_cmd("-u", v.url, "-k", w.key("keeper"), "keeper", "run", "--mint", str(m.mint), "--max-payees", "2",
                     "--concurrency", "1", "--max-sleep", "0.3", "--min-sleep", "0.05", "--grace", "0",
                     *([] if lookup_tables else ["--no-lookup-tables"]))
    lives = 0
    mid_round_kills = 0

    def now() -> int:  # the Clock sysvar: what the program pays by
        data = base64.b64decode(v.rpc("getAccountInfo", "SysvarC1ock11111111111111111111111111111111",
                                      {"encoding": "base64", "commitment": "processed"})["value"]["data"][0])
        return int.from_bytes(data[32:40], "little", signed=True)

    def expected() -> Dict[int, int]:
        t = now()
        out: Dict[int, int] = {}
        for job, slots in jobs.items():
            for (i, wi, r), start in zip(slots, accepted_at[job]):
                out[wi] = out.get(wi, 0) + r * min(hours_of[job], max(0, t - start) // HOUR)
        return out

    def balances() -> Dict[int, int]:
        return {wi: token_balance(v, w.ata(f"w{wi}")) for wi in range(10)}

    for hour in range(3):
        v.warp(HOUR + rng.randrange(0, 300))
        # Two lives killed at random points, then one that finishes the hour.
        for _ in range(2):
            log = tmp_path / f"keeper-{lives}.log"
            proc = spawn(argv, log)
            lives += 1
            # Wait for its first landed transaction, then kill it a random moment later.
            wait_until(lambda: "batch_sent" in log_events(log) or proc.poll() is not None, 20, 0.02)
            time.sleep(rng.uniform(0.0, 0.6))
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            ev = log_events(log)
            last_planned = max((i for i, e in enumerate(ev) if e == "round_planned"), default=-1)
            last_done = max((i for i, e in enumerate(ev) if e == "round"), default=-1)
            if last_planned > last_done and "batch_sent" in ev[last_planned:]:
                mid_round_kills += 1  # killed after some of the round's transactions landed
        log = tmp_path / f"keeper-{lives}.log"
        proc = spawn(argv, log)
        lives += 1
        try:
            exp = expected()
            assert wait_until(lambda: balances() == exp, 60, 0.2), (balances(), exp, log.read_text()[-2000:])
        finally:
            # (A signal before the interpreter is up would kill it by default.)
            wait_until(lambda: "keeper_started" in log_events(log) or proc.poll() is not None, 20, 0.05)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(30) == 0, log.read_text()[-2000:]
    assert mid_round_kills >= 2, f"only {mid_round_kills} kills landed mid-round"
    sent = [json.loads(x) for i in range(lives) for x in (tmp_path / f"keeper-{i}.log").read_text().splitlines()
            if x.startswith("{") and '"batch_sent"' in x]
    # v0 transactions through the keeper's lookup tables on the local validator (or plain ones).
    assert any(r["lookup_tables"] for r in sent) == lookup_tables
    assert all(r["tx_bytes"] <= 1232 and r["payouts"] <= 2 for r in sent)
    # Exactly once, from the chain: events per (job, slot) add up to the hours paid.
    exp_final = expected()
    assert balances() == exp_final
    t = now()
    evs = run_async(settled_events(v, prog, list(jobs)))
    hours: Dict[Tuple[str, int], int] = {}
    amounts: Dict[Tuple[str, int], int] = {}
    for e in evs:
        key = (str(e.job), e.slot)
        hours[key] = hours.get(key, 0) + e.hours
        amounts[key] = amounts.get(key, 0) + e.amount
    fees = 0
    for job, slots in jobs.items():
        for (i, wi, r), start in zip(slots, accepted_at[job]):
            earned = min(hours_of[job], (t - start) // HOUR)
            assert earned >= 3
            assert hours[(str(job), i)] == earned and amounts[(str(job), i)] == r * earned
            fees += span_cost(r, FEE_BPS, 0, earned)[1]
    # Fee shares accrue in each job's vault until swept (settle never touches the treasury).
    accrued = 0
    for job in jobs:
        # At confirmed, as the balances above: the last settlements may not be finalized yet.
        info = v.rpc("getAccountInfo", str(job), {"encoding": "base64", "commitment": "confirmed"})
        accrued += JobView.decode(prog, job, base64.b64decode(info["value"]["data"][0])).fees_accrued
    assert accrued == fees and token_balance(v, m.treasury) == 0
