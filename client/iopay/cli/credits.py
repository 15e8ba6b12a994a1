"""``iopay credits buy|balance|redeem|delegate|revoke|history`` and the
credits side of ``iopay job open --pay-with credits``.

Amounts: ``--usd 12.50`` (dollars, up to 6 decimals) or ``--amount N``
(micro-USD base units = base units of the reserve stablecoin). Every command
checks what it can before sending (reserve exists and is not paused, cap,
funds, credit balance, delegate allowance) and sends nothing when a check
fails.
"""

from __future__ import annotations

import argparse
from typing import Any, Dict, List, Optional

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.cli.common import (FEE_HEADROOM, cli_error, commitment_of, common_options, emit, load_keypair,
                              parse_pubkey, positive_int, run, send_config)
from iopay.credits.program import DAY, format_usd, parse_usd

PERIODS = {"hour": 3_600, "day": DAY, "week": 7 * DAY}


def history_limit(text: str) -> int:
    """getSignaturesForAddress returns at most 1,000 signatures a call."""
    n = positive_int(text)
    if n > 1000:
        raise argparse.ArgumentTypeError(f"at most 1000: {text!r}")
    return n


def usd_arg(s: str) -> int:
    try:
        return parse_usd(s)
    except (ValueError, TypeError) as e:
        raise argparse.ArgumentTypeError(str(e))


def period_arg(s: str) -> int:
    if s in PERIODS:
        return PERIODS[s]
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"period must be hour, day, week or seconds, got {s!r}")
    if not 60 <= v <= 366 * DAY:
        raise argparse.ArgumentTypeError("period must be between 60 seconds and 366 days")
    return v


def amount_of(args: argparse.Namespace, usd: str = "usd", base: str = "amount") -> int:
    v = getattr(args, usd, None)
    n = getattr(args, base, None)
    if (v is None) == (n is None):
        raise cli_error(f"give exactly one of --{usd.replace('_', '-')} and --{base.replace('_', '-')}")
    amount = v if v is not None else n
    if amount <= 0:
        raise cli_error("the amount must be positive")
    return amount


class CreditsCtx:
    """The signer (loaded first), a JSON-RPC :class:`CreditsClient` that
    names errors and decodes events of both programs."""

    def __init__(self, args: argparse.Namespace, *, signer: bool = True) -> None:
        self.args = args
        self.signer: Optional[Keypair] = load_keypair(args.keypair) if signer else None
        self.client: Any = None

    @property
    def payer(self) -> Keypair:
        assert self.signer is not None
        return self.signer

    async def __aenter__(self) -> "CreditsCtx":
        from iopay.credits.client import CreditsClient

        fee_payer = getattr(self.args, "fee_payer", None)
        payer = load_keypair(fee_payer) if fee_payer else self.signer
        self.client = CreditsClient.connect(self.args.url, payer or Keypair(), send_config=send_config(self.args),
                                            commitment=commitment_of(self.args))
        try:
            await self.client.chain.sender.call("get_slot")
        except Exception as e:  # noqa: BLE001 - one line
            await self.client.close()
            raise cli_error(f"cannot reach the RPC node at {self.args.url}: {str(e).splitlines()[0][:200]}")
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.client.close()

    async def config(self, mint: Pubkey) -> Any:
        try:
            return await self.client.config(mint)
        except LookupError as e:
            raise cli_error(str(e))

    async def token_balance(self, account: Pubkey) -> Optional[int]:
        from iopay.core import spl

        acc = await self.client.chain.get_account(account)
        if acc is None:
            return None
        return spl.TokenAccount.decode(acc[1]).amount

    async def require_sol(self, need: int, what: str) -> None:
        have = await self.client.chain.get_lamports(self.payer.pubkey())
        if have < need:
            raise cli_error(f"insufficient funds: {what} needs about {need / 1e9:.6f} SOL in {self.payer.pubkey()}; "
                            f"nothing sent")


def _account_dict(view: Any, user: Pubkey) -> Dict[str, Any]:
    if view is None:
        return {"user": str(user), "balance": 0, "balance_usd": format_usd(0), "exists": False}
    return {"user": str(user), "credit_account": str(view.address), "exists": True, "balance": view.balance,
            "balance_usd": format_usd(view.balance), "deposited": view.deposited, "redeemed": view.redeemed,
            "spent": view.spent, "refunded": view.refunded, "in_flight": view.in_flight,
            "customer": str(view.customer), "refund_account": str(view.refund_account)}


