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

from iopay.cli.common import (FEE_HEADROOM, Ctx, cli_error, common_options, emit, parse_pubkey, positive_int,
                              run)
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


class CreditsCtx(Ctx):
    """:class:`Ctx` (signer loaded first, ``--fee-payer``, the connection and
    its retrying sender) plus a :class:`CreditsClient` on the same connection
    that names errors and decodes events of iosd_credits, job_escrow and
    inference_pay. ``self.client`` is the CreditsClient; the escrow client of
    :class:`Ctx` stays as ``self.escrow``."""

    async def __aenter__(self) -> "CreditsCtx":
        await super().__aenter__()
        from iopay.core.chain import RpcChain
        from iopay.core.events import EventDecoder
        from iopay.core.idl import ProgramIdl
        from iopay.credits.client import CreditsClient

        self.escrow = self.client
        progs = [ProgramIdl.load(n) for n in ("iosd_credits", "inference_pay")]
        for prog in progs:
            self.sender.errors.add(prog.errors)
        esc = self.escrow.program
        chain = RpcChain(self.rpc, self.sender, [EventDecoder(p) for p in (progs[0], esc, progs[1])],
                         commitment=self.commitment)
        self.client = CreditsClient(chain, self.fee_payer or Keypair(), progs[0], esc, progs[1])
        return self

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
        who = (self.fee_payer or self.payer).pubkey()  # --fee-payer pays fees and rent
        have = await self.lamports(who)
        if have < need:
            raise cli_error(f"insufficient funds: {what} needs about {need / 1e9:.6f} SOL in {who}; nothing sent")


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
                                                      if k in ("amount", "balance", "job", "channel", "delegate"))
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


# -- inference channels paid with credits (``iopay channel ... --pay-with credits``) --------------

#: ``8 + Channel::INIT_SPACE`` of inference_pay: the rent the fee payer fronts at open (back at close).
CHANNEL_SPACE = 280


def _dollars(value: Any, what: str) -> int:
    """UI units of the 6-decimal stablecoin (= dollars) to micro-USD."""
    try:
        return parse_usd(str(value))
    except (ValueError, TypeError) as e:
        raise cli_error(f"--{what}: {e}")


async def _credit_channel(c: CreditsCtx, args: argparse.Namespace, owner: Pubkey) -> Any:
    """The channel of ``args.channel``, checked to be paid with ``owner``'s credits."""
    try:
        view = await c.client.channel(args.channel)
    except LookupError:
        raise cli_error(f"channel {args.channel} not found")
    except ValueError as e:
        raise cli_error(str(e))
    customer = c.client.user_addresses(view.mint, owner).customer
    if view.payer != customer:
        hint = "" if args.for_user else " (a delegate names the user with --for)"
        raise cli_error(f"channel {args.channel} is not paid with {owner}'s credits{hint}; nothing sent")
    return view


async def _delegate_room(c: CreditsCtx, mint: Pubkey, owner: Pubkey, amount: int, what: str) -> None:
    if owner == c.payer.pubkey():
        return
    d = await c.client.delegation(mint, owner, c.payer.pubkey())
    if d is None:
        raise cli_error(f"{c.payer.pubkey()} is not a delegate of {owner}; nothing sent")
    avail = d.available(await c.client.now())
    if amount > avail:
        raise cli_error(f"{what} {format_usd(amount)} USD is beyond the delegate's allowance left this period "
                        f"({format_usd(avail)}); nothing sent")


def _channel_out(view: Any, owner: Pubkey) -> Dict[str, Any]:
    return {"channel": str(view.address), "paid_with": "credits", "user": str(owner), "provider": str(view.provider),
            "mint": str(view.mint), "voucher_signer": str(view.voucher_signer), "open_slot": view.open_slot,
            "state": view.state,
            "deposit": view.deposit, "deposit_usd": format_usd(view.deposit), "settled": view.settled,
            "settled_usd": format_usd(view.settled), "expires_at": view.expires_at, "close_at": view.close_at,
            "refund_to": str(view.refund_to)}


async def channel_open(args: argparse.Namespace) -> Dict[str, Any]:
    """``iopay channel open --pay-with credits [--for USER]``: a channel paid
    from the signer's credits, or as a delegate of ``--for``; the signer's
    key signs the vouchers; refunds come back as the user's credits."""
    deposit = _dollars(args.deposit, "deposit")
    if deposit == 0:
        raise cli_error("deposit must be positive")
    async with CreditsCtx(args) as c:
        owner = args.for_user or c.payer.pubkey()
        cfg = await c.config(args.mint)
        if cfg.paused:
            raise cli_error("credits are paused: spending is refused; nothing sent")
        market = await c.client.market(args.mint)
        if market.paused:
            raise cli_error(f"market {market.address} is paused: new channels are refused; nothing sent")
        if await c.client.chain.get_account(c.client.pay.pool_address(args.mint)) is None:
            raise cli_error(f"no inference pool for mint {args.mint} (`iopay provider init-pool`); nothing sent")
        bal = await c.client.balance(args.mint, owner)
        if deposit > bal:
            raise cli_error(f"insufficient credits: the deposit is {format_usd(deposit)} USD, {owner} holds "
                            f"{format_usd(bal)}; nothing sent")
        await _delegate_room(c, args.mint, owner, deposit, "the deposit")
        await c.require_sol(FEE_HEADROOM + await c.rent(CHANNEL_SPACE), "channel open (rent, back at close)")
        opened = await c.client.open_channel_with_credits(c.payer, args.mint, args.provider, deposit, life=args.life,
                                                          dispute_window=args.dispute_window, user=owner,
                                                          channel_id=args.id)
        return {**_channel_out(opened.view, owner), "channel_id": opened.channel_id,
                "balance": bal - deposit, "balance_usd": format_usd(bal - deposit),
                "signature": str(opened.sent.signature)}


