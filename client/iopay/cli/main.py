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
JSON-RPC (:mod:`iopay.cli.escrow`): ``market init|show|pause|unpause|update|
set-authority|init-price-feed|set-price``, ``job open|accept|settle|extend|end|
quit|cancel|close|show|list`` and ``keeper run``; they check what they can
(keypair, market paused, funds, signer's role, job state) before sending and
send nothing when a check fails. ``localnet`` runs the local validator.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Dict, Optional, Sequence

from iopay.cli.common import DEFAULT_KEYPAIR, CliError, emit_output, program_of, resolve_url


# -- commands -----------------------------------------------------------------

def cmd_idl(args: argparse.Namespace) -> int:
    prog = program_of(args)
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

    emit_output(args, data, show)
    return 0


def cmd_error(args: argparse.Namespace) -> int:
    prog = program_of(args)
    code = int(args.code, 0)
    name = prog.errors.name_of(code)
    if name is None:
        raise CliError(f"unknown error code {code} for {prog.name}")
    msg = prog.errors.codes[code][1]
    data = {"code": code, "hex": hex(code), "name": name, "msg": msg}
    emit_output(args, data, lambda: f"{code} ({hex(code)}) {name}" + (f": {msg}" if msg else ""))
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

    s = sub.add_parser("idl", help="show the program interface from the committed IDL")
    s.set_defaults(func=cmd_idl)

    s = sub.add_parser("error", help="name a program error code (decimal or 0x hex)")
    s.add_argument("code")
    s.set_defaults(func=cmd_error)

    from iopay.localnet.cli import add_arguments as add_localnet_arguments

    s = sub.add_parser("localnet", help="run the local validator: Solana JSON-RPC + websockets over LiteSVM")
    add_localnet_arguments(s)
    s.set_defaults(func=cmd_localnet)

    from iopay.cli.escrow import add_parsers

    add_parsers(sub)  # market, job, keeper (iopay.cli.escrow)
    from iopay.cli import governance

    governance.add_parser(sub)  # gov (SPL Governance vote helper)
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
