"""``iopay job open|accept|settle|extend|release|end|quit|cancel|close|show|list``.

Rates are typed in UI units of the mint (``W:2.5`` = 2.5 tokens per hour;
USD per hour with ``--usd``), base units with ``--base-units`` or the
``base`` suffix (``W:2500000base``). Every command checks what it can before sending (market
paused, funds, who may sign, job state) and sends nothing when a check fails.
"""

from __future__ import annotations

import argparse
from typing import Any, Dict, List, Optional, Tuple

from solders.pubkey import Pubkey

from iopay.cli.common import (FEE_HEADROOM, Ctx, cli_error, common_options, emit, hours_int, int_in, parse_pubkey,
                              progress, run, u64_int, ui_amount)
from iopay.core.units import plural
from iopay.escrow.program import DEFAULT_ACCEPT_WINDOW, MAX_ACCEPT_WINDOW


def parse_worker(s: str) -> Tuple[Pubkey, str]:
    """``WALLET:RATE``; the rate stays text until the mint's decimals are
    known (:func:`worker_rates`)."""
    wallet, sep, rate = s.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected WALLET:RATE, got {s!r}")
    pk = parse_pubkey(wallet)
    if not rate.strip():
        raise argparse.ArgumentTypeError(f"missing rate in {s!r}: WALLET:RATE, e.g. {wallet}:2.5")
    return pk, rate.strip()


def worker_rates(args: argparse.Namespace, decimals: int) -> List[Tuple[Pubkey, int]]:
    """The ``--worker`` rates in base units: UI units of the mint (or USD
    with ``--usd``, 6 decimals) by default; base units with
    ``--base-units`` or the ``base`` suffix. Errors speak the input's units."""
    from iopay.core.units import parse_amount

    unit = "USD/h" if args.usd else "tokens/h"
    out = []
    for pk, text in args.worker:
        if isinstance(text, int):  # already base units (SDK callers)
            out.append((pk, text))
            continue
        try:
            out.append((pk, parse_amount(text, 6 if args.usd else decimals, base_units=args.base_units, unit=unit)))
        except ValueError as e:
            raise cli_error(f"--worker {pk}: {e}")
    return out


def job_dict(view: Any, now: Optional[int] = None, decimals: Optional[int] = None, *,
             mint: Optional[Pubkey] = None, vault: Optional[Pubkey] = None,
             vault_balance: Optional[int] = None) -> Dict[str, Any]:
    """A job for ``--output json``: amounts in base units, with ``*_ui``
    strings when the mint's ``decimals`` are known; times as unix seconds
    with ``*_iso`` (UTC) companions; absent values are null."""
    from iopay.core.units import iso_utc
    from iopay.escrow.state import due_slots, is_closable, next_due_ts, vault_owed

    closable = is_closable(view)
    d: Dict[str, Any] = {
        "job": str(view.address), "market": str(view.market), "customer": str(view.customer),
        "job_id": view.job_id, "state": view.state, "hours": view.hours, "fee_bps": view.fee_bps,
        "created_ts": view.created_ts, "created_iso": iso_utc(view.created_ts),
        "ended_ts": view.ended_ts or None, "ended_iso": iso_utc(view.ended_ts) if view.ended_ts else None,
        "closable": closable, "finished": closable,
        "owed": vault_owed(view),
        "workers": [{"slot": s.index, "worker": str(s.worker), "status": s.status, "rate_per_hour": s.rate_per_hour,
                     "hours": s.hours, "hours_paid": s.hours_paid, "start_ts": s.start_ts or None,
                     "start_iso": iso_utc(s.start_ts) if s.start_ts else None} for s in view.workers],
    }
    if mint is not None:
        d["mint"] = str(mint)
    if vault is not None:
        d["vault"] = str(vault)
        d["vault_balance"] = vault_balance
    if now is not None:
        dues = {x.slot: x for x in due_slots(view, now)}
        for w in d["workers"]:
            x = dues.get(w["slot"])
            w["due_hours"] = x.hours if x else 0
            w["due_amount"] = x.amount if x else 0
        d["now"] = now
        d["now_iso"] = iso_utc(now)
        nd = next_due_ts(view, now)
        d["next_due_ts"] = nd
        d["next_due_iso"] = iso_utc(nd)
    if decimals is not None:
        d["decimals"] = decimals
        d["owed_ui"] = ui_amount(d["owed"], decimals)
        if vault_balance is not None:
            d["vault_balance_ui"] = ui_amount(vault_balance, decimals)
        for w in d["workers"]:
            w["rate_per_hour_ui"] = ui_amount(w["rate_per_hour"], decimals)
            if "due_amount" in w:
                w["due_amount_ui"] = ui_amount(w["due_amount"], decimals)
    return d


