"""Wiring: ledger + genesis + programs + chain + slot ticker + HTTP + PubSub."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import signal
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from solders.account import Account
from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.localnet.chain import SYSTEM_PROGRAM_ID, Chain
from iopay.localnet.http import HttpServer
from iopay.localnet.jsonrpc import Dispatcher
from iopay.localnet.ledger import Ledger
from iopay.localnet.methods import SOLANA_CORE_VERSION, NodeInfo, RpcMethods
from iopay.localnet.pubsub import PubSub

log = logging.getLogger("iopay.localnet")

LAMPORTS_PER_SOL = 1_000_000_000
BPF_LOADER_UPGRADEABLE_ID = Pubkey.from_string("BPFLoaderUpgradeab1e11111111111111111111111")
SLOT_MARK_EVERY = 25  # slots between (unsynced) slot marks in the journal


@dataclass
class ProgramSpec:
    address: Pubkey
    path: Path
    #: upgrade authority; ``None`` = immutable (no authority)
    authority: Optional[Pubkey] = None
    use_default_authority: bool = True


@dataclass
class Options:
    ledger: Path = Path("test-ledger")
    reset: bool = False
    rpc_port: int = 8899
    ws_port: Optional[int] = None
    host: str = "127.0.0.1"
    programs: List[ProgramSpec] = field(default_factory=list)
    workspace_programs: bool = True
    upgrade_authority: Optional[Path] = None
    faucet_sol: int = 1_000_000
    slot_time: float = 0.4
    finality_depth: int = 32
    quiet: bool = False
    #: ``--account-dir``: genesis accounts (fresh ledger only)
    account_dirs: List[Path] = field(default_factory=list)


def load_account_dirs(dirs: List[Path]) -> Dict[Pubkey, Account]:
    """``--account-dir``: every ``*.json`` in solana-test-validator's format."""
    import base64 as _b64

    out: Dict[Pubkey, Account] = {}
    for d in dirs:
        for f in sorted(Path(d).glob("*.json")):
            try:
                doc = json.loads(f.read_text())
                a = doc["account"]
                data = a.get("data") or ["", "base64"]
                if not (isinstance(data, list) and len(data) == 2 and data[1] == "base64"):
                    raise ValueError("data must be [base64, \"base64\"]")
                out[Pubkey.from_string(doc["pubkey"])] = Account(
                    int(a["lamports"]), _b64.b64decode(data[0]), Pubkey.from_string(a["owner"]),
                    bool(a.get("executable", False)), int(a.get("rentEpoch", 0)))
            except (OSError, ValueError, KeyError, TypeError) as e:
                raise ValueError(f"--account-dir: {f}: {e}") from None
    return out


def repo_deploy_dir() -> Optional[Path]:
    for parent in [Path.cwd(), *Path(__file__).resolve().parents]:
        if (parent / "Anchor.toml").is_file() or ((parent / "pyproject.toml").is_file() and (parent / "idl").is_dir()):
            return parent / "target" / "deploy"
    return None


def genesis_programs(root: Path) -> Dict[str, Pubkey]:
    """``[[test.genesis]]`` of ``Anchor.toml`` (programs that are not ours,
    loaded at their cluster address, as ``anchor test`` does): resolved
    ``.so`` path -> address."""
    import tomllib

    anchor = root / "Anchor.toml"
    if not anchor.is_file():
        return {}
    try:
        entries = tomllib.loads(anchor.read_text()).get("test", {}).get("genesis", [])
    except tomllib.TOMLDecodeError as e:
        log.warning("ignoring [[test.genesis]] of %s: %s", anchor, e)
        return {}
    return {str((root / g["program"]).resolve()): Pubkey.from_string(g["address"]) for g in entries
            if isinstance(g, dict) and "program" in g and "address" in g}


def workspace_programs(deploy: Optional[Path]) -> List[ProgramSpec]:
    """Every ``target/deploy/<name>.so``, at the address of
    ``<name>-keypair.json``, else its ``[[test.genesis]]`` entry in
    ``Anchor.toml`` (SPL Governance at its mainnet address), else the IDL's
    ``address``."""
    if deploy is None or not deploy.is_dir():
        return []
    genesis = genesis_programs(deploy.parent.parent)
    out = []
    for so in sorted(deploy.glob("*.so")):
        kp = so.with_name(f"{so.stem}-keypair.json")
        idl = deploy.parent.parent / "idl" / f"{so.stem}.json"
        address: Optional[Pubkey] = None
        if kp.is_file():
            address = Keypair.from_bytes(bytes(json.loads(kp.read_text()))).pubkey()
        elif str(so.resolve()) in genesis:
            address = genesis[str(so.resolve())]
        elif idl.is_file():
            address = Pubkey.from_string(json.loads(idl.read_text())["address"])
        if address is None:
            log.warning("skipping %s: no %s or IDL to give its address", so, kp.name)
            continue
        out.append(ProgramSpec(address, so))
    return out


