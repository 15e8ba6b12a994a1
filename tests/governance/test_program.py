"""SPL Governance 4.0.0, compiled from crates.io by tools/sbpf, running in
LiteSVM with job_escrow: every instruction the vote helper uses, the decoded
accounts the program wrote, and the must-shows of issue 13 (a fee proposal
passes and the next settlement pays the new fee; a defeated proposal changes
nothing; the program's own rejections, asserted by error name and code)."""

from __future__ import annotations

import dataclasses

import pytest
from solders.pubkey import Pubkey

from iopay.escrow.program import U64_MAX, span_cost
from iopay.escrow.state import JobView
from iopay.governance import actions
from iopay.governance import program as gp
from iopay.governance.state import (
    AccountType,
    Governance,
    OptionVoteResult,
    Proposal,
    ProposalState,
    ProposalTransaction,
    Realm,
    RealmConfigAccount,
    TokenOwnerRecord,
    TransactionExecutionStatus,
    VoteKind,
    VoteRecord,
    VoteTipping,
    decode_account,
)
from tests.governance.env import (
    DEPOSITS,
    HOLD_UP,
    IO,
    REALM_NAME,
    VOTING_TIME,
    YES_PERCENT,
    GovEnv,
    accept_by_vote,
    accept_proposal,
    make_env,
    propose_hand_over,
)

@pytest.fixture
async def env(harness, escrow_idl) -> GovEnv:
    return await make_env(harness, escrow_idl)


def test_program_reports_its_version(harness, escrow_idl):
    """The built program is SPL Governance 4.0.0 (UpdateProgramMetadata logs it)."""
    from solders.instruction import AccountMeta, Instruction

    from tests.governance.env import load_governance

    load_governance(harness)
    meta = Pubkey.find_program_address([b"metadata"], gp.GOVERNANCE_PROGRAM_ID)[0]
    ix = Instruction(gp.GOVERNANCE_PROGRAM_ID, bytes([gp.Ix.UpdateProgramMetadata]), [
        AccountMeta(meta, False, True), AccountMeta(harness.payer.pubkey(), True, True),
        AccountMeta(gp.SYSTEM_PROGRAM_ID, False, False)])
    res = harness.send([ix]).raise_for_error()
    assert 'Program log: VERSION:"4.0.0"' in res.logs


async def test_realm_governance_and_deposits_decode_as_written(env: GovEnv):
    h = env.h
    realm = Realm.decode(h.account_data(env.realm))
    assert realm.name == REALM_NAME and realm.community_mint == env.mint
    assert realm.authority == env.authority.pubkey() and realm.council_mint is None
    assert h.account(env.realm).owner == gp.GOVERNANCE_PROGRAM_ID
    rc = RealmConfigAccount.decode(h.account_data(env.p.realm_config(env.realm)))
    assert rc.realm == env.realm and rc.community_token_config.voter_weight_addin is None
    # the realm holds every deposit
    assert h.token_balance(env.p.holding(env.realm, env.mint)) == sum(DEPOSITS.values())
    for who, amount in DEPOSITS.items():
        tor = TokenOwnerRecord.decode(h.account_data(env.p.token_owner_record(env.realm, env.mint,
                                                                               env.holders[who].pubkey())))
        assert (tor.realm, tor.governing_token_mint, tor.governing_token_owner) == (
            env.realm, env.mint, env.holders[who].pubkey())
        assert tor.governing_token_deposit_amount == amount and tor.unrelinquished_votes_count == 0
        assert h.token_balance(env.tokens[who]) == 0
    g = Governance.decode(h.account_data(env.governance))
    assert g.account_type == AccountType.GovernanceV2 and g.realm == env.realm and g.governed_account == env.market
    c = g.config
    assert c.community_vote_threshold.percent == YES_PERCENT and c.voting_base_time == VOTING_TIME
    assert c.min_transaction_hold_up_time == HOLD_UP and c.community_vote_tipping == VoteTipping.Strict
    assert c.council_vote_threshold.is_disabled and c.community_veto_vote_threshold.is_disabled
    assert isinstance(decode_account(h.account_data(env.governance)), Governance)
    # the market is the DAO's
    assert env.market_view().authority == env.governance


