"""``iopay`` command line, following the Solana CLI's habits:

* ``-u/--url`` takes a URL or a moniker (``localhost``/``l``, ``devnet``/``d``,
  ``testnet``/``t``, ``mainnet-beta``/``m``); the default is ``json_rpc_url``
  from ``~/.config/solana/cli/config.yml`` when present, else localhost;
* ``-k/--keypair`` defaults to ``~/.config/solana/id.json`` (read only by
  commands that sign);
* ``--output json|display``; errors are one line on stderr and a non-zero
  exit status.

Offline: ``pda`` (derive job-escrow addresses), ``idl`` (the committed IDL's
program, instructions and errors), ``error`` (name an error code). Over
JSON-RPC (:mod:`iopay.commands`): ``market init|show|pause|unpause|update|
set-authority|init-price-feed|set-price``, ``job open|accept|settle|extend|end|
quit|cancel|close|show|list`` and ``keeper run``; they check what they can
(keypair, market paused, funds, signer's role, job state) before sending and
send nothing when a check fails. ``localnet`` runs the local validator.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from solders.keypair import Keypair
from solders.pubkey import Pubkey

MONIKERS: Dict[str, str] = {
    "localhost": "http://localhost:8899",
    "l": "http://localhost:8899",
    "devnet": "https://api.devnet.solana.com",
    "d": "https://api.devnet.solana.com",
    "testnet": "https://api.testnet.solana.com",
    "t": "https://api.testnet.solana.com",
    "mainnet-beta": "https://api.mainnet-beta.solana.com",
    "m": "https://api.mainnet-beta.solana.com",
}
DEFAULT_KEYPAIR = "~/.config/solana/id.json"
SOLANA_CLI_CONFIG = "~/.config/solana/cli/config.yml"


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 1."""


def resolve_url(value: Optional[str]) -> str:
    """Moniker or URL -> URL. ``None`` -> Solana CLI config, else localhost."""
    if value is None:
        return default_url()
    v = value.strip()
    if v in MONIKERS:
        return MONIKERS[v]
    if v.startswith(("http://", "https://")):
        return v
    raise CliError(
        f"invalid --url {value!r}: use a URL or one of {', '.join(k for k in MONIKERS if len(k) > 1)}"
    )


def websocket_url(http_url: str) -> str:
    """The websocket URL the Solana CLI would use (port + 1 for explicit ports)."""
    from urllib.parse import urlsplit, urlunsplit

    u = urlsplit(http_url)
    scheme = "wss" if u.scheme == "https" else "ws"
    netloc = u.netloc
    if u.port:
        netloc = f"{u.hostname}:{u.port + 1}"
    return urlunsplit((scheme, netloc, u.path, u.query, u.fragment))


def default_url(config_path: str = SOLANA_CLI_CONFIG) -> str:
    p = Path(os.path.expanduser(config_path))
    try:
        for line in p.read_text().splitlines():
            if line.startswith("json_rpc_url:"):
                url = line.split(":", 1)[1].strip().strip("'\"")
                if url:
                    return url
    except OSError:
        pass
    return MONIKERS["localhost"]


def load_keypair(path: str) -> Keypair:
    p = Path(os.path.expanduser(path))
    try:
        raw = json.loads(p.read_text())
    except FileNotFoundError:
        raise CliError(f"keypair file not found: {p} (create one with `solana-keygen new` or pass --keypair)")
    except (OSError, ValueError) as e:
        raise CliError(f"cannot read keypair {p}: {e}")
    if not (isinstance(raw, list) and len(raw) == 64 and all(isinstance(b, int) and 0 <= b < 256 for b in raw)):
        raise CliError(f"invalid keypair file {p}: expected a JSON array of 64 bytes")
    return Keypair.from_bytes(bytes(raw))


