"""``iopay token create-mint|create-account|mint|balance|accounts|transfer``:
classic SPL Token as ``spl-token`` has it, amounts in UI units with the
mint's decimals (``2.5``) or base units (``--base-units``, or the ``base``
suffix: ``2500000base``). Thin over :mod:`iopay.core.wallet`.

Commands that create something print its address alone on stdout (so
``MINT=$(iopay token create-mint)`` works) and the details on stderr;
``--output json`` prints everything on stdout."""

from __future__ import annotations

import argparse
from typing import Any, Dict

from iopay.cli.common import Ctx, cli_error, common_options, emit, emit_output, load_keypair, parse_pubkey, \
    progress, run
from iopay.core.units import format_amount, parse_amount


def _amount(args: argparse.Namespace, decimals: int) -> int:
    try:
        return parse_amount(args.amount, decimals, base_units=args.base_units)
    except ValueError as e:
        raise cli_error(str(e))


def _created(args: argparse.Namespace, data: Dict[str, Any], address: str, details: str) -> None:
    """The address alone on stdout (display), the details on stderr."""
    if args.output == "json":
        emit_output(args, data, lambda: "")
    else:
        progress(details)
        print(address)


def cmd_create_mint(args: argparse.Namespace) -> int:
    mint_kp = load_keypair(args.mint_keypair) if args.mint_keypair else None

    async def go() -> int:
        from iopay.core.wallet import create_mint

        async with Ctx(args) as c:
            if mint_kp is not None and await c.chain.get_account(mint_kp.pubkey()) is not None:
                raise cli_error(f"{mint_kp.pubkey()} (from {args.mint_keypair}) already exists; nothing sent")
            mint, sent = await create_mint(c.chain, c.client.payer, c.payer.pubkey(), args.decimals, mint=mint_kp)
            data = {"mint": str(mint), "decimals": args.decimals, "mint_authority": str(c.payer.pubkey()),
                    "signature": str(sent.signature)}
            _created(args, data, str(mint), f"Created mint {mint}: {args.decimals} decimals, mint authority "
                                            f"{c.payer.pubkey()} (signature {sent.signature})")
        return 0

    return run(go)


def cmd_create_account(args: argparse.Namespace) -> int:
    async def go() -> int:
        from iopay.core.wallet import create_associated_account

        async with Ctx(args) as c:
            owner = args.owner or c.payer.pubkey()
            ata, sent = await create_associated_account(c.chain, c.client.payer, owner, args.mint)
            data = {"account": str(ata), "mint": str(args.mint), "owner": str(owner), "created": sent is not None,
                    "signature": str(sent.signature) if sent else None}
            _created(args, data, str(ata),
                     f"Created token account {ata} of {owner} for mint {args.mint} (signature {sent.signature})"
                     if sent else f"Token account {ata} of {owner} for mint {args.mint} already exists; nothing sent")
        return 0

    return run(go)


def cmd_mint(args: argparse.Namespace) -> int:
    async def go() -> int:
        from iopay.core.wallet import get_mint, mint_tokens

        async with Ctx(args) as c:
            m = await get_mint(c.chain, args.mint)
            amount = _amount(args, m.decimals)
            to = args.recipient or c.payer.pubkey()
            dest, sent = await mint_tokens(c.chain, c.client.payer, c.payer, args.mint, amount, to)
            ui = format_amount(amount, m.decimals)
            emit(args, {"mint": str(args.mint), "recipient": str(to), "account": str(dest), "amount": amount,
                        "ui_amount": ui, "decimals": m.decimals, "signature": str(sent.signature)},
                 [f"Minted {ui} tokens of {args.mint} to {dest}", f"Signature: {sent.signature}"])
        return 0

    return run(go)


def cmd_balance(args: argparse.Namespace) -> int:
    async def go() -> int:
        from iopay.core.wallet import token_balance

        async with Ctx(args, signer=args.owner is None) as c:
            owner = args.owner or c.payer.pubkey()
            ata, amount, dec = await token_balance(c.chain, args.mint, owner)
            ui = format_amount(amount, dec)
            emit_output(args, {"mint": str(args.mint), "owner": str(owner), "account": str(ata), "amount": amount,
                               "ui_amount": ui, "decimals": dec}, lambda: ui)
        return 0

    return run(go)


