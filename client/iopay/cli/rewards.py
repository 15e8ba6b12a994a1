"""``iopay rewards``: worker rewards per epoch, paid by a Merkle distributor.

* ``compute --epoch N --inputs FILE --pool AMOUNT``: job hours per worker from
  job_escrow's settlement events (over ``-u`` JSON-RPC, or ``--events FILE``
  of decoded events), bandwidth/GPU/uptime from the inputs file, points with
  the versioned config (``--config``, default launch-v1), exact amounts and
  the Merkle tree, written to ``--out`` (default ``rewards-epoch-N.json``);
  prints a summary table. Offline with ``--events`` and ``--decimals``.
* ``show --tree FILE WALLET``: one worker's points term by term (offline).
* ``publish --tree FILE --mint M --treasury T --deadline WHEN``: create and
  fund the epoch's distributor (the ``-k`` wallet pays the pool).
* ``claim --tree FILE|URL --distributor D``: claim the ``-k`` wallet's reward.
* ``status --distributor D [--tree FILE] [--wallet W]``: claimed/unclaimed, time left.
* ``clawback --distributor D``: after the deadline, the rest to the treasury.

Amounts are in UI units with the mint's decimals; ``--output json`` for
machines; every failure is one line on stderr with exit status 1.
"""

from __future__ import annotations

import argparse
import json
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Dict, List, Optional

from solders.pubkey import Pubkey

from iopay.cli.common import (CliError, Ctx, common_options, emit, emit_output, nonneg_int, parse_pubkey,
                              progress, run, ui_amount)


def parse_ui_amount(s: str, decimals: int) -> int:
    """'12.5' with 6 decimals -> 12_500_000; more decimals than the mint has is an error."""
    try:
        d = Decimal(s.strip())
    except InvalidOperation:
        raise CliError(f"invalid amount {s!r}")
    base = d * (Decimal(10) ** decimals)
    if d <= 0 or base != base.to_integral_value():
        raise CliError(f"amount {s} must be positive with at most {decimals} decimals")
    return int(base)


def parse_when(s: str, now: int) -> int:
    """A unix timestamp, or a duration from now: 90s, 45m, 12h, 30d."""
    m = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", s)
    if m:
        return now + int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    if s.strip().isdigit():
        return int(s)
    raise CliError(f"invalid deadline {s!r}: a unix timestamp or a duration like 30d, 12h")


def fmt_duration(seconds: int) -> str:
    d, r = divmod(max(0, seconds), 86400)
    h, r = divmod(r, 3600)
    m, s = divmod(r, 60)
    return f"{d}d {h}h {m}m" if d else f"{h}h {m}m {s}s"


def _load_rewards(source: str) -> Any:
    from iopay.rewards.epoch import EpochRewards

    try:
        if source.startswith(("http://", "https://")):
            import httpx

            resp = httpx.get(source, timeout=30, follow_redirects=True)
            resp.raise_for_status()
            return EpochRewards.from_json(resp.text)
        return EpochRewards.read(source)
    except FileNotFoundError:
        raise CliError(f"rewards file not found: {source}")
    except (ValueError, KeyError, TypeError) as e:
        raise CliError(f"invalid rewards file {source}: {e}")
    except Exception as e:  # noqa: BLE001 - network errors in one line
        raise CliError(f"cannot fetch {source}: {str(e).splitlines()[0] if str(e) else type(e).__name__}")


class RewardsCtx(Ctx):
    """:class:`Ctx` plus a :class:`iopay.rewards.client.RewardsClient` on the same connection."""

    async def __aenter__(self) -> "RewardsCtx":
        await super().__aenter__()
        from iopay.core.chain import RpcChain
        from iopay.core.events import EventDecoder
        from iopay.core.idl import ProgramIdl
        from iopay.rewards.client import RewardsClient

        prog = ProgramIdl.load("rewards")
        self.sender.errors.add(prog.errors)
        chain = RpcChain(self.rpc, self.sender, [EventDecoder(prog)])
        self.rewards = RewardsClient(chain, self.signer or self.client.payer, prog)
        return self

    async def distributor(self, address: Pubkey) -> Any:
        try:
            return await self.rewards.distributor(address)
        except LookupError:
            raise CliError(f"distributor {address} not found")
        except ValueError as e:
            raise CliError(str(e))

    async def decimals(self, mint: Pubkey) -> int:
        try:
            return await self.rewards.mint_decimals(mint)
        except LookupError:
            raise CliError(f"mint {mint} not found")


