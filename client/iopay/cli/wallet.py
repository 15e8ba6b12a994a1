"""Wallet commands, as ``solana-keygen`` and ``solana`` have them:
``keygen new|pubkey``, ``address``, ``balance``, ``airdrop``, ``transfer``,
and ``warp`` (the local validator's clock). Thin over
:mod:`iopay.core.wallet`; amounts in SOL (``1.5``) or lamports
(``1500000000base``)."""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import urlsplit

from iopay.cli.common import Ctx, CliError, cli_error, common_options, emit, emit_output, load_keypair, parse_pubkey, \
    progress, run
from iopay.core.units import format_sol, parse_sol

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")


def _dry_run(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "dry_run", False))


def cmd_keygen_new(args: argparse.Namespace) -> int:
    from iopay.core.wallet import write_keypair

    try:
        kp = write_keypair(args.outfile, force=args.force)
    except (FileExistsError, FileNotFoundError, IsADirectoryError, PermissionError) as e:
        raise CliError(str(e) if not isinstance(e, PermissionError) else f"cannot write {args.outfile}: permission denied")
    except OSError as e:
        raise CliError(f"cannot write {args.outfile}: {e.strerror or e}")
    data = {"pubkey": str(kp.pubkey()), "outfile": args.outfile}
    emit_output(args, data, lambda: f"Wrote new keypair to {args.outfile}\npubkey: {kp.pubkey()}")
    return 0


def cmd_keygen_pubkey(args: argparse.Namespace) -> int:
    kp = load_keypair(args.keypair_file)
    emit_output(args, {"pubkey": str(kp.pubkey())}, lambda: str(kp.pubkey()))
    return 0


def cmd_address(args: argparse.Namespace) -> int:
    kp = load_keypair(args.keypair)
    emit_output(args, {"address": str(kp.pubkey())}, lambda: str(kp.pubkey()))
    return 0


def cmd_balance(args: argparse.Namespace) -> int:
    async def go() -> int:
        from iopay.core.wallet import sol_balance

        async with Ctx(args, signer=args.address is None) as c:
            who = args.address or c.payer.pubkey()
            lamports = await sol_balance(c.chain, who)
            emit_output(args, {"address": str(who), "lamports": lamports, "sol": format_sol(lamports)[:-4]},
                        lambda: format_sol(lamports))
        return 0

    return run(go)


def _sol_amount(text: str, what: str) -> int:
    try:
        return parse_sol(text)
    except ValueError as e:
        raise cli_error(f"{what}: {e}")


def cmd_airdrop(args: argparse.Namespace) -> int:
    lamports = _sol_amount(args.amount, "airdrop")
    if "mainnet" in args.url:
        raise cli_error(f"{args.url} has no faucet: airdrops exist on devnet, testnet and local validators")

    async def go() -> int:
        from iopay.core.wallet import airdrop, sol_balance

        async with Ctx(args, signer=args.address is None) as c:
            who = args.address or c.payer.pubkey()
            if _dry_run(args):
                emit_output(args, {"dry_run": True, "sent": False, "address": str(who), "lamports": lamports},
                            lambda: f"dry run: would request {format_sol(lamports)} for {who}; nothing sent")
                return 0
            progress(f"Requesting airdrop of {format_sol(lamports)} to {who}")
            try:
                await airdrop(c.chain, who, lamports)
            except Exception as e:  # noqa: BLE001 - the node's refusal, in one line
                from iopay.cli.common import describe_error

                msg = describe_error(e)
                raise cli_error(msg or f"airdrop refused by {c.url}: {_rpc_message(e)}")
            balance = await sol_balance(c.chain, who)
            emit_output(args, {"address": str(who), "lamports": lamports, "sol": format_sol(lamports)[:-4],
                               "balance_lamports": balance, "balance_sol": format_sol(balance)[:-4]},
                        lambda: format_sol(balance))
        return 0

    return run(go)


def _rpc_message(e: BaseException) -> str:
    a0 = e.args[0] if e.args else None
    msg = getattr(a0, "message", None) or (a0.get("message") if isinstance(a0, dict) else None)
    return str(msg or e or type(e).__name__).splitlines()[0]


