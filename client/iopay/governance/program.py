"""SPL Governance 4.0.0 (the program behind Realms): addresses, instruction
builders and error codes.

We do not write a governance program: ``programs/spl_governance`` builds the
crates.io ``spl-governance`` 4.0.0 with our SBPF toolchain and it is loaded at
the mainnet address :data:`GOVERNANCE_PROGRAM_ID`. The builders here encode
``GovernanceInstruction`` (Borsh, variant byte first) with the account lists
the program's ``src/instruction.rs`` documents, for the instructions the vote
helper uses. Bad arguments fail with ``ValueError``/``TypeError`` before any
encoding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Sequence

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from iopay.core.errors import ErrorTable
from iopay.governance.borsh import Writer
from iopay.governance.state import (
    GovernanceConfig,
    MaxVoterWeightSource,
    VoteThreshold,
    VoteTipping,
)

GOVERNANCE_PROGRAM_ID = Pubkey.from_string("GovER5Lthms3bLBqWub97yVrMmEogzX7xNjdXpPPCoZw")
PROGRAM_NAME = "spl_governance"
PROGRAM_VERSION = "4.0.0"
SYSTEM_PROGRAM_ID = Pubkey.from_string("11111111111111111111111111111111")
TOKEN_PROGRAM_ID = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
RENT_SYSVAR_ID = Pubkey.from_string("SysvarRent111111111111111111111111111111111")

AUTHORITY_SEED = b"governance"
MAX_SEED_LEN = 32  # a realm's name is a PDA seed


class Ix:
    """``GovernanceInstruction`` variant indices (``src/instruction.rs``)."""

    CreateRealm = 0
    DepositGoverningTokens = 1
    WithdrawGoverningTokens = 2
    SetGovernanceDelegate = 3
    CreateGovernance = 4
    CreateProgramGovernance = 5
    CreateProposal = 6
    AddSignatory = 7
    Legacy1 = 8
    InsertTransaction = 9
    RemoveTransaction = 10
    CancelProposal = 11
    SignOffProposal = 12
    CastVote = 13
    FinalizeVote = 14
    RelinquishVote = 15
    ExecuteTransaction = 16
    CreateMintGovernance = 17
    CreateTokenGovernance = 18
    SetGovernanceConfig = 19
    FlagTransactionError = 20
    SetRealmAuthority = 21
    SetRealmConfig = 22
    CreateTokenOwnerRecord = 23
    UpdateProgramMetadata = 24
    CreateNativeTreasury = 25
    RevokeGoverningTokens = 26
    RefundProposalDeposit = 27
    CompleteProposal = 28
    AddRequiredSignatory = 29
    RemoveRequiredSignatory = 30


INSTRUCTION_NAMES = {v: k for k, v in vars(Ix).items() if not k.startswith("_")}

# GovernanceError (src/error.rs): codes 500 upwards in declaration order.
_ERROR_NAMES = """
InvalidInstruction RealmAlreadyExists InvalidRealm InvalidGoverningTokenMint GoverningTokenOwnerMustSign
GoverningTokenOwnerOrDelegateMustSign AllVotesMustBeRelinquishedToWithdrawGoverningTokens
InvalidTokenOwnerRecordAccountAddress InvalidGoverningMintForTokenOwnerRecord InvalidRealmForTokenOwnerRecord
InvalidProposalForProposalTransaction InvalidSignatoryAddress SignatoryAlreadySignedOff SignatoryMustSign
InvalidProposalOwnerAccount InvalidProposalForVoterRecord InvalidGoverningTokenOwnerForVoteRecord
InvalidVoteThresholdPercentage ProposalAlreadyExists VoteAlreadyExists NotEnoughTokensToCreateProposal
InvalidStateCannotEditSignatories InvalidProposalState InvalidStateCannotEditTransactions
InvalidStateCannotExecuteTransaction CannotExecuteTransactionWithinHoldUpTime TransactionAlreadyExecuted
InvalidTransactionIndex TransactionHoldUpTimeBelowRequiredMin TransactionAlreadyExists InvalidStateCannotSignOff
InvalidStateCannotVote InvalidStateCannotFinalize InvalidStateCannotCancelProposal VoteAlreadyRelinquished
CannotFinalizeVotingInProgress ProposalVotingTimeExpired InvalidSignatoryMint InvalidGovernanceForProposal
InvalidGoverningMintForProposal MintAuthorityMustSign InvalidMintAuthority MintHasNoAuthority
SplTokenAccountWithInvalidOwner SplTokenMintWithInvalidOwner SplTokenAccountNotInitialized
SplTokenAccountDoesNotExist SplTokenInvalidTokenAccountData SplTokenInvalidMintAccountData
SplTokenMintNotInitialized SplTokenMintDoesNotExist InvalidProgramDataAccountAddress InvalidProgramDataAccountData
InvalidUpgradeAuthority UpgradeAuthorityMustSign ProgramNotUpgradable InvalidTokenOwner TokenOwnerMustSign
VoteThresholdTypeNotSupported VoteWeightSourceNotSupported Legacy1 GovernancePdaMustSign
TransactionAlreadyFlaggedWithError InvalidRealmForGovernance InvalidAuthorityForRealm RealmHasNoAuthority
RealmAuthorityMustSign InvalidGoverningTokenHoldingAccount RealmCouncilMintChangeIsNotSupported
InvalidMaxVoterWeightAbsoluteValue InvalidMaxVoterWeightSupplyFraction NotEnoughTokensToCreateGovernance
TooManyOutstandingProposals AllProposalsMustBeFinalisedToWithdrawGoverningTokens InvalidVoterWeightRecordForRealm
InvalidVoterWeightRecordForGoverningTokenMint InvalidVoterWeightRecordForTokenOwner VoterWeightRecordExpired
InvalidRealmConfigForRealm TokenOwnerRecordAlreadyExists GoverningTokenDepositsNotAllowed
InvalidVoteChoiceWeightPercentage VoteTypeNotSupported InvalidProposalOptions ProposalIsNotExecutable
DenyVoteIsNotAllowed CannotExecuteDefeatedOption VoterWeightRecordInvalidAction VoterWeightRecordInvalidActionTarget
InvalidMaxVoterWeightRecordForRealm InvalidMaxVoterWeightRecordForGoverningTokenMint MaxVoterWeightRecordExpired
NotSupportedVoteType RealmConfigChangeNotAllowed GovernanceConfigChangeNotAllowed AtLeastOneVoteThresholdRequired
ReservedBufferMustBeEmpty CannotRelinquishInFinalizingState InvalidRealmConfigAddress CannotDepositDormantTokens
CannotWithdrawMembershipTokens CannotRevokeGoverningTokens InvalidRevokeAmount InvalidGoverningTokenSource
CannotChangeCommunityTokenTypeToMembership VoterWeightThresholdDisabled VoteNotAllowedInCoolOffTime
CannotRefundProposalDeposit InvalidProposalForProposalDeposit InvalidDepositExemptProposalCount
GoverningTokenMintNotAllowedToVote InvalidDepositPayerForProposalDeposit InvalidStateNotFinal
InvalidStateToCompleteProposal InvalidNumberOfVoteChoices RankedVoteIsNotSupported ChoiceWeightMustBe100Percent
SingleChoiceOnlyIsAllowed AtLeastSingleChoiceIsRequired TotalVoteWeightMustBe100Percent
InvalidMultiChoiceProposalParameters InvalidGovernanceForRequiredSignatory SignatoryRecordAlreadyExists
InstructionDeprecated MissingRequiredSignatories
""".split()
ERROR_CODES = {500 + i: name for i, name in enumerate(_ERROR_NAMES)}


def error_table(program_id: Pubkey = GOVERNANCE_PROGRAM_ID) -> ErrorTable:
    """Error names of the governance program for :class:`iopay.core.errors.ErrorRegistry`."""
    return ErrorTable(program_id, {c: (n, None) for c, n in ERROR_CODES.items()})


def load_governance(harness: object) -> Pubkey:
    """Load ``target/deploy/spl_governance.so`` into an
    :class:`iopay.core.harness.Harness` at the mainnet address, errors named."""
    return harness.load_native_program(GOVERNANCE_PROGRAM_ID, PROGRAM_NAME, error_table())  # type: ignore[attr-defined]


def error_code(name: str) -> int:
    """The numeric code of governance error ``name`` (``KeyError`` if unknown)."""
    for c, n in ERROR_CODES.items():
        if n == name:
            return c
    raise KeyError(name)


# -- addresses --------------------------------------------------------------------------

def _pk(name: str, v: object) -> Pubkey:
    if not isinstance(v, Pubkey):
        raise TypeError(f"{name} must be a Pubkey, got {type(v).__name__}")
    return v


def _find(seeds: Sequence[bytes], program_id: Pubkey) -> Pubkey:
    return Pubkey.find_program_address(list(seeds), program_id)[0]


def _check_realm_name(name: str) -> bytes:
    if not isinstance(name, str):
        raise TypeError("realm name must be a str")
    b = name.encode("utf-8")
    if not 1 <= len(b) <= MAX_SEED_LEN:
        raise ValueError("realm name must be 1..=32 bytes of UTF-8 (it is a PDA seed)")
    return b


def realm_address(name: str, program_id: Pubkey = GOVERNANCE_PROGRAM_ID) -> Pubkey:
    """The realm PDA ``["governance", name]``; ``ValueError`` unless ``name`` is 1..32 bytes of UTF-8."""
    return _find([AUTHORITY_SEED, _check_realm_name(name)], program_id)


def holding_address(realm: Pubkey, mint: Pubkey, program_id: Pubkey = GOVERNANCE_PROGRAM_ID) -> Pubkey:
    """The realm's token account holding deposited ``mint`` tokens."""
    return _find([AUTHORITY_SEED, bytes(realm), bytes(mint)], program_id)