# -- compute / show (offline parts) --------------------------------------------------------------------------

def _events_from_file(path: str) -> List[Any]:
    """Decoded events as JSON: a list of {"name", fields...}; pubkeys as base58."""
    from types import SimpleNamespace

    try:
        raw = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise CliError(f"events file not found: {path}")
    except ValueError as e:
        raise CliError(f"invalid events file {path}: {e}")

    def conv(v: Any) -> Any:
        if isinstance(v, dict):
            return SimpleNamespace(**{k: conv(x) for k, x in v.items()})
        if isinstance(v, list):
            return [conv(x) for x in v]
        if isinstance(v, str):
            try:
                return Pubkey.from_string(v)
            except ValueError:
                return v
        return v

    if not isinstance(raw, list):
        raise CliError(f"invalid events file {path}: expected a JSON array of events")
    return [conv(e) for e in raw]


def summary_lines(r: Any, decimals: int, top: int = 10) -> List[str]:
    rows = sorted(r.workers, key=lambda p: (-r.amounts[p.wallet], bytes(p.wallet)))
    lines = [f"epoch {r.epoch}  [{r.start_ts}, {r.end_ts})  config {r.config.name} v{r.config.version} "
             f"({r.config.digest[:12]})",
             f"workers {len(r.workers)}  paid {len(r.leaves)}  pool {ui_amount(r.pool, decimals)}  "
             f"job hours {sum(p.job_hours for p in r.workers)}  points {r.total_points}",
             f"root {r.root.hex()}  depth {r.tree.depth}", "",
             f"{'wallet':<44} {'hours':>6} {'uptime':>7} {'gpu':>9} {'band':>10} {'points':>14} {'amount':>16}"]
    for p in rows[:top]:
        lines.append(f"{str(p.wallet):<44} {p.job_hours:>6} {p.uptime_bps / 100:>6.2f}% {p.gpu_model[:9]:>9} "
                     f"{p.band[:10]:>10} {p.points:>14} {ui_amount(r.amounts[p.wallet], decimals):>16}")
    if len(rows) > top:
        lines.append(f"... {len(rows) - top} more in the file")
    return lines


def cmd_compute(args: argparse.Namespace) -> int:
    from iopay.rewards.epoch import compute_epoch
    from iopay.rewards.hours import fetch_settlement_events, hours_from_events
    from iopay.rewards.points import EpochRefused, RewardsConfig, read_inputs

    try:
        config = RewardsConfig.load(args.config)
    except (OSError, ValueError, TypeError, KeyError) as e:
        raise CliError(f"invalid rewards config {args.config}: {e}")
    start, end = config.epoch_range(args.epoch)
    start = args.start if args.start is not None else start
    end = args.end if args.end is not None else end
    if end <= start:
        raise CliError(f"empty epoch time range [{start}, {end})")
    try:
        inputs = read_inputs(args.inputs, config)
    except FileNotFoundError:
        raise CliError(f"inputs file not found: {args.inputs}")
    except (EpochRefused, ValueError) as e:
        raise CliError(f"{args.inputs}: {e}")

    async def chain_part() -> tuple:
        async with RewardsCtx(args, signer=False) as ctx:
            if args.decimals is not None:
                decimals = args.decimals
            elif args.mint is not None:
                decimals = await ctx.decimals(args.mint)
            else:
                raise CliError("give --mint (read its decimals) or --decimals to read --pool")
            if args.events is not None:
                return _events_from_file(args.events), decimals
            progress(f"reading job_escrow settlement events for [{start}, {end}) from {ctx.url}")
            evs = await fetch_settlement_events(ctx.client.chain, ctx.client.program.program_id, start, end)
            return evs, decimals

    if args.events is not None and args.decimals is not None:  # offline
        events, decimals = _events_from_file(args.events), args.decimals
    else:
        events, decimals = run(chain_part)
    pool = parse_ui_amount(args.pool, decimals)
    try:
        hours = hours_from_events(events, start, end)
    except ValueError as e:  # an events file not in the program's HoursSettled shape
        raise CliError(f"job_escrow events: {e}")
    try:
        r = compute_epoch(args.epoch, inputs, hours, pool, config, start_ts=start, end_ts=end)
    except (EpochRefused, ValueError) as e:
        raise CliError(str(e))
    out = args.out or f"rewards-epoch-{args.epoch}.json"
    r.write(out)
    data = {"epoch": r.epoch, "file": out, "root": r.root.hex(), "workers": len(r.workers),
            "leaves": len(r.leaves), "depth": r.tree.depth, "pool": ui_amount(pool, decimals),
            "pool_base_units": str(pool), "job_hours": sum(p.job_hours for p in r.workers),
            "total_points": str(r.total_points), "config": r.config.name, "config_sha256": r.config.digest}
    emit(args, data, summary_lines(r, decimals) + ["", f"written to {out}"])
    return 0


