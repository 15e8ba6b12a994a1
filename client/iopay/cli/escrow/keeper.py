"""``iopay keeper run``: the keeper service from the command line.

Logs are JSON lines on stderr (``--log-level``); ``--once`` runs one round
and prints its report on stdout (``--output json`` for a machine). SIGINT or
SIGTERM stop it gracefully (transactions in flight finish; exit status 0); a
second signal stops at once.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

from iopay.cli.common import Ctx, cli_error, common_options, emit, nonneg_int, parse_pubkey, positive_int, run


def cmd_run(args: argparse.Namespace) -> int:
    async def go() -> int:
        from iopay.escrow.keeper import JobWatch, JsonLog, Keeper, KeeperConfig, Limits, Shard

        try:
            shard = Shard.parse(args.shard, args.takeover_grace) if args.shard else None
        except ValueError as e:
            raise cli_error(f"--shard: {e}")

        # Signals are handled from the start: a SIGTERM while connecting
        # still ends in a clean exit (status 0), never a kill.
        stop = asyncio.Event()
        holder: list = []

        def on_signal() -> None:
            if holder:
                holder[0].request_stop()
            stop.set()

        if not args.once:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, on_signal)
        async with Ctx(args) as c:
            for mint in args.mint:
                await c.market(mint)  # unknown market: one-line error, exit 1
            have = await c.lamports(c.client.payer.pubkey())
            if have < 1_000_000:
                from iopay.core.units import format_sol

                raise cli_error(f"insufficient funds: the keeper's fee payer {c.client.payer.pubkey()} has "
                                f"{format_sol(have)}; fund it to pay transaction fees (`iopay airdrop 1` on test "
                                f"clusters); nothing sent")
            cfg = KeeperConfig(concurrency=args.concurrency, limits=Limits(max_payees=args.max_payees),
                               lookup_tables=not args.no_lookup_tables,
                               create_missing_token_accounts=args.create_missing_token_accounts,
                               max_sleep=args.max_sleep, min_sleep=min(args.min_sleep, args.max_sleep),
                               grace=args.grace, batch_window=args.batch_window, metrics_interval=args.metrics_interval,
                               metrics_port=args.metrics_port, metrics_host=args.metrics_host, shard=shard)
            log = JsonLog(sys.stderr, level=args.log_level)
            discovery = None
            if not args.once and args.discovery == "subscribe":
                discovery = JobWatch(c.client, args.mint, c.url, args.ws_url, log=log)
            keeper = Keeper(c.client, args.mint, cfg, log=log, discovery=discovery)
            if args.once:
                report = await keeper.run_once()
                data = {**report.__dict__, "metrics": keeper.metrics()}
                emit(args, data, [keeper.m.summary()])
                if report.failed:
                    from iopay.core.units import plural

                    raise cli_error(f"{plural(report.failed, 'payout')} failed (see the log); they stay owed and the next "
                                    f"round retries them")
                return 0
            holder.append(keeper)
            try:
                await keeper.run(stop)
            except asyncio.CancelledError:  # a second signal: stop now
                return 130
            if args.output == "json":
                emit(args, keeper.metrics())
        return 0

    return run(go)


def port_number(s: str) -> int:
    v = nonneg_int(s)
    if v > 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port: {s} (0..65535)")
    return v


def priority_fee(s: str) -> str:
    if s != "auto":
        nonneg_int(s)
    return s


def nonneg_float(s: str) -> float:
    import math

    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {s!r}")
    if not math.isfinite(v) or v < 0 or v > 86400 * 365:
        raise argparse.ArgumentTypeError(f"must be a number of seconds in 0..{86400 * 365}, got {s!r}")
    return v


def add_parser(sub: Any) -> None:
    common = common_options()
    p = sub.add_parser("keeper", help="the keeper service: stream the hourly payouts of every running job")
    ks = p.add_subparsers(dest="keeper_command", metavar="SUBCOMMAND", required=True)
    s = ks.add_parser("run", parents=[common], help="settle every due worker-hour of the markets, hour after hour")
    s.add_argument("--mint", type=parse_pubkey, action="append", required=True,
                   help="market (by mint) to keep; repeatable")
    s.add_argument("--once", action="store_true", help="one round, print its report, exit")
    s.add_argument("--concurrency", type=positive_int, default=16, help="transactions in flight (default 16)")
    s.add_argument("--max-payees", type=positive_int, default=None,
                   help="cap payouts per transaction (default: as many as the limits allow)")
    s.add_argument("--no-lookup-tables", action="store_true",
                   help="plain transactions only (no address lookup tables owned by the keeper)")
    s.add_argument("--create-missing-token-accounts", action="store_true",
                   help="create missing worker token accounts (rent paid by the keeper) instead of skipping")
    s.add_argument("--max-sleep", type=nonneg_float, default=30.0,
                   help="look for new jobs at least this often (seconds, default 30)")
    s.add_argument("--min-sleep", type=nonneg_float, default=0.2,
                   help="pause between rounds at least (seconds, default 0.2)")
    s.add_argument("--grace", type=nonneg_float, default=1.0,
                   help="settle this long after each hour boundary (seconds, default 1)")
    s.add_argument("--batch-window", type=nonneg_float, default=0.0,
                   help="wait this much after a boundary to batch payouts falling due meanwhile (s, default 0)")
    s.add_argument("--metrics-interval", type=nonneg_float, default=60.0,
                   help="seconds between periodic metrics log lines (default 60)")
    s.add_argument("--metrics-port", type=port_number, default=None,
                   help="serve Prometheus text on http://HOST:PORT/metrics (0 = any free port; default: off)")
    s.add_argument("--metrics-host", default="127.0.0.1",
                   help="address the metrics endpoint listens on (default: 127.0.0.1; 0.0.0.0 for every interface)")
    s.add_argument("--discovery", choices=["subscribe", "poll"], default="subscribe",
                   help="find jobs with one getProgramAccounts then programSubscribe over websockets "
                        "(default), or getProgramAccounts every round (poll)")
    s.add_argument("--ws-url", default=None,
                   help="websocket PubSub URL (default: from --url, port + 1, as the Solana CLI)")
    s.add_argument("--shard", metavar="I/N", default=None,
                   help="run as keeper I of N (0 <= I < N) on the same markets: pay only this shard's jobs "
                        "(split by job address), and the others' once overdue (--takeover-grace)")
    s.add_argument("--takeover-grace", type=nonneg_float, default=30.0, metavar="SECONDS",
                   help="with --shard: pay another shard's payout after it stayed unpaid this long "
                        "(twice as long for the shard after next, ...; default 30)")
    s.add_argument("--priority-fee", default="auto", type=priority_fee,
                   help="micro-lamports per CU, or auto (default: auto; same as --with-compute-unit-price)")
    s.add_argument("--log-level", choices=["debug", "info", "warning", "error"], default="info",
                   help="least severe log line written (default: info)")
    s.set_defaults(func=cmd_run)
