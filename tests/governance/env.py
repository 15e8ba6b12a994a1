"""Shared setup for the governance tests: the compiled SPL Governance 4.0.0
and job_escrow in LiteSVM, an IO mint with a market, a realm voting with IO,
the market handed to a governance, and three holders with deposits.

Supply: 2,000 IO (6 decimals): big 600, mid 300, small 100 deposited; the
customer holds 1,000. With a 25% yes threshold a proposal needs 500 IO yes:
big alone passes it, mid + small (400) cannot. Strict tipping never tips
early here (yes must exceed the rest of the supply), so every vote runs its
full voting time and is finalized.

The hand-over takes two steps (job_escrow's): the market's authority
proposes the governance PDA (``set_market_authority``), then a proposal
carrying ``accept_market_authority`` is voted and executed, the governance
PDA signing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List

import pytest
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.core.errors import ProgramError
from iopay.core.harness import Harness, ProgramNotBuilt, deploy_dir
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import JobEscrow
from iopay.escrow.state import MarketView
from iopay.governance import actions
from iopay.governance import program as gp
from iopay.governance.client import GovernanceClient
from iopay.governance.state import Proposal, ProposalState, TokenOwnerRecord, tally_from_records
from tests.escrow.env import make_market

IO = 1_000_000
VOTING_TIME = 3 * 86_400
HOLD_UP = 86_400
YES_PERCENT = 25
DEPOSITS = {"big": 600 * IO, "mid": 300 * IO, "small": 100 * IO}
CUSTOMER_IO = 1_000 * IO
REALM_NAME = "IO Network"


def load_governance(h: Harness) -> None:
    try:
        gp.load_governance(h)
    except ProgramNotBuilt as e:
        pytest.fail(f"{e}: `make programs` builds SPL Governance 4.0.0 from crates.io")


def load_all(h: Harness, escrow_idl: ProgramIdl) -> None:
    try:
        h.load_program(escrow_idl, deploy_dir() / "job_escrow.so")
    except ProgramNotBuilt as e:
        pytest.fail(f"{e}: `make programs` builds target/deploy/job_escrow.so")
    load_governance(h)


@dataclass
class GovEnv:
    h: Harness
    esc: JobEscrow
    gov: GovernanceClient
    mint: Pubkey
    mint_auth: Keypair
    authority: Keypair  # the market's (and realm's) original authority
    treasury: Pubkey
    market: Pubkey
    realm: Pubkey
    governance: Pubkey
    customer: Keypair
    customer_token: Pubkey
    holders: Dict[str, Keypair] = field(default_factory=dict)
    tokens: Dict[str, Pubkey] = field(default_factory=dict)

    @property
    def p(self) -> gp.GovernanceProgram:
        return self.gov.gov

    def market_view(self) -> MarketView:
        return MarketView.decode(self.esc.program, self.market, self.h.account_data(self.market))

    def send(self, ix: Instruction, *signers: Keypair):  # noqa: ANN201
        return self.h.send([ix], signers)

    def fails(self, ix: Instruction, *signers: Keypair, name: str, program: Pubkey = gp.GOVERNANCE_PROGRAM_ID
              ) -> ProgramError:
        """The program rejects ``ix`` with error ``name`` and nothing changes."""
        keys = {m.pubkey for m in ix.accounts}
        before = {k: self.h.account_data(k) for k in keys}
        res = self.h.send([ix], signers)
        assert res.error is not None, f"expected {name}, transaction succeeded:\n" + "\n".join(res.logs)
        assert isinstance(res.error, ProgramError), res.error
        assert res.error.name == name, f"expected {name}, got {res.error}\n" + "\n".join(res.logs)
        assert res.error.program_id == program
        if program == gp.GOVERNANCE_PROGRAM_ID:
            assert res.error.code == gp.error_code(name)
        assert {k: self.h.account_data(k) for k in keys} == before, "a rejected transaction changed accounts"
        return res.error

    async def check_tally(self, proposal: Pubkey) -> None:
        """The helper's tallies equal the on-chain vote records."""
        st = await self.gov.proposal_status(proposal)
        records = [v.record for v in await self.gov.vote_records(proposal)]
        yes, no, abstain = tally_from_records(records)
        assert (st.tally.yes, st.tally.no, st.tally.abstain) == (yes, no, abstain)
        assert (st.proposal.yes_vote_weight, st.proposal.no_vote_weight) == (yes, no)
        # every record's weight is its voter's deposit
        for v in records:
            tor = self.p.token_owner_record(self.realm, self.mint, v.governing_token_owner)
            assert v.voter_weight == TokenOwnerRecord.decode(self.h.account_data(tor)).governing_token_deposit_amount

    async def propose(self, who: str, name: str, instructions: List[Instruction], hold_up: int = HOLD_UP,
                      per_transaction: int = 1) -> Pubkey:
        proposal, _ = await self.gov.propose(self.holders[who], self.governance, name, instructions,
                                             hold_up_time=hold_up, per_transaction=per_transaction)
        assert (await self.gov.proposal(proposal)).proposal.state == ProposalState.Voting
        return proposal

    def warp_past_voting(self, proposal: Pubkey) -> None:
        p = Proposal.decode(self.h.account_data(proposal))
        assert p.voting_at is not None
        self.h.set_unix_timestamp(p.voting_at + VOTING_TIME + 1)


