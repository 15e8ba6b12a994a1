"""Decoded views of SPL Governance 4.0.0 accounts and the pure vote math.

Layouts follow the program's source (``spl-governance`` 4.0.0,
``src/state/*.rs``): every account is Borsh, led by its
``GovernanceAccountType`` byte. Only the V2 account types the 4.0.0 program
writes are decoded (``RealmV2``, ``GovernanceV2``, ``ProposalV2``,
``TokenOwnerRecordV2``, ``VoteRecordV2``, ``ProposalTransactionV2``,
``RealmConfig``); a V1 account is refused with :class:`BorshError` rather than
misread.

The vote math mirrors ``state/proposal.rs`` (``get_min_vote_threshold_weight``,
``try_get_tipped_electorate_vote_state``, ``resolve_final_vote_state``,
``coerce_max_voter_weight``) so the helper can say, before anyone sends a
transaction, what the program will decide.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import List, Optional, Tuple, Union

from solders.pubkey import Pubkey

from iopay.governance.borsh import BorshError, Reader


class AccountType(enum.IntEnum):
    Uninitialized = 0
    RealmV1 = 1
    TokenOwnerRecordV1 = 2
    GovernanceV1 = 3
    ProgramGovernanceV1 = 4
    ProposalV1 = 5
    SignatoryRecordV1 = 6
    VoteRecordV1 = 7
    ProposalInstructionV1 = 8
    MintGovernanceV1 = 9
    TokenGovernanceV1 = 10
    RealmConfig = 11
    VoteRecordV2 = 12
    ProposalTransactionV2 = 13
    ProposalV2 = 14
    ProgramMetadata = 15
    RealmV2 = 16
    TokenOwnerRecordV2 = 17
    GovernanceV2 = 18
    ProgramGovernanceV2 = 19
    MintGovernanceV2 = 20
    TokenGovernanceV2 = 21
    SignatoryRecordV2 = 22
    ProposalDeposit = 23
    RequiredSignatory = 24


GOVERNANCE_V2_TYPES = (AccountType.GovernanceV2, AccountType.ProgramGovernanceV2,
                       AccountType.MintGovernanceV2, AccountType.TokenGovernanceV2)


class ProposalState(enum.IntEnum):
    Draft = 0
    SigningOff = 1
    Voting = 2
    Succeeded = 3
    Executing = 4
    Completed = 5
    Cancelled = 6
    Defeated = 7
    ExecutingWithErrors = 8
    Vetoed = 9


class VoteTipping(enum.IntEnum):
    Strict = 0
    Early = 1
    Disabled = 2


class OptionVoteResult(enum.IntEnum):
    NONE = 0
    Succeeded = 1
    Defeated = 2


class TransactionExecutionStatus(enum.IntEnum):
    NONE = 0
    Success = 1
    Error = 2


class GoverningTokenType(enum.IntEnum):
    Liquid = 0
    Membership = 1
    Dormant = 2


class VoteKind(enum.IntEnum):
    """``Vote`` variants: Approve(Vec<VoteChoice>), Deny, Abstain, Veto."""

    Approve = 0
    Deny = 1
    Abstain = 2
    Veto = 3


SUPPLY_FRACTION_BASE = 10_000_000_000


@dataclass(frozen=True)
class VoteThreshold:
    """``YesVotePercentage(p)`` (kind 0), ``QuorumPercentage(p)`` (kind 1,
    refused by 4.0.0) or ``Disabled`` (kind 2, ``percent`` None)."""

    kind: int
    percent: Optional[int] = None

    @classmethod
    def yes_percent(cls, p: int) -> "VoteThreshold":
        """``YesVotePercentage(p)``: a proposal passes with yes >= ``p`` % of the max voter weight (``p``
        1..100; ``TypeError``/``ValueError`` otherwise)."""
        if isinstance(p, bool) or not isinstance(p, int):
            raise TypeError("threshold percentage must be an int")
        if not 1 <= p <= 100:
            raise ValueError("threshold percentage must be 1..=100")
        return cls(0, p)

    @classmethod
    def disabled(cls) -> "VoteThreshold":
        """``Disabled``: this kind of vote cannot pass (e.g. no council)."""
        return cls(2, None)

    @property
    def is_disabled(self) -> bool:
        """Whether the threshold is ``Disabled``."""
        return self.kind == 2

    def describe(self) -> str:
        """Human-readable form (``"yes >= 25%"``)."""
        return {0: f"yes >= {self.percent}%", 1: f"quorum {self.percent}%"}.get(self.kind, "disabled")


def _threshold(r: Reader) -> VoteThreshold:
    tag = r.u8()
    if tag in (0, 1):
        return VoteThreshold(tag, r.u8())
    if tag == 2:
        return VoteThreshold(2, None)
    raise BorshError(f"invalid VoteThreshold tag {tag}")


@dataclass(frozen=True)
class MaxVoterWeightSource:
    """``SupplyFraction(fraction of 10^10)`` (kind 0) or ``Absolute(weight)`` (kind 1)."""

    kind: int
    value: int

    @classmethod
    def full_supply(cls) -> "MaxVoterWeightSource":
        """The whole mint supply counts as the max voter weight."""
        return cls(0, SUPPLY_FRACTION_BASE)


def _max_source(r: Reader) -> MaxVoterWeightSource:
    tag = r.u8()
    if tag not in (0, 1):
        raise BorshError(f"invalid MintMaxVoterWeightSource tag {tag}")
    return MaxVoterWeightSource(tag, r.u64())


def _account_type(r: Reader, *expected: AccountType) -> AccountType:
    t = r.u8()
    try:
        at = AccountType(t)
    except ValueError as e:
        raise BorshError(f"unknown governance account type {t}") from e
    if at not in expected:
        raise BorshError(f"account is {at.name}, expected {' or '.join(e.name for e in expected)}")
    return at


def account_type_of(data: bytes) -> Optional[AccountType]:
    """The governance account type of ``data`` (its first byte), None if empty or unknown."""
    if not data:
        return None
    try:
        return AccountType(data[0])
    except ValueError:
        return None


# -- Realm ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Realm:
    community_mint: Pubkey
    min_community_weight_to_create_governance: int
    community_mint_max_voter_weight_source: MaxVoterWeightSource
    council_mint: Optional[Pubkey]
    authority: Optional[Pubkey]
    name: str

    @classmethod
    def decode(cls, data: bytes) -> "Realm":
        """Decode a ``RealmV2`` account (:class:`BorshError`, a ``ValueError``, on other bytes)."""
        r = Reader(data)
        _account_type(r, AccountType.RealmV2)
        community_mint = r.pubkey()
        r.u8(), r.u8(), r.take(6)  # config.legacy1, legacy2, reserved
        min_weight = r.u64()
        source = _max_source(r)
        council = r.option(r.pubkey)
        r.take(6), r.u16()  # reserved, legacy1
        authority = r.option(r.pubkey)
        name = r.string()
        return cls(community_mint, min_weight, source, council, authority, name)


@dataclass(frozen=True)
class GoverningTokenConfig:
    voter_weight_addin: Optional[Pubkey]
    max_voter_weight_addin: Optional[Pubkey]
    token_type: GoverningTokenType


@dataclass(frozen=True)
class RealmConfigAccount:
    realm: Pubkey
    community_token_config: GoverningTokenConfig
    council_token_config: GoverningTokenConfig

    @classmethod
    def decode(cls, data: bytes) -> "RealmConfigAccount":
        """Decode a ``RealmConfig`` account (:class:`BorshError` on other bytes)."""
        r = Reader(data)
        _account_type(r, AccountType.RealmConfig)
        realm = r.pubkey()

        def token_config() -> GoverningTokenConfig:
            vw, mvw = r.option(r.pubkey), r.option(r.pubkey)
            tt = GoverningTokenType(r.u8())
            r.take(8)
            return GoverningTokenConfig(vw, mvw, tt)

        return cls(realm, token_config(), token_config())


# -- Governance -------------------------------------------------------------------------

@dataclass(frozen=True)
class GovernanceConfig:
    community_vote_threshold: VoteThreshold
    min_community_weight_to_create_proposal: int
    min_transaction_hold_up_time: int
    voting_base_time: int
    community_vote_tipping: VoteTipping
    council_vote_threshold: VoteThreshold
    council_veto_vote_threshold: VoteThreshold
    min_council_weight_to_create_proposal: int
    council_vote_tipping: VoteTipping
    community_veto_vote_threshold: VoteThreshold
    voting_cool_off_time: int
    deposit_exempt_proposal_count: int

    @classmethod
    def read(cls, r: Reader) -> "GovernanceConfig":
        """Read a config from a Borsh :class:`Reader` positioned at it."""
        return cls(
            community_vote_threshold=_threshold(r),
            min_community_weight_to_create_proposal=r.u64(),
            min_transaction_hold_up_time=r.u32(),
            voting_base_time=r.u32(),
            community_vote_tipping=VoteTipping(r.u8()),
            council_vote_threshold=_threshold(r),
            council_veto_vote_threshold=_threshold(r),
            min_council_weight_to_create_proposal=r.u64(),
            council_vote_tipping=VoteTipping(r.u8()),
            community_veto_vote_threshold=_threshold(r),
            voting_cool_off_time=r.u32(),
            deposit_exempt_proposal_count=r.u8(),
        )

    @property
    def max_voting_time(self) -> int:
        """Seconds from the start of voting until votes are refused."""
        return self.voting_base_time + self.voting_cool_off_time


@dataclass(frozen=True)
class Governance:
    account_type: AccountType
    realm: Pubkey
    governed_account: Pubkey
    config: GovernanceConfig
    required_signatories_count: int
    active_proposal_count: int

    @classmethod
    def decode(cls, data: bytes) -> "Governance":
        """Decode a ``GovernanceV2`` account (:class:`BorshError` on other bytes)."""
        r = Reader(data)
        at = _account_type(r, *GOVERNANCE_V2_TYPES)
        realm, governed = r.pubkey(), r.pubkey()
        r.u32()  # reserved1
        config = GovernanceConfig.read(r)
        r.take(119)  # reserved_v2
        return cls(at, realm, governed, config, r.u8(), r.u64())


# -- TokenOwnerRecord ----------------------------------------------------------------

@dataclass(frozen=True)
class TokenOwnerRecord:
    realm: Pubkey
    governing_token_mint: Pubkey
    governing_token_owner: Pubkey
    governing_token_deposit_amount: int
    unrelinquished_votes_count: int
    outstanding_proposal_count: int
    version: int
    governance_delegate: Optional[Pubkey]

    @classmethod
    def decode(cls, data: bytes) -> "TokenOwnerRecord":
        """Decode a ``TokenOwnerRecordV2`` account (:class:`BorshError` on other bytes)."""
        r = Reader(data)
        _account_type(r, AccountType.TokenOwnerRecordV2)
        realm, mint, owner = r.pubkey(), r.pubkey(), r.pubkey()
        deposit, unrelinquished, outstanding, version = r.u64(), r.u64(), r.u8(), r.u8()
        r.take(6)
        return cls(realm, mint, owner, deposit, unrelinquished, outstanding, version, r.option(r.pubkey))


# -- Proposal ------------------------------------------------------------------------

@dataclass(frozen=True)
class ProposalOption:
    label: str
    vote_weight: int
    vote_result: OptionVoteResult
    transactions_executed_count: int
    transactions_count: int
    transactions_next_index: int


@dataclass(frozen=True)
class VoteType:
    """``SingleChoice`` (multi False) or ``MultiChoice{...}``."""

    multi: bool = False
    choice_type: int = 0
    min_voter_options: int = 0
    max_voter_options: int = 0
    max_winning_options: int = 0


@dataclass(frozen=True)
class Proposal:
    governance: Pubkey
    governing_token_mint: Pubkey
    state: ProposalState
    token_owner_record: Pubkey
    signatories_count: int
    signatories_signed_off_count: int
    vote_type: VoteType
    options: Tuple[ProposalOption, ...]
    deny_vote_weight: Optional[int]
    abstain_vote_weight: Optional[int]
    start_voting_at: Optional[int]
    draft_at: int
    signing_off_at: Optional[int]
    voting_at: Optional[int]
    voting_at_slot: Optional[int]
    voting_completed_at: Optional[int]
    executing_at: Optional[int]
    closed_at: Optional[int]
    execution_flags: int
    max_vote_weight: Optional[int]
    max_voting_time: Optional[int]
    vote_threshold: Optional[VoteThreshold]
    name: str
    description_link: str
    veto_vote_weight: int

    @classmethod
    def decode(cls, data: bytes) -> "Proposal":
        """Decode a ``ProposalV2`` account (:class:`BorshError` on other bytes)."""
        r = Reader(data)
        _account_type(r, AccountType.ProposalV2)
        governance, mint = r.pubkey(), r.pubkey()
        state = ProposalState(r.u8())
        tor = r.pubkey()
        sc, sso = r.u8(), r.u8()
        tag = r.u8()
        if tag == 0:
            vt = VoteType()
        elif tag == 1:
            vt = VoteType(True, r.u8(), r.u8(), r.u8(), r.u8())
        else:
            raise BorshError(f"invalid VoteType tag {tag}")

        def option() -> ProposalOption:
            return ProposalOption(r.string(), r.u64(), OptionVoteResult(r.u8()), r.u16(), r.u16(), r.u16())

        options = tuple(r.vec(option))
        deny = r.option(r.u64)
        r.u8()  # reserved1
        abstain = r.option(r.u64)
        start_voting_at = r.option(r.i64)
        draft_at = r.i64()
        signing_off_at = r.option(r.i64)
        voting_at = r.option(r.i64)
        voting_at_slot = r.option(r.u64)
        voting_completed_at = r.option(r.i64)
        executing_at = r.option(r.i64)
        closed_at = r.option(r.i64)
        flags = r.u8()
        max_vote_weight = r.option(r.u64)
        max_voting_time = r.option(r.u32)
        threshold = r.option(lambda: _threshold(r))
        r.take(64)
        name, link = r.string(), r.string()
        veto = r.u64()
        return cls(governance, mint, state, tor, sc, sso, vt, options, deny, abstain, start_voting_at,
                   draft_at, signing_off_at, voting_at, voting_at_slot, voting_completed_at, executing_at,
                   closed_at, flags, max_vote_weight, max_voting_time, threshold, name, link, veto)

    @property
    def yes_vote_weight(self) -> int:
        """Weight on the first option (the "yes" of a single-choice proposal)."""
        return self.options[0].vote_weight if self.options else 0

    @property
    def no_vote_weight(self) -> int:
        """Weight on deny (the "no" of a single-choice proposal)."""
        return self.deny_vote_weight or 0

    @property
    def is_voting(self) -> bool:
        """Whether the proposal is in the Voting state."""
        return self.state == ProposalState.Voting

    def voting_ends_at(self, config: GovernanceConfig) -> Optional[int]:
        """When votes stop being accepted (``voting_max_time_end``)."""
        return None if self.voting_at is None else self.voting_at + config.max_voting_time


# -- VoteRecord ---------------------------------------------------------------------

@dataclass(frozen=True)
class VoteChoice:
    rank: int
    weight_percentage: int


@dataclass(frozen=True)
class VoteRecord:
    proposal: Pubkey
    governing_token_owner: Pubkey
    is_relinquished: bool
    voter_weight: int
    vote: VoteKind
    choices: Tuple[VoteChoice, ...]

    @classmethod
    def decode(cls, data: bytes) -> "VoteRecord":
        """Decode a ``VoteRecordV2`` account (:class:`BorshError` on other bytes)."""
        r = Reader(data)
        _account_type(r, AccountType.VoteRecordV2)
        proposal, owner = r.pubkey(), r.pubkey()
        relinquished, weight = r.bool(), r.u64()
        tag = r.u8()
        try:
            kind = VoteKind(tag)
        except ValueError as e:
            raise BorshError(f"invalid Vote tag {tag}") from e
        choices: Tuple[VoteChoice, ...] = ()
        if kind == VoteKind.Approve:
            choices = tuple(r.vec(lambda: VoteChoice(r.u8(), r.u8())))
        return cls(proposal, owner, relinquished, weight, kind, choices)

    @property
    def is_yes(self) -> bool:
        """The vote approves (yes)."""
        return self.vote == VoteKind.Approve

    @property
    def is_no(self) -> bool:
        """The vote denies (no)."""
        return self.vote == VoteKind.Deny


# -- ProposalTransaction --------------------------------------------------------------

@dataclass(frozen=True)
class AccountMetaData:
    pubkey: Pubkey
    is_signer: bool
    is_writable: bool


@dataclass(frozen=True)
class InstructionData:
    program_id: Pubkey
    accounts: Tuple[AccountMetaData, ...]
    data: bytes


@dataclass(frozen=True)
class ProposalTransaction:
    proposal: Pubkey
    option_index: int
    transaction_index: int
    hold_up_time: int
    instructions: Tuple[InstructionData, ...]
    executed_at: Optional[int]
    execution_status: TransactionExecutionStatus

    @classmethod
    def decode(cls, data: bytes) -> "ProposalTransaction":
        """Decode a ``ProposalTransactionV2`` account (:class:`BorshError` on other bytes)."""
        r = Reader(data)
        _account_type(r, AccountType.ProposalTransactionV2)
        proposal, option_index, index, hold_up = r.pubkey(), r.u8(), r.u16(), r.u32()

        def ix() -> InstructionData:
            pid = r.pubkey()
            metas = tuple(r.vec(lambda: AccountMetaData(r.pubkey(), r.bool(), r.bool())))
            return InstructionData(pid, metas, r.bytes_vec())

        instructions = tuple(r.vec(ix))
        executed_at = r.option(r.i64)
        return cls(proposal, option_index, index, hold_up, instructions, executed_at,
                   TransactionExecutionStatus(r.u8()))


GovernanceAccount = Union[Realm, RealmConfigAccount, Governance, TokenOwnerRecord, Proposal, VoteRecord,
                          ProposalTransaction]

_DECODERS = {
    AccountType.RealmV2: Realm.decode,
    AccountType.RealmConfig: RealmConfigAccount.decode,
    AccountType.GovernanceV2: Governance.decode,
    AccountType.ProgramGovernanceV2: Governance.decode,
    AccountType.MintGovernanceV2: Governance.decode,
    AccountType.TokenGovernanceV2: Governance.decode,
    AccountType.TokenOwnerRecordV2: TokenOwnerRecord.decode,
    AccountType.ProposalV2: Proposal.decode,
    AccountType.VoteRecordV2: VoteRecord.decode,
    AccountType.ProposalTransactionV2: ProposalTransaction.decode,
}


def decode_account(data: bytes) -> GovernanceAccount:
    """Decode any governance account this helper knows, by its type byte."""
    at = account_type_of(data)
    if at is None or at not in _DECODERS:
        raise BorshError(f"not a decodable governance account (type byte {data[:1].hex() or 'none'})")
    return _DECODERS[at](data)  # type: ignore[operator]


# -- vote math (mirror of state/proposal.rs) -----------------------------------------

def min_vote_threshold_weight(threshold: VoteThreshold, max_voter_weight: int) -> int:
    """ceil(percent * max_voter_weight / 100): the yes weight an option needs."""
    if threshold.kind != 0 or threshold.percent is None:
        raise ValueError(f"vote threshold {threshold.describe()} has no yes-vote weight")
    return -(-threshold.percent * max_voter_weight // 100)


def max_voter_weight(realm: Realm, mint: Pubkey, mint_supply: int, proposal: Optional[Proposal] = None) -> int:
    """The max voter weight the program uses for ``mint`` (no voter-weight
    add-ins): the council mint's supply, else the community mint's supply
    scaled by the realm's max-voter-weight source, raised to the weight
    already cast on ``proposal`` (``coerce_max_voter_weight``)."""
    if realm.council_mint is not None and mint == realm.council_mint:
        return mint_supply
    src = realm.community_mint_max_voter_weight_source
    if src.kind == 0:
        if src.value == SUPPLY_FRACTION_BASE:
            return mint_supply
        weight = mint_supply * src.value // SUPPLY_FRACTION_BASE
    else:
        weight = src.value
    if proposal is not None and proposal.options:
        cast = max(o.vote_weight for o in proposal.options) + proposal.no_vote_weight
        weight = max(weight, cast)
    return weight


@dataclass(frozen=True)
class Tally:
    """Live tally of a single-choice yes/no proposal."""

    yes: int
    no: int
    abstain: int
    max_voter_weight: int
    threshold_weight: int
    #: what the program would decide if voting closed now
    outcome_if_closed: ProposalState
    #: the state a vote would tip the proposal into right now (None: none)
    tipped: Optional[ProposalState]

    @property
    def quorum_progress(self) -> float:
        """Yes weight as a fraction of the yes weight needed (1.0 = reached)."""
        return 1.0 if self.threshold_weight == 0 else self.yes / self.threshold_weight

    @property
    def needed_yes(self) -> int:
        """Yes weight still missing to reach the threshold (0 once reached)."""
        return max(0, self.threshold_weight - self.yes)


def tally(proposal: Proposal, config: GovernanceConfig, max_weight: int) -> Tally:
    """Yes/no/abstain weights and the outcome the program would reach: the
    final-vote rule (yes >= threshold and yes > no) and the tipping rule of
    the governance's ``community_vote_tipping``."""
    threshold = proposal.vote_threshold or config.community_vote_threshold
    need = min_vote_threshold_weight(threshold, max_weight)
    yes, no = proposal.yes_vote_weight, proposal.no_vote_weight
    passed = yes >= need and yes > no
    closed = ProposalState.Succeeded if passed else ProposalState.Defeated
    if proposal.deny_vote_weight is None:
        closed = ProposalState.Completed
    tipped: Optional[ProposalState] = None
    tipping = config.community_vote_tipping
    single = not proposal.vote_type.multi and proposal.deny_vote_weight is not None and len(proposal.options) == 1
    if single:
        if tipping == VoteTipping.Strict and yes >= need and yes > max_weight - min(yes, max_weight):
            tipped = ProposalState.Succeeded
        elif tipping == VoteTipping.Early and yes >= need and yes > no:
            tipped = ProposalState.Succeeded
        elif tipping != VoteTipping.Disabled and (
                no > max(0, max_weight - need) or no >= max(0, max_weight - no)):
            tipped = ProposalState.Defeated
    return Tally(yes, no, proposal.abstain_vote_weight or 0, max_weight, need, closed, tipped)


def tally_from_records(records: List[VoteRecord]) -> Tuple[int, int, int]:
    """(yes, no, abstain) summed over unrelinquished vote records: what the
    proposal's counters must equal while it is being voted on."""
    yes = sum(v.voter_weight for v in records if not v.is_relinquished and v.is_yes)
    no = sum(v.voter_weight for v in records if not v.is_relinquished and v.is_no)
    abstain = sum(v.voter_weight for v in records if not v.is_relinquished and v.vote == VoteKind.Abstain)
    return yes, no, abstain


def execution_ready_at(proposal: Proposal, tx: ProposalTransaction) -> Optional[int]:
    """First unix time the program accepts ``ExecuteTransaction`` for ``tx``:
    strictly after ``voting_completed_at + hold_up_time``."""
    if proposal.voting_completed_at is None:
        return None
    return proposal.voting_completed_at + tx.hold_up_time + 1