def realm_config_address(realm: Pubkey, program_id: Pubkey = GOVERNANCE_PROGRAM_ID) -> Pubkey:
    """The realm config PDA ``["realm-config", realm]``."""
    return _find([b"realm-config", bytes(realm)], program_id)


def token_owner_record_address(realm: Pubkey, mint: Pubkey, owner: Pubkey,
                               program_id: Pubkey = GOVERNANCE_PROGRAM_ID) -> Pubkey:
    """``owner``'s deposit record PDA ``["governance", realm, mint, owner]``."""
    return _find([AUTHORITY_SEED, bytes(realm), bytes(mint), bytes(owner)], program_id)


def governance_address(realm: Pubkey, governed: Pubkey, program_id: Pubkey = GOVERNANCE_PROGRAM_ID) -> Pubkey:
    """The account governance PDA: it signs every executed proposal
    transaction (a market handed to the DAO has it as authority)."""
    return _find([b"account-governance", bytes(realm), bytes(governed)], program_id)


def native_treasury_address(governance: Pubkey, program_id: Pubkey = GOVERNANCE_PROGRAM_ID) -> Pubkey:
    """The governance's native SOL treasury PDA ``["native-treasury", governance]``."""
    return _find([b"native-treasury", bytes(governance)], program_id)


def proposal_address(governance: Pubkey, mint: Pubkey, seed: Pubkey,
                     program_id: Pubkey = GOVERNANCE_PROGRAM_ID) -> Pubkey:
    """The proposal PDA ``["governance", governance, mint, seed]`` (``seed`` any unique key)."""
    return _find([AUTHORITY_SEED, bytes(governance), bytes(mint), bytes(seed)], program_id)