def explain_lines(r: Any, wallet: Pubkey, decimals: Optional[int]) -> List[str]:
    p = r.points_of(wallet)
    c = r.config
    amount = r.amounts[wallet]
    amt = ui_amount(amount, decimals) if decimals is not None else f"{amount} base units"
    up = (f"{c.uptime_weight} x {p.uptime_bps} bps = {p.uptime_term}" if p.uptime_term or p.uptime_bps >=
          c.min_uptime_bps else f"0 (uptime {p.uptime_bps} bps < minimum {c.min_uptime_bps})")
    lines = [
        f"worker {wallet}, epoch {r.epoch}, config {c.name} v{c.version}",
        f"  job hours   {p.job_hours} h x {c.job_hour_weight} = {p.hours_term}",
        f"  uptime      {up}",
        f"  gpu         {p.gpu_model}: x {p.gpu_pct}%",
        f"  bandwidth   {p.download_mbps}/{p.upload_mbps} Mbps -> band {p.band}: x {p.band_pct}%",
        f"  points      ({p.hours_term} + {p.uptime_term}) x {p.gpu_pct} x {p.band_pct} = {p.points}",
        f"  share       {p.points} / {r.total_points} of pool {r.pool} = {amount} (exact: "
        f"floor {r.pool * p.points // r.total_points}, remainder rule gives "
        f"{amount - r.pool * p.points // r.total_points:+d})",
        f"  amount      {amt}",
    ]
    try:
        leaf = r.leaf_of(wallet)
        lines.append(f"  leaf        index {leaf.index} of {len(r.leaves)}")
    except LookupError:
        lines.append("  leaf        none (amount 0)")
    return lines


def cmd_show(args: argparse.Namespace) -> int:
    r = _load_rewards(args.tree)
    try:
        p = r.points_of(args.wallet)
    except LookupError as e:
        raise CliError(str(e))
    data: Dict[str, Any] = {k: (str(v) if isinstance(v, Pubkey) else v) for k, v in vars(p).items()}
    data.update(epoch=r.epoch, amount=str(r.amounts[args.wallet]), total_points=str(r.total_points),
                pool=str(r.pool), points=str(p.points))
    emit_output(args, data, lambda: "\n".join(explain_lines(r, args.wallet, args.decimals)))
    return 0


# -- on-chain commands --------------------------------------------------------------------------------

