"""``open_job_with_credits`` runs on two entries (``programs/iosd_credits/src/
fast.rs``): the fast one reads the program input in place, Anchor's takes
every instruction the fast one does not accept. Both run the same checks and
effects: the same job opened the same way on either, and every rejection of
the hand-written account checks (``raw.rs``: what ``Account<T>`` and the
former seeds constraints checked) with its own code, nothing moved."""

from __future__ import annotations

import pytest
from solders.instruction import AccountMeta, Instruction

from tests.credits.env import USD, make_env
from tests.escrow.env import unsigned

RATES, HOURS = [USD, 2 * USD], 3


@pytest.fixture
def env(harness, record_cu):
    e = make_env(harness, record_cu)
    for u in e.users[:2]:
        e.open_account(u)
        e.buy(u, 100 * USD)
    return e


def anchor_entry(ix: Instruction) -> Instruction:
    """The same instruction with one byte appended to its data: Anchor's
    Borsh reads the arguments and ignores it; the fast path takes only the
    exact encoding, so this one goes through Anchor's entry."""
    return Instruction(ix.program_id, bytes(ix.data) + b"\0", ix.accounts)


def readonly(ix: Instruction, key) -> Instruction:
    return Instruction(ix.program_id, ix.data, [
        AccountMeta(m.pubkey, m.is_signer, False if m.pubkey == key else m.is_writable) for m in ix.accounts])


def test_both_entries_open_the_same_job(env):
    a, b = env.users[0], env.users[1]
    fast = env.ok(env.open_job_ix(a, 1, RATES, HOURS), a.kp)
    slow = env.ok(anchor_entry(env.open_job_ix(b, 1, RATES, HOURS)), b.kp)
    assert not any("Instruction: OpenJobWithCredits" in line for line in fast.logs)
    assert any("Instruction: OpenJobWithCredits" in line for line in slow.logs)
    # No compute-unit comparison here: each user's PDAs take a different
    # number of bump tries (random keys), so either entry can cost more in one
    # run. `make bench-credits` measures the entries on first-bump ids.
    (ev_a,), (ev_b,) = fast.events_named("JobPaidWithCredits"), slow.events_named("JobPaidWithCredits")
    assert (ev_a.amount, ev_a.balance, ev_a.job_id) == (ev_b.amount, ev_b.balance, ev_b.job_id)
    assert ev_b.outstanding == ev_a.outstanding - ev_a.amount
    for u, ev in ((a, ev_a), (b, ev_b)):
        acc = env.account(u)
        assert (acc.balance, acc.spent, acc.in_flight, acc.jobs_opened) == (100 * USD - ev.amount, ev.amount,
                                                                             ev.amount, 1)
        job = env.job(env.job_address(u, 1))
        assert (job.customer, [w.rate_per_hour for w in job.workers]) == (acc.customer, RATES)
        assert env.h.token_balance(env.esc.vault_address(env.job_address(u, 1))) == ev.amount
    assert env.config_view().outstanding == 200 * USD - ev_a.amount - ev_b.amount


@pytest.mark.parametrize("entry", [lambda ix: ix, anchor_entry], ids=["fast", "anchor"])
def test_substituted_program_accounts_are_refused(env, entry):
    a, b = env.users[0], env.users[1]
    ua, ub = env.cr.user_addresses(env.mint, a.key), env.cr.user_addresses(env.mint, b.key)

    def fails(name, **kw):
        env.fails(entry(env.open_job_ix(a, 1, RATES, HOURS, **kw)), a.kp, name=name)

    # Not this program's, not a Config, not a CreditAccount, not a Delegation.
    fails("AccountOwnedByWrongProgram", config=env.esc.market_address(env.mint))
    fails("AccountDiscriminatorMismatch", config=ua.credit_account)
    fails("AccountOwnedByWrongProgram", credit_account=a.token)
    fails("AccountDiscriminatorMismatch", credit_account=env.config)
    fails("AccountDiscriminatorMismatch", delegation=ub.credit_account)
    fails("AccountNotInitialized", credit_account=env.cr.credit_address(env.mint, env.users[2].key))
    # Another user's credit account with a's customer and refund account.
    fails("WrongCustomer", credit_account=ub.credit_account)
    # A market that is not job_escrow's.
    fails("InvalidMarket", market=env.config)
    # The user's balance and the reserve: untouched by every refusal above (env.fails).
    assert env.credits(a) == 100 * USD


def test_anchor_checks_before_the_handler(env):
    """What the fast path does not accept goes to Anchor, which refuses it
    with its own code."""
    a = env.users[0]
    ix = env.open_job_ix(a, 1, RATES, HOURS)
    env.fails(unsigned(ix, a.key), name="AccountNotSigner")
    env.fails(readonly(ix, env.config), a.kp, name="ConstraintMut")
    env.fails(readonly(ix, env.account(a).customer), a.kp, name="ConstraintMut")
    env.fails(env.open_job_ix(a, 1, RATES, HOURS, escrow_program=env.pay.program_id), a.kp, name="InvalidProgramId")
    env.fails(env.open_job_ix(a, 1, RATES, HOURS, token_program=env.esc.program_id), a.kp, name="InvalidProgramId")
    env.fails(env.open_job_ix(a, 1, RATES, HOURS, event_authority=env.config), a.kp, name="ConstraintAddress")
    env.ok(ix, a.kp)


@pytest.mark.parametrize("step", ["end", "cancel", "close"])
def test_job_steps_check_their_accounts_in_place(env, step):
    """end/cancel/close_job_with_credits read config, credit account and
    delegation in place too (``credit::JobUser``): each substitution refused
    with its own code, nothing moved; then the step itself works."""
    a, b = env.users[0], env.users[1]
    env.ok(env.open_job_ix(a, 1, RATES, HOURS), a.kp)
    job = env.job_address(a, 1)
    ix_of = {"end": env.end_ix, "cancel": env.cancel_ix, "close": env.close_ix}[step]
    ua, ub = env.cr.user_addresses(env.mint, a.key), env.cr.user_addresses(env.mint, b.key)
    backend = env.h.funded_keypair()
    env.ok(env.set_delegate_ix(b, backend.pubkey(), 50 * USD), b.kp)
    b_delegation = env.cr.delegation_address(ub.credit_account, backend.pubkey())

    def fails(name, signer=None, **kw):
        env.fails(ix_of(a, job, signer=signer, **kw), signer or a.kp, name=name)

    fails("AccountOwnedByWrongProgram", config=env.esc.market_address(env.mint))
    fails("AccountDiscriminatorMismatch", config=ua.credit_account)
    fails("AccountOwnedByWrongProgram", credit_account=a.token)
    fails("AccountDiscriminatorMismatch", credit_account=env.config)
    fails("AccountDiscriminatorMismatch", delegation=ub.credit_account)
    fails("WrongReserveVault", reserve_vault=a.token)
    fails("WrongCustomer", customer=ub.customer)
    fails("WrongRefundAccount", refund_account=ub.refund_account)
    fails("AccountNotSystemOwned", customer=env.config)
    # A delegate of another credit account, and a delegate without its delegation.
    fails("WrongDelegation", signer=backend, delegation=b_delegation)
    fails("DelegationRequired", signer=backend, delegation=env.cr.program_id)
    if step == "close":  # nothing paid out yet: job_escrow refuses to close a running job
        env.ok(env.cancel_ix(a, job), a.kp)
        assert env.account(a).in_flight == 0
        return
    before = env.credits(a)
    env.ok(ix_of(a, job), a.kp)
    assert env.credits(a) > before