def cmd_buy(args: argparse.Namespace) -> int:
    async def go() -> int:
        from iopay.core import spl

        amount = amount_of(args)
        async with CreditsCtx(args) as c:
            cfg = await c.config(args.mint)
            if cfg.paused:
                raise cli_error("credits are paused: buying is refused; nothing sent")
            if amount > cfg.room:
                raise cli_error(f"buying {format_usd(amount)} USD would exceed the cap (room {format_usd(cfg.room)}); "
                                f"nothing sent")
            tok = args.from_account or spl.associated_token_address(c.payer.pubkey(), args.mint)
            have = await c.token_balance(tok)
            if have is None or have < amount:
                raise cli_error(f"insufficient funds: {tok} holds {format_usd(have or 0)} of the stablecoin, "
                                f"buying needs {format_usd(amount)}; nothing sent")
            await c.require_sol(FEE_HEADROOM, "buy")
            sent = await c.client.buy(c.payer, args.mint, amount, user_token=tok)
            bal = await c.client.balance(args.mint, c.payer.pubkey())
            emit(args, {"bought": amount, "bought_usd": format_usd(amount), "balance": bal,
                        "balance_usd": format_usd(bal), "signature": str(sent.signature)})
        return 0

    return run(go)


def cmd_balance(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with CreditsCtx(args, signer=args.user is None) as c:
            user = args.user or c.payer.pubkey()
            view = await c.client.account(args.mint, user)
            emit(args, _account_dict(view, user))
        return 0

    return run(go)


def cmd_redeem(args: argparse.Namespace) -> int:
    async def go() -> int:
        from iopay.core import spl

        async with CreditsCtx(args) as c:
            await c.config(args.mint)
            bal = await c.client.balance(args.mint, c.payer.pubkey())
            amount = bal if args.all else amount_of(args)
            if amount <= 0:
                raise cli_error("nothing to redeem; nothing sent")
            if amount > bal:
                raise cli_error(f"insufficient credits: {format_usd(bal)} held, {format_usd(amount)} asked; "
                                f"nothing sent")
            tok = args.to_account or spl.associated_token_address(c.payer.pubkey(), args.mint)
            if await c.token_balance(tok) is None:
                raise cli_error(f"token account {tok} does not exist; create it first; nothing sent")
            sent = await c.client.redeem(c.payer, args.mint, amount, user_token=tok)
            emit(args, {"redeemed": amount, "redeemed_usd": format_usd(amount), "balance": bal - amount,
                        "balance_usd": format_usd(bal - amount), "signature": str(sent.signature)})
        return 0

    return run(go)


def cmd_delegate(args: argparse.Namespace) -> int:
    async def go() -> int:
        allowance = amount_of(args, "allowance_usd", "allowance")
        async with CreditsCtx(args) as c:
            if args.delegate == c.payer.pubkey():
                raise cli_error("you cannot be your own delegate; nothing sent")
            if await c.client.account(args.mint, c.payer.pubkey()) is None:
                raise cli_error("no credit account yet: buy credits first; nothing sent")
            sent = await c.client.set_delegate(c.payer, args.mint, args.delegate, allowance, args.period)
            emit(args, {"delegate": str(args.delegate), "allowance": allowance,
                        "allowance_usd": format_usd(allowance), "period_secs": args.period,
                        "signature": str(sent.signature)})
        return 0

    return run(go)


def cmd_revoke(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with CreditsCtx(args) as c:
            if await c.client.delegation(args.mint, c.payer.pubkey(), args.delegate) is None:
                raise cli_error(f"{args.delegate} is not a delegate of your credits; nothing sent")
            sent = await c.client.revoke_delegate(c.payer, args.mint, args.delegate)
            emit(args, {"revoked": str(args.delegate), "signature": str(sent.signature)})
        return 0

    return run(go)


def cmd_history(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with CreditsCtx(args, signer=args.user is None) as c:
            user = args.user or c.payer.pubkey()
            events = await c.client.history(args.mint, user, limit=args.limit)
            rows: List[Dict[str, Any]] = []
            for e in events:
                row: Dict[str, Any] = {"event": e.name}
                for k, v in e.data.items():
                    if not k.startswith("_"):
                        row[k] = str(v) if isinstance(v, Pubkey) else v
                rows.append(row)
            lines = [f"{r['event']:<20} " + " ".join(f"{k}={v}" for k, v in r.items()
                                                      if k in ("amount", "balance", "job", "delegate"))
                     for r in rows] or ["no credits activity"]
            emit(args, {"user": str(user), "events": rows}, lines)
        return 0

    return run(go)


async def open_job_with_credits(args: argparse.Namespace) -> Dict[str, Any]:
    """``iopay job open --pay-with credits [--for USER]``: the signer pays
    from its own credits, or as a delegate of ``--for``."""
    async with CreditsCtx(args) as c:
        owner = args.for_user or c.payer.pubkey()
        cfg = await c.config(args.mint)
        if cfg.paused:
            raise cli_error("credits are paused: spending is refused; nothing sent")
        market = await c.client.market(args.mint)
        if market.paused:
            raise cli_error(f"market {market.address} is paused: new jobs are refused; nothing sent")
        if args.usd:
            raise cli_error("--usd is for oracle-priced token jobs; with credits the rates are already micro-USD")
        cost = await c.client.quote_job(args.mint, [r for _, r in args.worker], args.hours)
        view = await c.client.account(args.mint, owner)
        bal = 0 if view is None else view.balance
        if cost > bal:
            raise cli_error(f"insufficient credits: the job costs {format_usd(cost)} USD, {owner} holds "
                            f"{format_usd(bal)}; nothing sent")
        if owner != c.payer.pubkey():
            d = await c.client.delegation(args.mint, owner, c.payer.pubkey())
            if d is None:
                raise cli_error(f"{c.payer.pubkey()} is not a delegate of {owner}; nothing sent")
            avail = d.available(await c.client.now())
            if cost > avail:
                raise cli_error(f"the job costs {format_usd(cost)} USD, beyond the delegate's allowance left this "
                                f"period ({format_usd(avail)}); nothing sent")
        opened = await c.client.open_job_with_credits(c.payer, args.mint, args.worker, args.hours, user=owner,
                                                      job_id=args.job_id, accept_window=args.accept_window)
        return {"job": str(opened.job), "job_id": opened.job_id, "vault": str(opened.vault), "paid_with": "credits",
                "user": str(owner), "workers": len(args.worker), "hours": args.hours, "credits": opened.amount,
                "credits_usd": format_usd(opened.amount), "signature": str(opened.sent.signature)}


def add_parser(sub: Any) -> None:
    common = common_options()
    p = sub.add_parser("credits", help="IOSD credits: buy, balance, redeem, delegate, revoke, history")
    cs = p.add_subparsers(dest="credits_command", metavar="SUBCOMMAND", required=True)

    def with_mint(name: str, helptext: str) -> argparse.ArgumentParser:
        s = cs.add_parser(name, parents=[common], help=helptext)
        s.add_argument("--mint", type=parse_pubkey, required=True, help="the reserve's USD stablecoin mint")
        return s

    s = with_mint("buy", "deposit stablecoin, receive as many credits")
    s.add_argument("--usd", type=usd_arg, help="dollars, e.g. 12.50")
    s.add_argument("--amount", type=positive_int, help="micro-USD base units")
    s.add_argument("--from", dest="from_account", type=parse_pubkey, help="stablecoin account (default: your ATA)")
    s.set_defaults(func=cmd_buy)

    s = with_mint("balance", "show a credit balance")
    s.add_argument("--user", type=parse_pubkey, help="whose balance (default: the --keypair signer)")
    s.set_defaults(func=cmd_balance)

    s = with_mint("redeem", "burn credits, receive as much stablecoin")
    s.add_argument("--usd", type=usd_arg, help="dollars, e.g. 12.50")
    s.add_argument("--amount", type=positive_int, help="micro-USD base units")
    s.add_argument("--all", action="store_true", help="the whole balance")
    s.add_argument("--to", dest="to_account", type=parse_pubkey, help="stablecoin account (default: your ATA)")
    s.set_defaults(func=cmd_redeem)

    s = with_mint("delegate", "let a key spend your credits up to an allowance per period")
    s.add_argument("delegate", type=parse_pubkey, metavar="DELEGATE", help="the key allowed to spend")
    s.add_argument("--allowance-usd", type=usd_arg, help="dollars per period, e.g. 500")
    s.add_argument("--allowance", type=positive_int, help="micro-USD per period")
    s.add_argument("--period", type=period_arg, default=DAY, help="hour, day (default), week or seconds")
    s.set_defaults(func=cmd_delegate)

    s = with_mint("revoke", "revoke a delegate at once")
    s.add_argument("delegate", type=parse_pubkey, metavar="DELEGATE", help="the delegate to revoke")
    s.set_defaults(func=cmd_revoke)

    s = with_mint("history", "credits events of an account (newest first)")
    s.add_argument("--user", type=parse_pubkey, help="whose history (default: the --keypair signer)")
    s.add_argument("--limit", type=history_limit, default=50, help="newest transactions to read, 1..1000 (default 50)")
    s.set_defaults(func=cmd_history)