def cmd_publish(args: argparse.Namespace) -> int:
    from iopay.core import spl
    from iopay.rewards.client import rent_exempt
    from iopay.rewards.program import claims_space

    r = _load_rewards(args.tree)

    async def go() -> int:
        async with RewardsCtx(args) as ctx:
            decimals = await ctx.decimals(args.mint)
            me = ctx.payer.pubkey()
            now = await ctx.rewards.now()
            deadline = parse_when(args.deadline, now)
            if deadline <= now:
                raise CliError(f"deadline {deadline} is not in the future (cluster time {now}); nothing sent")
            tre = await ctx.token_account(args.treasury)
            if tre is None or tre.mint != args.mint:
                raise CliError(f"treasury {args.treasury} is not a token account of mint {args.mint}; nothing sent")
            total = sum(leaf.amount for leaf in r.leaves)
            src = args.from_account or spl.associated_token_address(me, args.mint)
            await ctx.require_tokens(src, me, args.mint, total, decimals, "publishing the pool")
            await ctx.require_sol(rent_exempt(claims_space(len(r.leaves))) + rent_exempt(300) + 2_100_000,
                                  "the distributor, vault and claim bitmap rent")
            dist = ctx.rewards.rw.distributor_address(me, args.mint, r.epoch)
            if await ctx.rewards.chain.get_account(dist) is not None:
                raise CliError(f"epoch {r.epoch} of mint {args.mint} is already published by {me} at {dist}; "
                               "nothing sent")
            pub = await ctx.rewards.publish(r, creator=ctx.payer, mint=args.mint, treasury=args.treasury,
                                            claim_deadline=deadline, admin=args.admin, creator_token=src)
            data = {"distributor": str(pub.distributor), "vault": str(pub.vault), "claims": str(pub.claims),
                    "epoch": r.epoch, "root": r.root.hex(), "leaves": len(r.leaves),
                    "total": ui_amount(total, decimals), "claim_deadline": deadline,
                    "signature": str(pub.sent.signature)}
            emit(args, data)
            return 0

    return run(go)


def cmd_claim(args: argparse.Namespace) -> int:
    r = _load_rewards(args.tree)

    async def go() -> int:
        async with RewardsCtx(args) as ctx:
            me = ctx.payer.pubkey()
            d = await ctx.distributor(args.distributor)
            if d.epoch != r.epoch or d.root != r.root:
                raise CliError(f"{args.tree} (epoch {r.epoch}) is not the tree published at {args.distributor} "
                               f"(epoch {d.epoch}); nothing sent")
            try:
                leaf = r.leaf_of(me)
            except LookupError:
                raise CliError(f"{me} has no reward in epoch {r.epoch}; nothing sent")
            decimals = await ctx.decimals(d.mint)
            now = await ctx.rewards.now()
            if not d.is_open(now):
                raise CliError(f"claims for epoch {d.epoch} closed at {d.claim_deadline} (cluster time {now}); "
                               "nothing sent")
            if await ctx.rewards.is_claimed(d, leaf.index):
                raise CliError(f"{me} already claimed its epoch {d.epoch} reward; nothing sent")
            await ctx.require_sol(2_100_000 if args.token_account is None else 10_000, "the claim")
            sent = await ctx.rewards.claim(ctx.payer, args.distributor, r, claimant_token=args.token_account)
            emit(args, {"wallet": str(me), "epoch": d.epoch, "index": leaf.index,
                        "amount": ui_amount(leaf.amount, decimals), "signature": str(sent.signature)})
            return 0

    return run(go)


def cmd_status(args: argparse.Namespace) -> int:
    r = _load_rewards(args.tree) if args.tree else None

    async def go() -> int:
        async with RewardsCtx(args, signer=False) as ctx:
            d = await ctx.distributor(args.distributor)
            decimals = await ctx.decimals(d.mint)
            st = await ctx.rewards.status(args.distributor, args.wallet, r)
            state = "clawed back" if d.clawed_back else "open" if d.is_open(st.now) else "closed (awaiting clawback)"
            data: Dict[str, Any] = {
                "distributor": str(d.address), "epoch": d.epoch, "mint": str(d.mint), "state": state,
                "total": ui_amount(d.total, decimals), "claimed": ui_amount(d.claimed, decimals),
                "unclaimed": ui_amount(d.total - d.claimed, decimals),
                "claims": f"{d.num_claimed}/{d.num_leaves}", "claim_deadline": d.claim_deadline,
                "time_left": fmt_duration(st.seconds_left), "seconds_left": st.seconds_left,
                "clawed_back": ui_amount(d.clawback_amount, decimals), "admin": str(d.admin),
            }
            if args.wallet is not None:
                data["wallet"] = str(args.wallet)
                data["wallet_amount"] = ui_amount(st.leaf.amount, decimals) if st.leaf else "0"
                data["wallet_claimed"] = st.leaf_claimed if st.leaf else None
            emit(args, data)
            return 0

    return run(go)