async def test_fee_proposal_passes_executes_after_hold_up_and_next_settlement_pays_new_fee(env: GovEnv):
    h, p = env.h, env.p
    m = env.market_view()
    assert m.fee_bps == 250
    ix_fee = actions.set_fee(env.esc, env.governance, m, 500)
    # update_market sets fee, limits and treasury together: the second transaction is built on the
    # market as the first leaves it
    ix_limits = actions.update_limits(env.esc, env.governance, dataclasses.replace(m, fee_bps=500), max_workers=4,
                                      max_hours=100)
    proposal = await env.propose("small", "Raise the fee to 5%", [ix_fee, ix_limits])
    pr = Proposal.decode(h.account_data(proposal))
    assert pr.name == "Raise the fee to 5%" and pr.governance == env.governance and pr.state == ProposalState.Voting
    assert pr.token_owner_record == p.token_owner_record(env.realm, env.mint, env.holders["small"].pubkey())
    assert [o.transactions_count for o in pr.options] == [2]
    txs = [ProposalTransaction.decode(h.account_data(p.proposal_transaction(proposal, 0, i))) for i in range(2)]
    assert [t.hold_up_time for t in txs] == [HOLD_UP, HOLD_UP]
    assert txs[0].instructions[0].program_id == env.esc.program_id
    assert txs[0].instructions[0].data == bytes(ix_fee.data)
    assert [(a.pubkey, a.is_signer, a.is_writable) for a in txs[0].instructions[0].accounts] == [
        (a.pubkey, a.is_signer, a.is_writable) for a in ix_fee.accounts]
    status = await env.gov.proposal_status(proposal)
    assert "update_market(fee_bps=500, max_workers=8, max_hours=720" in status.transactions[0].described[0]
    assert f"signed by {env.governance}" in status.transactions[0].described[0]

    big, mid = env.holders["big"], env.holders["mid"]
    await env.gov.vote(big, proposal, True)
    await env.check_tally(proposal)
    await env.gov.vote(mid, proposal, False)
    await env.check_tally(proposal)
    vr = VoteRecord.decode(h.account_data(p.vote_record(proposal, p.token_owner_record(env.realm, env.mint,
                                                                                         big.pubkey()))))
    assert vr.vote == VoteKind.Approve and vr.voter_weight == DEPOSITS["big"] and not vr.is_relinquished
    st = await env.gov.proposal_status(proposal)
    assert (st.tally.yes, st.tally.no) == (DEPOSITS["big"], DEPOSITS["mid"])
    assert st.tally.threshold_weight == 500 * IO and st.tally.outcome_if_closed == ProposalState.Succeeded
    assert st.time_left == VOTING_TIME

    # voting twice: the program refuses
    voter_tor = p.token_owner_record(env.realm, env.mint, big.pubkey())
    twice = p.cast_vote(realm=env.realm, governance=env.governance, proposal=proposal, owner_record=pr.token_owner_record,
                        voter_record=voter_tor, voter=big.pubkey(), mint=env.mint, payer=h.payer.pubkey(), yes=True)
    env.fails(twice, big, name="VoteAlreadyExists")
    # withdrawing tokens that back an active vote
    env.fails(p.withdraw(realm=env.realm, mint=env.mint, destination=env.tokens["big"], owner=big.pubkey()), big,
              name="AllVotesMustBeRelinquishedToWithdrawGoverningTokens")
    # finalizing while voting is open
    fin = p.finalize_vote(realm=env.realm, governance=env.governance, proposal=proposal,
                          owner_record=pr.token_owner_record, mint=env.mint)
    env.fails(fin, name="CannotFinalizeVotingInProgress")
    # executing while voting
    ex0 = p.execute_transaction(governance=env.governance, proposal=proposal,
                                proposal_transaction=p.proposal_transaction(proposal, 0, 0),
                                instructions=[gp.ProposalInstruction.of(ix_fee)])
    env.fails(ex0, name="InvalidStateCannotExecuteTransaction")

    env.warp_past_voting(proposal)
    h.send([fin]).raise_for_error()
    pr = Proposal.decode(h.account_data(proposal))
    assert pr.state == ProposalState.Succeeded and pr.options[0].vote_result == OptionVoteResult.Succeeded
    assert pr.max_vote_weight == 2_000 * IO and pr.voting_completed_at == pr.voting_at + VOTING_TIME
    await env.check_tally(proposal)

    # executing before the hold-up has passed
    env.fails(ex0, name="CannotExecuteTransactionWithinHoldUpTime")
    h.set_unix_timestamp(pr.voting_completed_at + HOLD_UP)  # still inside: executable strictly after
    env.fails(ex0, name="CannotExecuteTransactionWithinHoldUpTime")
    h.set_unix_timestamp(pr.voting_completed_at + HOLD_UP + 1)
    h.send([ex0]).raise_for_error()
    m2 = env.market_view()
    assert m2.fee_bps == 500 and (m2.max_workers, m2.max_hours) == (8, 720)
    assert Proposal.decode(h.account_data(proposal)).state == ProposalState.Executing
    tx0 = ProposalTransaction.decode(h.account_data(p.proposal_transaction(proposal, 0, 0)))
    assert tx0.execution_status == TransactionExecutionStatus.Success and tx0.executed_at == h.now()
    # executing the same transaction twice
    env.fails(ex0, name="TransactionAlreadyExecuted")
    sent = await env.gov.execute(proposal)  # the helper executes what is left
    assert len(sent) == 1
    m3 = env.market_view()
    assert (m3.fee_bps, m3.max_workers, m3.max_hours) == (500, 4, 100)
    assert Proposal.decode(h.account_data(proposal)).state == ProposalState.Completed
    env.fails(ex0, name="InvalidStateCannotExecuteTransaction")  # a completed proposal executes nothing

    # the next settlement charges the new fee: it accrues in the job, and a sweep moves it to the treasury
    cust, ctok = env.customer, env.customer_token
    worker = h.funded_keypair()
    wtok = h.create_ata(env.mint, worker.pubkey())
    rate = 3 * IO
    h.send([env.esc.open_job(customer=cust.pubkey(), mint=env.mint, customer_token=ctok, job_id=1, hours=2,
                             workers=[(worker.pubkey(), rate)], max_total=U64_MAX)], [cust]).raise_for_error()
    job = env.esc.job_addresses(env.mint, cust.pubkey(), 1).job
    h.send([env.esc.accept(worker=worker.pubkey(), job=job)], [worker]).raise_for_error()
    h.warp_seconds(3_600)
    before = h.token_balance(env.treasury)
    h.send([env.esc.settle(job=job, payees=[(0, wtok)])]).raise_for_error()
    pay, fee = span_cost(rate, 500, 0, 1)
    assert h.token_balance(wtok) == pay
    assert JobView.decode(env.esc.program, job, h.account_data(job)).fees_accrued == fee == 150_000  # 5% of 3 IO
    assert h.token_balance(env.treasury) == before
    h.send([env.esc.sweep_fees(mint=env.mint, treasury=env.treasury, job=job)]).raise_for_error()
    assert h.token_balance(env.treasury) - before == fee

    # the old authority can no longer change the market
    old = env.authority
    env.fails(env.esc.update_market(authority=old.pubkey(), mint=env.mint, treasury=env.treasury, fee_bps=0,
                                    max_workers=8, max_hours=720), old,
              name="Unauthorized", program=env.esc.program_id)
    env.fails(env.esc.set_market_paused(authority=old.pubkey(), mint=env.mint, paused=True), old,
              name="Unauthorized", program=env.esc.program_id)
    env.fails(env.esc.set_market_authority(authority=old.pubkey(), mint=env.mint, new_authority=old.pubkey()), old,
              name="Unauthorized", program=env.esc.program_id)
    env.fails(env.esc.accept_market_authority(new_authority=old.pubkey(), mint=env.mint), old,
              name="NotPendingAuthority", program=env.esc.program_id)
    assert env.market_view().authority == env.governance

    # votes on a decided proposal: relinquish releases them, then deposits can leave
    await env.gov.relinquish(big, proposal)
    await env.gov.withdraw(big, env.realm, destination=env.tokens["big"])
    assert h.token_balance(env.tokens["big"]) == DEPOSITS["big"]


