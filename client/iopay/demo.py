"""End-to-end demo on the embedded LiteSVM chain: ``python -m iopay.demo``.

Creates a mint and a market, opens a job for several workers at different
hourly rates, has every worker accept, then warps the clock hour by hour
while the crank settles every worker in one instruction (a progress bar per
hour). Part-way through, one worker quits, and later the customer ends the
job early: the workers are paid their time (the started hour pro rata by the
second), the customer gets back exactly the unearned remainder, the job is
closed and the fees it accrued are swept to the treasury. Prints a ledger of
who got what and exits non-zero on any mismatch between balances, events
and the expected amounts, or if tokens were created or lost (conservation:
tokens in == tokens out, vault == what is owed after every step).

Then a credits-paid job (``iosd_credits``, through the async
:class:`iopay.credits.CreditsClient`): a customer buys 100 USD of credits
with a USD stablecoin, opens a 2-worker job paid with them, the hours stream
to the workers, the customer ends early and the unearned part comes back as
credits; then an inference channel paid with credits (the customer's key
signs the vouchers, the provider settles, a cooperative close brings the
rest back as credits), and the rest is redeemed for the stablecoin; the
reserve equals the outstanding credits after every step (``--no-credits``
skips it).
"""

from __future__ import annotations

import argparse
import sys
from typing import Dict, List

from solders.pubkey import Pubkey

from iopay.escrow.state import JobView, due_slots, quit_refund, unearned, vault_owed
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import JobEscrow, booking_cost, fee_for, tail_pay
from iopay.core.harness import Harness, ProgramNotBuilt

HOUR = 3_600
DECIMALS = 6
UNIT = 10**DECIMALS


def fmt(amount: int) -> str:
    return f"{amount / UNIT:,.6f} IO"


def settled(res) -> list:  # type: ignore[no-untyped-def]
    """Every payout of a transaction's batched ``HoursSettled`` events."""
    return [p for e in res.events_named("HoursSettled") for p in e.paid]


def bar(done: int, total: int, width: int = 24) -> str:
    n = round(width * done / total) if total else width
    return "[" + "#" * n + "." * (width - n) + "]"


