"""Pure parts of the vote helper: Borsh encoding, the vote math mirrored from
spl-governance's ``state/proposal.rs``, and argument checks made before any
encoding. (Decoding is tested on accounts the real program wrote, in
test_program.py.)"""

from __future__ import annotations

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.governance import program as gp
from iopay.governance.borsh import BorshError, Reader, Writer
from iopay.governance.state import (
    GovernanceConfig,
    Proposal,
    ProposalOption,
    ProposalState,
    OptionVoteResult,
    VoteThreshold,
    VoteTipping,
    VoteType,
    min_vote_threshold_weight,
    tally,
)


def _cfg(tipping: VoteTipping = VoteTipping.Strict, percent: int = 60) -> GovernanceConfig:
    return gp.governance_config(yes_vote_percent=percent, voting_time=100, hold_up_time=10, tipping=tipping)


def _proposal(yes: int, no: int) -> Proposal:
    k = Pubkey.default()
    return Proposal(k, k, ProposalState.Voting, k, 0, 0, VoteType(), (ProposalOption("Approve", yes,
                    OptionVoteResult.NONE, 0, 1, 1),), no, None, None, 0, None, 0, 1, None, None, None, 0, None,
                    None, None, "p", "", 0)


def test_config_round_trip_and_size():
    cfg = _cfg()
    data = gp.encode_config(cfg)
    # 3 Disabled thresholds are one byte each: 39 - 3 bytes
    assert len(data) == 36
    assert GovernanceConfig.read(Reader(data)) == cfg


def test_min_vote_threshold_weight_rounds_up():
    t = VoteThreshold.yes_percent(60)
    assert min_vote_threshold_weight(t, 1000) == 600
    assert min_vote_threshold_weight(t, 1001) == 601  # 600.6 -> 601
    assert min_vote_threshold_weight(VoteThreshold.yes_percent(1), 1) == 1
    with pytest.raises(ValueError):
        min_vote_threshold_weight(VoteThreshold.disabled(), 10)


@pytest.mark.parametrize("percent,yes,no,tipping,closed,tipped", [
    (60, 600, 0, VoteTipping.Strict, ProposalState.Succeeded, ProposalState.Succeeded),  # 600 > 1000-600
    (40, 450, 0, VoteTipping.Strict, ProposalState.Succeeded, None),  # strict: 450 > 550? no
    (40, 501, 0, VoteTipping.Strict, ProposalState.Succeeded, ProposalState.Succeeded),
    (40, 450, 0, VoteTipping.Early, ProposalState.Succeeded, ProposalState.Succeeded),
    (60, 600, 600, VoteTipping.Early, ProposalState.Defeated, ProposalState.Defeated),  # tie: no > max - need
    (60, 599, 0, VoteTipping.Early, ProposalState.Defeated, None),
    (60, 700, 0, VoteTipping.Disabled, ProposalState.Succeeded, None),
    (60, 0, 401, VoteTipping.Strict, ProposalState.Defeated, ProposalState.Defeated),  # 401 > 1000-600
    (60, 0, 400, VoteTipping.Strict, ProposalState.Defeated, None),
    (40, 0, 500, VoteTipping.Strict, ProposalState.Defeated, ProposalState.Defeated),  # no >= max - no
])
def test_tally_mirrors_tipping_and_final_rules(percent, yes, no, tipping, closed, tipped):
    t = tally(_proposal(yes, no), _cfg(tipping, percent), 1000)
    need = percent * 10
    assert t.threshold_weight == need
    assert (t.outcome_if_closed, t.tipped) == (closed, tipped)
    assert t.needed_yes == max(0, need - yes)


def test_borsh_reader_refuses_bad_data():
    with pytest.raises(BorshError):
        Reader(b"\x02").bool()
    with pytest.raises(BorshError):
        Reader(b"\x05").option(lambda: 0)
    with pytest.raises(BorshError):
        Reader(b"\x01\x00").u32()
    with pytest.raises(BorshError):
        Proposal.decode(bytes([16]) + bytes(300))  # a RealmV2 is not a proposal


def test_writer_checks_ranges_and_types():
    with pytest.raises(ValueError):
        Writer().u8(256)
    with pytest.raises(ValueError):
        Writer().u64(-1)
    with pytest.raises(TypeError):
        Writer().u64(True)
    with pytest.raises(TypeError):
        Writer().string(b"x")  # type: ignore[arg-type]


def test_builders_refuse_bad_arguments_before_encoding():
    p = gp.GovernanceProgram()
    k = Keypair().pubkey()
    with pytest.raises(ValueError):
        p.realm("")
    with pytest.raises(ValueError):
        p.realm("x" * 33)
    with pytest.raises(TypeError):
        p.deposit(realm=k, mint=k, source=k, owner="me", amount=1, payer=k)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        p.deposit(realm=k, mint=k, source=k, owner=k, amount=0, payer=k)
    with pytest.raises(ValueError):
        p.deposit(realm=k, mint=k, source=k, owner=k, amount=2**64, payer=k)
    with pytest.raises(TypeError):
        p.cast_vote(realm=k, governance=k, proposal=k, owner_record=k, voter_record=k, voter=k, mint=k, payer=k,
                    yes="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        p.create_proposal(realm=k, governance=k, mint=k, token_owner_record=k, authority=k, payer=k, name=" ",
                          seed=k)
    with pytest.raises(ValueError):
        p.insert_transaction(governance=k, proposal=k, token_owner_record=k, authority=k, payer=k, index=0,
                             instructions=[], hold_up_time=0)
    with pytest.raises(ValueError):
        gp.governance_config(yes_vote_percent=0, voting_time=10)
    with pytest.raises(ValueError):
        gp.governance_config(yes_vote_percent=101, voting_time=10)
    with pytest.raises(ValueError):
        gp.governance_config(yes_vote_percent=50, voting_time=0)


def test_instruction_encodings_match_the_program_layout():
    p = gp.GovernanceProgram()
    k = Keypair().pubkey()
    ix = p.deposit(realm=k, mint=k, source=k, owner=k, amount=5, payer=k)
    assert bytes(ix.data) == bytes([1]) + (5).to_bytes(8, "little")
    assert len(ix.accounts) == 10 and ix.accounts[3].is_signer and ix.accounts[5].is_writable
    yes = p.cast_vote(realm=k, governance=k, proposal=k, owner_record=k, voter_record=k, voter=k, mint=k, payer=k,
                      yes=True)
    assert bytes(yes.data) == bytes([13, 0, 1, 0, 0, 0, 0, 100])  # Approve([{rank 0, 100%}])
    no = p.cast_vote(realm=k, governance=k, proposal=k, owner_record=k, voter_record=k, voter=k, mint=k, payer=k,
                     yes=False)
    assert bytes(no.data) == bytes([13, 1])  # Deny
    assert gp.ERROR_CODES[519] == "VoteAlreadyExists" and gp.ERROR_CODES[525] == \
        "CannotExecuteTransactionWithinHoldUpTime" and gp.ERROR_CODES[624] == "MissingRequiredSignatories"