def parse_pubkey(s: str) -> Pubkey:
    try:
        return Pubkey.from_string(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid public key: {s!r}")


def emit(args: argparse.Namespace, data: Dict[str, Any], display: Callable[[], str]) -> None:
    if args.output == "json":
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        print(display())


# -- commands -----------------------------------------------------------------

def _program(args: argparse.Namespace) -> Any:
    from iopay.idl import ProgramIdl

    try:
        return ProgramIdl.load(args.idl or "job_escrow")
    except FileNotFoundError as e:
        raise CliError(str(e))


def cmd_pda(args: argparse.Namespace) -> int:
    from iopay import pda

    prog = _program(args)
    pid = prog.program_id
    market, mbump = pda.market_pda(pid, args.mint)
    data: Dict[str, Any] = {"program_id": str(pid), "market": str(market), "market_bump": mbump}
    if args.customer is not None and args.job_id is not None:
        job, jbump = pda.job_pda(pid, market, args.customer, args.job_id)
        vault, vbump = pda.vault_pda(pid, job)
        data.update(job=str(job), job_bump=jbump, vault=str(vault), vault_bump=vbump)
    data["event_authority"] = str(pda.event_authority_pda(pid))
    emit(args, data, lambda: "\n".join(f"{k:<16} {v}" for k, v in data.items()))
    return 0


def cmd_idl(args: argparse.Namespace) -> int:
    prog = _program(args)
    data = {
        "name": prog.name,
        "program_id": str(prog.program_id),
        "spec": prog.raw["metadata"].get("spec"),
        "instructions": [
            {"name": ix["name"], "args": [f"{a['name']}: {a['type']}" for a in ix["args"]],
             "accounts": [a["name"] for a in prog.instruction_accounts(ix["name"])]}
            for ix in prog.raw["instructions"]
        ],
        "errors": {str(e["code"]): e["name"] for e in prog.raw.get("errors", [])},
    }

    def show() -> str:
        lines = [f"{prog.name} {prog.program_id} (IDL spec {data['spec']})"]
        for ix in data["instructions"]:
            lines.append(f"  {ix['name']}({', '.join(ix['args'])})")
        return "\n".join(lines)

    emit(args, data, show)
    return 0


def cmd_error(args: argparse.Namespace) -> int:
    prog = _program(args)
    code = int(args.code, 0)
    name = prog.errors.name_of(code)
    if name is None:
        raise CliError(f"unknown error code {code} for {prog.name}")
    msg = prog.errors.codes[code][1]
    data = {"code": code, "hex": hex(code), "name": name, "msg": msg}
    emit(args, data, lambda: f"{code} ({hex(code)}) {name}" + (f": {msg}" if msg else ""))
    return 0


def cmd_localnet(args: argparse.Namespace) -> int:
    from iopay.localnet.cli import run

    return run(args)


def cmd_moved(args: argparse.Namespace) -> int:
    raise CliError(f"`iopay {args.command}` is now `iopay {args.moved}` (see `iopay {args.moved} --help`)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="iopay", description="iopay: settlement for GPU compute jobs on Solana")
    p.add_argument("-u", "--url", help="RPC URL or moniker: localhost|l, devnet|d, testnet|t, mainnet-beta|m "
                                       "(default: Solana CLI config, else localhost)")
    p.add_argument("-k", "--keypair", default=DEFAULT_KEYPAIR, help=f"signer keypair file (default {DEFAULT_KEYPAIR})")
    p.add_argument("--output", choices=["json", "display"], default="display", help="output format")
    p.add_argument("--idl", help="IDL name or path (default: job_escrow)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("pda", help="derive job-escrow addresses (offline)")
    s.add_argument("--mint", type=parse_pubkey, required=True)
    s.add_argument("--customer", type=parse_pubkey)
    s.add_argument("--job-id", type=int)
    s.set_defaults(func=cmd_pda)

    s = sub.add_parser("idl", help="show the program interface from the committed IDL")
    s.set_defaults(func=cmd_idl)

    s = sub.add_parser("error", help="name a program error code (decimal or 0x hex)")
    s.add_argument("code")
    s.set_defaults(func=cmd_error)

    from iopay.localnet.cli import add_arguments as add_localnet_arguments

    s = sub.add_parser("localnet", help="run the local validator: Solana JSON-RPC + websockets over LiteSVM")
    add_localnet_arguments(s)
    s.set_defaults(func=cmd_localnet)

    from iopay.commands import add_parsers

    add_parsers(sub)  # market, job, keeper (iopay.commands)
    for name, moved in [("open-job", "job open"), ("settle", "job settle"), ("cancel", "job cancel")]:
        s = sub.add_parser(name, help=f"moved: use `iopay {moved}`")
        s.set_defaults(func=cmd_moved, moved=moved)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.url = resolve_url(args.url)
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        return int(args.func(args) or 0)
    except CliError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    # `python -m iopay.cli`: run the importable module, not this __main__
    # copy, so CliError raised by iopay.commands is the class caught here.
    from iopay.cli import main as _main

    sys.exit(_main())
