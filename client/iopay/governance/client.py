"""Async vote helper over SPL Governance (:class:`GovernanceClient`).

Reads return typed views (:mod:`iopay.governance.state`) with their
addresses; ``proposal_status`` adds what a voter wants before voting (live
yes/no tallies, quorum progress, time left, what the program would decide,
the carried instructions decoded into text). Writes run the program's own
lifecycle: deposit, propose (create + insert transactions + sign off), vote,
relinquish, finalize, execute, withdraw.

Every write first checks what the program will check (state, timing,
weights, double votes, ...) and raises :class:`GovernanceCheckFailed` (a
``ValueError``) without sending; ``check=False`` skips those checks so tests
can show the program's own rejection.
"""

from __future__ import annotations

import secrets
import struct
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.core import spl
from iopay.core.chain import CLOCK_SYSVAR, CLOCK_UNIX_TS_OFFSET, Chain, LiteSvmChain, Memcmp, Sent
from iopay.governance import program as gp
from iopay.governance.actions import describe_instruction
from iopay.governance.state import (
    AccountType,
    Governance,
    GovernanceConfig,
    Proposal,
    ProposalState,
    ProposalTransaction,
    Realm,
    Tally,
    TokenOwnerRecord,
    TransactionExecutionStatus,
    VoteRecord,
    execution_ready_at,
    max_voter_weight,
    tally,
    tally_from_records,
)


class GovernanceCheckFailed(ValueError):
    """A write the program would refuse (or that makes no sense); nothing was sent."""


@dataclass(frozen=True)
class RealmView:
    address: Pubkey
    realm: Realm


@dataclass(frozen=True)
class GovernanceView:
    address: Pubkey
    governance: Governance


@dataclass(frozen=True)
class ProposalView:
    address: Pubkey
    proposal: Proposal


@dataclass(frozen=True)
class VoteRecordView:
    address: Pubkey
    record: VoteRecord


@dataclass(frozen=True)
class TokenOwnerRecordView:
    address: Pubkey
    record: TokenOwnerRecord


@dataclass(frozen=True)
class TransactionView:
    address: Pubkey
    transaction: ProposalTransaction
    #: first unix time ExecuteTransaction is accepted (None before the vote ends)
    ready_at: Optional[int]
    #: one readable line per carried instruction
    described: Tuple[str, ...]

    @property
    def executed(self) -> bool:
        """Whether ExecuteTransaction already ran this transaction."""
        return self.transaction.executed_at is not None


@dataclass(frozen=True)
class ProposalStatus:
    """What a voter sees before voting."""

    address: Pubkey
    proposal: Proposal
    governance: Pubkey
    config: GovernanceConfig
    tally: Tally
    now: int
    voting_ends_at: Optional[int]
    vote_records: Tuple[VoteRecordView, ...]
    transactions: Tuple[TransactionView, ...]

    @property
    def time_left(self) -> Optional[int]:
        """Seconds of voting left (None unless the proposal is Voting with a known end)."""
        if self.proposal.state != ProposalState.Voting or self.voting_ends_at is None:
            return None
        return max(0, self.voting_ends_at - self.now)

    def to_dict(self) -> Dict[str, Any]:
        """A JSON-ready summary (what ``iopay gov show`` prints): counters, threshold, quorum progress, time
        left, votes and the carried instructions decoded."""
        p, t = self.proposal, self.tally
        return {
            "proposal": str(self.address),
            "name": p.name,
            "description_link": p.description_link,
            "governance": str(self.governance),
            "state": p.state.name,
            "yes": t.yes,
            "no": t.no,
            "abstain": t.abstain,
            "max_voter_weight": t.max_voter_weight,
            "threshold": (p.vote_threshold or self.config.community_vote_threshold).describe(),
            "yes_needed": t.threshold_weight,
            "quorum_progress": round(t.quorum_progress, 6),
            "outcome_if_closed": t.outcome_if_closed.name,
            "voting_at": p.voting_at,
            "voting_ends_at": self.voting_ends_at,
            "time_left": self.time_left,
            "voting_completed_at": p.voting_completed_at,
            "votes": [{"voter": str(v.record.governing_token_owner), "vote": v.record.vote.name,
                       "weight": v.record.voter_weight, "relinquished": v.record.is_relinquished}
                      for v in self.vote_records],
            "transactions": [{"address": str(x.address), "index": x.transaction.transaction_index,
                              "hold_up_time": x.transaction.hold_up_time, "ready_at": x.ready_at,
                              "executed_at": x.transaction.executed_at,
                              "status": x.transaction.execution_status.name,
                              "instructions": list(x.described)} for x in self.transactions],
        }


