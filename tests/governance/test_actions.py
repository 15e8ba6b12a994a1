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