async def test_defeated_proposal_changes_nothing_and_cannot_execute(env: GovEnv):
    h, p = env.h, env.p
    before = env.market_view()
    ix = actions.set_fee(env.esc, env.governance, before, 9_000)
    proposal = await env.propose("mid", "Fee to 90%", [ix])
    await env.gov.vote(env.holders["mid"], proposal, True)
    await env.gov.vote(env.holders["big"], proposal, False)
    await env.gov.vote(env.holders["small"], proposal, True)
    await env.check_tally(proposal)
    st = await env.gov.proposal_status(proposal)
    assert (st.tally.yes, st.tally.no) == (400 * IO, 600 * IO)
    assert st.tally.outcome_if_closed == ProposalState.Defeated
    env.warp_past_voting(proposal)
    await env.gov.finalize(proposal)
    pr = Proposal.decode(h.account_data(proposal))
    assert pr.state == ProposalState.Defeated and pr.options[0].vote_result == OptionVoteResult.Defeated
    await env.check_tally(proposal)
    h.warp_seconds(HOLD_UP + 1)
    ex = p.execute_transaction(governance=env.governance, proposal=proposal,
                               proposal_transaction=p.proposal_transaction(proposal, 0, 0),
                               instructions=[gp.ProposalInstruction.of(ix)])
    env.fails(ex, name="InvalidStateCannotExecuteTransaction")
    assert env.market_view() == before