def job_lines(d: Dict[str, Any]) -> List[str]:
    """Display form of :func:`job_dict`: UI amounts, ISO times with a relative form."""
    from iopay.core.units import when

    dec = d.get("decimals")
    now = d.get("now")

    def amt(v: Optional[int]) -> str:
        if v is None:
            return "-"
        return ui_amount(v, dec) if dec is not None else f"{v} base units"

    def t(ts: Optional[int]) -> str:
        if not ts:
            return "-"
        return when(ts, now) if now is not None else str(ts)

    if d["closable"]:
        status = f"{d['state']}: finished, every worker is paid; closable (`iopay job close {d['job']}` returns the rent)"
    elif d["state"] == "Ended":
        status = f"Ended: {amt(d['owed'])} still owed to workers (settle it, then close)"
    else:
        status = f"Open: {amt(d['owed'])} still owed to workers as hours pass"
    lines = [f"job        {d['job']} (id {d['job_id']})", f"state      {status}",
             f"customer   {d['customer']}", f"market     {d['market']}"]
    if "mint" in d:
        lines.append(f"mint       {d['mint']}")
    if "vault" in d:
        lines.append(f"vault      {d['vault']}: {amt(d.get('vault_balance'))} held, {amt(d['owed'])} owed")
    lines += [f"hours      {d['hours']} booked, fee {d['fee_bps']} bps",
              f"created    {t(d['created_ts'])}"]
    if d.get("ended_ts"):
        lines.append(f"ended      {t(d['ended_ts'])}")
    if d.get("next_due_ts"):
        lines.append(f"next due   {t(d['next_due_ts'])}")
    rate_h = "rate/h"
    lines.append(f"{'slot':>4}  {'worker':<44}  {'status':<8}  {rate_h:>12}  {'paid':>9}  {'due now':>12}  started")
    for w in d["workers"]:
        due = w.get("due_amount")
        due_s = "-" if due is None else (f"{w['due_hours']} h {amt(due)}" if due else "0")
        lines.append(f"{w['slot']:>4}  {w['worker']:<44}  {w['status']:<8}  {amt(w['rate_per_hour']):>12}  "
                     f"{w['hours_paid']:>4}/{w['hours']:<4}  {due_s:>12}  {t(w['start_ts'])}")
    return lines


async def _decimals(c: Ctx, view: Any) -> int:
    market = await c.client._market_at(view.market)
    return int(await c.client.mint_decimals(market.mint))


def _slot_of(view: Any, who: Pubkey) -> Any:
    for s in view.workers:
        if s.worker == who:
            return s
    return None


