"""Compute units of every iosd_credits instruction on LiteSVM, and the
overhead of paying a job with credits: ``.venv/bin/python bench/credits/cu.py``
(``make bench-credits``).

Runs the real programs (target/deploy/{job_escrow,inference_pay,iosd_credits}.so)
with the real SPL Token program and prints one JSON object:

* ``instructions``: CU of each credits instruction (the job ones for 2 workers;
  ``*_delegate`` when a delegate signs);
* ``open_job_vs_tokens``: for k workers, CU of ``open_job_with_credits`` and
  of job_escrow's ``open_job`` for the same job paid with tokens directly,
  and their ratio (the overhead of paying with credits); likewise for
  ending, cancelling and closing;
* ``channel_vs_tokens``: CU of each inference channel step paid with credits
  (``*_channel_with_credits``) and of the same inference_pay instruction
  paid with tokens directly, and their ratio.

Numbers are measurements of this build, not assertions.

Every job opened for a comparison has an id whose job PDA and vault PDA
both have the bump 255 (``first_try_job_id``): opening a job derives both
with ``find_program_address``, 1,500 CU per bump tried, so with ids taken
in turn the two sides of "the same job" differed by a few thousand CU of
bump search alone (random with the fresh keys of each run). With both
found on the first try, the comparison is the same job's cost on both
sides, and runs repeat to the CU. Channels likewise (``first_try_channel_id``).
"""

from __future__ import annotations

import json
import struct
import sys
from typing import Any, Dict, List

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.core import pda, spl
from iopay.core.harness import Harness, ProgramNotBuilt
from iopay.core.idl import ProgramIdl
from iopay.credits.program import IosdCredits
from iopay.escrow.program import MAX_WORKERS_CAP, JobEscrow, booking_cost
from iopay.inference.program import InferencePay

HOUR = 3_600
USD = 1_000_000
WORKER_COUNTS = [1, 2, 4, 8]


