"""inference_pay's subcommands: ``provider`` (init-pool, list-model, serve,
settle, sweep-fees, channels) and ``channel`` (open, top-up, close, finish,
coop-close, show). Amounts are in UI units of the mint (``--deposit 12.5``),
converted with its decimals; ``--output json`` everywhere; errors are one line.
``--pay-with credits [--for USER]`` on open, top-up, close, coop-close and
finish runs the channel from IOSD credits (:mod:`iopay.cli.credits`): the
deposit comes from the user's credits, every refund goes back to them.

``iopay provider serve`` runs the HTTP 402 example endpoint
(:mod:`iopay.inference.http`) with the provider's durable voucher store;
``iopay provider settle`` runs the settler (:mod:`iopay.inference.settler`)
over the same store, on a schedule (``--interval``) or once (``--once``),
settling channels whose unsettled amount reaches ``--threshold``.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from decimal import Decimal, InvalidOperation
from typing import Any, Dict

from solders.pubkey import Pubkey

from iopay.cli.common import (Ctx, cli_error, common_options, emit, int_in, nonneg_int, parse_pubkey, positive_int,
                              progress, run, seconds_in, ui_amount)
from iopay.inference.program import MAX_CHANNEL_LIFE, MAX_DISPUTE_WINDOW, MIN_DISPUTE_WINDOW


def ui_arg(s: str) -> Decimal:
    try:
        d = Decimal(s)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an amount: {s!r}")
    if not d.is_finite():  # before any comparison: NaN < 0 raises InvalidOperation
        raise argparse.ArgumentTypeError(f"not a finite amount: {s!r}")
    if d < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {s!r}")
    return d


def to_base(ui: Decimal, decimals: int) -> int:
    base = ui * (Decimal(10) ** decimals)
    if base != base.to_integral_value():
        raise cli_error(f"{ui} has more than {decimals} decimals")
    return int(base)


async def _client(c: Ctx) -> Any:
    from iopay.inference.client import InferenceClient

    # the global options (--dry-run, --commitment, --with-compute-unit-price, --fee-payer) hold here too
    return InferenceClient.connect(c.url, c.fee_payer or c.payer, send_config=c.send_config(),
                                   commitment=c.commitment)


def _channel_dict(v: Any, decimals: int) -> Dict[str, Any]:
    return {"channel": str(v.address), "payer": str(v.payer), "provider": str(v.provider), "mint": str(v.mint),
            "voucher_signer": str(v.voucher_signer), "open_slot": v.open_slot, "state": v.state,
            "deposit": v.deposit, "settled": v.settled, "nonce": v.nonce, "remaining": v.remaining,
            "deposit_ui": ui_amount(v.deposit, decimals), "settled_ui": ui_amount(v.settled, decimals),
            "fee_bps": v.fee_bps, "expires_at": v.expires_at, "close_at": v.close_at}


# -- provider ----------------------------------------------------------------------

def cmd_init_pool(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with Ctx(args) as c:
            async with await _client(c) as ic:
                sent = await ic.init_pool(args.mint)
                emit(args, {"pool": str(ic.pay.pool_address(args.mint)), "vault": str(ic.pay.vault_address(args.mint)),
                            "signature": str(sent.signature)})
        return 0
    return run(go)


def cmd_list_model(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with Ctx(args) as c:
            dec = await c.client.mint_decimals(args.mint)
            price = to_base(args.price, dec)
            if price == 0:
                raise cli_error("price must be at least one base unit")
            unit = "PerThousandTokens" if args.per_1k_tokens else "PerInference"
            async with await _client(c) as ic:
                sent = await ic.create_listing(c.payer, args.mint, args.model_id, price, unit)
                emit(args, {"listing": str(ic.pay.listing_address(c.payer.pubkey(), args.mint, args.model_id)),
                            "price": price, "price_ui": ui_amount(price, dec), "unit": unit,
                            "signature": str(sent.signature)})
        return 0
    return run(go)


def cmd_channels(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with Ctx(args, signer=args.provider is None) as c:
            from solders.keypair import Keypair

            from iopay.inference.client import InferenceClient

            who = args.provider or c.payer.pubkey()
            async with InferenceClient.connect(c.url, c.fee_payer or Keypair(), send_config=c.send_config(),
                                              commitment=c.commitment) as ic:
                out = [_channel_dict(v, await c.client.mint_decimals(v.mint)) for v in await ic.channels_of(who)]
                emit(args, {"provider": str(who), "channels": out},
                     [f"{d['channel']}  {d['state']:<8} settled {d['settled_ui']} / {d['deposit_ui']}" for d in out]
                     or ["no channels"])
        return 0
    return run(go)


def cmd_sweep(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with Ctx(args) as c:
            async with await _client(c) as ic:
                pool = await ic.pool(args.mint)
                if pool.fees_accrued == 0:
                    raise cli_error("no fees to sweep; nothing sent")
                sent = await ic.sweep_fees(args.mint)
                dec = await c.client.mint_decimals(args.mint)
                emit(args, {"swept": pool.fees_accrued, "swept_ui": ui_amount(pool.fees_accrued, dec),
                            "signature": str(sent.signature)})
        return 0
    return run(go)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


def cmd_serve(args: argparse.Namespace) -> int:
    async def go() -> int:
        from iopay.escrow.keeper.logs import JsonLog
        from iopay.inference.http import ModelOffer, PaidInferenceServer
        from iopay.inference.vouchers import VoucherStore, VoucherVerifier, info_from_view

        stop = asyncio.Event()
        _stop_on_signals(stop)
        log = JsonLog(sys.stderr)
        async with Ctx(args) as c:
            dec = await c.client.mint_decimals(args.mint)
            price = to_base(args.price, dec)
            async with await _client(c) as ic:
                store = VoucherStore(args.store)
                verifier = VoucherVerifier(ic.pay.program_id, c.payer.pubkey(), store)

                async def resolve(channel: Pubkey):
                    try:
                        return info_from_view(await ic.channel(channel))
                    except (LookupError, ValueError):
                        return None

                offer = ModelOffer(c.payer.pubkey(), args.mint, ic.pay.program_id, price,
                                   "PerThousandTokens" if args.per_1k_tokens else "PerInference",
                                   network=args.network)
                server = PaidInferenceServer(offer, verifier, host=args.host, port=args.port,
                                             require_payment=not args.no_payment, resolver=resolve)
                # Bind first: a wrong --host or a busy --port is one line before anything else runs.
                try:
                    port = await server.start()
                except OSError as e:
                    raise cli_error(f"cannot listen on {args.host}:{args.port}: {e.strerror or e}") from None
                watch = None
                try:
                    if args.discovery == "subscribe":
                        from iopay.inference.watch import ChannelWatch

                        def follow(address: Pubkey, view) -> None:
                            # The verifier keeps its own copy: it follows every change the watch sees
                            # (a top-up, a close started, a channel opened or gone) without an RPC call.
                            if view is None:
                                if address in verifier.channels:
                                    log.event("channel_gone", channel=str(address))
                                verifier.remove(address)
                                return
                            info = info_from_view(view)
                            old = verifier.channels.get(address)
                            if old is None or (old.deposit, old.expires_at, old.state) != \
                                    (info.deposit, info.expires_at, info.state):
                                log.event("channel_seen", channel=str(address), deposit=info.deposit,
                                          expires_at=info.expires_at, state=info.state)
                            verifier.update(info)

                        watch = ChannelWatch(ic.pay.program, c.payer.pubkey(), c.url, args.ws_url, log=log,
                                             commitment=c.commitment, on_change=follow)
                        if not await watch.start():
                            log.event("channel_watch_pending", level="warning", ws_url=watch.ws_url)
                    # Until the watch is up (or without one) the channels come from one getProgramAccounts.
                    known = len(watch.channels()) if watch is not None and watch.ready.is_set() \
                        else await ic.refresh_verifier(verifier)
                    log.event("serving", url=f"http://{args.host}:{port}/v1/infer", price=price, channels=known,
                              store=args.store, payment=not args.no_payment)
                    while not stop.is_set():
                        try:
                            await asyncio.wait_for(stop.wait(), args.refresh)
                        except asyncio.TimeoutError:
                            if watch is not None and watch.connected.is_set():
                                continue  # the watch keeps the verifier current
                            try:
                                await ic.refresh_verifier(verifier)
                            except Exception as e:  # noqa: BLE001 - keep serving on a failed refresh
                                log.event("refresh_failed", level="warning", error=repr(e))
                finally:
                    await server.stop()
                    if watch is not None:
                        await watch.stop()
                log.event("stopped", served=server.stats.served, earned=server.stats.earned,
                          rejected=server.stats.rejected, channel_reads=server.stats.channel_reads,
                          reads_refused=server.stats.reads_refused)
                store.close()
        return 0
    return run(go)


def cmd_settle(args: argparse.Namespace) -> int:
    async def go() -> int:
        from iopay.core import spl
        from iopay.escrow.keeper.logs import JsonLog
        from iopay.inference.settler import Settler
        from iopay.inference.vouchers import VoucherStore

        stop = asyncio.Event()
        if not args.once:
            _stop_on_signals(stop)
        async with Ctx(args) as c:
            dec = await c.client.mint_decimals(args.mint)
            async with await _client(c) as ic:
                token = args.token_account or spl.associated_token_address(c.payer.pubkey(), args.mint)
                log = JsonLog(sys.stderr, level=args.log_level)
                watch = None
                if not args.once and args.discovery == "subscribe":
                    from iopay.inference.watch import ChannelWatch

                    watch = ChannelWatch(ic.pay.program, c.payer.pubkey(), c.url, args.ws_url, log=log,
                                         commitment=c.commitment)
                settler = Settler(ic.chain, ic.pay, c.payer, token, args.mint, VoucherStore(args.store),
                                  batch_size=args.batch_size, threshold=to_base(args.threshold, dec),
                                  log=log, watch=watch)
                if args.once:
                    m = await settler.run_once(force=args.threshold == 0)
                    d = m.as_dict()
                    d["paid_ui"] = ui_amount(m.paid, dec)
                    emit(args, d)
                    return 0
                await settler.run(args.interval, stop)
                if args.output == "json":
                    emit(args, settler.metrics.as_dict())
        return 0
    return run(go)


# -- channel -----------------------------------------------------------------------

def _with_credits(args: argparse.Namespace, name: str, *extra: Any) -> Any:
    """Runs ``iopay.cli.credits.channel_<name>`` for ``--pay-with credits``
    (None otherwise); ``--for`` without it is an error."""
    if getattr(args, "pay_with", "tokens") != "credits":
        if getattr(args, "for_user", None) is not None:
            raise cli_error("--for needs --pay-with credits")
        return None
    from iopay.cli import credits

    async def go() -> int:
        emit(args, await getattr(credits, f"channel_{name}")(args, *extra))
        return 0
    return run(go)


def cmd_open(args: argparse.Namespace) -> int:
    rc = _with_credits(args, "open")
    if rc is not None:
        return rc

    async def go() -> int:
        async with Ctx(args) as c:
            dec = await c.client.mint_decimals(args.mint)
            deposit = to_base(args.deposit, dec)
            if deposit == 0:
                raise cli_error("deposit must be positive")
            from iopay.core import spl
            ptok = spl.associated_token_address(c.payer.pubkey(), args.mint)
            await c.require_tokens(ptok, c.payer.pubkey(), args.mint, deposit, dec, "channel open")
            async with await _client(c) as ic:
                opened = await ic.open_channel(c.payer, args.provider, args.mint, deposit, life=args.life,
                                               dispute_window=args.dispute_window, channel_id=args.id)
                d = _channel_dict(opened.view, dec)
                d.update(channel_id=opened.channel_id, signature=str(opened.sent.signature))
                emit(args, d)
        return 0
    return run(go)


def cmd_top_up(args: argparse.Namespace) -> int:
    rc = _with_credits(args, "top_up")
    if rc is not None:
        return rc

    async def go() -> int:
        async with Ctx(args) as c:
            async with await _client(c) as ic:
                v = await _channel(ic, args.channel)
                dec = await c.client.mint_decimals(v.mint)
                amount = to_base(args.amount, dec)
                if amount == 0 and args.extend == 0:
                    raise cli_error("nothing to do: give --amount and/or --extend")
                sent = await ic.top_up(c.payer, args.channel, amount, args.extend)
                v = await ic.channel(args.channel)
                emit(args, {**_channel_dict(v, dec), "signature": str(sent.signature)})
        return 0
    return run(go)


async def _channel(ic: Any, address: Pubkey) -> Any:
    try:
        return await ic.channel(address)
    except LookupError:
        raise cli_error(f"channel {address} not found")
    except ValueError as e:
        raise cli_error(str(e))


def cmd_close(args: argparse.Namespace) -> int:
    rc = _with_credits(args, "close")
    if rc is not None:
        return rc

    async def go() -> int:
        async with Ctx(args) as c:
            async with await _client(c) as ic:
                v = await _channel(ic, args.channel)
                now = await ic.now()
                if v.state == "Open" and now < v.expires_at:
                    raise cli_error(f"channel expires at {v.expires_at} (now {now}): close it cooperatively with the "
                                    f"provider or wait; nothing sent")
                sent = await ic.start_close(c.payer, args.channel)
                v = await ic.channel(args.channel)
                emit(args, {"channel": str(v.address), "close_at": v.close_at, "signature": str(sent.signature)})
        return 0
    return run(go)


def cmd_coop_close(args: argparse.Namespace) -> int:
    from iopay.cli.common import load_keypair

    provider = load_keypair(args.provider_keypair)
    rc = _with_credits(args, "coop_close", provider)
    if rc is not None:
        return rc

    async def go() -> int:
        async with Ctx(args) as c:
            async with await _client(c) as ic:
                v = await _channel(ic, args.channel)
                if v.payer != c.payer.pubkey():
                    raise cli_error(f"the channel's payer is {v.payer}, not {c.payer.pubkey()} (a channel paid with "
                                    f"credits closes with --pay-with credits); nothing sent")
                if v.provider != provider.pubkey():
                    raise cli_error(f"{provider.pubkey()} is not the channel's provider ({v.provider}); nothing sent")
                sent = await ic.coop_close(c.payer, provider, args.channel)
                dec = await c.client.mint_decimals(v.mint)
                emit(args, {"channel": str(v.address), "refund": v.remaining, "refund_ui": ui_amount(v.remaining, dec),
                            "signature": str(sent.signature)})
        return 0
    return run(go)


def cmd_finish(args: argparse.Namespace) -> int:
    rc = _with_credits(args, "finish")
    if rc is not None:
        return rc

    async def go() -> int:
        async with Ctx(args) as c:
            async with await _client(c) as ic:
                v = await _channel(ic, args.channel)
                if v.state != "Closing":
                    raise cli_error("channel is not closing (run `iopay channel close` after expiry); nothing sent")
                if await ic.now() < v.close_at:
                    raise cli_error(f"dispute window open until {v.close_at}; nothing sent")
                sent = await ic.finish_close(args.channel)
                dec = await c.client.mint_decimals(v.mint)
                emit(args, {"channel": str(v.address), "refund": v.remaining, "refund_ui": ui_amount(v.remaining, dec),
                            "signature": str(sent.signature)})
        return 0
    return run(go)


def cmd_show(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with Ctx(args, signer=False) as c:
            from solders.keypair import Keypair
            from iopay.inference.client import InferenceClient

            async with InferenceClient.connect(c.url, Keypair()) as ic:
                v = await _channel(ic, args.channel)
                emit(args, _channel_dict(v, await c.client.mint_decimals(v.mint)))
        return 0
    return run(go)


def credits_options(s: argparse.ArgumentParser, what: str) -> None:
    s.add_argument("--pay-with", choices=["tokens", "credits"], default="tokens",
                   help=f"tokens (default): the signer's token account; credits: {what}")
    s.add_argument("--for", dest="for_user", type=parse_pubkey, metavar="USER",
                   help="with --pay-with credits: USER's credits (the signer acts as its delegate; for finish, "
                        "whose credits get the rest)")


def add_parsers(sub: Any) -> None:
    common = common_options()
    p = sub.add_parser("provider", help="inference provider: pool, listings, the paid endpoint, the settler")
    ps = p.add_subparsers(dest="provider_command", metavar="SUBCOMMAND", required=True)
    s = ps.add_parser("init-pool", parents=[common], help="create the pooled vault of a mint (once per mint)")
    s.add_argument("--mint", type=parse_pubkey, required=True, help="the token mint (IO, IOSD, ...)")
    s.set_defaults(func=cmd_init_pool)
    s = ps.add_parser("list-model", parents=[common], help="list a model at a price (UI units)")
    s.add_argument("--mint", type=parse_pubkey, required=True, help="the token mint (IO, IOSD, ...)")
    s.add_argument("--model-id", type=nonneg_int, required=True, help="the model's id (u64) under this provider and mint")
    s.add_argument("--price", type=ui_arg, required=True, help="per inference, or per 1,000 tokens")
    s.add_argument("--per-1k-tokens", action="store_true", help="price per 1,000 tokens instead of per inference")
    s.set_defaults(func=cmd_list_model)
    s = ps.add_parser("channels", parents=[common], help="channels paying a provider")
    s.add_argument("--provider", type=parse_pubkey, default=None, help="default: the keypair's")
    s.set_defaults(func=cmd_channels)
    s = ps.add_parser("sweep-fees", parents=[common], help="move a pool's fees to the market treasury (anyone)")
    s.add_argument("--mint", type=parse_pubkey, required=True, help="the token mint (IO, IOSD, ...)")
    s.set_defaults(func=cmd_sweep)
    s = ps.add_parser("serve", parents=[common], help="the HTTP 402 example endpoint (model stand-in)")
    s.add_argument("--mint", type=parse_pubkey, required=True, help="the token mint (IO, IOSD, ...)")
    s.add_argument("--price", type=ui_arg, required=True, help="price in UI units (per inference, or per 1,000 tokens)")
    s.add_argument("--per-1k-tokens", action="store_true", help="price per 1,000 tokens instead of per inference")
    s.add_argument("--store", required=True, help="SQLite file of the best voucher per channel")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on")
    s.add_argument("--port", type=int_in(0, 65_535), default=8402, help="port to listen on (0: any free port)")
    s.add_argument("--network", default="solana-localnet", help="network name in the 402 payment requirements")
    s.add_argument("--refresh", type=seconds_in(0.1, 86_400), default=30.0,
                   help="seconds between channel refreshes (with --discovery subscribe: only while the websocket is down)")
    s.add_argument("--discovery", choices=["subscribe", "poll"], default="subscribe",
                   help="follow the provider's channels over websockets (one getProgramAccounts then "
                        "programSubscribe; default), or reread them all every --refresh seconds")
    s.add_argument("--ws-url", default=None,
                   help="websocket PubSub URL (default: from --url, port + 1, as the Solana CLI)")
    s.add_argument("--no-payment", action="store_true", help="serve without payment checks (benchmark baseline)")
    s.set_defaults(func=cmd_serve)
    s = ps.add_parser("settle", parents=[common], help="the settler: redeem the best vouchers in batches")
    s.add_argument("--mint", type=parse_pubkey, required=True, help="the token mint (IO, IOSD, ...)")
    s.add_argument("--store", required=True, help="SQLite file of the best voucher per channel")
    s.add_argument("--token-account", type=parse_pubkey, default=None, help="default: the provider's ATA")
    s.add_argument("--batch-size", type=positive_int, default=3, help="channels per settle transaction (3 fit in 1,232 bytes)")
    s.add_argument("--threshold", type=ui_arg, default=Decimal(0), help="settle a channel once this much is unsettled")
    s.add_argument("--interval", type=seconds_in(0.1, 86_400), default=60.0, help="seconds between settle rounds")
    s.add_argument("--once", action="store_true", help="one round, print its report, exit")
    s.add_argument("--discovery", choices=["subscribe", "poll"], default="subscribe",
                   help="read channels from one getProgramAccounts then programSubscribe over websockets "
                        "(default), or one getAccountInfo per channel every round")
    s.add_argument("--ws-url", default=None,
                   help="websocket PubSub URL (default: from --url, port + 1, as the Solana CLI)")
    s.add_argument("--log-level", choices=["debug", "info", "warning", "error"], default="info", help="JSON log level on stderr")
    s.set_defaults(func=cmd_settle)

    p = sub.add_parser("channel", help="payment channels to inference providers")
    cs = p.add_subparsers(dest="channel_command", metavar="SUBCOMMAND", required=True)
    s = cs.add_parser("open", parents=[common], help="open a channel with a deposit (UI units)")
    s.add_argument("--provider", type=parse_pubkey, required=True, help="the provider's wallet")
    s.add_argument("--mint", type=parse_pubkey, required=True, help="the token mint (IO, IOSD, ...)")
    s.add_argument("--deposit", type=ui_arg, required=True, help="amount to lock, in UI units of the mint")
    s.add_argument("--life", type=int_in(1, MAX_CHANNEL_LIFE, "seconds"), default=7 * 86_400,
                   help="seconds until expiry (at most 366 days)")
    s.add_argument("--dispute-window", type=int_in(MIN_DISPUTE_WINDOW, MAX_DISPUTE_WINDOW, "seconds"), default=3_600, help="seconds the provider has to settle after a unilateral close")
    s.add_argument("--id", type=nonneg_int, default=None, help="channel id (default: random; never reuse one)")
    credits_options(s, "the deposit comes from the user's credits (--deposit in dollars), the signer's key signs "
                       "the vouchers, every refund comes back as credits")
    s.set_defaults(func=cmd_open)
    s = cs.add_parser("top-up", parents=[common], help="add to the deposit and/or extend the expiry")
    s.add_argument("channel", type=parse_pubkey, help="the channel address")
    s.add_argument("--amount", type=ui_arg, default=Decimal(0), help="amount to add, in UI units")
    s.add_argument("--extend", type=int_in(0, MAX_CHANNEL_LIFE, "seconds"), default=0, help="seconds")
    credits_options(s, "a channel opened with credits: the amount comes from the user's credits (dollars)")
    s.set_defaults(func=cmd_top_up)
    s = cs.add_parser("close", parents=[common], help="unilateral close after expiry (opens the dispute window)")
    s.add_argument("channel", type=parse_pubkey, help="the channel address")
    credits_options(s, "a channel opened with credits (the user or its delegate closes it)")
    s.set_defaults(func=cmd_close)
    s = cs.add_parser("coop-close", parents=[common],
                      help="close now with the provider's signature: the unsettled rest is refunded at once")
    s.add_argument("channel", type=parse_pubkey, help="the channel address")
    s.add_argument("--provider-keypair", required=True, metavar="FILE",
                   help="the channel provider's keypair file (the provider co-signs)")
    credits_options(s, "a channel opened with credits: the rest comes back as the user's credits")
    s.set_defaults(func=cmd_coop_close)
    s = cs.add_parser("finish", parents=[common], help="refund the rest once the dispute window is over (anyone)")
    s.add_argument("channel", type=parse_pubkey, help="the channel address")
    credits_options(s, "a channel opened with credits: the rest comes back as credits of the signer or --for USER")
    s.set_defaults(func=cmd_finish)
    s = cs.add_parser("show", parents=[common], help="a channel's state")
    s.add_argument("channel", type=parse_pubkey, help="the channel address")
    s.set_defaults(func=cmd_show)