def cmd_open(args: argparse.Namespace) -> int:
    if args.pay_with == "credits":
        from iopay.cli.credits import open_job_with_credits

        async def credits() -> int:
            emit(args, await open_job_with_credits(args))
            return 0

        return run(credits)
    if args.for_user is not None:
        raise cli_error("--for needs --pay-with credits")

    async def go() -> int:
        async with Ctx(args) as c:
            market = await c.market(args.mint)
            if market.paused:
                raise cli_error(f"market {market.address} is paused: new jobs are refused; nothing sent")
            wallets = [w for w, _ in args.worker]
            if len(set(wallets)) != len(wallets):
                raise cli_error("the same worker is listed twice")
            if len(wallets) > market.max_workers:
                raise cli_error(f"{len(wallets)} workers: the market allows at most {market.max_workers}")
            if args.hours > market.max_hours:
                raise cli_error(f"{args.hours} hours: the market allows at most {market.max_hours}")
            try:
                dec = await c.client.mint_decimals(args.mint)
            except (LookupError, ValueError) as e:
                raise cli_error(f"mint {args.mint}: {e}")
            workers = worker_rates(args, dec)
            try:
                quote = await c.client.quote_open(args.mint, [r for _, r in workers], args.hours, usd=args.usd)
            except (ValueError, ArithmeticError) as e:  # PriceRejected, MathOverflow
                from iopay.escrow.program import MathOverflow

                if isinstance(e, MathOverflow):
                    raise cli_error(f"the rates times {args.hours} hours plus the fee exceed the largest token amount "
                                    f"(u64: {ui_amount(2**64 - 1, dec)} tokens); nothing sent")
                raise cli_error(f"cannot price the job: {e}")
            ctok = args.from_account or c.client.token_account_of(c.payer.pubkey(), args.mint)
            await c.require_tokens(ctok, c.payer.pubkey(), args.mint, quote.total, dec, "open_job")
            rent = await c.rent(c.job_rent_space(len(wallets))) + await c.rent(165)
            await c.require_sol(rent + FEE_HEADROOM, "open_job (rent of the job and its vault)")
            # The most the customer accepts to lock: the quote, plus the slippage
            # tolerance for a USD price that may move before the transaction lands.
            max_total = args.max_total if args.max_total is not None else quote.max_total(
                args.slippage_bps if args.usd else 0)
            if max_total < quote.total:
                raise cli_error(f"--max-total {max_total} is below the quote's total {quote.total} "
                                f"({ui_amount(quote.total, dec)} tokens); nothing sent")
            opened = await c.client.open_job(c.payer, args.mint, workers, args.hours, job_id=args.job_id,
                                             usd=args.usd, customer_token=ctok, max_total=max_total,
                                             accept_window=args.accept_window)
            data = {"job": str(opened.job), "job_id": opened.job_id, "vault": str(opened.vault),
                    "workers": len(wallets), "hours": args.hours, "rates": list(quote.rates),
                    "rates_ui": [ui_amount(r, dec) for r in quote.rates], "decimals": dec,
                    "principal": quote.principal, "principal_ui": ui_amount(quote.principal, dec),
                    "fee": quote.fee, "fee_ui": ui_amount(quote.fee, dec), "locked": quote.total,
                    "max_total": max_total, "max_total_ui": ui_amount(max_total, dec),
                    "locked_ui": ui_amount(quote.total, dec), "signature": str(opened.sent.signature)}
            if args.output == "json":
                emit(args, data)
            else:
                # The job's address alone on stdout (JOB=$(iopay job open ...)); the details on stderr.
                rates = ", ".join(f"{w}: {ui_amount(r, dec)}/h" for (w, _), r in zip(workers, quote.rates))
                progress(f"Opened job {opened.job} (id {opened.job_id}): {plural(len(wallets), 'worker')} for "
                         f"{args.hours} h ({rates}); locked {ui_amount(quote.total, dec)} tokens = "
                         f"{ui_amount(quote.principal, dec)} + fee {ui_amount(quote.fee, dec)} in vault {opened.vault}; "
                         f"signature {opened.sent.signature}")
                print(opened.job)
        return 0

    return run(go)