def proposal_deposit_address(proposal: Pubkey, payer: Pubkey, program_id: Pubkey = GOVERNANCE_PROGRAM_ID) -> Pubkey:
    """The PDA holding ``payer``'s proposal deposit ``["proposal-deposit", proposal, payer]``."""
    return _find([b"proposal-deposit", bytes(proposal), bytes(payer)], program_id)


def proposal_transaction_address(proposal: Pubkey, option_index: int, index: int,
                                 program_id: Pubkey = GOVERNANCE_PROGRAM_ID) -> Pubkey:
    """Transaction ``index`` (u16) of option ``option_index`` (u8) of ``proposal``; ``TypeError``/``ValueError``
    out of range."""
    _u("option_index", option_index, 8)
    _u("index", index, 16)
    return _find([AUTHORITY_SEED, bytes(proposal), bytes([option_index]), index.to_bytes(2, "little")], program_id)


def vote_record_address(proposal: Pubkey, token_owner_record: Pubkey,
                        program_id: Pubkey = GOVERNANCE_PROGRAM_ID) -> Pubkey:
    """The vote record PDA of ``token_owner_record`` on ``proposal``."""
    return _find([AUTHORITY_SEED, bytes(proposal), bytes(token_owner_record)], program_id)


def signatory_record_address(proposal: Pubkey, signatory: Pubkey, program_id: Pubkey = GOVERNANCE_PROGRAM_ID) -> Pubkey:
    """The signatory record PDA of ``signatory`` on ``proposal``."""
    return _find([AUTHORITY_SEED, bytes(proposal), bytes(signatory)], program_id)


