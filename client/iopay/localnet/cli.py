"""Command line of the local validator (``python -m iopay.localnet`` and
``iopay localnet``). Light imports only: ``iopay --help`` loads this."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import List, Optional, Sequence


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ledger", type=Path, default=Path("test-ledger"), metavar="DIR",
                   help="ledger directory: state kept across restarts (default: test-ledger)")
    p.add_argument("--reset", action="store_true", help="delete the ledger and start from genesis")
    p.add_argument("--rpc-port", type=int, default=8899, metavar="PORT",
                   help="JSON-RPC port on 127.0.0.1 (default 8899; 0 = any free port)")
    p.add_argument("--ws-port", type=int, default=None, metavar="PORT",
                   help="websocket PubSub port (default: RPC port + 1; 0 = any free port)")
    p.add_argument("--bpf-program", nargs=2, action="append", default=[], metavar=("ADDRESS", "FILE"),
                   help="load FILE at ADDRESS, deployed upgradeable with the upgrade authority (repeatable)")
    p.add_argument("--upgradeable-program", nargs=3, action="append", default=[],
                   metavar=("ADDRESS", "FILE", "AUTHORITY"),
                   help="like --bpf-program with an explicit upgrade AUTHORITY: pubkey, keypair file or 'none'")
    p.add_argument("--upgrade-authority", type=Path, default=None, metavar="KEYPAIR",
                   help="upgrade authority keypair of the loaded programs "
                        "(default: LEDGER/upgrade-authority-keypair.json, created on first start)")
    p.add_argument("--no-workspace-programs", action="store_true",
                   help="do not load target/deploy/*.so (loaded by default at their keypair/IDL address)")
    p.add_argument("--account-dir", type=Path, action="append", default=[], metavar="DIR",
                   help="load every DIR/*.json account (solana-test-validator's --account-dir format: "
                        "{\"pubkey\", \"account\": {lamports, data: [base64, \"base64\"], owner, executable, "
                        "rentEpoch}}) at genesis (a fresh ledger); repeatable")
    p.add_argument("--faucet-sol", type=int, default=1_000_000, metavar="SOL",
                   help="faucet balance at genesis (default 1000000)")
    p.add_argument("--slot-time", type=int, default=400, metavar="MS", help="slot duration (default 400 ms)")
    p.add_argument("--finality-depth", type=int, default=32, metavar="SLOTS",
                   help="slots until a transaction is finalized (default 32)")
    p.add_argument("-q", "--quiet", action="store_true", help="no startup banner")
    p.add_argument("--log-level", default="WARNING", help="Python log level on stderr (default WARNING)")


def _pubkey_or_keypair(value: str) -> Optional[object]:
    import json

    from solders.keypair import Keypair
    from solders.pubkey import Pubkey

    if value.lower() == "none":
        return None
    path = Path(value).expanduser()
    if path.is_file():
        return Keypair.from_bytes(bytes(json.loads(path.read_text()))).pubkey()
    return Pubkey.from_string(value)


def options_from_args(args: argparse.Namespace) -> "object":
    from solders.pubkey import Pubkey

    from iopay.localnet.server import Options, ProgramSpec

    programs: List[ProgramSpec] = []
    for address, file in args.bpf_program:
        programs.append(ProgramSpec(Pubkey.from_string(address), Path(file)))
    for address, file, auth in args.upgradeable_program:
        programs.append(ProgramSpec(Pubkey.from_string(address), Path(file), _pubkey_or_keypair(auth),  # type: ignore[arg-type]
                                    use_default_authority=False))
    for spec in programs:
        if not spec.path.is_file():
            raise SystemExit(f"error: program file not found: {spec.path}")
    for d in args.account_dir:
        if not d.is_dir():
            raise SystemExit(f"error: --account-dir: not a directory: {d}")
    if args.slot_time < 10:
        raise SystemExit("error: --slot-time must be at least 10 ms")
    return Options(
        ledger=args.ledger, reset=args.reset, rpc_port=args.rpc_port, ws_port=args.ws_port,
        programs=programs, workspace_programs=not args.no_workspace_programs,
        upgrade_authority=args.upgrade_authority, faucet_sol=args.faucet_sol,
        slot_time=args.slot_time / 1000.0, finality_depth=max(1, args.finality_depth), quiet=args.quiet,
        account_dirs=list(args.account_dir),
    )


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.WARNING),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from iopay.localnet.ledger import LedgerError
    from iopay.localnet.server import serve

    try:
        opts = options_from_args(args)
        return asyncio.run(serve(opts))  # type: ignore[arg-type]
    except LedgerError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m iopay.localnet",
                                description="Local Solana validator: JSON-RPC and websockets over LiteSVM")
    add_arguments(p)
    return run(p.parse_args(argv))