async def test_pause_and_oracle_limits_by_vote(harness, escrow_idl):
    """A proposal carrying a pause and new oracle limits (two transactions) passes and both run."""
    env = await make_env(harness, escrow_idl, price_feed=True)
    ixs = [actions.set_paused(env.esc, env.governance, env.mint, True),
           actions.set_oracle_limits(env.esc, env.governance, env.mint, 120, 150)]
    proposal = await env.propose("big", "Pause and widen the oracle limits", ixs)
    status = await env.gov.proposal_status(proposal)
    assert [t.described[0].split("(")[0] for t in status.transactions] == [
        "job_escrow.set_market_paused", "job_escrow.set_oracle_limits"]
    await env.gov.vote(env.holders["big"], proposal, True)
    await env.check_tally(proposal)
    env.warp_past_voting(proposal)
    await env.gov.finalize(proposal)
    env.h.warp_seconds(HOLD_UP + 1)
    assert len(await env.gov.execute(proposal)) == 2
    m = env.market_view()
    assert m.paused and (m.max_staleness, m.max_conf_bps) == (120, 150)
    assert Proposal.decode(env.h.account_data(proposal)).state == ProposalState.Completed


async def test_relinquish_while_voting_removes_weight(env: GovEnv):
    ix = actions.set_fee(env.esc, env.governance, env.market_view(), 300)
    proposal = await env.propose("big", "Fee 3%", [ix])
    await env.gov.vote(env.holders["mid"], proposal, True)
    await env.gov.vote(env.holders["small"], proposal, False)
    await env.check_tally(proposal)
    await env.gov.relinquish(env.holders["mid"], proposal)
    pr = Proposal.decode(env.h.account_data(proposal))
    assert (pr.yes_vote_weight, pr.no_vote_weight) == (0, 100 * IO)
    await env.check_tally(proposal)
    # mid's vote record is gone (rent back) and it can withdraw
    await env.gov.withdraw(env.holders["mid"], env.realm, destination=env.tokens["mid"])
    assert env.h.token_balance(env.tokens["mid"]) == DEPOSITS["mid"]


async def test_hand_over_to_the_dao_takes_a_proposal(harness, escrow_idl):
    """Two-step hand-over: until the old authority proposes the governance,
    the DAO's accepting proposal fails in job_escrow (the whole execution is
    rolled back and can be retried); once proposed, the old authority still
    holds the market until the accepting proposal executes; then only
    executed proposals change it."""
    env = await make_env(harness, escrow_idl, hand_over=False)
    h, p = env.h, env.p
    old = env.authority
    assert (env.market_view().authority, env.market_view().pending_authority) == (old.pubkey(), None)
    accept = await accept_proposal(env)
    tx = p.proposal_transaction(accept, 0, 0)
    ex = p.execute_transaction(governance=env.governance, proposal=accept, proposal_transaction=tx,
                               instructions=[gp.ProposalInstruction.of(actions.accept_authority(
                                   env.esc, env.governance, env.mint))])
    env.fails(ex, name="NotPendingAuthority", program=env.esc.program_id)
    assert ProposalTransaction.decode(h.account_data(tx)).execution_status == TransactionExecutionStatus.NONE
    assert env.market_view().authority == old.pubkey()

    propose_hand_over(env)
    # proposed, not accepted: the market is still the old authority's
    h.send([env.esc.set_market_paused(authority=old.pubkey(), mint=env.mint, paused=False)], [old]).raise_for_error()
    h.send([ex]).raise_for_error()
    assert Proposal.decode(h.account_data(accept)).state == ProposalState.Completed
    m = env.market_view()
    assert (m.authority, m.pending_authority) == (env.governance, None)
    env.fails(ex, name="InvalidStateCannotExecuteTransaction")  # executing twice
    env.fails(env.esc.set_market_paused(authority=old.pubkey(), mint=env.mint, paused=True), old,
              name="Unauthorized", program=env.esc.program_id)
    env.fails(env.esc.accept_market_authority(new_authority=old.pubkey(), mint=env.mint), old,
              name="NotPendingAuthority", program=env.esc.program_id)

    # handing it on again is itself a proposal (step one by vote), accepted by the next authority
    nxt = h.funded_keypair()
    proposal = await env.propose("big", "Hand the market on", [actions.set_authority(env.esc, env.governance,
                                                                                      env.mint, nxt.pubkey())])
    await env.gov.vote(env.holders["big"], proposal, True)
    await env.check_tally(proposal)
    env.warp_past_voting(proposal)
    await env.gov.finalize(proposal)
    h.warp_seconds(HOLD_UP + 1)
    await env.gov.execute(proposal)
    m = env.market_view()
    assert (m.authority, m.pending_authority) == (env.governance, nxt.pubkey())
    h.send([env.esc.accept_market_authority(new_authority=nxt.pubkey(), mint=env.mint)], [nxt]).raise_for_error()
    assert env.market_view().authority == nxt.pubkey()
