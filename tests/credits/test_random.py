"""Randomized sequences of buy / spend (user or delegate) / accept / settle /
end / quit + reclaim / cancel / close / redeem / delegate changes, and
inference channels paid with credits (open by the user or the delegate,
vouchers settled by the provider, top-up, cooperative close, unilateral
close and finish), over warped time on the compiled programs. After every
step: reserve == outstanding == sum of balances, and every user's credits +
stablecoin changes by exactly what the model predicts: nothing on buy and
redeem, minus the deposit on a spend or a channel deposit, plus the unearned
part (computed from the job before the step) on a refund, plus the
unsettled rest of a channel when it closes, and nothing at all for every
other user (a settled voucher moves nothing of the user's: it was spent).

``CREDITS_RANDOM_SEQUENCES`` (default 500) sets the number of sequences,
``CREDITS_RANDOM_SEED`` the base seed."""

from __future__ import annotations

import os
import random
from collections import Counter

from iopay.core.errors import ProgramError
from iopay.credits.state import delegate_window
from iopay.escrow.program import booking_cost
from iopay.escrow.state import is_closable, quit_refund, unearned as unearned_at
from iopay.inference.vouchers import VoucherSigner
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
    def __init__(self, env, rng: random.Random, done: Counter) -> None:
        self.env, self.rng, self.done = env, rng, done
        h = env.h
        self.users = []
        for _ in range(2):
            kp = h.funded_keypair()
            tok = h.create_ata(env.mint, kp.pubkey())
            h.mint_to(env.mint, tok, 1_000 * USD, env.mint_auth)
            self.users.append(User(kp, tok))
        for u in self.users:
            env.open_account(u)
            env.buy(u, rng.randint(0, 300) * USD + 1)  # something to spend from the first step on
        self.backend = h.funded_keypair()
        self.delegation = None  # (user index, allowance, period)
        self.jobs = []  # (user index, job, job_id)
        self.channels = []  # (user index, channel, its VoucherSigner)
        self.next_id = 0

    def available(self, u: User) -> int:
        """What the delegate may still spend from ``u`` in the current period."""
        from iopay.credits.state import DelegationView

        env = self.env
        addr = env.cr.delegation_address(env.cr.credit_address(env.mint, u.key), self.backend.pubkey())
        return DelegationView.decode(env.prog, addr, env.h.account_data(addr)).available(env.h.now())

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
                         "settle", "end", "quit", "cancel", "close", "set_delegate", "revoke", "overdraw",
                         "channel_open", "channel_open", "channel_pay", "channel_pay", "channel_top_up",
                         "channel_coop", "channel_close"])
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
            if op == "delegate_spend" and self.available(u) < cost:
                env.fails(ix, signer, name="AllowanceExceeded")
                return
            if cost > limit:
                env.fails(ix, signer, name=err)
                return
            env.ok(ix, signer)
            delta[i] = -cost
            self.jobs.append((i, env.job_address(u, self.next_id)))
        elif op == "channel_open":
            signer = u.kp
            if self.delegation is not None and rng.random() < 0.4:
                i = self.delegation[0]
                u, signer = self.users[i], self.backend
            deposit = rng.randint(1, 50 * USD)
            self.next_id += 1
            ix = env.cr.open_channel_with_credits(
                authority=signer.pubkey(), user=u.key, mint=env.mint, provider=env.provider.key,
                channel_id=self.next_id, deposit=deposit, expires_at=env.h.now() + rng.choice([60, HOUR, DAY]),
                dispute_window=600, delegate=signer.pubkey() != u.key)
            if signer is self.backend and self.available(u) < deposit:
                env.fails(ix, signer, name="AllowanceExceeded")
                return
            if deposit > env.credits(u):
                env.fails(ix, signer, name="InsufficientCredits")
                return
            env.ok(ix, signer)
            delta[i] = -deposit
            ch = env.cr.channel_address(env.mint, u.key, env.provider.key, self.next_id)
            view = env.channel(ch)
            self.channels.append((i, ch, VoucherSigner(signer, env.pay.program_id, ch, view.open_slot, deposit)))
        elif op == "channel_pay" and self.channels:
            i, ch, vs = rng.choice(self.channels)
            view = env.channel(ch)
            room = view.deposit - vs.cumulative
            if room == 0 or (view.state == "Closing" and env.h.now() >= view.close_at):
                return
            v = vs.pay(rng.randint(1, room))
            res = env.h.send(env.pay.settle(provider=env.provider.key, mint=env.mint,
                                            provider_token=env.provider.token, vouchers=[v]), [env.provider.kp])
            assert res.ok, res.error
        elif op == "channel_top_up" and self.channels:
            i, ch, vs = rng.choice(self.channels)
            view = env.channel(ch)
            if view.state != "Open":
                return
            amount = rng.randint(1, 20 * USD)
            u = self.users[i]
            ix = env.cr.top_up_channel_with_credits(authority=u.key, user=u.key, mint=env.mint, channel=ch,
                                                    amount=amount, expires_at=view.expires_at)
            if amount > env.credits(u):
                env.fails(ix, u.kp, name="InsufficientCredits")
                return
            env.ok(ix, u.kp)
            vs.topped_up(view.deposit + amount)
            delta[i] = -amount
        elif op == "channel_coop" and self.channels:
            entry = rng.choice(self.channels)
            i, ch, _ = entry
            view, u = env.channel(ch), self.users[i]
            env.ok(env.cr.coop_close_channel_with_credits(authority=u.key, user=u.key, mint=env.mint,
                                                          provider=env.provider.key, channel=ch,
                                                          rent_payer=view.rent_payer), u.kp, env.provider.kp)
            delta[i] = view.deposit - view.settled
            self.channels.remove(entry)
        elif op == "channel_close" and self.channels:
            # The unilateral close: time moves to the expiry (and, now or at a
            # later step, past the dispute window) so the whole path is taken often.
            entry = rng.choice(self.channels)
            i, ch, _ = entry
            view, u = env.channel(ch), self.users[i]
            if view.state == "Open":
                env.h.warp_seconds(max(0, view.expires_at - env.h.now()))
                env.ok(env.cr.start_close_channel_with_credits(authority=u.key, user=u.key, mint=env.mint,
                                                               channel=ch), u.kp)
                if rng.random() < 0.5:
                    self.check(before, delta)
                    return
                view = env.channel(ch)
            env.h.warp_seconds(max(0, view.close_at - env.h.now()))
            env.ok(env.cr.finish_close_channel_with_credits(user=u.key, mint=env.mint, channel=ch,
                                                            rent_payer=view.rent_payer))
            delta[i] = view.deposit - view.settled
            self.channels.remove(entry)
            self.done["channel_finish"] += 1
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
        self.done[op] += 1  # reached the end: the step did what its name says (or was a no-op)
        self.check(before, delta)


def test_random_sequences(harness):
    rng = random.Random(SEED)
    env = make_env(harness, n_users=0, n_workers=2)
    total = 0
    done: Counter = Counter()
    for seq in range(SEQUENCES):
        if seq and seq % PER_HARNESS == 0:
            # A fresh chain now and then keeps LiteSVM's account set small.
            from iopay.core.harness import Harness

            env = make_env(Harness(), n_users=0, n_workers=2)
        run = Run(env, random.Random(rng.getrandbits(64)), done)
        for _ in range(STEPS):
            run.step()
            total += 1
        c = env.config_view()
        assert c.outstanding == env.h.token_balance(env.reserve)
    assert total == SEQUENCES * STEPS
    if SEQUENCES >= 100:  # every channel path was taken
        missing = [op for op in ("channel_open", "channel_pay", "channel_top_up", "channel_coop", "channel_finish")
                   if not done[op]]
        assert not missing, (missing, dict(done))
    print(f"steps taken: {dict(sorted(done.items()))}")