def cmd_accounts(args: argparse.Namespace) -> int:
    async def go() -> int:
        from iopay.core.wallet import token_accounts

        async with Ctx(args, signer=args.owner is None) as c:
            owner = args.owner or c.payer.pubkey()
            rows = await token_accounts(c.chain, owner)
            data = {"owner": str(owner), "accounts": [
                {"account": str(h.address), "mint": str(h.mint), "amount": h.amount,
                 "ui_amount": format_amount(h.amount, h.decimals), "decimals": h.decimals,
                 "associated": h.associated} for h in rows]}
            lines = [f"{'Token':<44}  {'Balance':>20}  Account"]
            lines += [f"{str(h.mint):<44}  {format_amount(h.amount, h.decimals):>20}  {h.address}"
                      + ("" if h.associated else "  (not associated)") for h in rows]
            if not rows:
                lines = [f"{owner} has no token accounts"]
            emit_output(args, data, lambda: "\n".join(lines))
        return 0

    return run(go)


def cmd_transfer(args: argparse.Namespace) -> int:
    async def go() -> int:
        from iopay.core.wallet import get_mint, transfer_tokens

        async with Ctx(args) as c:
            m = await get_mint(c.chain, args.mint)
            amount = _amount(args, m.decimals)
            dest, sent = await transfer_tokens(c.chain, c.client.payer, c.payer, args.mint, amount, args.recipient)
            ui = format_amount(amount, m.decimals)
            emit(args, {"mint": str(args.mint), "from": str(c.payer.pubkey()), "recipient": str(args.recipient),
                        "account": str(dest), "amount": amount, "ui_amount": ui, "decimals": m.decimals,
                        "signature": str(sent.signature)},
                 [f"Transferred {ui} tokens of {args.mint} to {dest}", f"Signature: {sent.signature}"])
        return 0

    return run(go)


def decimals_arg(s: str) -> int:
    try:
        v = int(s, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {s!r}")
    if not 0 <= v <= 19:
        raise argparse.ArgumentTypeError(f"decimals must be in 0..19, got {s}")
    return v


def add_parser(sub: Any) -> None:
    common = common_options()
    p = sub.add_parser("token", help="SPL Token: mints, token accounts, minting, balances, transfers (as spl-token)")
    ts = p.add_subparsers(dest="token_command", metavar="SUBCOMMAND", required=True)

    s = ts.add_parser("create-mint", parents=[common],
                      help="create a mint; the --keypair wallet is its mint authority; prints the mint")
    s.add_argument("--decimals", type=decimals_arg, default=9, help="decimal places of the token (default: 9)")
    s.add_argument("--mint-keypair", metavar="FILE",
                   help="keypair file giving the mint's address (default: a new random address)")
    s.set_defaults(func=cmd_create_mint)

    s = ts.add_parser("create-account", parents=[common],
                      help="create the associated token account of OWNER for MINT; prints it")
    s.add_argument("mint", type=parse_pubkey, metavar="MINT", help="the token's mint")
    s.add_argument("--owner", type=parse_pubkey, metavar="PUBKEY", help="wallet owning it (default: --keypair)")
    s.set_defaults(func=cmd_create_account)

    amount_help = "tokens in UI units with the mint's decimals, e.g. 2.5 (or base units: 2500000base)"
    s = ts.add_parser("mint", parents=[common], help="mint tokens (the --keypair wallet is the mint authority)")
    s.add_argument("mint", type=parse_pubkey, metavar="MINT", help="the token's mint")
    s.add_argument("amount", metavar="AMOUNT", help=amount_help)
    s.add_argument("recipient", type=parse_pubkey, nargs="?", metavar="RECIPIENT",
                   help="wallet (gets its associated token account) or token account (default: --keypair wallet)")
    s.add_argument("--base-units", action="store_true", help="AMOUNT is in base units (default: UI units)")
    s.set_defaults(func=cmd_mint)

    s = ts.add_parser("balance", parents=[common], help="token balance of OWNER's associated account, in UI units")
    s.add_argument("mint", type=parse_pubkey, metavar="MINT", help="the token's mint")
    s.add_argument("--owner", type=parse_pubkey, metavar="PUBKEY", help="wallet (default: --keypair)")
    s.set_defaults(func=cmd_balance)

    s = ts.add_parser("accounts", parents=[common], help="every token account of OWNER with its balance")
    s.add_argument("--owner", type=parse_pubkey, metavar="PUBKEY", help="wallet (default: --keypair)")
    s.set_defaults(func=cmd_accounts)

    s = ts.add_parser("transfer", parents=[common],
                      help="send tokens from the --keypair wallet's associated account")
    s.add_argument("mint", type=parse_pubkey, metavar="MINT", help="the token's mint")
    s.add_argument("amount", metavar="AMOUNT", help=amount_help)
    s.add_argument("recipient", type=parse_pubkey, metavar="RECIPIENT",
                   help="wallet (gets its associated token account, created if missing) or token account")
    s.add_argument("--base-units", action="store_true", help="AMOUNT is in base units (default: UI units)")
    s.set_defaults(func=cmd_transfer)