def run(rates: List[int], hours: int, fee_bps: int, end_after_s: int, quit_after_s: int,
        quiet: bool = False) -> int:
    say = (lambda *a: None) if quiet else print
    problems: List[str] = []

    def check(cond: bool, what: str) -> None:
        if not cond:
            problems.append(what)

    prog = ProgramIdl.load("job_escrow")
    h = Harness()
    try:
        h.load_program(prog)
    except ProgramNotBuilt as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    esc = JobEscrow(prog, fetch=h.account_data)

    n = len(rates)
    mint_auth, authority, customer = h.funded_keypair(), h.funded_keypair(), h.funded_keypair()
    workers = [h.funded_keypair() for _ in range(n)]
    mint = h.create_mint(mint_auth, DECIMALS)
    treasury = h.create_token_account(mint, authority.pubkey())
    ctok = h.create_token_account(mint, customer.pubkey())
    wtoks = [h.create_ata(mint, w.pubkey()) for w in workers]
    minted = 10_000 * UNIT
    h.mint_to(mint, ctok, minted, mint_auth)
    accounts: Dict[str, Pubkey] = {"customer": ctok, "treasury": treasury}
    accounts.update({f"worker {i}": t for i, t in enumerate(wtoks)})
    start = {k: h.token_balance(v) for k, v in accounts.items()}

    h.send_ok([esc.init_market(payer=h.payer.pubkey(), upgrade_authority=h.payer.pubkey(),
                               authority=authority.pubkey(), mint=mint, treasury=treasury,
                               fee_bps=fee_bps, max_workers=max(8, n), max_hours=720)])
    say(f"market {esc.market_address(mint)}  fee {fee_bps / 100:.2f}%")

    a = esc.job_addresses(mint, customer.pubkey(), 1)

    def job() -> JobView:
        return JobView.decode(prog, a.job, h.account_data(a.job))

    def conserved(step: str) -> None:
        if h.account_data(a.job) is not None:
            check(h.token_balance(a.vault) == vault_owed(job()), f"conservation after {step}")

    principal, fee = booking_cost(rates, hours, fee_bps)
    r = h.send_ok([esc.open_job(customer=customer.pubkey(), mint=mint, customer_token=ctok, job_id=1, hours=hours,
                                workers=[(w.pubkey(), rate) for w, rate in zip(workers, rates)],
                                max_total=principal + fee)], [customer])
    say(f"job opened: {n} workers x {hours} h at {', '.join(fmt(x) + '/h' for x in rates)}; "
        f"locked {fmt(principal)} + fee {fmt(fee)}  ({r.compute_units} CU)")
    check(h.token_balance(a.vault) == principal + fee, "vault != principal + fee")
    for i, w in enumerate(workers):
        h.send_ok([esc.accept(worker=w.pubkey(), job=a.job)], [w])
    say(f"all {n} workers accepted: their clocks start now")
    conserved("accept")

    paid: Dict[int, int] = {i: 0 for i in range(n)}
    fees = refunds = 0
    quitter = n - 1 if n > 1 and quit_after_s < end_after_s else None
    elapsed = 0
    hour = 0
    while True:
        next_hour = (hour + 1) * HOUR
        if quitter is not None and quit_after_s < min(next_hour, end_after_s) and quit_after_s >= elapsed:
            h.warp_seconds(quit_after_s - elapsed)
            elapsed = quit_after_s
            w = workers[quitter]
            expect = quit_refund(job(), quitter, h.now())
            r = h.send_ok([esc.quit(worker=w.pubkey(), job=a.job, worker_token=wtoks[quitter],
                                    customer_token=ctok)], [w])
            (q,) = r.events_named("WorkerQuit")
            for e in settled(r):
                paid[e.slot] += e.amount
                fees += e.fee
            refunds += q.refund
            check(q.refund == expect, "quit refund != unearned share")
            check(paid[quitter] == rates[quitter] * q.hours + tail_pay(rates[quitter], q.secs, False),
                  "quitter not paid its time pro rata")
            say(f"  worker {quitter} quits after {quit_after_s / HOUR:.2f} h: paid {q.hours} h {q.secs} s "
                f"(the started hour pro rata), customer refunded {fmt(q.refund)}")
            conserved("quit")
            quitter = None
        if next_hour > end_after_s or hour >= hours:
            break
        h.warp_seconds(next_hour - elapsed)
        elapsed = next_hour
        hour += 1
        view = job()
        dues = due_slots(view, h.now())
        r = h.send_ok([esc.settle(job=a.job, payees=[(d.slot, wtoks[d.slot]) for d in dues])])
        evs = settled(r)
        check([(e.slot, e.amount, e.fee) for e in evs] == [(d.slot, d.amount, d.fee) for d in dues],
              f"hour {hour}: events != predicted dues")
        for e in evs:
            paid[e.slot] += e.amount
            fees += e.fee
        conserved(f"settle {hour}")
        say(f"  {bar(hour, hours)} hour {hour}/{hours}  {len(evs)} workers paid "
            f"{fmt(sum(e.amount for e in evs))}, fees accrued +{fmt(sum(e.fee for e in evs))}, "
            f"vault {fmt(h.token_balance(a.vault))}  ({r.compute_units} CU)")

    # -- early end (or natural completion) ---------------------------------------
    if end_after_s > elapsed and hour < hours:
        h.warp_seconds(end_after_s - elapsed)
        elapsed = end_after_s
    view = job()
    expect_refund = unearned(view, h.now())
    dues = due_slots(view, h.now())
    r = h.send_ok([esc.end_job(customer=customer.pubkey(), job=a.job, customer_token=ctok,
                               payees=[(s.index, wtoks[s.index]) for s in view.workers])], [customer])
    (ended,) = r.events_named("JobEnded")
    for e in settled(r):
        paid[e.slot] += e.amount
        fees += e.fee
    refunds += ended.refund
    check(ended.refund == expect_refund, "end_job refund != unearned remainder")
    check(ended.owed == job().fees_accrued, "end_job left earned pay unpaid")
    conserved("end_job")
    say(f"customer ends the job after {elapsed / HOUR:.2f} h: workers paid their time (the started hour "
        f"pro rata by the second), customer refunded {fmt(ended.refund)}")
    r = h.send_ok([esc.close_job(customer=customer.pubkey(), mint=mint, job=a.job, customer_token=ctok)],
                  [customer])
    check(h.account_data(a.job) is None and h.account_data(a.vault) is None, "job not closed")
    (closed,) = r.events_named("JobClosed")
    check(closed.fees == fees, "fees moved to the fee vault != fee events")
    say(f"job closed: rent returned to the customer, {fmt(closed.fees)} fees to the market fee vault")
    if fees:  # (nothing to sweep with a zero fee)
        r = h.send_ok([esc.sweep_fees(mint=mint, treasury=treasury)])
        (swept,) = r.events_named("FeesSwept")
        check(swept.from_fee_vault == fees, "swept != accrued fees")
        say(f"fees swept to the treasury by anyone: {fmt(swept.from_fee_vault)}")

    # -- ledger -------------------------------------------------------------------
    final = {k: h.token_balance(v) for k, v in accounts.items()}
    say("")
    say(f"{'party':<10}{'start':>22}{'change':>22}{'final':>22}")
    for k in accounts:
        d = final[k] - start[k]
        say(f"{k:<10}{fmt(start[k]):>22}{('+' if d >= 0 else '') + fmt(d):>22}{fmt(final[k]):>22}")
    for i in range(n):
        check(final[f"worker {i}"] - start[f"worker {i}"] == paid[i], f"worker {i}: balance != events")
    check(final["treasury"] - start["treasury"] == fees, "treasury != fee events")
    tokens_in = start["customer"] - final["customer"]
    tokens_out = sum(paid.values()) + fees
    say(f"tokens in (customer {fmt(principal + fee)} locked - {fmt(refunds)} refunded = {fmt(tokens_in)})  ==  "
        f"tokens out (workers + treasury {fmt(tokens_out)})")
    check(tokens_in == tokens_out, "conservation: tokens in != tokens out")
    check(principal + fee - refunds == tokens_in, "locked - refunded != spent")
    check(sum(final.values()) == minted == h.mint_info(mint).supply, "supply changed")

    if problems:
        for p in problems:
            print(f"MISMATCH: {p}", file=sys.stderr)
        return 1
    say("ledger balanced: OK")
    return 0