def cmd_transfer(args: argparse.Namespace) -> int:
    lamports = _sol_amount(args.amount, "transfer")

    async def go() -> int:
        from iopay.core.wallet import transfer_sol

        async with Ctx(args) as c:
            if args.to == c.payer.pubkey():
                raise cli_error("the recipient is the sender; nothing sent")
            # A validator refuses a transfer that leaves a new account below the
            # rent-exempt minimum (InsufficientFundsForRent): say so before sending.
            if await c.chain.get_lamports(args.to) == 0:
                minimum = await c.chain.rent_exempt(0)
                if lamports < minimum:
                    raise cli_error(f"{args.to} has no SOL yet: a first transfer must be at least "
                                    f"{format_sol(minimum)} (the rent-exempt minimum); nothing sent")
            sent = await transfer_sol(c.chain, c.client.payer, c.payer, args.to, lamports)
            emit(args, {"from": str(c.payer.pubkey()), "to": str(args.to), "lamports": lamports,
                        "sol": format_sol(lamports)[:-4], "signature": str(sent.signature)},
                 [f"Transferred {format_sol(lamports)} to {args.to}", f"Signature: {sent.signature}"])
        return 0

    return run(go)


def is_local_url(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in LOCAL_HOSTS or host.startswith("127.")


def cmd_warp(args: argparse.Namespace) -> int:
    if not is_local_url(args.url):
        raise cli_error(f"warp moves the clock of a local validator (`iopay localnet`) only; {args.url} is not local")
    if args.seconds <= 0:
        raise cli_error(f"SECONDS must be positive, got {args.seconds}")

    async def go() -> int:
        from iopay.core.units import duration, iso_utc

        async with Ctx(args, signer=False) as c:
            before = await c.client.now()
            if _dry_run(args):
                emit_output(args, {"dry_run": True, "unix_timestamp": before + args.seconds},
                            lambda: f"dry run: would move the clock {duration(args.seconds)} forward; nothing done")
                return 0
            ts = await c.chain.warp_time(args.seconds)
            emit_output(args, {"seconds": args.seconds, "unix_timestamp": ts, "time": iso_utc(ts),
                               "previous_unix_timestamp": before},
                        lambda: f"clock moved {duration(args.seconds)} forward: now {iso_utc(ts)}")
        return 0

    return run(go)


def warp_seconds(s: str) -> int:
    try:
        v = int(s, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of seconds: {s!r}")
    if not 0 < v <= 10 * 365 * 86400:
        raise argparse.ArgumentTypeError(f"SECONDS must be in 1..{10 * 365 * 86400} (10 years), got {s}")
    return v


def add_parsers(sub: Any) -> None:
    common = common_options()
    p = sub.add_parser("keygen", help="create and read keypair files (as solana-keygen)")
    ks = p.add_subparsers(dest="keygen_command", metavar="SUBCOMMAND", required=True)
    s = ks.add_parser("new", parents=[common], help="write a new keypair file (JSON array of 64 bytes, mode 0600)")
    s.add_argument("-o", "--outfile", required=True, metavar="FILE", help="keypair file to write")
    s.add_argument("--force", action="store_true", help="overwrite FILE if it exists (default: refuse)")
    s.set_defaults(func=cmd_keygen_new)
    s = ks.add_parser("pubkey", parents=[common], help="print the public key of a keypair file")
    s.add_argument("keypair_file", metavar="FILE", help="keypair file")
    s.set_defaults(func=cmd_keygen_pubkey)

    s = sub.add_parser("address", parents=[common], help="print the public key of the --keypair wallet")
    s.set_defaults(func=cmd_address)

    s = sub.add_parser("balance", parents=[common], help="SOL balance of ADDRESS (default: the --keypair wallet)")
    s.add_argument("address", nargs="?", type=parse_pubkey, metavar="ADDRESS",
                   help="account to look up (default: the --keypair wallet)")
    s.set_defaults(func=cmd_balance)

    s = sub.add_parser("airdrop", parents=[common], help="request SOL from the cluster's faucet (test clusters)")
    s.add_argument("amount", metavar="AMOUNT", help="SOL, e.g. 1.5 (or lamports: 1500000000base)")
    s.add_argument("address", nargs="?", type=parse_pubkey, metavar="ADDRESS",
                   help="recipient (default: the --keypair wallet)")
    s.set_defaults(func=cmd_airdrop)

    s = sub.add_parser("transfer", parents=[common], help="send SOL from the --keypair wallet")
    s.add_argument("to", type=parse_pubkey, metavar="TO", help="recipient address")
    s.add_argument("amount", metavar="AMOUNT", help="SOL, e.g. 0.5 (or lamports: 500000000base)")
    s.set_defaults(func=cmd_transfer)

    s = sub.add_parser("warp", parents=[common], help="move a local validator's clock forward (iopay localnet only)")
    s.add_argument("seconds", type=warp_seconds, metavar="SECONDS", help="seconds to move forward, e.g. 3600")
    s.set_defaults(func=cmd_warp)
