"""``iopay market init|show|pause|unpause|update|set-authority|accept-authority|sweep-fees|init-price-feed|set-price``."""

from __future__ import annotations

import argparse
from typing import Any, Dict

from iopay.cli.common import (FEE_HEADROOM, Ctx, cli_error, common_options, emit, int_in, nonneg_int, parse_pubkey,
                              positive_int, run)
from iopay.escrow.program import MAX_WORKERS_CAP


def market_dict(m: Any) -> Dict[str, Any]:
    return {"market": str(m.address), "mint": str(m.mint), "authority": str(m.authority),
            "treasury": str(m.treasury), "fee_bps": m.fee_bps, "max_workers": m.max_workers,
            "max_hours": m.max_hours, "paused": m.paused, "job_count": m.job_count,
            "oracle": str(m.oracle) if m.oracle else None, "max_staleness": m.max_staleness,
            "max_conf_bps": m.max_conf_bps,
            "pending_authority": str(m.pending_authority) if m.pending_authority else None}


def _sent(data: Dict[str, Any], sent: Any) -> Dict[str, Any]:
    data["signature"] = str(sent.signature)
    return data


def cmd_init(args: argparse.Namespace) -> int:
    from iopay.cli.common import load_keypair

    async def go() -> int:
        upgrade = load_keypair(args.upgrade_authority) if args.upgrade_authority else None
        async with Ctx(args) as c:
            up = upgrade or c.payer
            if await c.client.chain.get_account(args.mint) is None:
                raise cli_error(f"mint {args.mint} not found")
            tok = await c.token_account(args.treasury)
            if tok is None:
                raise cli_error(f"treasury token account {args.treasury} not found")
            if tok.mint != args.mint:
                raise cli_error(f"treasury {args.treasury} holds mint {tok.mint}, not {args.mint}")
            if await c.client.chain.get_account(c.client.esc.market_address(args.mint)) is not None:
                raise cli_error(f"a market for mint {args.mint} already exists; nothing sent")
            await c.require_sol(await c.rent(400) + FEE_HEADROOM, "init_market")
            sent = await c.client.init_market(up, args.mint, args.treasury, authority=args.authority or c.payer.pubkey(),
                                              fee_bps=args.fee_bps, max_workers=args.max_workers,
                                              max_hours=args.max_hours)
            emit(args, _sent(market_dict(await c.client.market(args.mint)), sent))
        return 0

    return run(go)