def run_credits(quiet: bool = False) -> int:
    """The credits-paid job (see the module docstring)."""
    import asyncio

    from iopay.credits.client import CreditsClient
    from iopay.credits.program import format_usd

    say = (lambda *a: None) if quiet else print
    problems: List[str] = []

    def check(cond: bool, what: str) -> None:
        if not cond:
            problems.append(what)

    h = Harness()
    progs = {}
    try:
        for name in ("job_escrow", "iosd_credits", "inference_pay"):
            progs[name] = h.load_program(ProgramIdl.load(name))
    except ProgramNotBuilt as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    esc = JobEscrow(progs["job_escrow"], fetch=h.account_data)
    usd_auth, authority, customer = h.funded_keypair(), h.funded_keypair(), h.funded_keypair()
    usd = h.create_mint(usd_auth, DECIMALS)
    treasury = h.create_token_account(usd, authority.pubkey())
    h.send_ok([esc.init_market(payer=h.payer.pubkey(), upgrade_authority=h.payer.pubkey(),
                               authority=authority.pubkey(), mint=usd, treasury=treasury, fee_bps=250,
                               max_workers=8, max_hours=720)])
    cust_tok = h.create_ata(usd, customer.pubkey())
    h.mint_to(usd, cust_tok, 150 * UNIT, usd_auth)
    workers = [h.funded_keypair() for _ in range(2)]
    wtoks = [h.create_ata(usd, w.pubkey()) for w in workers]
    client = CreditsClient.for_harness(h, escrow_program=progs["job_escrow"], program=progs["iosd_credits"],
                                       inference_program=progs["inference_pay"])
    pay = client.pay
    h.send_ok([pay.init_pool(payer=h.payer.pubkey(), mint=usd)])
    provider = h.funded_keypair()
    ptok = h.create_ata(usd, provider.pubkey())
    rates, hours = [3 * UNIT, 2_333_333], 5

    def usd_(x: int) -> str:
        return f"{format_usd(x)} USD"

    async def reserve_ok(step: str) -> None:
        cfg = await client.config(usd)
        check(await client.reserve_balance(usd) == cfg.outstanding, f"{step}: reserve != outstanding credits")

    async def go() -> None:
        await client.init_config(h.payer, usd, authority=authority.pubkey(), cap=1_000_000 * UNIT)
        say("")
        say("credits: a USD stablecoin reserve, 1 credit = 1 USD")
        await client.buy(customer, usd, 100 * UNIT)
        await reserve_ok("buy")
        check(await client.balance(usd, customer.pubkey()) == 100 * UNIT, "buy: credits != 100 USD")
        say(f"customer buys {usd_(100 * UNIT)} of credits; reserve {usd_(await client.reserve_balance(usd))}")
        opened = await client.open_job_with_credits(customer, usd, list(zip([w.pubkey() for w in workers], rates)),
                                                    hours, job_id=1)
        await reserve_ok("open")
        principal, fee = booking_cost(rates, hours, 250)
        check(opened.amount == principal + fee, "open: credits taken != booking cost")
        say(f"job opened with credits for 2 workers x {hours} h: {usd_(opened.amount)} "
            f"(pay {usd_(principal)} + fee {usd_(fee)}); credits left "
            f"{usd_(await client.balance(usd, customer.pubkey()))}")
        for w in workers:
            h.send_ok([esc.accept(worker=w.pubkey(), job=opened.job)], [w])
        paid = [0, 0]
        for hour in (1, 2):
            h.warp_seconds(HOUR)
            r = h.send_ok([esc.settle(job=opened.job, payees=[(0, wtoks[0]), (1, wtoks[1])])])
            for p in settled(r):
                paid[p.slot] += p.amount
            say(f"  {bar(hour, hours)} hour {hour}/{hours}  workers paid {usd_(sum(paid))} so far")
        h.warp_seconds(HOUR // 2)
        before = await client.balance(usd, customer.pubkey())
        # Ending cuts each booking to what it earned: two hours and the
        # started half hour pro rata (rounded up, for the workers).
        expect = unearned(await client.job(opened.job), h.now())
        sent = await client.end_job(customer, opened.job)
        await reserve_ok("end")
        ev = sent.events_named("CreditsRefunded")[0]  # then close_job's (nothing stray)
        after = await client.balance(usd, customer.pubkey())
        check(ev.amount == expect == after - before, "end: refunded credits != unearned remainder")
        say(f"customer ends the job after 2.5 h: {usd_(ev.amount)} refunded as credits (balance {usd_(after)})")
        earned = [2 * r + tail_pay(r, HOUR // 2, True) for r in rates]
        check([h.token_balance(t) for t in wtoks] == earned, "workers != two and a half hours")
        # The job's fees went to the market's fee vault when it closed; anyone sweeps them.
        closed = sent.events_named("JobClosed")
        h.send_ok([esc.sweep_fees(mint=usd, treasury=treasury)])
        fees = h.token_balance(treasury)
        check(bool(closed) and fees == closed[0].fees == sum(fee_for(e, 250) for e in earned),
              "treasury != fees of the hours worked")
        # An inference channel paid with credits: the customer's key signs one
        # cumulative voucher per inference, the provider settles the best one,
        # the cooperative close brings the rest back as credits.
        from iopay.inference.program import settlement

        ch = await client.open_channel_with_credits(customer, usd, provider.pubkey(), 10 * UNIT, life=86_400,
                                                    channel_id=1)
        await reserve_ok("channel open")
        say(f"inference channel opened with {usd_(10 * UNIT)} of credits (refunds go back to the credits)")
        best = [ch.signer.pay(250_000) for _ in range(4)][-1]  # four inferences at 0.25 USD
        h.send_ok(pay.settle(provider=provider.pubkey(), mint=usd, provider_token=ptok, vouchers=[best]), [provider])
        await reserve_ok("channel settle")
        to_provider, channel_fee = settlement(0, best.cumulative, 250)
        check(h.token_balance(ptok) == to_provider, "provider != the voucher's amount less the fee")
        sent = await client.coop_close_channel(customer, provider, usd, ch.channel)
        await reserve_ok("channel close")
        ev = sent.events_named("ChannelRefunded")[0]
        before, after = after, await client.balance(usd, customer.pubkey())
        check(ev.amount == 10 * UNIT - best.cumulative and after - before == -best.cumulative,
              "channel: refunded credits != deposit - settled")
        say(f"  4 inferences paid by vouchers; provider settles {usd_(best.cumulative)} "
            f"(gets {usd_(to_provider)}, fee {usd_(channel_fee)}); cooperative close: {usd_(ev.amount)} refunded "
            f"as credits (balance {usd_(after)})")
        h.send_ok([pay.sweep_fees(mint=usd, market=esc.market_address(usd), treasury=treasury)])
        fees = h.token_balance(treasury)
        await client.redeem(customer, usd, after)
        await reserve_ok("redeem")
        final = h.token_balance(cust_tok)
        say(f"customer redeems {usd_(after)}: wallet {usd_(final)}, credits 0, reserve "
            f"{usd_(await client.reserve_balance(usd))}")
        check(150 * UNIT - final == sum(h.token_balance(t) for t in wtoks) + h.token_balance(ptok) + fees,
              "credits: customer's spend != workers + provider + treasury")
        say(f"spent {usd_(150 * UNIT - final)} == workers {usd_(sum(h.token_balance(t) for t in wtoks))} "
            f"+ provider {usd_(h.token_balance(ptok))} + treasury {usd_(fees)}")

    asyncio.run(go())
    if problems:
        for p in problems:
            print(f"MISMATCH: {p}", file=sys.stderr)
        return 1
    say("credits ledger balanced: OK")
    return 0


def main(argv: List[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m iopay.demo", description=__doc__.splitlines()[0])
    p.add_argument("--rates", default="1.5,2,0.75,0.333333", help="IO per hour per worker, comma separated")
    p.add_argument("--hours", type=int, default=6, help="hours booked per worker")
    p.add_argument("--fee-bps", type=int, default=250)
    p.add_argument("--end-after", type=float, default=4.5, help="hours before the customer ends the job")
    p.add_argument("--quit-after", type=float, default=2.5, help="hours before the last worker quits")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("--no-credits", action="store_true", help="skip the credits-paid job")
    a = p.parse_args(argv)
    rates = [round(float(x) * UNIT) for x in a.rates.split(",")]
    rc = run(rates, a.hours, a.fee_bps, round(a.end_after * HOUR), round(a.quit_after * HOUR), a.quiet)
    if rc or a.no_credits:
        return rc
    return run_credits(a.quiet)


if __name__ == "__main__":
    sys.exit(main())