def cmd_accept(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with Ctx(args) as c:
            view = await c.job(args.job)
            s = _slot_of(view, c.payer.pubkey())
            if s is None:
                raise cli_error(f"{c.payer.pubkey()} is not a worker of job {args.job}; nothing sent")
            if view.state != "Open":
                raise cli_error(f"job {args.job} has ended; nothing sent")
            if s.status != "Pending":
                raise cli_error(f"slot {s.index} is already {s.status}; nothing sent")
            await c.require_sol(FEE_HEADROOM, "accept")
            sent = await c.client.accept(c.payer, args.job)
            ev = sent.events_named("WorkerAccepted")
            emit(args, {"job": str(args.job), "slot": s.index, "start_ts": ev[0].start_ts if ev else None,
                        "signature": str(sent.signature)})
        return 0

    return run(go)


def cmd_settle(args: argparse.Namespace) -> int:
    """Pay every due hour of one job now (what the keeper does for all jobs)."""
    async def go() -> int:
        from iopay.escrow.state import due_slots
        from iopay.escrow.keeper.planner import BatchPlanner, payouts_of

        async with Ctx(args) as c:
            view = await c.job(args.job)
            market = await c.client._market_at(view.market)
            now = await c.client.now()
            dues = due_slots(view, now)
            if not dues:
                emit(args, {"job": str(args.job), "paid": [], "signatures": [], "note": "nothing due"},
                     [f"nothing due on job {args.job} (next hour: see `iopay job show`)"])
                return 0
            await c.require_sol(FEE_HEADROOM, "settle")
            planner = BatchPlanner(c.client.esc, c.payer.pubkey())
            payouts = payouts_of(view, dues, lambda w: c.client.token_account_of(w, market.mint))
            batches = planner.plan(market, payouts)
            paid: List[Dict[str, Any]] = []
            sigs = []
            for i, b in enumerate(batches, 1):
                from iopay.core.errors import error_class

                try:
                    sent = await c.client.chain.send(b.instructions, [], c.payer)
                except error_class("NothingToSettle"):
                    progress(f"[{i}/{len(batches)}] already settled")
                    continue
                sigs.append(str(sent.signature))
                paid += _paid(sent)
                progress(f"[{i}/{len(batches)}] {len(b.payouts)} payouts sent: {sent.signature}")
            dec = await c.client.mint_decimals(market.mint)
            for p in paid:
                p["amount_ui"], p["fee_ui"] = ui_amount(p["amount"], dec), ui_amount(p["fee"], dec)
            emit(args, {"job": str(args.job), "paid": paid, "signatures": sigs, "decimals": dec},
                 [f"slot {p['slot']}: paid {plural(p['hours'], 'hour')}, {p['amount_ui']} to {p['worker']}"
                  for p in paid] + [f"signature {s}" for s in sigs])
        return 0

    return run(go)


def _paid(sent: Any) -> List[Dict[str, Any]]:
    """Every payout of a transaction's batched ``HoursSettled`` events."""
    return [{"slot": p.slot, "worker": str(p.worker), "hours": p.hours, "secs": p.secs, "amount": p.amount,
             "fee": p.fee} for e in sent.events_named("HoursSettled") for p in e.paid]


def cmd_extend(args: argparse.Namespace) -> int:
    async def go() -> int:
        from iopay.escrow.program import SECONDS_PER_HOUR, span_cost

        async with Ctx(args) as c:
            view = await c.job(args.job)
            if view.customer != c.payer.pubkey():
                raise cli_error(f"only the customer {view.customer} can extend job {args.job}; nothing sent")
            if view.state != "Open":
                raise cli_error(f"job {args.job} has ended; nothing sent")
            market = await c.client._market_at(view.market)
            if market.paused:
                raise cli_error(f"market {market.address} is paused: extensions are refused; nothing sent")
            now = await c.client.now()
            slots = args.slot or []
            cost = 0
            try:
                for s in view.workers:
                    running = ((s.status == "Pending" and now <= view.accept_deadline)
                               or (s.status == "Active" and (now - s.start_ts) // SECONDS_PER_HOUR < s.hours))
                    if (s.index in slots) if slots else running:
                        if not running:
                            raise cli_error(f"slot {s.index} cannot be extended (booking run out, {s.status} or "
                                            f"past the accept deadline); nothing sent")
                        p, f = span_cost(s.rate_per_hour, view.fee_bps, s.hours, s.hours + args.hours)
                        cost += p + f
            except ArithmeticError:
                raise cli_error(f"{args.hours} more hours would cost more than the largest token amount (u64); "
                                f"nothing sent")
            if cost == 0:
                raise cli_error(f"no slot of job {args.job} can be extended; nothing sent")
            dec = await c.client.mint_decimals(market.mint)
            ctok = c.client.token_account_of(c.payer.pubkey(), market.mint)
            await c.require_tokens(ctok, c.payer.pubkey(), market.mint, cost, dec, "extend")
            await c.require_sol(FEE_HEADROOM, "extend")
            sent = await c.client.extend(c.payer, args.job, args.hours, slots=slots)
            emit(args, {"job": str(args.job), "hours_added": args.hours, "cost": cost,
                        "cost_ui": ui_amount(cost, dec), "decimals": dec, "signature": str(sent.signature)})
        return 0

    return run(go)


def _customer_only(c: Ctx, view: Any, verb: str) -> None:
    if view.customer != c.payer.pubkey():
        raise cli_error(f"only the customer {view.customer} can {verb} job {view.address}; nothing sent")


def cmd_end(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with Ctx(args) as c:
            view = await c.job(args.job)
            _customer_only(c, view, "end")
            if view.state != "Open":
                raise cli_error(f"job {args.job} has already ended; nothing sent")
            await c.require_sol(FEE_HEADROOM, "end_job")
            sent = await c.client.end_job(c.payer, args.job, close=not args.no_close)
            ev = sent.events_named("JobEnded")
            dec = await _decimals(c, view)
            paid = _paid(sent)
            for p in paid:
                p["amount_ui"], p["fee_ui"] = ui_amount(p["amount"], dec), ui_amount(p["fee"], dec)
            refund = ev[0].refund if ev else 0
            owed = ev[0].owed if ev else 0
            closed = bool(sent.events_named("JobClosed"))
            emit(args, {"job": str(args.job), "refund": refund, "refund_ui": ui_amount(refund, dec), "owed": owed,
                        "owed_ui": ui_amount(owed, dec), "closed": closed, "paid": paid, "decimals": dec,
                        "signature": str(sent.signature)},
                 [f"Ended job {args.job}: {ui_amount(refund, dec)} refunded, {ui_amount(owed, dec)} still owed"
                  + ("; closed (rent returned)" if closed else "")]
                 + [f"slot {p['slot']}: paid {plural(p['hours'], 'hour')}, {p['amount_ui']}" for p in paid]
                 + [f"Signature: {sent.signature}"])
        return 0

    return run(go)


def cmd_quit(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with Ctx(args) as c:
            view = await c.job(args.job)
            s = _slot_of(view, c.payer.pubkey())
            if s is None:
                raise cli_error(f"{c.payer.pubkey()} is not a worker of job {args.job}; nothing sent")
            if s.status not in ("Pending", "Active"):
                raise cli_error(f"slot {s.index} is {s.status}; nothing sent")
            market = await c.client._market_at(view.market)
            if await c.client.chain.get_account(c.client.token_account_of(c.payer.pubkey(), market.mint)) is None:
                raise cli_error(f"your token account for mint {market.mint} does not exist (create it first); "
                                f"nothing sent")
            await c.require_sol(FEE_HEADROOM, "quit")
            sent = await c.client.quit(c.payer, args.job)
            ev = sent.events_named("WorkerQuit")
            emit(args, {"job": str(args.job), "slot": s.index, "hours": ev[0].hours if ev else None,
                        "secs": ev[0].secs if ev else None, "refund": ev[0].refund if ev else None,
                        "paid": _paid(sent), "signature": str(sent.signature)})
        return 0

    return run(go)


def cmd_release(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with Ctx(args) as c:
            view = await c.job(args.job)
            _customer_only(c, view, "release a slot of")
            if view.state != "Open":
                raise cli_error(f"job {args.job} has ended; nothing sent")
            if not 0 <= args.slot < len(view.workers):
                raise cli_error(f"slot {args.slot}: job {args.job} has slots 0..{len(view.workers) - 1}")
            s = view.workers[args.slot]
            now = await c.client.now()
            if s.status == "Pending" and now <= view.accept_deadline:
                raise cli_error(f"slot {s.index} can still accept until {view.accept_deadline} (now {now}); "
                                f"nothing sent")
            if s.status not in ("Pending", "Active"):
                raise cli_error(f"slot {s.index} is {s.status}; nothing sent")
            await c.require_sol(FEE_HEADROOM, "release")
            sent = await c.client.release(c.payer, args.job, args.slot, pay=not args.no_pay)
            ev = sent.events_named("SlotReleased")
            emit(args, {"job": str(args.job), "slot": s.index, "hours": ev[0].hours if ev else None,
                        "secs": ev[0].secs if ev else None, "refund": ev[0].refund if ev else None,
                        "paid": _paid(sent), "signature": str(sent.signature)})
        return 0

    return run(go)


def cmd_cancel(args: argparse.Namespace) -> int:
    async def go() -> int:
        from iopay.escrow.state import any_accepted

        async with Ctx(args) as c:
            view = await c.job(args.job)
            _customer_only(c, view, "cancel")
            if any_accepted(view):
                raise cli_error(f"job {args.job} has started (a worker accepted): use `iopay job end`; nothing sent")
            await c.require_sol(FEE_HEADROOM, "cancel")
            sent = await c.client.cancel(c.payer, args.job)
            ev = sent.events_named("JobCancelled")
            dec = await _decimals(c, view)
            refund = ev[0].refund if ev else 0
            emit(args, {"job": str(args.job), "refund": refund, "refund_ui": ui_amount(refund, dec), "decimals": dec,
                        "signature": str(sent.signature)},
                 [f"Cancelled job {args.job}: {ui_amount(refund, dec)} refunded", f"Signature: {sent.signature}"])
        return 0

    return run(go)


def cmd_close(args: argparse.Namespace) -> int:
    async def go() -> int:
        from iopay.escrow.state import is_closable

        async with Ctx(args) as c:
            view = await c.job(args.job)
            _customer_only(c, view, "close")
            if not is_closable(view):
                raise cli_error(f"job {args.job} still owes workers (settle or end it first); nothing sent")
            await c.require_sol(FEE_HEADROOM, "close_job")
            sent = await c.client.close_job(c.payer, args.job)
            ev = sent.events_named("JobClosed")
            dec = await _decimals(c, view)
            refund = ev[0].refund if ev else 0
            emit(args, {"job": str(args.job), "refund": refund, "refund_ui": ui_amount(refund, dec), "decimals": dec,
                        "signature": str(sent.signature)},
                 [f"Closed job {args.job}: {ui_amount(refund, dec)} tokens and the rent returned to the customer",
                  f"Signature: {sent.signature}"])
        return 0

    return run(go)


def cmd_show(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with Ctx(args, signer=False) as c:
            view = await c.job(args.job)
            market = await c.client._market_at(view.market)
            dec = await c.client.mint_decimals(market.mint)
            vault = c.client.esc.vault_address(view.address)
            tok = await c.token_account(vault)
            d = job_dict(view, await c.client.now(), dec, mint=market.mint, vault=vault,
                         vault_balance=tok.amount if tok is not None else 0)
            emit(args, d, job_lines(d))
        return 0

    return run(go)


def cmd_list(args: argparse.Namespace) -> int:
    async def go() -> int:
        from iopay.escrow.state import due_worker_hours

        need_signer = args.mine
        async with Ctx(args, signer=need_signer) as c:
            customer = c.payer.pubkey() if args.mine else args.customer
            state = {"open": "Open", "ended": "Ended", "all": None}[args.state]
            if args.mint is not None:
                await c.market(args.mint)
            jobs = await c.client.jobs(args.mint, state=state, customer=customer)
            if args.worker is not None:
                jobs = [j for j in jobs if _slot_of(j, args.worker) is not None]
            now = await c.client.now()
            rows = [{"job": str(j.address), "customer": str(j.customer), "job_id": j.job_id, "state": j.state,
                     "workers": len(j.workers), "accepted": sum(s.started for s in j.workers), "hours": j.hours,
                     "due_worker_hours": due_worker_hours(j, now)} for j in jobs]
            lines = [f"{'job':<44}  {'state':<5}  {'workers':>7}  {'hours':>5}  {'due':>4}"]
            lines += [f"{r['job']:<44}  {r['state']:<5}  {r['accepted']:>3}/{r['workers']:<3}  {r['hours']:>5}  "
                      f"{r['due_worker_hours']:>4}" for r in rows]
            lines.append(plural(len(rows), "job"))
            emit(args, {"jobs": rows, "count": len(rows)}, lines)
        return 0

    return run(go)


def add_parser(sub: Any) -> None:
    common = common_options()
    p = sub.add_parser("job", help="open, accept, settle, extend, end, quit, cancel, close, show, list jobs")
    js = p.add_subparsers(dest="job_command", metavar="SUBCOMMAND", required=True)

    s = js.add_parser("open", parents=[common], help="open a job: lock rate x hours + fee in escrow (customer)")
    s.add_argument("--mint", type=parse_pubkey, required=True)
    s.add_argument("--worker", type=parse_worker, action="append", required=True, metavar="WALLET:RATE",
                   help="a worker and its rate per hour in tokens with the mint's decimals, e.g. W:2.5 (base units: "
                        "W:2500000base); repeat for each worker")
    s.add_argument("--hours", type=hours_int, required=True, help="hours booked for every worker")
    s.add_argument("--usd", action="store_true",
                   help="rates are USD per hour (e.g. W:1.25), converted by the market oracle (default: tokens)")
    s.add_argument("--base-units", action="store_true",
                   help="rates are base units (micro-USD with --usd) per hour (default: UI units)")
    s.add_argument("--job-id", type=u64_int, help="job id, 0..2^64-1 (default: random)")
    s.add_argument("--from", dest="from_account", type=parse_pubkey,
                   help="token account paying (default: the customer's associated token account)")
    s.add_argument("--max-total", type=u64_int,
                   help="most to lock, pay + fee, in base units (default: the quote, plus --slippage-bps with --usd)")
    s.add_argument("--slippage-bps", type=int_in(0, 10_000, "bps"), default=100,
                   help="with --usd: tolerated price move between quote and execution (default 100 = 1%%)")
    s.add_argument("--accept-window", type=int_in(1, MAX_ACCEPT_WINDOW, "seconds"), default=DEFAULT_ACCEPT_WINDOW,
                   help="seconds the workers have to accept (default one day; then unaccepted slots can be released)")
    s.add_argument("--pay-with", choices=["tokens", "credits"], default="tokens",
                   help="credits: pay from IOSD credits (rates in micro-USD = stablecoin base units)")
    s.add_argument("--for", dest="for_user", type=parse_pubkey,
                   help="with --pay-with credits: spend USER's credits as its delegate")
    s.set_defaults(func=cmd_open)

    for name, fn, helptext in [
        ("accept", cmd_accept, "accept a job as one of its workers (starts your clock)"),
        ("settle", cmd_settle, "pay every due worker-hour of a job now (anyone can)"),
        ("end", cmd_end, "end a job early: refund the unearned remainder (customer)"),
        ("quit", cmd_quit, "leave a job: paid the due hours, the rest refunded (worker)"),
        ("cancel", cmd_cancel, "cancel a job nobody accepted: full refund (customer)"),
        ("close", cmd_close, "close a fully paid job: recover the rent (customer)"),
        ("show", cmd_show, "show a job, its workers and what is due now"),
    ]:
        s = js.add_parser(name, parents=[common], help=helptext)
        s.add_argument("job", type=parse_pubkey, metavar="JOB")
        if name == "end":
            s.add_argument("--no-close", action="store_true", help="leave the job account open")
        s.set_defaults(func=fn)

    s = js.add_parser("extend", parents=[common], help="book more hours for the workers still running (customer)")
    s.add_argument("job", type=parse_pubkey, metavar="JOB")
    s.add_argument("--hours", type=hours_int, required=True,
                   help="hours to add for every slot still running (or the --slot ones)")
    s.add_argument("--slot", type=int_in(0, 255, ""), action="append", help="extend only this slot (repeatable)")
    s.set_defaults(func=cmd_extend)

    s = js.add_parser("release", parents=[common],
                      help="release one worker: pay what it earned (pro rata), refund the rest (customer)")
    s.add_argument("job", type=parse_pubkey, metavar="JOB")
    s.add_argument("--slot", type=int_in(0, 255, ""), required=True, help="the slot to release (0-based)")
    s.add_argument("--no-pay", action="store_true", help="leave the earned pay for `settle`")
    s.set_defaults(func=cmd_release)

    s = js.add_parser("list", parents=[common], help="list jobs (getProgramAccounts)")
    s.add_argument("--mint", type=parse_pubkey, help="jobs of this market only")
    s.add_argument("--customer", type=parse_pubkey)
    s.add_argument("--mine", action="store_true", help="jobs whose customer is the --keypair signer")
    s.add_argument("--worker", type=parse_pubkey, help="jobs listing this worker")
    s.add_argument("--state", choices=["open", "ended", "all"], default="open")
    s.set_defaults(func=cmd_list)