def cmd_show(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with Ctx(args, signer=False) as c:
            m = await c.market(args.mint)
            data = market_dict(m)
            feed = await c.client.price_feed(args.mint)
            if feed is not None:
                data["price"] = {"price": feed.price, "conf": feed.conf, "expo": feed.expo,
                                 "publish_time": feed.publish_time}
            emit(args, data)
        return 0

    return run(go)


def cmd_pause(args: argparse.Namespace, paused: bool) -> int:
    async def go() -> int:
        async with Ctx(args) as c:
            m = await c.market(args.mint)
            c.require_authority(m)
            if m.paused == paused:
                emit(args, {**market_dict(m), "changed": False})
                return 0
            await c.require_sol(FEE_HEADROOM, "set_market_paused")
            sent = await c.client.set_market_paused(c.payer, args.mint, paused)
            emit(args, _sent({**market_dict(await c.client.market(args.mint)), "changed": True}, sent))
        return 0

    return run(go)


def cmd_update(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with Ctx(args) as c:
            m = await c.market(args.mint)
            c.require_authority(m)
            treasury = args.treasury or m.treasury
            if args.treasury is not None:
                tok = await c.token_account(treasury)
                if tok is None or tok.mint != m.mint:
                    raise cli_error(f"treasury {treasury} is not a token account of mint {m.mint}")
            await c.require_sol(FEE_HEADROOM, "update_market")
            sent = await c.client.update_market(
                c.payer, args.mint, treasury=treasury,
                fee_bps=m.fee_bps if args.fee_bps is None else args.fee_bps,
                max_workers=args.max_workers or m.max_workers, max_hours=args.max_hours or m.max_hours)
            emit(args, _sent(market_dict(await c.client.market(args.mint)), sent))
        return 0

    return run(go)


def cmd_set_authority(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with Ctx(args) as c:
            m = await c.market(args.mint)
            c.require_authority(m)
            await c.require_sol(FEE_HEADROOM, "set_market_authority")
            sent = await c.client.set_market_authority(c.payer, args.mint, args.new_authority)
            emit(args, _sent(market_dict(await c.client.market(args.mint)), sent))
        return 0

    return run(go)


def cmd_accept_authority(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with Ctx(args) as c:
            m = await c.market(args.mint)
            if m.pending_authority != c.payer.pubkey():
                raise cli_error(f"{c.payer.pubkey()} is not the proposed authority of market {m.address} "
                                f"(proposed: {m.pending_authority}); nothing sent")
            await c.require_sol(FEE_HEADROOM, "accept_market_authority")
            sent = await c.client.accept_market_authority(c.payer, args.mint)
            emit(args, _sent(market_dict(await c.client.market(args.mint)), sent))
        return 0

    return run(go)


def cmd_sweep_fees(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with Ctx(args) as c:
            await c.market(args.mint)
            await c.require_sol(FEE_HEADROOM, "sweep_fees")
            sent = await c.client.sweep_fees(args.mint, job=args.job)
            ev = sent.events_named("FeesSwept")
            emit(args, {"market": str(ev[0].market) if ev else None, "treasury": str(ev[0].treasury) if ev else None,
                        "from_job": ev[0].from_job if ev else None,
                        "from_fee_vault": ev[0].from_fee_vault if ev else None,
                        "signature": str(sent.signature)})
        return 0

    return run(go)


def cmd_init_price_feed(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with Ctx(args) as c:
            m = await c.market(args.mint)
            c.require_authority(m)
            await c.require_sol(await c.rent(200) + FEE_HEADROOM, "init_price_feed")
            sent = await c.client.init_price_feed(c.payer, args.mint, max_staleness=args.max_staleness,
                                                  max_conf_bps=args.max_conf_bps)
            emit(args, _sent(market_dict(await c.client.market(args.mint)), sent))
        return 0

    return run(go)


def cmd_set_price(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with Ctx(args) as c:
            m = await c.market(args.mint)
            c.require_authority(m)
            if m.oracle is None:
                raise cli_error("the market has no price feed (run `iopay market init-price-feed` first)")
            if args.price <= 0:
                raise cli_error("--price must be positive")
            await c.require_sol(FEE_HEADROOM, "set_price")
            sent = await c.client.set_price(c.payer, args.mint, price=args.price, conf=args.conf, expo=args.expo,
                                            publish_time=args.publish_time)
            feed = await c.client.price_feed(args.mint)
            emit(args, {"market": str(m.address), "price_feed": str(feed.address), "price": feed.price,
                        "conf": feed.conf, "expo": feed.expo, "publish_time": feed.publish_time,
                        "signature": str(sent.signature)})
        return 0

    return run(go)


def add_parser(sub: Any) -> None:
    common = common_options()
    p = sub.add_parser("market", help="create, inspect and administer a market (one per mint)")
    ms = p.add_subparsers(dest="market_command", metavar="SUBCOMMAND", required=True)

    s = ms.add_parser("init", parents=[common], help="create the market of a mint (signed by the program's "
                                                     "upgrade authority)")
    s.add_argument("--mint", type=parse_pubkey, required=True)
    s.add_argument("--treasury", type=parse_pubkey, required=True, help="token account receiving the fees")
    s.add_argument("--authority", type=parse_pubkey, help="market authority (default: the --keypair signer)")
    s.add_argument("--upgrade-authority", metavar="KEYPAIR",
                   help="keypair of the program's upgrade authority (default: --keypair)")
    s.add_argument("--fee-bps", type=nonneg_int, default=250)
    s.add_argument("--max-workers", type=int_in(1, MAX_WORKERS_CAP, "workers"), default=13)
    s.add_argument("--max-hours", type=positive_int, default=720)
    s.set_defaults(func=cmd_init)

    s = ms.add_parser("show", parents=[common], help="show a market")
    s.add_argument("--mint", type=parse_pubkey, required=True)
    s.set_defaults(func=cmd_show)

    s = ms.add_parser("pause", parents=[common], help="pause: no new jobs or extensions (payouts continue)")
    s.add_argument("--mint", type=parse_pubkey, required=True)
    s.set_defaults(func=lambda a: cmd_pause(a, True))
    s = ms.add_parser("unpause", parents=[common], help="unpause the market")
    s.add_argument("--mint", type=parse_pubkey, required=True)
    s.set_defaults(func=lambda a: cmd_pause(a, False))

    s = ms.add_parser("update", parents=[common], help="change fee, limits or treasury (unset = unchanged)")
    s.add_argument("--mint", type=parse_pubkey, required=True)
    s.add_argument("--treasury", type=parse_pubkey)
    s.add_argument("--fee-bps", type=nonneg_int)
    s.add_argument("--max-workers", type=int_in(1, MAX_WORKERS_CAP, "workers"))
    s.add_argument("--max-hours", type=positive_int)
    s.set_defaults(func=cmd_update)

    s = ms.add_parser("set-authority", parents=[common],
                      help="propose a new authority (it takes over with accept-authority)")
    s.add_argument("--mint", type=parse_pubkey, required=True)
    s.add_argument("--new-authority", type=parse_pubkey, required=True)
    s.set_defaults(func=cmd_set_authority)

    s = ms.add_parser("accept-authority", parents=[common], help="take over a market as its proposed authority")
    s.add_argument("--mint", type=parse_pubkey, required=True)
    s.set_defaults(func=cmd_accept_authority)

    s = ms.add_parser("sweep-fees", parents=[common],
                      help="move accrued fees to the treasury (anyone can): the fee vault's and a job's")
    s.add_argument("--mint", type=parse_pubkey, required=True)
    s.add_argument("--job", type=parse_pubkey, help="also sweep this job's accrued fees")
    s.set_defaults(func=cmd_sweep_fees)

    s = ms.add_parser("init-price-feed", parents=[common], help="create the market's USD price feed")
    s.add_argument("--mint", type=parse_pubkey, required=True)
    s.add_argument("--max-staleness", type=positive_int, default=60, help="seconds (default 60)")
    s.add_argument("--max-conf-bps", type=positive_int, default=200, help="default 200")
    s.set_defaults(func=cmd_init_price_feed)

    s = ms.add_parser("set-price", parents=[common], help="publish the USD price of the mint (Pyth semantics)")
    s.add_argument("--mint", type=parse_pubkey, required=True)
    s.add_argument("--price", type=int, required=True)
    s.add_argument("--conf", type=nonneg_int, default=0)
    s.add_argument("--expo", type=int, default=-8)
    s.add_argument("--publish-time", type=int, help="unix time (default: the cluster clock)")
    s.set_defaults(func=cmd_set_price)
