"""Proposal instructions decoded into text before anyone votes (no chain needed: the escrow IDL decodes them)."""

from __future__ import annotations

from dataclasses import dataclass

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.escrow.program import JobEscrow
from iopay.governance import actions


@dataclass
class _Market:
    mint: Pubkey
    treasury: Pubkey
    fee_bps: int
    max_workers: int
    max_hours: int


def test_set_fee_is_described_with_its_arguments_market_and_signer() -> None:
    esc = JobEscrow()
    gov, mint, treasury = Keypair().pubkey(), Keypair().pubkey(), Keypair().pubkey()
    ix = actions.set_fee(esc, gov, _Market(mint, treasury, 250, 8, 720), 500)
    text = actions.describe_instruction(ix, esc)
    assert text.startswith("job_escrow.update_market(fee_bps=500, max_workers=8, max_hours=720")
    assert f"on market {esc.market_address(mint)}" in text and f"signed by {gov}" in text
    paused = actions.describe_instruction(actions.set_paused(esc, gov, mint, True), esc)
    assert paused.startswith("job_escrow.set_market_paused(paused=True)")


def test_two_step_authority_actions_are_described() -> None:
    """Handing a market between authorities is two proposals (or a proposal
    and a signature): ``set_market_authority`` proposes the new authority,
    ``accept_market_authority`` signed by it (here the governance PDA, when
    its proposal executes) completes the hand-over."""
    esc = JobEscrow()
    gov, mint, new = Keypair().pubkey(), Keypair().pubkey(), Keypair().pubkey()
    proposed = actions.describe_instruction(actions.set_authority(esc, gov, mint, new), esc)
    assert proposed.startswith(f"job_escrow.set_market_authority(new_authority={new})")
    assert f"on market {esc.market_address(mint)}" in proposed and proposed.endswith(f"signed by {gov}")
    ix = actions.accept_authority(esc, gov, mint)
    assert [(m.pubkey, m.is_signer) for m in ix.accounts if m.is_signer] == [(gov, True)]
    accepted = actions.describe_instruction(ix, esc)
    assert accepted.startswith("job_escrow.accept_market_authority()")
    assert f"on market {esc.market_address(mint)}" in accepted and accepted.endswith(f"signed by {gov}")