def _u(name: str, v: object, bits: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{name} must be an int, got {type(v).__name__}")
    if not 0 <= v < (1 << bits):
        raise ValueError(f"{name} must fit in u{bits}")
    return v


# -- argument encoders ----------------------------------------------------------------

def _write_threshold(w: Writer, t: VoteThreshold) -> None:
    if not isinstance(t, VoteThreshold):
        raise TypeError("vote threshold must be a VoteThreshold")
    w.u8(t.kind)
    if t.kind in (0, 1):
        w.u8(_u("threshold percentage", t.percent, 8))


def governance_config(
    *, yes_vote_percent: int, voting_time: int, hold_up_time: int = 0, min_weight_to_propose: int = 1,
    tipping: VoteTipping = VoteTipping.Strict, cool_off_time: int = 0, deposit_exempt_proposal_count: int = 10,
) -> GovernanceConfig:
    """A community-only governance config: community votes decide with
    ``yes >= yes_vote_percent`` of the max voter weight and more yes than no;
    no council, no vetoes."""
    if isinstance(tipping, bool) or not isinstance(tipping, int) or tipping not in list(VoteTipping):
        raise ValueError("tipping must be a VoteTipping")
    cfg = GovernanceConfig(
        community_vote_threshold=VoteThreshold.yes_percent(yes_vote_percent),
        min_community_weight_to_create_proposal=_u("min_weight_to_propose", min_weight_to_propose, 64),
        min_transaction_hold_up_time=_u("hold_up_time", hold_up_time, 32),
        voting_base_time=_u("voting_time", voting_time, 32),
        community_vote_tipping=VoteTipping(tipping),
        council_vote_threshold=VoteThreshold.disabled(),
        council_veto_vote_threshold=VoteThreshold.disabled(),
        min_council_weight_to_create_proposal=0,
        council_vote_tipping=VoteTipping.Disabled,
        community_veto_vote_threshold=VoteThreshold.disabled(),
        voting_cool_off_time=_u("cool_off_time", cool_off_time, 32),
        deposit_exempt_proposal_count=_u("deposit_exempt_proposal_count", deposit_exempt_proposal_count, 8),
    )
    if voting_time < 1:
        raise ValueError("voting_time must be at least 1 second")
    if deposit_exempt_proposal_count == 255:
        raise ValueError("deposit_exempt_proposal_count 255 is reserved by the program")
    return cfg


def _write_config(w: Writer, c: GovernanceConfig) -> None:
    if not isinstance(c, GovernanceConfig):
        raise TypeError("config must be a GovernanceConfig")
    _write_threshold(w, c.community_vote_threshold)
    w.u64(c.min_community_weight_to_create_proposal)
    w.u32(c.min_transaction_hold_up_time)
    w.u32(c.voting_base_time)
    w.u8(int(c.community_vote_tipping))
    _write_threshold(w, c.council_vote_threshold)
    _write_threshold(w, c.council_veto_vote_threshold)
    w.u64(c.min_council_weight_to_create_proposal)
    w.u8(int(c.council_vote_tipping))
    _write_threshold(w, c.community_veto_vote_threshold)
    w.u32(c.voting_cool_off_time)
    w.u8(c.deposit_exempt_proposal_count)


def encode_config(c: GovernanceConfig) -> bytes:
    """The Borsh bytes of a :class:`GovernanceConfig`, as ``CreateGovernance`` carries them."""
    w = Writer()
    _write_config(w, c)
    return w.done()


@dataclass(frozen=True)
class ProposalInstruction:
    """One instruction a proposal carries (``InstructionData``)."""

    program_id: Pubkey
    accounts: Sequence[AccountMeta]
    data: bytes

    @classmethod
    def of(cls, ix: Instruction) -> "ProposalInstruction":
        """The proposal form of a solders ``Instruction`` (``TypeError`` otherwise)."""
        if not isinstance(ix, Instruction):
            raise TypeError("expected a solders Instruction")
        return cls(ix.program_id, tuple(ix.accounts), bytes(ix.data))


def _write_ix(w: Writer, ix: ProposalInstruction) -> None:
    w.pubkey(ix.program_id)
    w.vec(list(ix.accounts), lambda m: w.pubkey(m.pubkey).bool(m.is_signer).bool(m.is_writable))
    w.bytes_vec(ix.data)


def _ix(program_id: Pubkey, accounts: List[AccountMeta], data: bytes) -> Instruction:
    return Instruction(program_id, data, accounts)


def _ro(k: Pubkey, signer: bool = False) -> AccountMeta:
    return AccountMeta(k, signer, False)


def _rw(k: Pubkey, signer: bool = False) -> AccountMeta:
    return AccountMeta(k, signer, True)


# -- builders ---------------------------------------------------------------------------

@dataclass
class GovernanceProgram:
    """Instruction builders for SPL Governance at ``program_id``."""

    program_id: Pubkey = field(default=GOVERNANCE_PROGRAM_ID)

    # addresses bound to this program id
    def realm(self, name: str) -> Pubkey:
        """:func:`realm_address` under this program id."""
        return realm_address(name, self.program_id)

    def holding(self, realm: Pubkey, mint: Pubkey) -> Pubkey:
        """:func:`holding_address` under this program id."""
        return holding_address(realm, mint, self.program_id)

    def realm_config(self, realm: Pubkey) -> Pubkey:
        """:func:`realm_config_address` under this program id."""
        return realm_config_address(realm, self.program_id)

    def token_owner_record(self, realm: Pubkey, mint: Pubkey, owner: Pubkey) -> Pubkey:
        """:func:`token_owner_record_address` under this program id."""
        return token_owner_record_address(realm, mint, owner, self.program_id)

    def governance(self, realm: Pubkey, governed: Pubkey) -> Pubkey:
        """:func:`governance_address` under this program id."""
        return governance_address(realm, governed, self.program_id)

    def proposal(self, governance: Pubkey, mint: Pubkey, seed: Pubkey) -> Pubkey:
        """:func:`proposal_address` under this program id."""
        return proposal_address(governance, mint, seed, self.program_id)

    def proposal_transaction(self, proposal: Pubkey, option_index: int, index: int) -> Pubkey:
        """:func:`proposal_transaction_address` under this program id."""
        return proposal_transaction_address(proposal, option_index, index, self.program_id)

    def vote_record(self, proposal: Pubkey, token_owner_record: Pubkey) -> Pubkey:
        """:func:`vote_record_address` under this program id."""
        return vote_record_address(proposal, token_owner_record, self.program_id)

    # instructions
    def create_realm(self, *, name: str, authority: Pubkey, community_mint: Pubkey, payer: Pubkey,
                     min_weight_to_create_governance: int = 1,
                     max_voter_weight_source: Optional[MaxVoterWeightSource] = None) -> Instruction:
        """A realm with only a community (liquid) token and no add-ins."""
        _pk("authority", authority), _pk("community_mint", community_mint), _pk("payer", payer)
        realm = self.realm(name)
        src = max_voter_weight_source or MaxVoterWeightSource.full_supply()
        if src.kind == 0 and not 1 <= src.value <= 10_000_000_000:
            raise ValueError("supply fraction must be 1..=10^10")
        w = Writer().u8(Ix.CreateRealm).string(name)
        w.bool(False).u64(_u("min_weight_to_create_governance", min_weight_to_create_governance, 64))
        w.u8(src.kind).u64(_u("max voter weight", src.value, 64))
        w.bool(False).bool(False).u8(0)  # community token: no add-ins, Liquid
        w.bool(False).bool(False).u8(0)  # council token config (unused)
        accounts = [
            _rw(realm), _ro(authority), _ro(community_mint), _rw(self.holding(realm, community_mint)),
            _rw(payer, True), _ro(SYSTEM_PROGRAM_ID), _ro(TOKEN_PROGRAM_ID), _ro(RENT_SYSVAR_ID),
            _rw(self.realm_config(realm)),
        ]
        return _ix(self.program_id, accounts, w.done())

    def deposit(self, *, realm: Pubkey, mint: Pubkey, source: Pubkey, owner: Pubkey, amount: int,
                payer: Pubkey, source_authority: Optional[Pubkey] = None) -> Instruction:
        """``DepositGoverningTokens``: ``amount`` (> 0, u64) base units from ``source`` into the realm's
        holding, credited to ``owner``'s record (created, rent from ``payer``). ``source_authority`` defaults
        to ``owner``."""
        _pk("realm", realm), _pk("mint", mint), _pk("source", source), _pk("owner", owner), _pk("payer", payer)
        if _u("amount", amount, 64) == 0:
            raise ValueError("amount must be positive")
        accounts = [
            _ro(realm), _rw(self.holding(realm, mint)), _rw(source), _ro(owner, True),
            _ro(source_authority or owner, True), _rw(self.token_owner_record(realm, mint, owner)),
            _rw(payer, True), _ro(SYSTEM_PROGRAM_ID), _ro(TOKEN_PROGRAM_ID), _ro(self.realm_config(realm)),
        ]
        return _ix(self.program_id, accounts, Writer().u8(Ix.DepositGoverningTokens).u64(amount).done())

    def withdraw(self, *, realm: Pubkey, mint: Pubkey, destination: Pubkey, owner: Pubkey) -> Instruction:
        """``WithdrawGoverningTokens``: ``owner``'s whole deposit back to ``destination`` (refused while it has
        unrelinquished votes or open proposals)."""
        _pk("realm", realm), _pk("mint", mint), _pk("destination", destination), _pk("owner", owner)
        accounts = [
            _ro(realm), _rw(self.holding(realm, mint)), _rw(destination), _ro(owner, True),
            _rw(self.token_owner_record(realm, mint, owner)), _ro(TOKEN_PROGRAM_ID), _ro(self.realm_config(realm)),
        ]
        return _ix(self.program_id, accounts, bytes([Ix.WithdrawGoverningTokens]))

    def create_governance(self, *, realm: Pubkey, governed: Pubkey, token_owner_record: Pubkey, payer: Pubkey,
                          create_authority: Pubkey, config: GovernanceConfig) -> Instruction:
        """``CreateGovernance`` over ``governed`` with ``config``, signed by ``create_authority`` (the realm
        authority, or a holder whose ``token_owner_record`` has enough weight)."""
        _pk("realm", realm), _pk("governed", governed), _pk("token_owner_record", token_owner_record)
        _pk("payer", payer), _pk("create_authority", create_authority)
        accounts = [
            _ro(realm), _rw(self.governance(realm, governed)), _ro(governed), _ro(token_owner_record),
            _rw(payer, True), _ro(SYSTEM_PROGRAM_ID), _ro(create_authority, True), _ro(self.realm_config(realm)),
        ]
        w = Writer().u8(Ix.CreateGovernance)
        _write_config(w, config)
        return _ix(self.program_id, accounts, w.done())

    def create_proposal(self, *, realm: Pubkey, governance: Pubkey, mint: Pubkey, token_owner_record: Pubkey,
                        authority: Pubkey, payer: Pubkey, name: str, description_link: str = "",
                        seed: Pubkey, options: Sequence[str] = ("Approve",),
                        use_deny_option: bool = True) -> Instruction:
        """A single-choice proposal (yes = the first option, no = deny)."""
        for n, v in (("realm", realm), ("governance", governance), ("mint", mint),
                     ("token_owner_record", token_owner_record), ("authority", authority), ("payer", payer),
                     ("seed", seed)):
            _pk(n, v)
        if not isinstance(name, str) or not name.strip():
            raise ValueError("proposal name must be a non-empty str")
        if not isinstance(description_link, str):
            raise TypeError("description_link must be a str")
        opts = list(options)
        if not opts or not all(isinstance(o, str) and o for o in opts):
            raise ValueError("options must be non-empty strings")
        if not isinstance(use_deny_option, bool):
            raise TypeError("use_deny_option must be a bool")
        proposal = self.proposal(governance, mint, seed)
        accounts = [
            _ro(realm), _rw(proposal), _rw(governance), _rw(token_owner_record), _ro(mint),
            _ro(authority, True), _rw(payer, True), _ro(SYSTEM_PROGRAM_ID), _ro(self.realm_config(realm)),
            _rw(proposal_deposit_address(proposal, payer, self.program_id)),
        ]
        w = Writer().u8(Ix.CreateProposal).string(name).string(description_link)
        w.u8(0)  # VoteType::SingleChoice
        w.vec(opts, w.string).bool(use_deny_option).pubkey(seed)
        return _ix(self.program_id, accounts, w.done())

    def insert_transaction(self, *, governance: Pubkey, proposal: Pubkey, token_owner_record: Pubkey,
                           authority: Pubkey, payer: Pubkey, index: int, instructions: Sequence[Instruction],
                           hold_up_time: int, option_index: int = 0) -> Instruction:
        """``InsertTransaction``: ``instructions`` as transaction ``index`` of option ``option_index``,
        executable ``hold_up_time`` seconds after the vote succeeds."""
        _u("option_index", option_index, 8), _u("index", index, 16), _u("hold_up_time", hold_up_time, 32)
        ixs = [ProposalInstruction.of(i) for i in instructions]
        if not ixs:
            raise ValueError("a proposal transaction needs at least one instruction")
        accounts = [
            _ro(governance), _rw(proposal), _ro(token_owner_record), _ro(authority, True),
            _rw(self.proposal_transaction(proposal, option_index, index)), _rw(payer, True),
            _ro(SYSTEM_PROGRAM_ID), _ro(RENT_SYSVAR_ID),
        ]
        w = Writer().u8(Ix.InsertTransaction).u8(option_index).u16(index).u32(hold_up_time)
        w.vec(ixs, lambda i: _write_ix(w, i))
        return _ix(self.program_id, accounts, w.done())

    def sign_off_proposal(self, *, realm: Pubkey, governance: Pubkey, proposal: Pubkey, signatory: Pubkey,
                          owner_record: Pubkey) -> Instruction:
        """Signed off by the proposal owner (no other signatories appointed)."""
        accounts = [_ro(realm), _ro(governance), _rw(proposal), _ro(signatory, True), _ro(owner_record)]
        return _ix(self.program_id, accounts, bytes([Ix.SignOffProposal]))

    def cast_vote(self, *, realm: Pubkey, governance: Pubkey, proposal: Pubkey, owner_record: Pubkey,
                  voter_record: Pubkey, voter: Pubkey, mint: Pubkey, payer: Pubkey, yes: bool) -> Instruction:
        """Yes = ``Approve([{rank 0, 100%}])`` on the single option, no = ``Deny``."""
        if not isinstance(yes, bool):
            raise TypeError("yes must be a bool")
        accounts = [
            _ro(realm), _rw(governance), _rw(proposal), _rw(owner_record), _rw(voter_record), _ro(voter, True),
            _rw(self.vote_record(proposal, voter_record)), _ro(mint), _rw(payer, True), _ro(SYSTEM_PROGRAM_ID),
            _ro(self.realm_config(realm)),
        ]
        w = Writer().u8(Ix.CastVote)
        if yes:
            w.u8(0).u32(1).u8(0).u8(100)
        else:
            w.u8(1)
        return _ix(self.program_id, accounts, w.done())

    def finalize_vote(self, *, realm: Pubkey, governance: Pubkey, proposal: Pubkey, owner_record: Pubkey,
                      mint: Pubkey) -> Instruction:
        """``FinalizeVote`` (anyone, after the voting time): Succeeded or Defeated."""
        accounts = [_ro(realm), _rw(governance), _rw(proposal), _rw(owner_record), _ro(mint),
                    _ro(self.realm_config(realm))]
        return _ix(self.program_id, accounts, bytes([Ix.FinalizeVote]))

    def relinquish_vote(self, *, realm: Pubkey, governance: Pubkey, proposal: Pubkey, voter_record: Pubkey,
                        mint: Pubkey, authority: Optional[Pubkey] = None,
                        beneficiary: Optional[Pubkey] = None) -> Instruction:
        """While the proposal is voting the voter must sign (``authority``) and
        the vote record's rent goes to ``beneficiary``; afterwards anyone may
        relinquish."""
        accounts = [_ro(realm), _ro(governance), _rw(proposal), _rw(voter_record),
                    _rw(self.vote_record(proposal, voter_record)), _ro(mint)]
        if authority is not None:
            accounts += [_ro(authority, True), _rw(beneficiary or authority)]
        return _ix(self.program_id, accounts, bytes([Ix.RelinquishVote]))

    def execute_transaction(self, *, governance: Pubkey, proposal: Pubkey, proposal_transaction: Pubkey,
                            instructions: Sequence[ProposalInstruction]) -> Instruction:
        """Accounts of every carried instruction follow, program ids included;
        signer flags are dropped (the governance PDA signs inside)."""
        accounts = [_ro(governance), _rw(proposal), _rw(proposal_transaction)]
        extra: List[AccountMeta] = []
        seen: dict = {}
        for ix in instructions:
            for m in [AccountMeta(ix.program_id, False, False), *ix.accounts]:
                if m.pubkey in seen:
                    i = seen[m.pubkey]
                    extra[i] = AccountMeta(m.pubkey, False, extra[i].is_writable or m.is_writable)
                else:
                    seen[m.pubkey] = len(extra)
                    extra.append(AccountMeta(m.pubkey, False, m.is_writable))
        return _ix(self.program_id, accounts + extra, bytes([Ix.ExecuteTransaction]))

    def cancel_proposal(self, *, realm: Pubkey, governance: Pubkey, proposal: Pubkey, owner_record: Pubkey,
                        authority: Pubkey) -> Instruction:
        """``CancelProposal``, signed by the owner record's ``authority``."""
        accounts = [_ro(realm), _rw(governance), _rw(proposal), _rw(owner_record), _ro(authority, True)]
        return _ix(self.program_id, accounts, bytes([Ix.CancelProposal]))

    def refund_proposal_deposit(self, *, proposal: Pubkey, payer: Pubkey) -> Instruction:
        """``RefundProposalDeposit``: the proposal deposit back to ``payer`` once the proposal is no longer
        draft or voting."""
        accounts = [_ro(proposal), _rw(proposal_deposit_address(proposal, payer, self.program_id)), _rw(payer)]
        return _ix(self.program_id, accounts, bytes([Ix.RefundProposalDeposit]))