async def make_env(h: Harness, escrow_idl: ProgramIdl, *, hand_over: bool = True,
                   voting_time: int = VOTING_TIME, price_feed: bool = False) -> GovEnv:
    load_all(h, escrow_idl)
    esc = JobEscrow(escrow_idl)
    gov = GovernanceClient.for_harness(h, escrow=esc)
    m = make_market(h, esc)
    if price_feed:
        h.send([esc.init_price_feed(payer=h.payer.pubkey(), authority=m.authority.pubkey(), mint=m.mint,
                                    max_staleness=60, max_conf_bps=200)], [m.authority]).raise_for_error()
    realm, _ = await gov.create_realm(m.authority.pubkey(), REALM_NAME, m.mint)
    cust = h.funded_keypair()
    ctok = h.create_ata(m.mint, cust.pubkey())
    h.mint_to(m.mint, ctok, CUSTOMER_IO, m.mint_auth).raise_for_error()
    env = GovEnv(h, esc, gov, m.mint, m.mint_auth, m.authority, m.treasury, m.address, realm,
                 gov.gov.governance(realm, m.address), cust, ctok)
    for who, amount in DEPOSITS.items():
        kp = h.funded_keypair()
        tok = h.create_ata(m.mint, kp.pubkey())
        h.mint_to(m.mint, tok, amount, m.mint_auth).raise_for_error()
        env.holders[who], env.tokens[who] = kp, tok
        await gov.deposit(kp, realm, amount, source=tok)
    cfg = gp.governance_config(yes_vote_percent=YES_PERCENT, voting_time=voting_time, hold_up_time=HOLD_UP,
                               min_weight_to_propose=1)
    addr, _ = await gov.create_governance(m.authority, realm, m.address, cfg)
    assert addr == env.governance
    if hand_over:
        propose_hand_over(env)
        await accept_by_vote(env)
    return env


def propose_hand_over(env: GovEnv) -> None:
    """Step one: the market's authority proposes the governance PDA; the
    market stays its own until the DAO accepts."""
    env.h.send([env.esc.set_market_authority(authority=env.authority.pubkey(), mint=env.mint,
                                             new_authority=env.governance)], [env.authority]).raise_for_error()
    m = env.market_view()
    assert (m.authority, m.pending_authority) == (env.authority.pubkey(), env.governance)


async def accept_proposal(env: GovEnv) -> Pubkey:
    """A proposal carrying ``accept_market_authority`` (signed by the
    governance PDA when executed), passed by big's vote, finalized and past
    its hold-up; big's vote is relinquished (its deposit stays free)."""
    proposal = await env.propose("big", "Accept the market", [actions.accept_authority(env.esc, env.governance,
                                                                                       env.mint)])
    await env.gov.vote(env.holders["big"], proposal, True)
    await env.check_tally(proposal)
    env.warp_past_voting(proposal)
    await env.gov.finalize(proposal)
    assert Proposal.decode(env.h.account_data(proposal)).state == ProposalState.Succeeded
    await env.gov.relinquish(env.holders["big"], proposal)
    env.h.warp_seconds(HOLD_UP + 1)
    return proposal


async def accept_by_vote(env: GovEnv) -> Pubkey:
    """Step two: the DAO's proposal accepting the market executes; from then
    on only an executed proposal changes the market."""
    proposal = await accept_proposal(env)
    assert len(await env.gov.execute(proposal)) == 1
    assert Proposal.decode(env.h.account_data(proposal)).state == ProposalState.Completed
    m = env.market_view()
    assert (m.authority, m.pending_authority) == (env.governance, None)
    return proposal