def program_data_address(program_id: Pubkey) -> Pubkey:
    return Pubkey.find_program_address([bytes(program_id)], BPF_LOADER_UPGRADEABLE_ID)[0]


def deploy_upgradeable(chain: Chain, program_id: Pubkey, elf: bytes, authority: Optional[Pubkey]) -> Pubkey:
    """Program + ProgramData accounts as the upgradeable loader lays them out."""
    pdata = program_data_address(program_id)
    header = struct.pack("<IQ", 3, 0) + (b"\x01" + bytes(authority) if authority else b"\x00" + bytes(32))
    rent = chain.svm.minimum_balance_for_rent_exemption
    chain.set_account(pdata, Account(rent(len(header) + len(elf)), header + elf, BPF_LOADER_UPGRADEABLE_ID, False),
                      journal=False)
    prog = struct.pack("<I", 2) + bytes(pdata)
    chain.set_account(program_id, Account(rent(len(prog)), prog, BPF_LOADER_UPGRADEABLE_ID, True), journal=False)
    return pdata


class Localnet:
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.ledger = Ledger(opts.ledger, reset=opts.reset)
        fresh = self.ledger.fresh
        genesis = self.ledger.read_genesis()
        if genesis is None:
            genesis = {"genesis_hash": str(Hash(secrets.token_bytes(32))), "created": int(time.time())}
        self.identity = self.ledger.keypair("validator-keypair")
        self.faucet = self.ledger.keypair("faucet-keypair")
        if opts.upgrade_authority is not None:
            self.authority_path = opts.upgrade_authority.expanduser()
            self.authority = Keypair.from_bytes(bytes(json.loads(self.authority_path.read_text())))
        else:
            self.authority = self.ledger.keypair("upgrade-authority-keypair")
            self.authority_path = self.ledger.keypair_path("upgrade-authority-keypair")
        self.chain = Chain(Hash.from_string(genesis["genesis_hash"]), finality_depth=opts.finality_depth)
        replayed = 0
        for entry in self.ledger.entries():
            self.chain.replay(entry)
            replayed += 1
        self.replayed = replayed
        self.chain.journal = self.ledger
        if fresh:
            self.chain.set_account(self.faucet.pubkey(),
                                   Account(opts.faucet_sol * LAMPORTS_PER_SOL, b"", SYSTEM_PROGRAM_ID))
            if opts.account_dirs:
                self.chain.set_accounts(load_account_dirs(opts.account_dirs))
            self.ledger.write_genesis(genesis)
            self.chain.advance_to(1)  # slot 0 is genesis
        else:
            # Slot marks are journaled every SLOT_MARK_EVERY slots without fsync:
            # resume past any slot a client can have seen before the stop.
            self.chain.advance_to(self.chain.slot + SLOT_MARK_EVERY + 1)
        self.chain.index_existing([self.faucet.pubkey()])
        self.programs: List[Dict[str, str]] = []
        specs = {s.address: s for s in (workspace_programs(repo_deploy_dir()) if opts.workspace_programs else [])}
        specs.update({s.address: s for s in opts.programs})
        for spec in specs.values():
            auth = self.authority.pubkey() if spec.use_default_authority else spec.authority
            pdata = deploy_upgradeable(self.chain, spec.address, spec.path.read_bytes(), auth)
            self.programs.append({"address": str(spec.address), "path": str(spec.path), "programdata": str(pdata),
                                  "upgrade_authority": str(auth) if auth else "none"})
        self.chain.root_everything()  # what exists at start is at every commitment
        self.methods = RpcMethods(self.chain, NodeInfo(self.identity, self.faucet))
        self.pubsub = PubSub(self.chain, host=opts.host,
                             port=opts.ws_port if opts.ws_port is not None else (opts.rpc_port + 1 if opts.rpc_port else 0))
        table = self.methods.table()
        table["iopay_dropWebsockets"] = self._drop_websockets
        dispatcher = Dispatcher(table)
        table["iopay_rpcStats"] = lambda p: {"calls": dict(dispatcher.calls)}
        dispatcher.methods["iopay_rpcStats"] = table["iopay_rpcStats"]
        self.http = HttpServer(dispatcher.handle_payload, host=opts.host, port=opts.rpc_port)
        self._stop = asyncio.Event()
        self._ticker: Optional[asyncio.Task] = None

    def _drop_websockets(self, p: List[Any]) -> Dict[str, Any]:
        """``iopay_dropWebsockets``: ``[]`` or ``[{"refuseSeconds": N}]``."""
        from iopay.localnet.jsonrpc import RpcError

        cfg = p[0] if p else {}
        secs = cfg.get("refuseSeconds", 0) if isinstance(cfg, dict) else None
        if not isinstance(secs, (int, float)) or isinstance(secs, bool) or not 0 <= secs <= 3600:
            raise RpcError.invalid_params("Invalid params: refuseSeconds must be a number in [0, 3600]")
        return {"closed": self.pubsub.drop_all(secs), "refuseSeconds": secs}

    @property
    def rpc_url(self) -> str:
        return f"http://{self.opts.host}:{self.http.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.opts.host}:{self.pubsub.port}"

    def info(self) -> Dict[str, Any]:
        return {
            "rpc_url": self.rpc_url, "ws_url": self.ws_url, "rpc_port": self.http.port, "ws_port": self.pubsub.port,
            "pid": os.getpid(), "ledger": str(self.ledger.path.resolve()), "version": SOLANA_CORE_VERSION,
            "genesis_hash": str(self.chain.genesis_hash), "identity": str(self.identity.pubkey()),
            "faucet": str(self.faucet.pubkey()),
            "faucet_keypair": str(self.ledger.keypair_path("faucet-keypair").resolve()),
            "upgrade_authority": str(self.authority.pubkey()),
            "upgrade_authority_keypair": str(self.authority_path.resolve()),
            "programs": self.programs, "slot": self.chain.slot, "replayed_entries": self.replayed,
        }

    async def start(self) -> None:
        self.methods.node.rpc_addr = f"{self.opts.host}:{self.opts.rpc_port}"
        await self.http.start()
        await self.pubsub.start()
        self.methods.node.rpc_addr = f"{self.opts.host}:{self.http.port}"
        self._ticker = asyncio.create_task(self._tick())
        info = self.info()
        self.ledger.write_info(info)
        if not self.opts.quiet:
            self._banner(info)

    def _banner(self, info: Dict[str, Any]) -> None:
        lines = [
            f"Ledger location: {info['ledger']}" + (f" (replayed {self.replayed} journal entries)" if self.replayed else ""),
            f"Identity: {info['identity']}",
            f"Genesis Hash: {info['genesis_hash']}",
            f"Version: {info['version']} (iopay localnet over LiteSVM)",
            f"JSON RPC URL: {info['rpc_url']}",
            f"WebSocket PubSub URL: {info['ws_url']}",
            f"Faucet: {info['faucet']} ({info['faucet_keypair']})",
            f"Upgrade authority: {info['upgrade_authority']} ({info['upgrade_authority_keypair']})",
        ]
        lines += [f"Program: {p['address']} {p['path']}" for p in self.programs]
        print("\n".join(lines), flush=True)

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        st = self.opts.slot_time
        start_slot, t0 = self.chain.slot, loop.time()
        last_mark = self.chain.slot
        while True:
            try:
                target = start_slot + int((loop.time() - t0) / st)
                if target > self.chain.slot:
                    self.chain.advance_to(target)
                if self.chain.slot - last_mark >= SLOT_MARK_EVERY:
                    self.ledger.append({"t": "slot", "slot": self.chain.slot}, sync=False)
                    last_mark = self.chain.slot
                # The slot's transactions reach the disk once per slot, off the loop.
                await loop.run_in_executor(None, self.ledger.sync)
                nxt = t0 + (self.chain.slot - start_slot + 1) * st
                await asyncio.sleep(max(0.0, nxt - loop.time()))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the clock must keep running
                log.exception("slot ticker")
                await asyncio.sleep(st)

    def request_stop(self) -> None:
        self._stop.set()

    async def wait(self) -> None:
        await self._stop.wait()

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            try:
                await self._ticker
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        await self.http.close()
        await self.pubsub.close()
        self.ledger.append({"t": "slot", "slot": self.chain.slot})
        self.ledger.close()


async def serve(opts: Options) -> int:
    net = Localnet(opts)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, net.request_stop)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-Unix
            pass
    try:
        await net.start()
    except OSError as e:
        print(f"error: cannot listen: {e}", file=sys.stderr)
        net.ledger.close()
        return 1
    await net.wait()
    await net.stop()
    return 0