class GovernanceClient:
    """Async client of SPL Governance for one payer (fees and rent)."""

    def __init__(self, chain: Chain, payer: Keypair, program: Optional[gp.GovernanceProgram] = None,
                 escrow: Any = None) -> None:
        if not isinstance(payer, Keypair):
            raise TypeError(f"payer must be a solders Keypair, got {type(payer).__name__}")
        self.chain = chain
        self.payer = payer
        self.gov = program or gp.GovernanceProgram()
        self.program_id = self.gov.program_id
        self._escrow = escrow

    @classmethod
    def for_harness(cls, harness: Any, payer: Optional[Keypair] = None, **kw: Any) -> "GovernanceClient":
        """A client over an in-process LiteSVM :class:`~iopay.core.harness.Harness` (with spl_governance
        loaded); governance errors are named. ``payer`` defaults to the harness's payer."""
        harness.errors.add(gp.error_table())
        return cls(LiteSvmChain(harness), payer or harness.payer, **kw)

    @classmethod
    def connect(cls, url: str, payer: Keypair, *, send_config: Optional[Any] = None,
                commitment: str = "confirmed") -> "GovernanceClient":
        """Over JSON-RPC at ``url``: governance and job_escrow errors named,
        escrow events decoded. ``await client.close()`` when done."""
        from iopay.core.chain import rpc_chain
        from iopay.core.idl import ProgramIdl

        if not isinstance(payer, Keypair):
            raise TypeError(f"payer must be a solders Keypair, got {type(payer).__name__}")
        chain = rpc_chain(url, [ProgramIdl.load("job_escrow")], send_config=send_config, commitment=commitment)
        chain.sender.errors.add(gp.error_table())
        return cls(chain, payer)

    async def close(self) -> None:
        """Close the RPC connection (nothing to do in process)."""
        close = getattr(self.chain, "close", None)
        if close is not None:
            await close()

    async def __aenter__(self) -> "GovernanceClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    @property
    def escrow(self) -> Any:
        """job_escrow builders (:class:`iopay.escrow.program.JobEscrow`)."""
        if self._escrow is None:
            from iopay.escrow.program import JobEscrow

            self._escrow = JobEscrow()
        return self._escrow

    # -- reads ---------------------------------------------------------------------

    async def _data(self, address: Pubkey, what: str) -> bytes:
        if not isinstance(address, Pubkey):
            raise TypeError(f"{what} address must be a Pubkey")
        acc = await self.chain.get_account(address)
        if acc is None:
            raise LookupError(f"{what} {address} does not exist")
        owner, data = acc
        if owner != self.program_id:
            raise ValueError(f"{what} {address} is owned by {owner}, not the governance program")
        return data

    async def now(self) -> int:
        """The cluster's unix time (Clock sysvar), the clock voting and hold-up run on. ``LookupError`` if
        unreadable."""
        acc = await self.chain.get_account(CLOCK_SYSVAR)
        if acc is None:
            raise LookupError("Clock sysvar not readable")
        return struct.unpack_from("<q", acc[1], CLOCK_UNIX_TS_OFFSET)[0]

    async def mint(self, mint: Pubkey) -> spl.Mint:
        """The decoded SPL mint (supply, decimals); ``LookupError`` if it does not exist."""
        acc = await self.chain.get_account(mint)
        if acc is None:
            raise LookupError(f"mint {mint} does not exist")
        return spl.Mint.decode(acc[1])

    async def realm(self, address: Pubkey) -> RealmView:
        """The realm at ``address``; ``LookupError`` if absent, ``ValueError`` if spl_governance does not own
        it, ``TypeError`` if ``address`` is not a Pubkey."""
        return RealmView(address, Realm.decode(await self._data(address, "realm")))

    async def realm_by_name(self, name: str) -> RealmView:
        """The realm named ``name`` (its PDA); ``LookupError`` if none."""
        return await self.realm(self.gov.realm(name))

    async def governance(self, address: Pubkey) -> GovernanceView:
        """The governance at ``address`` (its config: thresholds, voting and hold-up times); errors as
        :meth:`realm`."""
        return GovernanceView(address, Governance.decode(await self._data(address, "governance")))

    async def governances(self, realm: Pubkey) -> List[GovernanceView]:
        """Every governance of ``realm`` (one getProgramAccounts)."""
        rows = await self.chain.get_program_accounts(
            self.program_id, [Memcmp(0, bytes([AccountType.GovernanceV2])), Memcmp(1, bytes(realm))])
        return [GovernanceView(k, Governance.decode(d)) for k, d in rows]

    async def proposal(self, address: Pubkey) -> ProposalView:
        """The proposal at ``address``; errors as :meth:`realm`."""
        return ProposalView(address, Proposal.decode(await self._data(address, "proposal")))

    async def proposals(self, governance: Pubkey) -> List[ProposalView]:
        """Every proposal of ``governance`` (one getProgramAccounts)."""
        rows = await self.chain.get_program_accounts(
            self.program_id, [Memcmp(0, bytes([AccountType.ProposalV2])), Memcmp(1, bytes(governance))])
        return [ProposalView(k, Proposal.decode(d)) for k, d in rows]

    async def realm_proposals(self, realm: Pubkey) -> List[Tuple[GovernanceView, ProposalView]]:
        """``(governance, proposal)`` for every proposal of every governance of ``realm``."""
        out = []
        for g in await self.governances(realm):
            out += [(g, p) for p in await self.proposals(g.address)]
        return out

    async def token_owner_record(self, realm: Pubkey, mint: Pubkey, owner: Pubkey) -> Optional[TokenOwnerRecordView]:
        """``owner``'s deposit record for ``mint`` in ``realm``, or None without one."""
        addr = self.gov.token_owner_record(realm, mint, owner)
        acc = await self.chain.get_account(addr)
        if acc is None:
            return None
        return TokenOwnerRecordView(addr, TokenOwnerRecord.decode(acc[1]))

    async def vote_records(self, proposal: Pubkey) -> List[VoteRecordView]:
        """Every vote cast on ``proposal`` (one getProgramAccounts)."""
        rows = await self.chain.get_program_accounts(
            self.program_id, [Memcmp(0, bytes([AccountType.VoteRecordV2])), Memcmp(1, bytes(proposal))])
        return [VoteRecordView(k, VoteRecord.decode(d)) for k, d in rows]

    async def vote_record(self, proposal: Pubkey, voter_record: Pubkey) -> Optional[VoteRecordView]:
        """The vote of the token owner record ``voter_record`` on ``proposal``, or None."""
        addr = self.gov.vote_record(proposal, voter_record)
        acc = await self.chain.get_account(addr)
        return None if acc is None else VoteRecordView(addr, VoteRecord.decode(acc[1]))

    async def transactions(self, proposal: Pubkey, p: Optional[Proposal] = None) -> List[TransactionView]:
        """The proposal's transactions in execution order, each with the time it may execute (``ready_at``) and
        its instructions described in words."""
        p = p or (await self.proposal(proposal)).proposal
        rows = await self.chain.get_program_accounts(
            self.program_id, [Memcmp(0, bytes([AccountType.ProposalTransactionV2])), Memcmp(1, bytes(proposal))])
        out = []
        for k, d in rows:
            tx = ProposalTransaction.decode(d)
            out.append(TransactionView(k, tx, execution_ready_at(p, tx),
                                       tuple(describe_instruction(ix, self.escrow) for ix in tx.instructions)))
        return sorted(out, key=lambda x: (x.transaction.option_index, x.transaction.transaction_index))

    async def proposal_status(self, proposal: Pubkey) -> ProposalStatus:
        """What a voter sees: the proposal, its governance config, the tally against the max voter weight (live
        supply while voting, the captured one after), time left, votes and transactions."""
        pv = await self.proposal(proposal)
        p = pv.proposal
        g = await self.governance(p.governance)
        realm = await self.realm(g.governance.realm)
        now = await self.now()
        if p.max_vote_weight is not None and p.state not in (ProposalState.Voting, ProposalState.Draft,
                                                             ProposalState.SigningOff):
            mw = p.max_vote_weight  # captured by the program when the vote ended
        else:
            mw = max_voter_weight(realm.realm, p.governing_token_mint,
                                  (await self.mint(p.governing_token_mint)).supply, p)
        t = tally(p, g.governance.config, mw)
        records = await self.vote_records(proposal)
        return ProposalStatus(proposal, p, p.governance, g.governance.config, t, now,
                              p.voting_ends_at(g.governance.config), tuple(records),
                              tuple(await self.transactions(proposal, p)))

    async def verify_tally(self, proposal: Pubkey) -> Tuple[int, int, int]:
        """(yes, no, abstain) from the vote records; raises AssertionError-free
        ``GovernanceCheckFailed`` if they differ from the proposal's counters
        while it is being voted on."""
        p = (await self.proposal(proposal)).proposal
        yes, no, abstain = tally_from_records([v.record for v in await self.vote_records(proposal)])
        if p.state == ProposalState.Voting and (yes, no) != (p.yes_vote_weight, p.no_vote_weight):
            raise GovernanceCheckFailed(f"proposal {proposal} counters {p.yes_vote_weight}/{p.no_vote_weight} "
                                        f"differ from its vote records {yes}/{no}")
        return yes, no, abstain

    # -- writes ---------------------------------------------------------------------

    async def _send(self, ixs: Sequence[Instruction], signers: Sequence[Keypair] = ()) -> Sent:
        uniq: Dict[Pubkey, Keypair] = {}
        for s in signers:
            if s.pubkey() != self.payer.pubkey():
                uniq[s.pubkey()] = s
        return await self.chain.send(ixs, list(uniq.values()), self.payer)

    async def create_realm(self, authority: Pubkey, name: str, community_mint: Pubkey, *,
                           min_weight_to_create_governance: int = 1, check: bool = True) -> Tuple[Pubkey, Sent]:
        """Create realm ``name`` over ``community_mint`` with ``authority``; the client's payer pays. With
        ``check``, raises :class:`GovernanceCheckFailed` (nothing sent) if the realm exists or the mint does
        not. Returns ``(realm, sent)``."""
        ix = self.gov.create_realm(name=name, authority=authority, community_mint=community_mint,
                                   payer=self.payer.pubkey(),
                                   min_weight_to_create_governance=min_weight_to_create_governance)
        realm = self.gov.realm(name)
        if check:
            if await self.chain.get_account(realm) is not None:
                raise GovernanceCheckFailed(f"realm {name!r} already exists at {realm}")
            await self.mint(community_mint)
        return realm, await self._send([ix])

    async def create_governance(self, creator: Keypair, realm: Pubkey, governed: Pubkey, config: GovernanceConfig,
                                *, check: bool = True) -> Tuple[Pubkey, Sent]:
        """A governance over ``governed`` (for a market: the market address),
        created by the realm authority or a holder with enough deposit."""
        rv = await self.realm(realm)
        tor = self.gov.token_owner_record(realm, rv.realm.community_mint, creator.pubkey())
        addr = self.gov.governance(realm, governed)
        if check:
            if await self.chain.get_account(addr) is not None:
                raise GovernanceCheckFailed(f"governance {addr} over {governed} already exists")
            if rv.realm.authority != creator.pubkey():
                rec = await self.token_owner_record(realm, rv.realm.community_mint, creator.pubkey())
                have = rec.record.governing_token_deposit_amount if rec else 0
                if have < rv.realm.min_community_weight_to_create_governance:
                    raise GovernanceCheckFailed(
                        f"{creator.pubkey()} is not the realm authority and has {have} deposited; creating a "
                        f"governance needs {rv.realm.min_community_weight_to_create_governance}")
        ix = self.gov.create_governance(realm=realm, governed=governed, token_owner_record=tor,
                                        payer=self.payer.pubkey(), create_authority=creator.pubkey(), config=config)
        return addr, await self._send([ix], [creator])

    async def deposit(self, owner: Keypair, realm: Pubkey, amount: int, *, source: Optional[Pubkey] = None,
                      check: bool = True) -> Sent:
        """Deposit ``amount`` base units of the realm's community mint from ``source`` (default: the owner's
        ATA) as voting weight. With ``check``, :class:`GovernanceCheckFailed` if the account is missing, of
        another mint or short."""
        rv = await self.realm(realm)
        mint = rv.realm.community_mint
        src = source or spl.associated_token_address(owner.pubkey(), mint)
        ix = self.gov.deposit(realm=realm, mint=mint, source=src, owner=owner.pubkey(), amount=amount,
                              payer=self.payer.pubkey())
        if check:
            acc = await self.chain.get_account(src)
            if acc is None:
                raise GovernanceCheckFailed(f"token account {src} does not exist")
            tok = spl.TokenAccount.decode(acc[1])
            if tok.mint != mint:
                raise GovernanceCheckFailed(f"{src} holds mint {tok.mint}, not the realm's {mint}")
            if tok.amount < amount:
                raise GovernanceCheckFailed(f"{src} holds {tok.amount}, cannot deposit {amount}")
        return await self._send([ix], [owner])

    async def withdraw(self, owner: Keypair, realm: Pubkey, *, destination: Optional[Pubkey] = None,
                       check: bool = True) -> Sent:
        """Withdraw ``owner``'s whole deposit to ``destination`` (default: its ATA). With ``check``,
        :class:`GovernanceCheckFailed` if nothing is deposited, a vote is not relinquished, a proposal of its
        own is open, or the destination is missing."""
        rv = await self.realm(realm)
        mint = rv.realm.community_mint
        dest = destination or spl.associated_token_address(owner.pubkey(), mint)
        if check:
            rec = await self.token_owner_record(realm, mint, owner.pubkey())
            if rec is None or rec.record.governing_token_deposit_amount == 0:
                raise GovernanceCheckFailed(f"{owner.pubkey()} has nothing deposited in realm {realm}")
            if rec.record.unrelinquished_votes_count:
                raise GovernanceCheckFailed(
                    f"{owner.pubkey()} has {rec.record.unrelinquished_votes_count} vote(s) not relinquished; "
                    "relinquish them first (`iopay gov relinquish`)")
            if rec.record.outstanding_proposal_count:
                raise GovernanceCheckFailed(
                    f"{owner.pubkey()} owns {rec.record.outstanding_proposal_count} proposal(s) still open")
            if await self.chain.get_account(dest) is None:
                raise GovernanceCheckFailed(f"destination token account {dest} does not exist")
        ix = self.gov.withdraw(realm=realm, mint=mint, destination=dest, owner=owner.pubkey())
        return await self._send([ix], [owner])

    async def propose(self, owner: Keypair, governance: Pubkey, name: str, instructions: Sequence[Instruction], *,
                      description_link: str = "", hold_up_time: Optional[int] = None, seed: Optional[Pubkey] = None,
                      per_transaction: int = 1, check: bool = True) -> Tuple[Pubkey, List[Sent]]:
        """Create a yes/no proposal carrying ``instructions`` (each executed
        signed by the governance PDA), insert them (``per_transaction``
        instructions per proposal transaction) and sign it off so voting
        starts. Returns the proposal address and the transactions sent."""
        gv = await self.governance(governance)
        g = gv.governance
        rv = await self.realm(g.realm)
        mint = rv.realm.community_mint
        tor = self.gov.token_owner_record(g.realm, mint, owner.pubkey())
        hold = g.config.min_transaction_hold_up_time if hold_up_time is None else hold_up_time
        if check:
            rec = await self.token_owner_record(g.realm, mint, owner.pubkey())
            have = rec.record.governing_token_deposit_amount if rec else 0
            if have < g.config.min_community_weight_to_create_proposal:
                raise GovernanceCheckFailed(
                    f"{owner.pubkey()} has {have} deposited; proposing needs "
                    f"{g.config.min_community_weight_to_create_proposal}")
            if hold < g.config.min_transaction_hold_up_time:
                raise GovernanceCheckFailed(f"hold-up {hold}s is below the governance's minimum "
                                            f"{g.config.min_transaction_hold_up_time}s")
            if not instructions:
                raise GovernanceCheckFailed("a proposal needs at least one instruction to execute")
            for ix in instructions:
                if any(m.is_signer and m.pubkey != governance for m in ix.accounts):
                    raise GovernanceCheckFailed(
                        f"instruction for {ix.program_id} needs a signer other than the governance {governance}")
        if per_transaction < 1:
            raise ValueError("per_transaction must be at least 1")
        seed = seed or Pubkey.from_bytes(secrets.token_bytes(32))
        proposal = self.gov.proposal(governance, mint, seed)
        sent = [await self._send([self.gov.create_proposal(
            realm=g.realm, governance=governance, mint=mint, token_owner_record=tor, authority=owner.pubkey(),
            payer=self.payer.pubkey(), name=name, description_link=description_link, seed=seed)], [owner])]
        chunks = [list(instructions[i:i + per_transaction]) for i in range(0, len(instructions), per_transaction)]
        for index, chunk in enumerate(chunks):
            sent.append(await self._send([self.gov.insert_transaction(
                governance=governance, proposal=proposal, token_owner_record=tor, authority=owner.pubkey(),
                payer=self.payer.pubkey(), index=index, instructions=chunk, hold_up_time=hold)], [owner]))
        sent.append(await self._send([self.gov.sign_off_proposal(
            realm=g.realm, governance=governance, proposal=proposal, signatory=owner.pubkey(),
            owner_record=tor)], [owner]))
        return proposal, sent

    async def _context(self, proposal: Pubkey) -> Tuple[Proposal, Governance, Realm]:
        p = (await self.proposal(proposal)).proposal
        g = (await self.governance(p.governance)).governance
        return p, g, (await self.realm(g.realm)).realm

    async def vote(self, voter: Keypair, proposal: Pubkey, yes: bool, *, check: bool = True) -> Sent:
        """Cast ``voter``'s full deposit yes (``yes=True``) or no on ``proposal``. With ``check``,
        :class:`GovernanceCheckFailed` unless the proposal is Voting, its time is not over, the voter has a
        deposit and has not voted yet."""
        if not isinstance(yes, bool):
            raise TypeError("yes must be a bool")
        p, g, realm = await self._context(proposal)
        voter_tor = self.gov.token_owner_record(g.realm, p.governing_token_mint, voter.pubkey())
        if check:
            if p.state != ProposalState.Voting:
                raise GovernanceCheckFailed(f"proposal {proposal} is {p.state.name}, not Voting")
            now = await self.now()
            end = p.voting_ends_at(g.config)
            if end is not None and now > end:
                raise GovernanceCheckFailed(f"voting on {proposal} ended {now - end}s ago; finalize it")
            rec = await self.token_owner_record(g.realm, p.governing_token_mint, voter.pubkey())
            if rec is None or rec.record.governing_token_deposit_amount == 0:
                raise GovernanceCheckFailed(f"{voter.pubkey()} has no tokens deposited in the realm")
            if await self.vote_record(proposal, voter_tor) is not None:
                raise GovernanceCheckFailed(f"{voter.pubkey()} already voted on {proposal}")
        ix = self.gov.cast_vote(realm=g.realm, governance=p.governance, proposal=proposal,
                                owner_record=p.token_owner_record, voter_record=voter_tor, voter=voter.pubkey(),
                                mint=p.governing_token_mint, payer=self.payer.pubkey(), yes=yes)
        return await self._send([ix], [voter])

    async def relinquish(self, voter: Keypair, proposal: Pubkey, *, check: bool = True) -> Sent:
        """Take ``voter``'s vote back (while Voting: it no longer counts) or release its record after the vote
        so tokens can be withdrawn. With ``check``, :class:`GovernanceCheckFailed` if there is no vote or it
        is already relinquished."""
        p, g, _ = await self._context(proposal)
        voter_tor = self.gov.token_owner_record(g.realm, p.governing_token_mint, voter.pubkey())
        if check:
            vr = await self.vote_record(proposal, voter_tor)
            if vr is None:
                raise GovernanceCheckFailed(f"{voter.pubkey()} has no vote on {proposal}")
            if vr.record.is_relinquished:
                raise GovernanceCheckFailed(f"{voter.pubkey()}'s vote on {proposal} is already relinquished")
        voting = p.state == ProposalState.Voting
        ix = self.gov.relinquish_vote(realm=g.realm, governance=p.governance, proposal=proposal,
                                      voter_record=voter_tor, mint=p.governing_token_mint,
                                      authority=voter.pubkey() if voting else None,
                                      beneficiary=voter.pubkey() if voting else None)
        return await self._send([ix], [voter] if voting else [])

    async def finalize(self, proposal: Pubkey, *, check: bool = True) -> Sent:
        """Close the vote once its time is over (anyone): the proposal becomes Succeeded or Defeated. With
        ``check``, :class:`GovernanceCheckFailed` if it is not Voting or voting is still open."""
        p, g, _ = await self._context(proposal)
        if check:
            if p.state != ProposalState.Voting:
                raise GovernanceCheckFailed(f"proposal {proposal} is {p.state.name}: nothing to finalize")
            now, end = await self.now(), p.voting_ends_at(g.config)
            if end is not None and now <= end:
                raise GovernanceCheckFailed(f"voting on {proposal} is open for {end - now + 1}s more")
        ix = self.gov.finalize_vote(realm=g.realm, governance=p.governance, proposal=proposal,
                                    owner_record=p.token_owner_record, mint=p.governing_token_mint)
        return await self._send([ix])

    async def execute(self, proposal: Pubkey, *, index: Optional[int] = None, check: bool = True) -> List[Sent]:
        """Execute the proposal's transaction ``index`` (default: every one not
        yet executed, in order)."""
        p = (await self.proposal(proposal)).proposal
        txs = await self.transactions(proposal, p)
        if index is not None:
            txs = [t for t in txs if t.transaction.transaction_index == index]
            if not txs:
                raise GovernanceCheckFailed(f"proposal {proposal} has no transaction {index}")
        elif check:
            txs = [t for t in txs if not t.executed]
        if check:
            if p.state not in (ProposalState.Succeeded, ProposalState.Executing, ProposalState.ExecutingWithErrors):
                raise GovernanceCheckFailed(f"proposal {proposal} is {p.state.name}; only a succeeded proposal "
                                            "executes")
            if not txs:
                raise GovernanceCheckFailed(f"proposal {proposal} has nothing left to execute")
            now = await self.now()
            for t in txs:
                if t.executed:
                    raise GovernanceCheckFailed(f"transaction {t.transaction.transaction_index} already executed")
                if t.ready_at is None or now < t.ready_at:
                    raise GovernanceCheckFailed(
                        f"transaction {t.transaction.transaction_index} is held up until {t.ready_at} "
                        f"({(t.ready_at or now) - now}s from now)")
        out = []
        for t in txs:
            ix = self.gov.execute_transaction(
                governance=p.governance, proposal=proposal, proposal_transaction=t.address,
                instructions=[gp.ProposalInstruction(i.program_id, tuple(_meta(m) for m in i.accounts), i.data)
                              for i in t.transaction.instructions])
            out.append(await self._send([ix]))
        return out

    async def cancel(self, owner: Keypair, proposal: Pubkey) -> Sent:
        """The proposal's owner cancels it (before it is decided)."""
        p, g, _ = await self._context(proposal)
        ix = self.gov.cancel_proposal(realm=g.realm, governance=p.governance, proposal=proposal,
                                      owner_record=p.token_owner_record, authority=owner.pubkey())
        return await self._send([ix], [owner])


def _meta(m: Any) -> Any:
    from solders.instruction import AccountMeta

    return AccountMeta(m.pubkey, m.is_signer, m.is_writable)


__all__ = ["GovernanceClient", "GovernanceCheckFailed", "ProposalStatus", "TransactionView", "RealmView",
           "GovernanceView", "ProposalView", "VoteRecordView", "TokenOwnerRecordView",
           "TransactionExecutionStatus"]
