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
quit|cancel|close|show|list`` and ``keeper run``; :mod:`iopay.cli.credits`:
``credits buy|balance|redeem|delegate|revoke|history`` and ``job open --pay-with credits``; they check what they can
(keypair, market paused, funds, signer's role, job state) before sending and
send nothing when a check fails. ``localnet`` runs the local validator.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Dict, Optional, Sequence

from iopay.cli.common import CliError, Parser, add_global_options, emit_output, program_of, resolve_url


# -- commands -----------------------------------------------------------------

def idl_type(t: Any) -> str:
    """An Anchor IDL type as Rust spells it (``Vec<WorkerTerms>``), never a dict repr."""
    if isinstance(t, str):
        return t
    if isinstance(t, dict):
        if "vec" in t:
            return f"Vec<{idl_type(t['vec'])}>"
        if "option" in t:
            return f"Option<{idl_type(t['option'])}>"
        if "array" in t:
            inner, n = t["array"]
            return f"[{idl_type(inner)}; {n}]"
        if "defined" in t:
            d = t["defined"]
            return d.get("name", str(d)) if isinstance(d, dict) else str(d)
    return str(t)


def cmd_idl(args: argparse.Namespace) -> int:
    prog = program_of(args)
    data = {
        "name": prog.name,
        "program_id": str(prog.program_id),
        "spec": prog.raw["metadata"].get("spec"),
        "instructions": [
            {"name": ix["name"], "args": [f"{a['name']}: {idl_type(a['type'])}" for a in ix["args"]],
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
    try:
        code = int(args.code.strip(), 0)
    except ValueError:
        raise CliError(f"invalid error code {args.code!r}: a number, decimal (6003) or hex (0x1773)")
    name = prog.errors.name_of(code)
    if name is None:
        raise CliError(f"unknown error code {code} for {prog.name}")
    msg = prog.errors.codes[code][1]
    data = {"code": code, "hex": hex(code), "name": name, "msg": msg}
    emit_output(args, data, lambda: f"{code} ({hex(code)}) {name}" + (f": {msg}" if msg else ""))
    return 0


def cmd_localnet(args: argparse.Namespace) -> int:
    if args.demo_world:
        from iopay.cli.demo_world import run_with_world

        return run_with_world(args)
    from iopay.localnet.cli import run

    return run(args)


def cmd_moved(args: argparse.Namespace) -> int:
    raise CliError(f"`iopay {args.command}` is now `iopay {args.moved}` (see `iopay {args.moved} --help`)")


def build_parser() -> argparse.ArgumentParser:
    from iopay import __version__

    p = Parser(prog="iopay", description="iopay: settlement for GPU compute jobs on Solana")
    p.add_argument("--version", action="version", version=f"iopay {__version__}")
    add_global_options(p, top=True)
    p.add_argument("--idl", help="IDL name or path (default: job_escrow)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("idl", help="show the program interface from the committed IDL")
    s.set_defaults(func=cmd_idl)

    s = sub.add_parser("error", help="name a program error code (decimal or 0x hex)")
    s.add_argument("code", help="error code, e.g. 6003 or 0x1773")
    s.set_defaults(func=cmd_error)

    from iopay.cli import token, wallet

    wallet.add_parsers(sub)  # keygen, address, balance, airdrop, transfer, warp
    token.add_parser(sub)

    from iopay.localnet.cli import add_arguments as add_localnet_arguments

    s = sub.add_parser("localnet", help="run the local validator: Solana JSON-RPC + websockets over LiteSVM")
    add_localnet_arguments(s)
    s.add_argument("--demo-world", action="store_true",
                   help="start with a ready test world: an IO stand-in mint, a market, a funded customer, workers "
                        "and a keeper, keypairs in LEDGER/demo-world/ (printed once ready)")
    s.set_defaults(func=cmd_localnet)

    from iopay.cli.escrow import add_parsers

    add_parsers(sub)  # market, job, keeper (iopay.cli.escrow)
    from iopay.cli import credits

    credits.add_parser(sub)
    from iopay.cli import governance

    governance.add_parser(sub)  # gov (SPL Governance vote helper)
    from iopay.cli.rewards import add_parser as add_rewards_parser

    add_rewards_parser(sub)  # rewards compute|show|publish|claim|status|clawback
    from iopay.cli.inference import add_parsers as add_inference_parsers

    add_inference_parsers(sub)  # provider, channel (iopay.cli.inference)
    for name, moved in [("open-job", "job open"), ("settle", "job settle"), ("cancel", "job cancel")]:
        s = sub.add_parser(name, help=f"moved: use `iopay {moved}`")
        s.set_defaults(func=cmd_moved, moved=moved)
    _finish_help(p)
    return p


#: help of arguments that are the same everywhere (a command's own help wins)
COMMON_HELP: Dict[str, str] = {
    "mint": "mint of the market (its token)",
    "job": "job address (as printed by `iopay job open` or `iopay job list`)",
    "treasury": "token account of the market's mint receiving the protocol fees",
    "fee_bps": "protocol fee in basis points of the pay",
    "max_workers": "most workers one job may list",
    "max_hours": "most hours one job may book",
    "new_authority": "wallet that becomes the market authority",
    "price": "price in units of 10^expo USD (Pyth semantics)",
    "conf": "confidence interval, same units as --price",
    "expo": "decimal exponent of --price and --conf",
    "hours": "hours to add for every active worker",
    "customer": "customer wallet",
    "state": "which jobs",
    "realm": "realm name (SPL Governance)",
    "proposal": "proposal address",
    "choice": "your vote",
    "min_weight_to_create_governance": "governing tokens needed to create a governance",
    "min_weight_to_propose": "governing tokens needed to create a proposal",
    "max_staleness": "oldest acceptable price, in seconds",
    "max_conf_bps": "widest acceptable confidence interval, in basis points of the price",
    "epoch": "reward epoch number",
    "wallet": "worker wallet",
    "tree": "Merkle tree file of the epoch's rewards",
    "distributor": "Merkle distributor address",
}


def _finish_help(parser: argparse.ArgumentParser) -> None:
    """Every option has help and states its default (as the Solana CLI does)."""
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for p in a.choices.values():
                _finish_help(p)
            continue
        if isinstance(a, (argparse._HelpAction, argparse._VersionAction)):
            continue
        if not a.help:
            a.help = COMMON_HELP.get(a.dest)
        if a.help and a.option_strings and a.default not in (None, False, argparse.SUPPRESS, []) \
                and "default" not in a.help.lower():
            a.help += f" (default: {a.default})"


def main(argv: Optional[Sequence[str]] = None, *, parser: Optional[argparse.ArgumentParser] = None) -> int:
    """``iopay ARGV``; ``parser`` reuses a :func:`build_parser` (tests run many commands)."""
    import os

    from iopay.cli import common

    parser = parser or build_parser()
    args = parser.parse_args(argv)
    common._current_args[:] = [args]
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
    except Exception as e:  # noqa: BLE001 - a bug: one line unless IOPAY_DEBUG asks for the traceback
        if os.environ.get("IOPAY_DEBUG"):
            raise
        print(f"error: internal error: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''} "
              f"(a bug; set IOPAY_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1