async def channel_top_up(args: argparse.Namespace) -> Dict[str, Any]:
    """``iopay channel top-up CHANNEL --pay-with credits [--for USER]``."""
    amount = _dollars(args.amount, "amount")
    if amount == 0 and args.extend == 0:
        raise cli_error("nothing to do: give --amount and/or --extend")
    async with CreditsCtx(args) as c:
        owner = args.for_user or c.payer.pubkey()
        view = await _credit_channel(c, args, owner)
        if view.state != "Open":
            raise cli_error(f"channel {args.channel} is closing: no top-up; nothing sent")
        cfg = await c.config(view.mint)
        if cfg.paused:
            raise cli_error("credits are paused: spending is refused; nothing sent")
        bal = await c.client.balance(view.mint, owner)
        if amount > bal:
            raise cli_error(f"insufficient credits: {format_usd(amount)} USD asked, {owner} holds {format_usd(bal)}; "
                            f"nothing sent")
        await _delegate_room(c, view.mint, owner, amount, "the top-up")
        sent = await c.client.top_up_channel(c.payer, view.mint, args.channel, amount, extend=args.extend, user=owner)
        view = await c.client.channel(args.channel)
        return {**_channel_out(view, owner), "added": amount, "added_usd": format_usd(amount),
                "signature": str(sent.signature)}


async def channel_close(args: argparse.Namespace) -> Dict[str, Any]:
    """``iopay channel close CHANNEL --pay-with credits [--for USER]``: the
    unilateral close after expiry (user or delegate)."""
    async with CreditsCtx(args) as c:
        owner = args.for_user or c.payer.pubkey()
        view = await _credit_channel(c, args, owner)
        if owner != c.payer.pubkey() and await c.client.delegation(view.mint, owner, c.payer.pubkey()) is None:
            raise cli_error(f"{c.payer.pubkey()} is not a delegate of {owner}; nothing sent")
        if view.state != "Open":
            raise cli_error(f"channel {args.channel} is already closing (until {view.close_at}); nothing sent")
        now = await c.client.now()
        if now < view.expires_at:
            raise cli_error(f"channel expires at {view.expires_at} (now {now}): close it cooperatively with the "
                            f"provider (`channel coop-close`) or wait; nothing sent")
        sent = await c.client.start_close_channel(c.payer, view.mint, args.channel, user=owner)
        view = await c.client.channel(args.channel)
        return {**_channel_out(view, owner), "signature": str(sent.signature)}


async def _closed(c: CreditsCtx, args: argparse.Namespace, view: Any, owner: Pubkey, sent: Any) -> Dict[str, Any]:
    ev = next((e for e in sent.events_named("ChannelRefunded")), None)
    # The event's figures are those of the close itself (a settlement may have landed since we read).
    refunded, settled = (ev.amount, ev.settled) if ev is not None else (0, view.settled)
    bal = await c.client.balance(view.mint, owner)
    return {"channel": str(view.address), "paid_with": "credits", "user": str(owner), "settled": settled,
            "settled_usd": format_usd(settled), "refunded": refunded, "refunded_usd": format_usd(refunded),
            "balance": bal, "balance_usd": format_usd(bal), "signature": str(sent.signature)}


async def channel_coop_close(args: argparse.Namespace, provider: Keypair) -> Dict[str, Any]:
    """``iopay channel coop-close CHANNEL --provider-keypair FILE --pay-with
    credits [--for USER]``: closes now, the rest back as credits."""
    async with CreditsCtx(args) as c:
        owner = args.for_user or c.payer.pubkey()
        view = await _credit_channel(c, args, owner)
        if owner != c.payer.pubkey() and await c.client.delegation(view.mint, owner, c.payer.pubkey()) is None:
            raise cli_error(f"{c.payer.pubkey()} is not a delegate of {owner}; nothing sent")
        if provider.pubkey() != view.provider:
            raise cli_error(f"{provider.pubkey()} is not the channel's provider ({view.provider}); nothing sent")
        sent = await c.client.coop_close_channel(c.payer, provider, view.mint, args.channel, user=owner)
        return await _closed(c, args, view, owner, sent)


async def channel_finish(args: argparse.Namespace) -> Dict[str, Any]:
    """``iopay channel finish CHANNEL --pay-with credits [--for USER]``: after
    the dispute window (anyone; USER is whose credits the rest goes to)."""
    async with CreditsCtx(args) as c:  # the signer pays the fee, whoever's channel it is
        owner = args.for_user or c.payer.pubkey()
        view = await _credit_channel(c, args, owner)
        if view.state != "Closing":
            raise cli_error("channel is not closing (run `iopay channel close` after expiry); nothing sent")
        now = await c.client.now()
        if now < view.close_at:
            raise cli_error(f"dispute window open until {view.close_at} (now {now}); nothing sent")
        sent = await c.client.finish_close_channel(view.mint, owner, args.channel)
        return await _closed(c, args, view, owner, sent)
