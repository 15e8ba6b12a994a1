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
        from iopay.escrow.keeper import JsonLog, Keeper, KeeperConfig, Limits

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
            have = await c.lamports(c.payer.pubkey())
            if have < 1_000_000:
                raise cli_error(f"insufficient funds: the keeper's fee payer {c.payer.pubkey()} has {have} "
                                f"lamports; fund it to pay transaction fees")
            cfg = KeeperConfig(concurrency=args.concurrency, limits=Limits(max_payees=args.max_payees),
                               lookup_tables=not args.no_lookup_tables,
                               create_missing_token_accounts=args.create_missing_token_accounts,
                               max_sleep=args.max_sleep, min_sleep=min(args.min_sleep, args.max_sleep),
                               grace=args.grace, batch_window=args.batch_window, metrics_interval=args.metrics_interval,
                               metrics_port=args.metrics_port)
            log = JsonLog(sys.stderr, level=args.log_level)
            keeper = Keeper(c.client, args.mint, cfg, log=log)
            if args.once:
                report = await keeper.run_once()
                data = {**report.__dict__, "metrics": keeper.metrics()}
                emit(args, data, [keeper.m.summary()])
                if report.failed:
                    raise cli_error(f"{report.failed} payout(s) failed (see the log); they stay owed and the next "
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


def add_parser(sub: Any) -> None:
    common = common_options()
    p = sub.add_parser("keeper", help="the keeper service: stream the hourly payouts of every running job")
    ks = p.add_subparsers(dest="keeper_command", metavar="SUBCOMMAND", required=True)
    s = ks.add_parser("run", parents=[common], help="settle every due worker-hour of the markets, hour after hour")
    s.add_argument("--mint", type=parse_pubkey, action="append", required=True,
                   help="market (by mint) to keep; repeatable")
    s.add_argument("--once", action="store_true", help="one round, print its report, exit")
    s.add_argument("--concurrency", type=positive_int, default=4, help="transactions in flight (default 4)")
    s.add_argument("--max-payees", type=positive_int, default=None,
                   help="cap payouts per transaction (default: as many as the limits allow)")
    s.add_argument("--no-lookup-tables", action="store_true",
                   help="plain transactions only (no address lookup tables owned by the keeper)")
    s.add_argument("--create-missing-token-accounts", action="store_true",
                   help="create missing worker token accounts (rent paid by the keeper) instead of skipping")
    s.add_argument("--max-sleep", type=float, default=30.0, help="look for new jobs at least this often (s)")
    s.add_argument("--min-sleep", type=float, default=0.2, help="pause between rounds at least (s)")
    s.add_argument("--grace", type=float, default=1.0, help="settle this long after each hour boundary (s)")
    s.add_argument("--batch-window", type=float, default=0.0,
                   help="wait this much after a boundary to batch payouts falling due meanwhile (s, default 0)")
    s.add_argument("--metrics-interval", type=float, default=60.0, help="periodic metrics log line (s)")
    s.add_argument("--metrics-port", type=nonneg_int, default=None,
                   help="serve Prometheus text on http://127.0.0.1:PORT/metrics (0 = any free port)")
    s.add_argument("--priority-fee", default="auto", help="micro-lamports per CU, or auto (default)")
    s.add_argument("--log-level", choices=["debug", "info", "warning", "error"], default="info")
    s.set_defaults(func=cmd_run)