class Bench:
    def __init__(self) -> None:
        h = self.h = Harness()
        ep, cp, pp = ProgramIdl.load("job_escrow"), ProgramIdl.load("iosd_credits"), ProgramIdl.load("inference_pay")
        for prog in (ep, cp, pp):
            h.load_program(prog)
        self.esc = JobEscrow(ep, fetch=h.account_data)
        self.pay = InferencePay(pp, fetch=h.account_data)
        self.cr = IosdCredits(cp, self.esc, fetch=h.account_data, inference=self.pay)
        self.mint_auth, self.authority = Keypair(), h.funded_keypair()
        self.mint = h.create_mint(self.mint_auth, 6)
        self.treasury = h.create_token_account(self.mint, self.authority.pubkey())
        self.cu: Dict[str, int] = {}
        self.fee_bps = 250
        h.send_ok([self.esc.init_market(payer=h.payer.pubkey(), upgrade_authority=h.payer.pubkey(),
                                        authority=self.authority.pubkey(), mint=self.mint, treasury=self.treasury,
                                        fee_bps=self.fee_bps, max_workers=MAX_WORKERS_CAP, max_hours=720)])
        self.run("init_config", self.cr.init_config(payer=h.payer.pubkey(), upgrade_authority=h.payer.pubkey(),
                                                    authority=self.authority.pubkey(), mint=self.mint, cap=10**15))
        h.send_ok([self.pay.init_pool(payer=h.payer.pubkey(), mint=self.mint)])
        self.workers = [h.funded_keypair() for _ in range(max(WORKER_COUNTS))]
        self.wtoks = [h.create_ata(self.mint, w.pubkey()) for w in self.workers]
        self.job_id = 0

    def run(self, name: str, ix: Any, *signers: Keypair) -> int:
        res = self.h.send([ix], signers)
        if res.error:
            raise SystemExit(f"{name}: {res.error}\n" + "\n".join(res.logs))
        self.cu[name] = res.compute_units
        return res.compute_units

    def user(self) -> Keypair:
        u = self.h.funded_keypair()
        tok = self.h.create_ata(self.mint, u.pubkey())
        self.h.mint_to(self.mint, tok, 100_000 * USD, self.mint_auth)
        return u

    def terms(self, k: int) -> List[Any]:
        return [(self.workers[i].pubkey(), (i + 1) * USD) for i in range(k)]

    def accept(self, job: Pubkey, k: int) -> None:
        for i in range(k):
            self.h.send_ok([self.esc.accept(worker=self.workers[i].pubkey(), job=job)], [self.workers[i]])

    def first_try_job_id(self, customer: Pubkey) -> int:
        """The next job id after ``self.job_id`` (which it advances) whose job
        and vault PDAs of ``customer`` both have the bump 255."""
        market = self.esc.market_address(self.mint)
        while True:
            self.job_id += 1
            job, bump = pda.job_pda(self.esc.program_id, market, customer, self.job_id)
            if bump == 255 and pda.vault_pda(self.esc.program_id, job)[1] == 255:
                return self.job_id

    def first_try_channel_id(self, payer: Pubkey, provider: Pubkey) -> int:
        """As ``first_try_job_id``, for an inference_pay channel PDA of ``payer``."""
        while True:
            self.job_id += 1
            seeds = [b"channel", bytes(payer), bytes(provider), bytes(self.mint), struct.pack("<Q", self.job_id)]
            if Pubkey.find_program_address(seeds, self.pay.program_id)[1] == 255:
                return self.job_id

    def payees(self, k: int) -> list:
        return [(i, self.wtoks[i]) for i in range(k)]

    def compare(self, k: int) -> Dict[str, Any]:
        """The same job (k workers, 5 h) paid with tokens and with credits:
        open, then cancel; open, accept, 2 h, end (paying the due hours), close."""
        h, cr, esc, mint = self.h, self.cr, self.esc, self.mint
        u = self.user()
        tok = spl.associated_token_address(u.pubkey(), mint)
        h.send_ok([cr.open_account(user=u.pubkey(), mint=mint), cr.buy(user=u.pubkey(), mint=mint, user_token=tok,
                                                                       amount=50_000 * USD)], [u])
        out: Dict[str, Any] = {"workers": k}
        for kind in ("tokens", "credits"):
            cu: Dict[str, int] = {}
            customer = u.pubkey() if kind == "tokens" else cr.user_addresses(mint, u.pubkey()).customer
            for flow in ("cancel", "end"):
                jid = self.first_try_job_id(customer)
                if kind == "tokens":
                    job = esc.job_addresses(mint, u.pubkey(), jid).job
                    terms = self.terms(k)
                    cost = sum(booking_cost([r for _, r in terms], 5, self.fee_bps))
                    cu["open"] = self.run("x", esc.open_job(customer=u.pubkey(), mint=mint, customer_token=tok,
                                                            job_id=jid, hours=5, workers=terms, max_total=cost), u)
                else:
                    job = cr.job_address(mint, u.pubkey(), jid)
                    cu["open"] = self.run("x", cr.open_job_with_credits(authority=u.pubkey(), user=u.pubkey(),
                                                                        mint=mint, job_id=jid, hours=5,
                                                                        workers=self.terms(k)), u)
                if flow == "cancel":
                    ix = (esc.cancel(customer=u.pubkey(), job=job, customer_token=tok) if kind == "tokens" else
                          cr.cancel_job_with_credits(authority=u.pubkey(), user=u.pubkey(), mint=mint, job=job))
                    cu["cancel"] = self.run("x", ix, u)
                    continue
                self.accept(job, k)
                h.warp_seconds(2 * HOUR + 60)
                if kind == "tokens":
                    cu["end"] = self.run("x", esc.end_job(customer=u.pubkey(), job=job, customer_token=tok,
                                                          payees=self.payees(k)), u)
                    cu["close"] = self.run("x", esc.close_job(customer=u.pubkey(), mint=mint, job=job,
                                                              customer_token=tok), u)
                else:
                    cu["end"] = self.run("x", cr.end_job_with_credits(authority=u.pubkey(), user=u.pubkey(),
                                                                      mint=mint, job=job, payees=self.payees(k)), u)
                    cu["close"] = self.run("x", cr.close_job_with_credits(authority=u.pubkey(), user=u.pubkey(),
                                                                          mint=mint, job=job), u)
            out[kind] = cu
        out["ratio"] = {op: round(out["credits"][op] / out["tokens"][op], 3) for op in out["tokens"]}
        return out

    def every_instruction(self) -> None:
        h, cr, mint = self.h, self.cr, self.mint
        u = h.funded_keypair()
        tok = h.create_ata(mint, u.pubkey())
        h.mint_to(mint, tok, 10_000 * USD, self.mint_auth)
        a = self.authority
        self.run("set_cap", cr.set_cap(authority=a.pubkey(), mint=mint, cap=10**15), a)
        self.run("set_paused", cr.set_paused(authority=a.pubkey(), mint=mint, paused=False), a)
        self.run("propose_authority", cr.propose_authority(authority=a.pubkey(), mint=mint, new_authority=a.pubkey()), a)
        self.run("accept_authority", cr.accept_authority(new_authority=a.pubkey(), mint=mint), a)
        self.run("open_account", cr.open_account(user=u.pubkey(), mint=mint), u)
        self.run("buy", cr.buy(user=u.pubkey(), mint=mint, user_token=tok, amount=1_000 * USD), u)
        self.run("redeem", cr.redeem(user=u.pubkey(), mint=mint, user_token=tok, amount=100 * USD), u)
        d = h.funded_keypair()
        self.run("set_delegate", cr.set_delegate(user=u.pubkey(), mint=mint, delegate=d.pubkey(), allowance=500 * USD,
                                                 period_secs=86_400), u)
        self.job_id += 1
        self.run("open_job_with_credits", cr.open_job_with_credits(
            authority=u.pubkey(), user=u.pubkey(), mint=mint, job_id=self.job_id, hours=5, workers=self.terms(2)), u)
        job_u = cr.job_address(mint, u.pubkey(), self.job_id)
        self.job_id += 1
        self.run("open_job_with_credits_delegate", cr.open_job_with_credits(
            authority=d.pubkey(), user=u.pubkey(), mint=mint, job_id=self.job_id, hours=5, workers=self.terms(2),
            delegate=True), d)
        job_d = cr.job_address(mint, u.pubkey(), self.job_id)
        self.run("cancel_job_with_credits_delegate", cr.cancel_job_with_credits(
            authority=d.pubkey(), user=u.pubkey(), mint=mint, job=job_d, delegate=True), d)
        self.accept(job_u, 2)
        h.warp_seconds(HOUR + 5)
        w = self.workers[1]
        refund = cr.user_addresses(mint, u.pubkey()).refund_account
        h.send_ok([self.esc.quit(worker=w.pubkey(), job=job_u, worker_token=self.wtoks[1],
                                 customer_token=refund)], [w])
        self.run("reclaim", cr.reclaim(user=u.pubkey(), mint=mint))
        self.run("end_job_with_credits", cr.end_job_with_credits(
            authority=u.pubkey(), user=u.pubkey(), mint=mint, job=job_u, payees=self.payees(2)), u)
        self.run("close_job_with_credits", cr.close_job_with_credits(
            authority=u.pubkey(), user=u.pubkey(), mint=mint, job=job_u), u)
        self.run("withdraw_rent", cr.withdraw_rent(user=u.pubkey(), mint=mint), u)
        self.run("revoke_delegate", cr.revoke_delegate(user=u.pubkey(), mint=mint, delegate=d.pubkey()), u)

    def channels(self) -> Dict[str, Any]:
        """An inference channel's steps paid with credits and with tokens
        directly (same deposit, provider, life): open, top up, cooperative
        close; open, start close, finish close after the window."""
        h, cr, pay, mint = self.h, self.cr, self.pay, self.mint
        u, provider = self.user(), self.workers[2]
        tok = spl.associated_token_address(u.pubkey(), mint)
        h.send_ok([cr.open_account(user=u.pubkey(), mint=mint), cr.buy(user=u.pubkey(), mint=mint, user_token=tok,
                                                                       amount=1_000 * USD)], [u])
        market, pk, uk = self.esc.market_address(mint), provider.pubkey(), u.pubkey()
        out: Dict[str, Any] = {}
        for kind in ("tokens", "credits"):
            cu: Dict[str, int] = {}
            payer = uk if kind == "tokens" else cr.user_addresses(mint, uk).customer
            for flow in ("coop", "unilateral"):
                cid = self.first_try_channel_id(payer, pk)
                exp = h.now() + 60
                if kind == "tokens":
                    ch = pay.channel_address(uk, pk, mint, cid)
                    cu["open"] = self.run("x", pay.open_channel(payer=uk, provider=pk, mint=mint, market=market,
                                                                payer_token=tok, channel_id=cid, deposit=10 * USD,
                                                                expires_at=exp, dispute_window=60), u)
                else:
                    ch = cr.channel_address(mint, uk, pk, cid)
                    cu["open"] = self.run("open_channel_with_credits", cr.open_channel_with_credits(
                        authority=uk, user=uk, mint=mint, provider=pk, channel_id=cid, deposit=10 * USD,
                        expires_at=exp, dispute_window=60), u)
                if flow == "coop":
                    if kind == "tokens":
                        cu["top_up"] = self.run("x", pay.top_up(payer=uk, mint=mint, market=market, payer_token=tok,
                                                                channel=ch, amount=USD, expires_at=exp + 60), u)
                        cu["coop_close"] = self.run("x", pay.coop_close(payer=uk, provider=pk, channel=ch, mint=mint,
                                                                        rent_payer=uk, refund_to=tok), u, provider)
                    else:
                        cu["top_up"] = self.run("top_up_channel_with_credits", cr.top_up_channel_with_credits(
                            authority=uk, user=uk, mint=mint, channel=ch, amount=USD, expires_at=exp + 60), u)
                        cu["coop_close"] = self.run("coop_close_channel_with_credits",
                                                    cr.coop_close_channel_with_credits(
                                                        authority=uk, user=uk, mint=mint, provider=pk, channel=ch,
                                                        rent_payer=uk), u, provider)
                    continue
                h.warp_seconds(60)
                if kind == "tokens":
                    cu["start_close"] = self.run("x", pay.start_close(payer=uk, channel=ch), u)
                    h.warp_seconds(60)
                    cu["finish_close"] = self.run("x", pay.finish_close(channel=ch, mint=mint, rent_payer=uk,
                                                                        refund_to=tok))
                else:
                    cu["start_close"] = self.run("start_close_channel_with_credits",
                                                 cr.start_close_channel_with_credits(authority=uk, user=uk, mint=mint,
                                                                                     channel=ch), u)
                    h.warp_seconds(60)
                    cu["finish_close"] = self.run("finish_close_channel_with_credits",
                                                  cr.finish_close_channel_with_credits(user=uk, mint=mint, channel=ch,
                                                                                       rent_payer=uk))
            out[kind] = cu
        out["ratio"] = {k: round(out["credits"][k] / out["tokens"][k], 3) for k in out["tokens"]}
        return out

def main() -> int:
    try:
        b = Bench()
    except ProgramNotBuilt as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    b.every_instruction()
    comparisons = [b.compare(k) for k in WORKER_COUNTS]
    channels = b.channels()
    b.cu.pop("x", None)
    print(json.dumps({"instructions": dict(sorted(b.cu.items())), "open_job_vs_tokens": comparisons,
                      "channel_vs_tokens": channels, "target_ratio_open": 1.3}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