def cmd_clawback(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with RewardsCtx(args) as ctx:
            d = await ctx.distributor(args.distributor)
            now = await ctx.rewards.now()
            if d.clawed_back:
                raise CliError(f"epoch {d.epoch} was already clawed back; nothing sent")
            if now <= d.claim_deadline:
                raise CliError(f"claims are open until {d.claim_deadline} ({fmt_duration(d.claim_deadline - now)} "
                               "left); nothing sent")
            decimals = await ctx.decimals(d.mint)
            sent = await ctx.rewards.clawback(args.distributor)
            ev = sent.events_named("ClawedBack")
            amount = ev[0].amount if ev else None
            emit(args, {"distributor": str(d.address), "treasury": str(d.treasury),
                        "amount": ui_amount(amount, decimals) if amount is not None else "?",
                        "signature": str(sent.signature)})
            return 0

    return run(go)


def add_parser(sub: Any) -> None:
    co = common_options()
    p = sub.add_parser("rewards", help="worker rewards: compute an epoch, publish, claim, status")
    rs = p.add_subparsers(dest="rewards_command", metavar="COMMAND")
    rs.required = True

    s = rs.add_parser("compute", parents=[co], help="points and amounts of an epoch, and its Merkle tree")
    s.add_argument("--epoch", type=nonneg_int, required=True)
    s.add_argument("--inputs", required=True, help="measurements file (.csv or .json): wallet, gpu_model, "
                                                   "download_mbps, upload_mbps, uptime_bps")
    s.add_argument("--pool", required=True, help="reward pool in UI units of the mint")
    s.add_argument("--mint", type=parse_pubkey, help="reward mint (for its decimals)")
    s.add_argument("--decimals", type=nonneg_int, help="mint decimals (offline, instead of --mint)")
    s.add_argument("--events", help="decoded job_escrow events (JSON) instead of reading them over RPC")
    s.add_argument("--config", help="rewards config JSON (default: the built-in launch-v1)")
    s.add_argument("--start", type=nonneg_int, help="override the epoch start (unix seconds)")
    s.add_argument("--end", type=nonneg_int, help="override the epoch end (unix seconds, exclusive)")
    s.add_argument("--out", help="output file (default rewards-epoch-N.json)")
    s.set_defaults(func=cmd_compute)

    s = rs.add_parser("show", parents=[co], help="explain one worker's points term by term")
    s.add_argument("wallet", type=parse_pubkey)
    s.add_argument("--tree", required=True, help="rewards file written by `compute` (path or URL)")
    s.add_argument("--decimals", type=nonneg_int, help="show the amount in UI units")
    s.set_defaults(func=cmd_show)

    s = rs.add_parser("publish", parents=[co], help="create and fund the epoch's distributor")
    s.add_argument("--tree", required=True)
    s.add_argument("--mint", type=parse_pubkey, required=True)
    s.add_argument("--treasury", type=parse_pubkey, required=True, help="token account receiving the clawback")
    s.add_argument("--deadline", required=True, help="claim deadline: unix seconds or a duration (30d, 12h)")
    s.add_argument("--admin", type=parse_pubkey, help="distributor admin (default: the -k wallet)")
    s.add_argument("--from", dest="from_account", type=parse_pubkey,
                   help="token account paying the pool (default: the -k wallet's ATA)")
    s.set_defaults(func=cmd_publish)

    s = rs.add_parser("claim", parents=[co], help="claim the -k wallet's reward")
    s.add_argument("--tree", required=True, help="rewards file (path or URL)")
    s.add_argument("--distributor", type=parse_pubkey, required=True)
    s.add_argument("--token-account", type=parse_pubkey, help="destination (default: the wallet's ATA, created)")
    s.set_defaults(func=cmd_claim)

    s = rs.add_parser("status", parents=[co], help="claimed/unclaimed amounts and time left")
    s.add_argument("--distributor", type=parse_pubkey, required=True)
    s.add_argument("--tree", help="rewards file, to report one wallet")
    s.add_argument("--wallet", type=parse_pubkey)
    s.set_defaults(func=cmd_status)

    s = rs.add_parser("clawback", parents=[co], help="after the deadline: unclaimed remainder to the treasury")
    s.add_argument("--distributor", type=parse_pubkey, required=True)
    s.set_defaults(func=cmd_clawback)

