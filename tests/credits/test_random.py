"""Randomized sequences of buy / spend (user or delegate) / accept / settle /
end / quit + reclaim / cancel / close / redeem / delegate changes over warped
time on the compiled programs. After every step: reserve == outstanding ==
sum of balances, and every user's credits + stablecoin changes by exactly
what the model predicts: nothing on buy and redeem, minus the deposit on a
spend, plus the unearned part (computed from the job before the step) on a
refund, and nothing at all for every other user.

``CREDITS_RANDOM_SEQUENCES`` (default 500) sets the number of sequences,
``CREDITS_RANDOM_SEED`` the base seed."""

from __future__ import annotations

import os
import random

from iopay.core.errors import ProgramError
from iopay.credits.state import delegate_window
from iopay.escrow.program import booking_cost
from iopay.escrow.state import is_closable, quit_refund, unearned as unearned_at
from tests.credits.env import DAY, FEE_BPS, HOUR, USD, User, make_env

SEQUENCES = int(os.environ.get("CREDITS_RANDOM_SEQUENCES", "500"))
SEED = int(os.environ.get("CREDITS_RANDOM_SEED", "11"))
STEPS = 8
PER_HARNESS = 50


def unearned(env, job) -> int:
    """What ending `job` now refunds (the SDK's mirror of cut_to_earned:
    pro rata by the second, rounded up for the workers)."""
    return unearned_at(env.job(job), env.h.now())


