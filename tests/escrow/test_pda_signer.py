"""PDAs sign through ``invoke_signed``: the market authority handed to a
program's PDA (as an SPL Governance governance account executing a
proposal would accept it), and a PDA customer (as the IOSD credits program
opens jobs for a per-user account) doing everything a wallet customer does,
with refunds only ever reaching the PDA's own token account.

``tests/programs/pda_signer`` (built by ``make programs`` into
target/test-programs/) forwards one instruction, signing it as its PDA
``["signer", seed]``.
"""

from __future__ import annotations

from typing import Tuple

import pytest
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.core.harness import Harness, repo_root
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import U64_MAX
from iopay.escrow.state import MarketView
from tests.escrow.env import FEE_BPS, HOUR, MAX_HOURS, RATES, Env, make_env, paid

SO = repo_root() / "target" / "test-programs" / "pda_signer.so"


@pytest.fixture
def env(escrow_harness: Harness, escrow_idl: ProgramIdl) -> Env:
    return make_env(escrow_harness, escrow_idl)


class PdaSigner:
    def __init__(self, h: Harness, seed: bytes) -> None:
        if not SO.exists():
            pytest.fail(f"{SO} missing: `make programs` builds it")
        self.program_id = Keypair().pubkey()
        h.svm.add_program(self.program_id, SO.read_bytes())
        self.seed = seed
        self.address, self.bump = Pubkey.find_program_address([b"signer", seed], self.program_id)

    def wrap(self, ix: Instruction) -> Instruction:
        """``ix`` sent by the pda_signer program, signed by its PDA."""
        metas = [AccountMeta(ix.program_id, False, False)] + [
            AccountMeta(m.pubkey, False if m.pubkey == self.address else m.is_signer, m.is_writable)
            for m in ix.accounts]
        return Instruction(self.program_id, bytes([self.bump, len(self.seed)]) + self.seed + bytes(ix.data), metas)


def escrow_error(env: Env, res) -> Tuple[int, str]:  # type: ignore[no-untyped-def]
    """The escrow's error code raised inside the CPI."""
    assert res.error is not None, "transaction succeeded"
    return res.error.code, "\n".join(res.logs)


async def test_a_pda_accepts_the_market_authority_through_invoke_signed(env: Env, escrow_idl: ProgramIdl) -> None:
    gov = PdaSigner(env.h, b"governance")
    old = env.authority
    env.ok(env.esc.set_market_authority(authority=old.pubkey(), mint=env.mint, new_authority=gov.address), old)
    # The PDA cannot sign a transaction itself; its program signs for it.
    res = env.h.send([gov.wrap(env.esc.accept_market_authority(new_authority=gov.address, mint=env.mint))])
    assert res.error is None, res.logs
    market = MarketView.decode(escrow_idl, env.market, env.h.account_data(env.market))
    assert (market.authority, market.pending_authority) == (gov.address, None)
    (ev,) = res.events_named("AuthorityChanged")
    assert (ev.old_authority, ev.new_authority) == (old.pubkey(), gov.address)
    # The PDA now administers the market (e.g. an executed proposal pausing it); the old key cannot.
    upd = env.esc.update_market(authority=gov.address, mint=env.mint, treasury=env.treasury, fee_bps=100,
                                max_workers=8, max_hours=MAX_HOURS)
    assert env.h.send([gov.wrap(upd)]).error is None
    assert MarketView.decode(escrow_idl, env.market, env.h.account_data(env.market)).fee_bps == 100
    env.fails(env.esc.set_market_paused(authority=old.pubkey(), mint=env.mint, paused=True), old,
              name="Unauthorized")
    # The PDA proposes a successor the same way; another program's PDA (same seed) cannot take it.
    successor = PdaSigner(env.h, b"governance")
    other = PdaSigner(env.h, b"governance")
    assert env.h.send([gov.wrap(env.esc.set_market_authority(authority=gov.address, mint=env.mint,
                                                             new_authority=successor.address))]).error is None
    res = env.h.send([other.wrap(env.esc.accept_market_authority(new_authority=other.address, mint=env.mint))])
    code, logs = escrow_error(env, res)
    assert code == escrow_idl.errors.code_of("NotPendingAuthority"), logs
    assert env.h.send([successor.wrap(env.esc.accept_market_authority(new_authority=successor.address,
                                                                      mint=env.mint))]).error is None
    assert MarketView.decode(escrow_idl, env.market, env.h.account_data(env.market)).authority == successor.address


async def test_a_pda_customer_does_everything_a_wallet_customer_does(env: Env, escrow_idl: ProgramIdl) -> None:
    credits = PdaSigner(env.h, b"user-1")
    c = credits.address
    h = env.h
    h.airdrop(c, 10**9)  # rent for the job and its vault, paid by the PDA through the System program
    ctok = h.create_token_account(env.mint, c)
    h.mint_to(env.mint, ctok, 10**12, env.m.mint_auth)
    esc = env.esc

    def send(ix: Instruction):  # type: ignore[no-untyped-def]
        res = h.send([credits.wrap(ix)])
        assert res.error is None, "\n".join(res.logs)
        env.check_conservation()
        return res

    def open_ix(job_id: int, hours: int = 3) -> Instruction:
        return esc.open_job(customer=c, mint=env.mint, customer_token=ctok, job_id=job_id, hours=hours,
                            workers=[(w.pubkey(), r) for w, r in zip(env.workers, RATES)], max_total=U64_MAX,
                            accept_window=600)

    job = esc.job_addresses(env.mint, c, 1).job
    env.jobs.add(job)
    start = h.token_balance(ctok)
    send(open_ix(1))
    locked = start - h.token_balance(ctok)
    assert locked == sum(3 * r + -(-3 * r * FEE_BPS // 10_000) for r in RATES)
    for i in range(3):
        env.accept(job, i)
    t0 = env.job(job).workers[0].start_ts
    env.h.set_unix_timestamp(t0 + 601)
    send(esc.extend(customer=c, mint=env.mint, job=job, customer_token=ctok, hours=1))
    send(esc.release(customer=c, job=job, customer_token=ctok, slot=3))  # pending past the deadline
    env.h.set_unix_timestamp(t0 + HOUR + 30)
    send(esc.release(customer=c, job=job, customer_token=ctok, slot=2, worker_token=env.worker_tokens[2]))
    # Refunds never go to anyone else's account, whoever signs.
    thief = h.create_token_account(env.mint, Keypair().pubkey())
    res = h.send([credits.wrap(esc.end_job(customer=c, job=job, customer_token=thief))])
    assert escrow_error(env, res)[0] == escrow_idl.errors.code_of("WrongOwner")
    res = send(esc.end_job(customer=c, job=job, customer_token=ctok,
                           payees=[(0, env.worker_tokens[0]), (1, env.worker_tokens[1])]))
    assert [p.slot for p in paid(res)] == [0, 1]
    lamports = h.lamports(c)
    send(esc.close_job(customer=c, mint=env.mint, job=job, customer_token=ctok))
    assert h.account_data(job) is None and h.lamports(c) > lamports  # rent back to the PDA
    # Everything that was not earned came back to the PDA's own account.
    earned = sum(h.token_balance(t) for t in env.worker_tokens) + h.token_balance(env.fee_vault)
    assert start - h.token_balance(ctok) == earned
    # Cancel works for a PDA customer too.
    job2 = esc.job_addresses(env.mint, c, 2).job
    env.jobs.add(job2)
    before = h.token_balance(ctok)
    send(open_ix(2))
    send(esc.cancel(customer=c, job=job2, customer_token=ctok))
    assert h.token_balance(ctok) == before and h.account_data(job2) is None
