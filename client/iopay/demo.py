"""End-to-end demo on the embedded LiteSVM chain: ``python -m iopay.demo``.

Creates a mint and a market, opens a job, warps the clock hour by hour while
the crank settles each hour, opens a second job and cancels it part-way,
then prints a ledger of who got what. Exits non-zero on any mismatch between
balances, events and the expected amounts, or if tokens were created or
lost (conservation: tokens in == tokens out).
"""

from __future__ import annotations

import argparse
import sys
from typing import Dict, List

from iopay.idl import ProgramIdl
from iopay.job_escrow import JobEscrow, booking_cost, fee_for, settlement
from iopay.litesvm import Harness, ProgramNotBuilt

HOUR = 3_600
DECIMALS = 6
UNIT = 10**DECIMALS


def fmt(amount: int) -> str:
    return f"{amount / UNIT:,.6f} IO"


def bar(done: int, total: int, width: int = 24) -> str:
    n = round(width * done / total)
    return "[" + "#" * n + "." * (width - n) + "]"


def run(rate: int, hours: int, fee_bps: int, cancel_after_s: int, quiet: bool = False) -> int:
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

    mint_auth, authority = h.funded_keypair(), h.funded_keypair()
    customer, worker = h.funded_keypair(), h.funded_keypair()
    mint = h.create_mint(mint_auth, DECIMALS)
    treasury = h.create_token_account(mint, authority.pubkey())
    ctok = h.create_token_account(mint, customer.pubkey())
    wtok = h.create_token_account(mint, worker.pubkey())
    minted = 1_000 * UNIT
    h.mint_to(mint, ctok, minted, mint_auth)
    accounts = {"customer": ctok, "worker": wtok, "treasury": treasury}
    start = {k: h.token_balance(v) for k, v in accounts.items()}

    h.send_ok([esc.init_market(payer=h.payer.pubkey(), upgrade_authority=h.payer.pubkey(),
                               authority=authority.pubkey(), mint=mint, treasury=treasury,
                               fee_bps=fee_bps, max_workers=8, max_hours=720)])
    say(f"market {esc.market_address(mint)}  fee {fee_bps / 100:.2f}%")

    # -- job 1: runs to completion, settled hourly ---------------------------
    principal, fee = booking_cost(rate, hours, 1, fee_bps)
    r = h.send_ok([esc.open_job(customer=customer.pubkey(), mint=mint, worker=worker.pubkey(),
                                customer_token=ctok, job_id=1, rate_per_hour=rate, hours=hours)], [customer])
    job1 = esc.job_addresses(mint, customer.pubkey(), 1)
    say(f"job 1 opened: {hours} h x {fmt(rate)}/h, locked {fmt(principal)} + fee {fmt(fee)}  ({r.compute_units} CU)")
    check(h.token_balance(job1.vault) == principal + fee, "job 1 vault != principal + fee")
    settled_amount = settled_fee = 0
    for hour in range(1, hours + 1):
        h.warp_seconds(HOUR)
        r = h.send_ok([esc.settle(mint=mint, job=job1.job, worker_token=wtok, treasury=treasury)])
        (ev,) = r.events_named("HoursSettled")
        exp_amount, exp_fee = settlement(rate, fee_bps, hour - 1, 1)
        check((ev.amount, ev.fee, ev.hours_paid) == (exp_amount, exp_fee, hour), f"job 1 hour {hour}: event mismatch")
        settled_amount += ev.amount
        settled_fee += ev.fee
        say(f"  {bar(hour, hours)} hour {hour}/{hours}  worker +{fmt(ev.amount)}  treasury +{fmt(ev.fee)}"
            f"  vault {fmt(h.token_balance(job1.vault))}  ({r.compute_units} CU)")
    r = h.send_ok([esc.cancel(customer=customer.pubkey(), mint=mint, job=job1.job, customer_token=ctok,
                              worker_token=wtok, treasury=treasury)], [customer])
    (closed,) = r.events_named("JobCancelled")
    check(closed.refund == 0, "job 1: refund after completion should be 0")
    check(h.account_data(job1.job) is None and h.account_data(job1.vault) is None, "job 1 not closed")
    say(f"job 1 complete and closed: worker {fmt(settled_amount)}, treasury {fmt(settled_fee)}")

    # -- job 2: cancelled part-way -------------------------------------------
    principal2, fee2 = booking_cost(rate, hours, 1, fee_bps)
    h.send_ok([esc.open_job(customer=customer.pubkey(), mint=mint, worker=worker.pubkey(),
                            customer_token=ctok, job_id=2, rate_per_hour=rate, hours=hours)], [customer])
    job2 = esc.job_addresses(mint, customer.pubkey(), 2)
    h.warp_seconds(cancel_after_s)
    earned_h = min(hours, cancel_after_s // HOUR)
    r = h.send_ok([esc.cancel(customer=customer.pubkey(), mint=mint, job=job2.job, customer_token=ctok,
                              worker_token=wtok, treasury=treasury)], [customer])
    paid2 = sum(e.amount for e in r.events_named("HoursSettled"))
    fee2_paid = sum(e.fee for e in r.events_named("HoursSettled"))
    (c2,) = r.events_named("JobCancelled")
    check(paid2 == rate * earned_h, "job 2: worker pay on cancel")
    check(fee2_paid == fee_for(rate * earned_h, fee_bps), "job 2: fee on cancel")
    check(c2.refund == principal2 + fee2 - paid2 - fee2_paid, "job 2: refund")
    say(f"job 2 cancelled after {cancel_after_s / HOUR:.2f} h: {earned_h} h earned "
        f"(worker {fmt(paid2)}, treasury {fmt(fee2_paid)}), customer refunded {fmt(c2.refund)}")

    # -- ledger ---------------------------------------------------------------
    final = {k: h.token_balance(v) for k, v in accounts.items()}
    expected_worker = settled_amount + paid2
    expected_treasury = settled_fee + fee2_paid
    expected = {
        "customer": start["customer"] - expected_worker - expected_treasury,
        "worker": start["worker"] + expected_worker,
        "treasury": start["treasury"] + expected_treasury,
    }
    say("")
    say(f"{'party':<10}{'start':>20}{'change':>20}{'final':>20}")
    for k in accounts:
        d = final[k] - start[k]
        say(f"{k:<10}{fmt(start[k]):>20}{('+' if d >= 0 else '') + fmt(d):>20}{fmt(final[k]):>20}")
        check(final[k] == expected[k], f"{k}: final {final[k]} != expected {expected[k]}")
    tokens_in = start["customer"] - final["customer"]
    tokens_out = (final["worker"] - start["worker"]) + (final["treasury"] - start["treasury"])
    say(f"{'':<10}tokens in (customer) {fmt(tokens_in)}  ==  tokens out (worker + treasury) {fmt(tokens_out)}")
    check(tokens_in == tokens_out, "conservation: tokens in != tokens out")
    check(sum(final.values()) == minted == h.mint_info(mint).supply, "supply changed")
    check(expected_worker == rate * (hours + earned_h), "worker total")
    check(settled_fee == fee, "job 1: fee shares != locked fee")

    if problems:
        for p in problems:
            print(f"MISMATCH: {p}", file=sys.stderr)
        return 1
    say("ledger balanced: OK")
    return 0


def main(argv: List[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m iopay.demo", description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=float, default=1.5, help="IO per hour (default 1.5)")
    p.add_argument("--hours", type=int, default=6)
    p.add_argument("--fee-bps", type=int, default=250)
    p.add_argument("--cancel-after", type=float, default=2.5, help="hours before cancelling job 2")
    p.add_argument("-q", "--quiet", action="store_true")
    a = p.parse_args(argv)
    return run(round(a.rate * UNIT), a.hours, a.fee_bps, round(a.cancel_after * HOUR), a.quiet)


if __name__ == "__main__":
    sys.exit(main())