class Run:
    def __init__(self, env, rng: random.Random) -> None:
        self.env, self.rng = env, rng
        h = env.h
        self.users = []
        for _ in range(2):
            kp = h.funded_keypair()
            tok = h.create_ata(env.mint, kp.pubkey())
            h.mint_to(env.mint, tok, 1_000 * USD, env.mint_auth)
            self.users.append(User(kp, tok))
        for u in self.users:
            env.open_account(u)
        self.backend = h.funded_keypair()
        self.delegation = None  # (user index, allowance, period)
        self.jobs = []  # (user index, job, job_id)
        self.next_id = 0

    def value(self, u: User) -> int:
        return self.env.h.token_balance(u.token) + self.env.credits(u)

    def values(self):
        return [self.value(u) for u in self.users]

    def check(self, before, deltas) -> None:
        after = self.values()
        assert after == [b + d for b, d in zip(before, deltas)], (before, deltas, after)
        env = self.env
        c = env.config_view()
        assert env.h.token_balance(env.reserve) == c.outstanding

    def step(self) -> None:
        env, rng = self.env, self.rng
        i = rng.randrange(2)
        u = self.users[i]
        before = self.values()
        delta = [0, 0]
        op = rng.choice(["buy", "buy", "redeem", "spend", "spend", "delegate_spend", "warp", "warp", "accept",
                         "settle", "end", "quit", "cancel", "close", "set_delegate", "revoke", "overdraw"])
        if op == "buy":
            amount = rng.randint(1, 200 * USD)
            env.ok(env.buy_ix(u, amount), u.kp)
        elif op == "redeem":
            bal = env.credits(u)
            if bal:
                env.ok(env.redeem_ix(u, rng.randint(1, bal)), u.kp)
        elif op == "overdraw":
            env.fails(env.redeem_ix(u, env.credits(u) + rng.randint(1, USD)), u.kp, name="InsufficientCredits")
        elif op in ("spend", "delegate_spend"):
            signer = u.kp
            if op == "delegate_spend":
                if self.delegation is None:
                    return
                i, allowance, period = self.delegation
                u, signer = self.users[i], self.backend
            n = rng.randint(1, 2)
            rates = [rng.randint(1, 5 * USD) for _ in range(n)]
            hours = rng.randint(1, 6)
            cost = sum(booking_cost(rates, hours, FEE_BPS))
            self.next_id += 1
            ix = env.open_job_ix(u, self.next_id, rates, hours, signer=signer)
            limit = env.credits(u)
            err = "InsufficientCredits"
            if op == "delegate_spend":
                d = env.h.account_data(env.cr.delegation_address(env.cr.credit_address(env.mint, u.key),
                                                                 self.backend.pubkey()))
                from iopay.credits.state import DelegationView

                dv = DelegationView.decode(env.prog, env.cr.program_id, d)
                if dv.available(env.h.now()) < cost:
                    env.fails(ix, signer, name="AllowanceExceeded")
                    return
            if cost > limit:
                env.fails(ix, signer, name=err)
                return
            env.ok(ix, signer)
            delta[i] = -cost
            self.jobs.append((i, env.job_address(u, self.next_id)))
        elif op == "warp":
            env.h.warp_seconds(rng.choice([rng.randint(1, 2 * HOUR), HOUR, DAY]))
        elif op == "accept" and self.jobs:
            _, job = rng.choice(self.jobs)
            for k, s in enumerate(env.job(job).workers):
                view = env.job(job)
                if s.status == "Pending" and view.state == "Open":
                    ix = env.esc.accept(worker=env.workers[k].key, job=job)
                    if env.h.now() > view.accept_deadline:  # a day after open (the default window)
                        env.fails(ix, env.workers[k].kp, name="AcceptDeadlinePassed")
                    else:
                        env.ok(ix, env.workers[k].kp)
        elif op == "settle" and self.jobs:
            _, job = rng.choice(self.jobs)
            res = env.h.send([env.esc.settle(job=job, payees=env.payees(job))])
            assert res.ok or res.error.name == "NothingToSettle", res.error
        elif op == "end" and self.jobs:
            i, job = rng.choice(self.jobs)
            if env.job(job).state != "Open":
                return
            delta[i] = unearned(env, job)
            env.ok(env.end_ix(self.users[i], job), self.users[i].kp)
        elif op == "quit" and self.jobs:
            i, job = rng.choice(self.jobs)
            view = env.job(job)
            k = rng.randrange(len(view.workers))
            s = view.workers[k]
            if s.status not in ("Pending", "Active"):
                return
            refund = quit_refund(view, k, env.h.now())  # pro rata, rounded down for the worker
            w = env.workers[k]
            env.ok(env.esc.quit(worker=w.key, job=job, worker_token=w.token,
                                customer_token=env.account(self.users[i]).refund_account), w.kp)
            if refund:
                env.ok(env.cr.reclaim(user=self.users[i].key, mint=env.mint))
            delta[i] = refund
        elif op == "cancel" and self.jobs:
            i, job = rng.choice(self.jobs)
            view = env.job(job)
            if any(s.started for s in view.workers):
                env.fails(env.cancel_ix(self.users[i], job), self.users[i].kp, name="JobStarted")
                return
            delta[i] = env.h.token_balance(env.esc.vault_address(job))
            env.ok(env.cancel_ix(self.users[i], job), self.users[i].kp)
            self.jobs.remove((i, job))
        elif op == "close" and self.jobs:
            i, job = rng.choice(self.jobs)
            view = env.job(job)
            if is_closable(view):
                env.ok(env.close_ix(self.users[i], job), self.users[i].kp)
                self.jobs.remove((i, job))
        elif op == "set_delegate":
            allowance = rng.randint(1, 100) * USD
            period = rng.choice([HOUR, DAY])
            if self.delegation is not None and self.delegation[0] != i:
                return
            env.ok(env.set_delegate_ix(u, self.backend.pubkey(), allowance, period), u.kp)
            self.delegation = (i, allowance, period)
        elif op == "revoke" and self.delegation is not None:
            i = self.delegation[0]
            env.ok(env.cr.revoke_delegate(user=self.users[i].key, mint=env.mint, delegate=self.backend.pubkey()),
                   self.users[i].kp)
            self.delegation = None
        self.check(before, delta)


def test_random_sequences(harness):
    rng = random.Random(SEED)
    env = make_env(harness, n_users=0, n_workers=2)
    total = 0
    for seq in range(SEQUENCES):
        if seq and seq % PER_HARNESS == 0:
            # A fresh chain now and then keeps LiteSVM's account set small.
            from iopay.core.harness import Harness

            env = make_env(Harness(), n_users=0, n_workers=2)
        run = Run(env, random.Random(rng.getrandbits(64)))
        for _ in range(STEPS):
            run.step()
            total += 1
        # outstanding is exactly the users' balances (no inference here)
        c = env.config_view()
        assert c.outstanding == env.h.token_balance(env.reserve)
    assert total == SEQUENCES * STEPS
