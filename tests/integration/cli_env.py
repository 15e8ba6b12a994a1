"""Helpers for CLI tests against a validator process: keypair files, a
mint with funded token accounts (SPL setup the CLI leaves to spl-token),
running ``iopay`` in-process or as a subprocess, and reading the
``HoursSettled`` events of every transaction that touched a job."""

from __future__ import annotations

import asyncio
import json
import subprocess
from types import SimpleNamespace
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature

from tests.integration.conftest import REPO, Validator
from iopay import cli
from iopay.core import spl
from iopay.escrow.client import RpcChain
from iopay.core.events import EventDecoder
from iopay.core.idl import ProgramIdl
from tests.integration.rpc_env import RpcEnv

UNIT = 10**6


def write_keypair(path: Path, kp: Keypair) -> Path:
    path.write_text(json.dumps(list(bytes(kp))))
    return path


def run_cli(capsys: Any, *argv: str) -> "tuple[int, Any, str]":
    """``iopay ARGV`` in-process: (exit status, parsed JSON stdout or text, stderr)."""
    capsys.readouterr()
    try:
        rc = cli.main(list(argv))
    except SystemExit as e:  # argparse
        rc = int(e.code or 0)
    out, err = capsys.readouterr()
    try:
        data: Any = json.loads(out) if out.strip() else None
    except ValueError:
        data = out
    return rc, data, err


def iopay_cmd(*argv: str) -> List[str]:
    return [sys.executable, "-m", "iopay.cli", *argv]


def spawn(argv: Sequence[str], log: Path) -> subprocess.Popen:
    f = open(log, "ab")
    try:
        return subprocess.Popen(list(argv), cwd=REPO, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    finally:
        f.close()


@dataclass
class World:
    v: Validator
    dir: Path
    mint: Pubkey
    mint_authority: Keypair
    payer: Keypair
    treasury: Pubkey
    keys: Dict[str, Keypair] = field(default_factory=dict)

    def key(self, name: str) -> str:
        return str(self.dir / f"{name}.json")

    def pk(self, name: str) -> Pubkey:
        return self.keys[name].pubkey()

    def ata(self, name: str) -> Pubkey:
        return spl.associated_token_address(self.pk(name), self.mint)


async def make_world(v: Validator, tmp: Path, names: Sequence[str], tokens: Dict[str, int],
                     sol: int = 5) -> World:
    """A mint, a treasury, and funded keypair files for ``names`` (each with an
    ATA; ``tokens[name]`` minted to it)."""
    async with AsyncClient(v.url, commitment=Confirmed) as c:
        env = RpcEnv(v.url, c)
        payer, mint_authority = await env.funded(100), Keypair()
        mint = await env.create_mint(payer, mint_authority.pubkey())
        treasury_owner = Keypair()
        treasury = await env.create_token_account(payer, mint, treasury_owner.pubkey())
        w = World(v, tmp, mint, mint_authority, payer, treasury)
        for n in names:
            w.keys[n] = await env.funded(sol)
            write_keypair(tmp / f"{n}.json", w.keys[n])
        ixs = [spl.create_associated_token_account_idempotent(payer.pubkey(), w.pk(n), mint) for n in names]
        for i in range(0, len(ixs), 6):
            await env.send(ixs[i:i + 6], payer)
        mints = [spl.mint_to(mint, w.ata(n), mint_authority.pubkey(), amt) for n, amt in tokens.items()]
        for i in range(0, len(mints), 6):
            await env.send(mints[i:i + 6], payer, mint_authority)
        write_keypair(tmp / "upgrade-authority.json", v.upgrade_authority)
        return w


def token_balance(v: Validator, account: Pubkey) -> int:
    try:
        return int(v.rpc("getTokenAccountBalance", str(account), {"commitment": "confirmed"})["value"]["amount"])
    except Exception:  # noqa: BLE001 - missing account
        return 0


async def settled_events(v: Validator, prog: ProgramIdl, addresses: Sequence[Pubkey]) -> List[Any]:
    """Every payout (one record per worker, from the batched ``HoursSettled``
    events) of every transaction that touched ``addresses`` (each once)."""
    sigs: Dict[str, None] = {}
    for a in addresses:
        before: Optional[str] = None
        for _ in range(50):  # pages of 1000, bounded
            cfg: Dict[str, Any] = {"commitment": "confirmed", "limit": 1000}
            if before:
                cfg["before"] = before
            page = v.rpc("getSignaturesForAddress", str(a), cfg)
            for s in page:
                if s.get("err") is None:
                    sigs[s["signature"]] = None
            if len(page) < 1000:
                break
            before = page[-1]["signature"]
    async with AsyncClient(v.url, commitment=Confirmed) as c:
        from iopay.core.tx import TransactionSender

        chain = RpcChain(c, TransactionSender(c), [EventDecoder(prog)])
        out: List[Any] = []
        for s in sigs:
            for e in await chain.fetch_events(Signature.from_string(s)):
                if e.name == "HoursSettled":  # one event per instruction: one record per worker paid
                    out += [SimpleNamespace(job=e.job, settled_ts=e.settled_ts, slot=p.slot, worker=p.worker,
                                            hours=p.hours, secs=p.secs, hours_paid=p.hours_paid, amount=p.amount,
                                            fee=p.fee) for p in e.paid]
    return out


def wait_until(pred: Any, timeout: float, step: float = 0.1) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return bool(pred())


def run_async(coro: Any) -> Any:
    return asyncio.run(coro)
