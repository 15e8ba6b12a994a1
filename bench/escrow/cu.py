"""Compute units of every job_escrow instruction on LiteSVM, and per
worker-hour of settlement: ``.venv/bin/python bench/escrow/cu.py``.

Runs the real program (target/deploy/job_escrow.so, `make programs`) with
the real SPL Token program and prints one JSON object:

* ``instructions``: CU of each instruction (open_job, settle, end_job and
  extend for several worker counts);
* ``settle``: for k workers paid in one instruction, CU, CU per worker and
  CU per worker-hour when each is paid 1 hour or catches up 3 hours (one
  settle pays any number of hours for the same cost), and whether the
  transaction (payer + compute-budget instructions, no lookup table) fits
  in 1232 bytes;
* ``floor``: what one SPL Token transfer costs inside the same CPI (the
  Token program's own units, read from the settle's logs, plus the runtime's
  1,000-unit invoke charge): the least a worker-hour paid by CPI can cost;
* ``limits``: the largest k whose settle transaction fits without a lookup
  table, the k that 1.4M CU would allow, and the most workers whose
  ``open_job`` and whose ``end_job`` paying every worker fit in one
  transaction (what ``MAX_WORKERS_CAP`` enforces).

Numbers are measurements of this build, not assertions (tests make none).
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any, Dict, List

from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
from solders.keypair import Keypair
from solders.message import Message
from solders.signature import Signature
from solders.transaction import Transaction

from iopay.core.idl import ProgramIdl
from iopay.escrow.program import MAX_WORKERS_CAP, U64_MAX, JobEscrow
from iopay.core.harness import Harness, ProgramNotBuilt

HOUR = 3_600
TX_LIMIT = 1_232
MAX_CU = 1_400_000
WORKER_COUNTS = [1, 2, 4, 8, MAX_WORKERS_CAP]
#: The runtime's fixed charge for a cross-program invocation (agave's
#: ``invoke_units``), on top of what the callee consumes.
INVOKE_UNITS = 1_000


class Bench:
    def __init__(self) -> None:
        self.prog = ProgramIdl.load("job_escrow")
        self.h = Harness()
        self.h.load_program(self.prog)
        self.esc = JobEscrow(self.prog, fetch=self.h.account_data)
        h = self.h
        self.mint_auth, self.authority, self.customer = Keypair(), h.funded_keypair(), h.funded_keypair()
        self.mint = h.create_mint(self.mint_auth, 6)
        self.treasury = h.create_token_account(self.mint, self.authority.pubkey())
        self.ctok = h.create_token_account(self.mint, self.customer.pubkey())
        h.mint_to(self.mint, self.ctok, 10**15, self.mint_auth)
        self.workers = [h.funded_keypair() for _ in range(64)]
        self.wtoks = [h.create_ata(self.mint, w.pubkey()) for w in self.workers]
        self.next_id = 1
        self.budget_ix_cu = self._budget_ix_cu()
        self.cu: Dict[str, Any] = {}

    def run(self, ixs: List[Any], signers=()) -> int:
        """CU of ``ixs`` alone: sent after a 1.4M compute-unit-limit
        instruction (the default is 200k per instruction), whose own cost
        is subtracted."""
        res = self.h.send([set_compute_unit_limit(MAX_CU)] + list(ixs), signers)
        if res.error:
            raise RuntimeError(f"{res.error}\n" + "\n".join(res.logs))
        self.last_logs = res.logs
        return res.compute_units - self.budget_ix_cu

    def token_cpi_units(self) -> List[int]:
        """Units the Token program consumed in each CPI of the last run."""
        return [int(m.group(1)) for m in (re.match(r"Program Tokenkeg\S+ consumed (\d+) of", l)
                                          for l in self.last_logs) if m]

    def _budget_ix_cu(self) -> int:
        res = self.h.send([set_compute_unit_limit(MAX_CU)])
        return res.raise_for_error().compute_units

    def tx_size(self, ix) -> int:
        """Serialized size with a payer and both compute-budget instructions."""
        msg = Message.new_with_blockhash([set_compute_unit_limit(MAX_CU), set_compute_unit_price(1), ix],
                                         self.h.payer.pubkey(), self.h.svm.latest_blockhash())
        sigs = [Signature.default()] * msg.header.num_required_signatures
        return len(bytes(Transaction.populate(msg, sigs)))

    def open(self, n: int, hours: int = 100, usd: bool = False, accept: bool = True):
        jid = self.next_id
        self.next_id += 1
        rates = [1_000_000 + 333 * i for i in range(n)]
        cu = self.run([self.open_ix(jid, n, hours, usd)], [self.customer])
        job = self.esc.job_addresses(self.mint, self.customer.pubkey(), jid).job
        accept_cu = []
        if accept:
            for w in self.workers[:n]:
                accept_cu.append(self.run([self.esc.accept(worker=w.pubkey(), job=job)], [w]))
        return job, cu, accept_cu

    def open_ix(self, jid: int, n: int, hours: int = 100, usd: bool = False):
        rates = [1_000_000 + 333 * i for i in range(n)]
        return self.esc.open_job(customer=self.customer.pubkey(), mint=self.mint, customer_token=self.ctok,
                                 job_id=jid, hours=hours, usd=usd, max_total=U64_MAX,
                                 workers=[(w.pubkey(), r) for w, r in zip(self.workers, rates)])

    def settle_ix(self, job, k: int):
        return self.esc.settle(job=job, payees=[(i, self.wtoks[i]) for i in range(k)])

    def end_ix(self, job, k: int):
        return self.esc.end_job(customer=self.customer.pubkey(), job=job, customer_token=self.ctok,
                                payees=[(i, self.wtoks[i]) for i in range(k)])

    def measure(self) -> Dict[str, Any]:
        h, esc, a = self.h, self.esc, self.authority
        ins: Dict[str, Any] = {}
        ins["init_market"] = self.run([esc.init_market(
            payer=h.payer.pubkey(), upgrade_authority=h.payer.pubkey(), authority=a.pubkey(), mint=self.mint,
            treasury=self.treasury, fee_bps=250, max_workers=MAX_WORKERS_CAP, max_hours=1_000)])
        ins["init_price_feed"] = self.run([esc.init_price_feed(payer=h.payer.pubkey(), authority=a.pubkey(),
                                                               mint=self.mint, max_staleness=60, max_conf_bps=100)], [a])
        ins["set_price"] = self.run([esc.set_price(authority=a.pubkey(), mint=self.mint, price=25_000_000,
                                                   conf=10_000, expo=-8, publish_time=h.now())], [a])
        ins["set_oracle_limits"] = self.run([esc.set_oracle_limits(authority=a.pubkey(), mint=self.mint,
                                                                   max_staleness=60, max_conf_bps=100)], [a])
        ins["set_market_paused"] = self.run([esc.set_market_paused(authority=a.pubkey(), mint=self.mint,
                                                                   paused=False)], [a])
        ins["update_market"] = self.run([esc.update_market(authority=a.pubkey(), mint=self.mint,
                                                           treasury=self.treasury, fee_bps=250,
                                                           max_workers=MAX_WORKERS_CAP, max_hours=1_000)], [a])
        for n in WORKER_COUNTS:
            _, ins[f"open_job[{n} workers]"], acc = self.open(n, accept=True)
            ins["accept"] = max(acc)
            _, ins[f"open_job_usd[{n} workers]"], _ = self.open(n, usd=True, accept=False)

        settle: Dict[str, Any] = {}
        for k in WORKER_COUNTS:
            job, _, _ = self.open(k)
            h.warp_seconds(HOUR)
            one = self.run([self.settle_ix(job, k)])
            transfer_units = self.token_cpi_units()
            h.warp_seconds(3 * HOUR)
            three = self.run([self.settle_ix(job, k)])
            size = self.tx_size(self.settle_ix(job, k))
            settle[str(k)] = {
                "cu": one, "cu_per_worker": one // k, "cu_per_worker_hour": one // k,
                "cu_catch_up_3h": three, "cu_per_worker_hour_catch_up_3h": three // (3 * k),
                "tx_bytes": size, "fits_without_lookup_table": size <= TX_LIMIT,
                "token_transfer_units": transfer_units,
            }
            ins[f"extend[{k} workers]"] = self.run([esc.extend(customer=self.customer.pubkey(), mint=self.mint, job=job,
                                                              customer_token=self.ctok, hours=1)], [self.customer])
            h.warp_seconds(HOUR + 1_234)
            ins[f"end_job[{k} workers paid]"] = self.run([self.end_ix(job, k)], [self.customer])
            ins["close_job"] = self.run([esc.close_job(customer=self.customer.pubkey(), mint=self.mint, job=job,
                                                       customer_token=self.ctok)], [self.customer])
        ins["sweep_fees[fee vault]"] = self.run([esc.sweep_fees(mint=self.mint, treasury=self.treasury)])

        job, _, _ = self.open(2)
        h.warp_seconds(HOUR + 60)
        ins["quit"] = self.run([esc.quit(worker=self.workers[0].pubkey(), job=job, worker_token=self.wtoks[0],
                                         customer_token=self.ctok)], [self.workers[0]])
        ins["release"] = self.run([esc.release(customer=self.customer.pubkey(), job=job, customer_token=self.ctok,
                                               slot=1, worker_token=self.wtoks[1])], [self.customer])
        ins["sweep_fees[job + fee vault]"] = self.run([esc.sweep_fees(mint=self.mint, treasury=self.treasury,
                                                                      job=job)])
        job, _, _ = self.open(4, accept=False)
        ins["cancel"] = self.run([esc.cancel(customer=self.customer.pubkey(), job=job, customer_token=self.ctok)],
                                 [self.customer])
        new = h.funded_keypair()
        ins["set_market_authority"] = self.run([esc.set_market_authority(authority=a.pubkey(), mint=self.mint,
                                                                         new_authority=new.pubkey())], [a])
        ins["accept_market_authority"] = self.run([esc.accept_market_authority(new_authority=new.pubkey(),
                                                                               mint=self.mint)], [new])

        # Transaction sizes (built, not sent: they need not be valid jobs).
        fake_job = Keypair().pubkey()
        fit = max(k for k in range(1, 41) if self.tx_size(self.settle_ix(fake_job, k)) <= TX_LIMIT)
        open_fit = max(n for n in range(1, 41) if self.tx_size(self.open_ix(10**9, n, usd=True)) <= TX_LIMIT)
        end_fit = max(n for n in range(1, 41) if self.tx_size(self.end_ix(fake_job, n)) <= TX_LIMIT)
        big = settle[str(WORKER_COUNTS[-1])]
        marginal = (big["cu"] - settle["1"]["cu"]) // (WORKER_COUNTS[-1] - 1)
        transfer = max(big["token_transfer_units"])
        return {
            "program": "job_escrow",
            "runtime": "LiteSVM (solders), real SPL Token program",
            "instructions": dict(sorted(ins.items())),
            "settle": settle,
            "per_worker_hour": {
                "settle_1_worker_1h": settle["1"]["cu"],
                "settle_4_workers_1h_per_worker_hour": settle["4"]["cu_per_worker"],
                f"settle_{WORKER_COUNTS[-1]}_workers_1h_per_worker_hour": big["cu_per_worker"],
                "marginal_cu_per_extra_worker": marginal,
                f"settle_{WORKER_COUNTS[-1]}_workers_3h_catch_up_per_worker_hour": big["cu_per_worker_hour_catch_up_3h"],
            },
            "floor": {
                "token_program_units_per_transfer": transfer,
                "invoke_units": INVOKE_UNITS,
                "cu_per_worker_hour_floor": transfer + INVOKE_UNITS,
            },
            "limits": {
                "max_workers_per_settle_tx_without_lookup_table": fit,
                "max_workers_per_open_job_tx": open_fit,
                "max_workers_per_end_job_tx_paying_all": end_fit,
                "max_workers_cap": MAX_WORKERS_CAP,
                "max_workers_per_settle_by_cu": (MAX_CU - settle["1"]["cu"]) // marginal + 1,
                "tx_bytes_limit": TX_LIMIT,
                "cu_limit": MAX_CU,
            },
        }


def main() -> int:
    try:
        result = Bench().measure()
    except ProgramNotBuilt as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
