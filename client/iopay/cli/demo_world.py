"""``iopay localnet --demo-world``: the local validator with a ready test
world, built over its own JSON-RPC once it listens (with the SDK, as any
client would): an IO stand-in mint (6 decimals), a market on it, a funded
customer holding IO, workers with token accounts, a keeper with SOL; every
keypair written to ``LEDGER/demo-world/`` and the addresses printed (and
kept in ``LEDGER/demo-world/world.json``). Restarting on the same ledger
reuses the world.

It lives in the CLI because it needs the escrow SDK, which the
:mod:`iopay.localnet` layer may not import."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, Dict

from solders.pubkey import Pubkey

from iopay.core.units import format_amount
from iopay.escrow.program import MAX_WORKERS_CAP

DECIMALS = 6
CUSTOMER_IO = 10_000 * 10**DECIMALS
SOL = 1_000_000_000
WORKERS = 3


async def _wait_ready(ledger: Path, server: "asyncio.Task[int]", timeout: float = 60.0) -> Dict[str, Any]:
    import httpx

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with httpx.AsyncClient() as http:
        while loop.time() < deadline:
            if server.done():
                raise RuntimeError("the validator stopped before it was ready")
            try:
                info = json.loads((ledger / "localnet.json").read_text())
                if info.get("pid") == os.getpid():
                    r = await http.post(info["rpc_url"], json={"jsonrpc": "2.0", "id": 1, "method": "getHealth"})
                    if r.json().get("result") == "ok":
                        return info
            except (OSError, ValueError, httpx.HTTPError):
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError("the validator did not become ready")


async def build_world(url: str, upgrade_authority_path: Path, out: Path) -> Dict[str, Any]:
    """Create (or find again) the demo world on the validator at ``url``."""
    from iopay.core import spl, wallet
    from iopay.escrow.client import EscrowClient

    out.mkdir(parents=True, exist_ok=True)
    saved = out / "world.json"

    def key(name: str) -> Any:
        path = out / f"{name}.json"
        return wallet.read_keypair(path) if path.exists() else wallet.write_keypair(path)

    names = ["admin", "customer", "keeper"] + [f"worker{i}" for i in range(1, WORKERS + 1)]
    keys = {n: key(n) for n in names}
    upgrade = wallet.read_keypair(upgrade_authority_path)
    admin = keys["admin"]
    async with EscrowClient.connect(url, admin) as client:
        chain = client.chain
        if saved.exists():
            world = json.loads(saved.read_text())
            if await chain.get_account(client.esc.market_address(Pubkey.from_string(world["mint"]))) is not None:
                world["url"] = url
                saved.write_text(json.dumps(world, indent=2))
                return world
        for n, sol in [("admin", 100), ("customer", 100), ("keeper", 10)] + [(f"worker{i}", 1)
                                                                           for i in range(1, WORKERS + 1)]:
            await wallet.airdrop(chain, keys[n].pubkey(), sol * SOL)
        mint, _ = await wallet.create_mint(chain, admin, admin.pubkey(), DECIMALS, mint=key("io-mint"))
        treasury, _ = await wallet.create_associated_account(chain, admin, admin.pubkey(), mint)
        await wallet.mint_tokens(chain, admin, admin, mint, CUSTOMER_IO, keys["customer"].pubkey())
        for i in range(1, WORKERS + 1):
            await wallet.create_associated_account(chain, admin, keys[f"worker{i}"].pubkey(), mint)
        await client.init_market(upgrade, mint, treasury, authority=admin.pubkey(), fee_bps=250,
                                 max_workers=MAX_WORKERS_CAP, max_hours=720)
        world = {
            "url": url, "mint": str(mint), "decimals": DECIMALS, "market": str(client.esc.market_address(mint)),
            "treasury": str(treasury), "fee_bps": 250,
            "customer_io": format_amount(CUSTOMER_IO, DECIMALS),
            "wallets": {n: {"address": str(keys[n].pubkey()), "keypair": str(out / f"{n}.json"),
                            "token_account": str(spl.associated_token_address(keys[n].pubkey(), mint))}
                        for n in names},
            "upgrade_authority": str(upgrade_authority_path),
        }
        saved.write_text(json.dumps(world, indent=2))
        return world


def world_lines(world: Dict[str, Any]) -> str:
    w = world["wallets"]
    lines = ["demo world (iopay localnet --demo-world):",
             f"  IO mint        {world['mint']} ({world['decimals']} decimals; admin is the mint authority)",
             f"  market         {world['market']} (fee {world['fee_bps']} bps, treasury {world['treasury']})"]
    for n, d in w.items():
        extra = f", {world['customer_io']} IO" if n == "customer" else ""
        lines.append(f"  {n:<13}  {d['address']}  keypair {d['keypair']}{extra}")
    c, w1 = w["customer"]["keypair"], w["worker1"]["address"]
    lines.append(f"  try: iopay -k {c} job open --mint {world['mint']} --hours 2 --worker {w1}:2.5")
    return "\n".join(lines)


def run_with_world(args: argparse.Namespace) -> int:
    """``iopay localnet --demo-world``: serve, build the world once ready, keep serving."""
    from iopay.localnet.cli import options_from_args
    from iopay.localnet.ledger import LedgerError
    from iopay.localnet.server import serve

    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.WARNING),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)

    async def main() -> int:
        opts = options_from_args(args)
        server = asyncio.create_task(serve(opts))  # type: ignore[arg-type]
        try:
            info = await _wait_ready(Path(args.ledger), server)
            world = await build_world(info["rpc_url"], Path(info["upgrade_authority_keypair"]),
                                      Path(args.ledger) / "demo-world")
        except Exception as e:  # noqa: BLE001 - one line, and the validator stops
            server.cancel()
            try:
                await server
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
            print(f"error: demo world: {str(e).splitlines()[0] if str(e) else type(e).__name__}", file=sys.stderr)
            return 1
        if args.output == "json":
            print(json.dumps(world, indent=2), flush=True)
        else:
            print(world_lines(world), flush=True)
        return await server

    try:
        return asyncio.run(main())
    except (LedgerError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
