"""Compute units of each SPL Governance step, with the program built from
crates.io (spl-governance 4.0.0) by our SBPF toolchain, run in LiteSVM with
job_escrow: a realm voting with IO, a market handed to the DAO and a proposal
that changes the market's fee, from deposit to execution.

Prints a JSON summary on stdout (``make bench-governance``). A platform-tools
build of spl_governance.so to compare with was looked for in registry
packages (npm ``@solana/spl-governance`` 0.3.28 is a JS client and ships no
.so); none was found, so these figures are the baseline.
"""

from __future__ import annotations

import json
from pathlib import Path

from solders.keypair import Keypair

from iopay.core.harness import Harness, deploy_dir
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import JobEscrow
from iopay.escrow.state import MarketView
from iopay.governance import actions
from iopay.governance import program as gp
from iopay.governance.state import Proposal

IO = 1_000_000
VOTING_TIME = 3 * 86_400
HOLD_UP = 86_400


def main() -> None:
    h = Harness()
    prog = ProgramIdl.load("job_escrow")
    h.load_program(prog, deploy_dir() / "job_escrow.so")
    so = deploy_dir() / "spl_governance.so"
    h.deploy_upgradeable(gp.GOVERNANCE_PROGRAM_ID, so.read_bytes(), h.payer.pubkey())
    h.errors.add(gp.error_table())
    esc, p = JobEscrow(prog), gp.GovernanceProgram()
    cu: dict = {}

    def run(name: str, ix, *signers: Keypair) -> None:  # noqa: ANN001
        res = h.send([ix], signers).raise_for_error()
        cu.setdefault(name, []).append(res.compute_units)

    mint_auth, authority = Keypair(), h.funded_keypair()
    mint = h.create_mint(mint_auth, 6)
    treasury = h.create_token_account(mint, authority.pubkey())
    h.send([esc.init_market(payer=h.payer.pubkey(), upgrade_authority=h.payer.pubkey(), authority=authority.pubkey(),
                            mint=mint, treasury=treasury, fee_bps=250, max_workers=8, max_hours=720)]
           ).raise_for_error()
    market = esc.market_address(mint)
    run("create_realm", p.create_realm(name="IO bench", authority=authority.pubkey(), community_mint=mint,
                                       payer=h.payer.pubkey()))
    realm = p.realm("IO bench")
    voters = []
    for amount in (600 * IO, 300 * IO, 100 * IO):
        kp = h.funded_keypair()
        tok = h.create_ata(mint, kp.pubkey())
        h.mint_to(mint, tok, amount, mint_auth).raise_for_error()
        run("deposit", p.deposit(realm=realm, mint=mint, source=tok, owner=kp.pubkey(), amount=amount,
                                 payer=h.payer.pubkey()), kp)
        voters.append((kp, tok))
    h.mint_to(mint, h.create_ata(mint, Keypair().pubkey()), 1_000 * IO, mint_auth).raise_for_error()
    cfg = gp.governance_config(yes_vote_percent=25, voting_time=VOTING_TIME, hold_up_time=HOLD_UP)
    owner, _ = voters[2]
    owner_tor = p.token_owner_record(realm, mint, owner.pubkey())
    run("create_governance", p.create_governance(realm=realm, governed=market, token_owner_record=owner_tor,
                                                 payer=h.payer.pubkey(), create_authority=authority.pubkey(),
                                                 config=cfg), authority)
    governance = p.governance(realm, market)
    # two-step hand-over: the authority proposes the governance, a proposal accepts (measured as round "accept")
    h.send([esc.set_market_authority(authority=authority.pubkey(), mint=mint, new_authority=governance)],
           [authority]).raise_for_error()

    def cycle(label: str, ix, execute_name: str) -> None:  # noqa: ANN001
        seed = Keypair().pubkey()
        proposal = p.proposal(governance, mint, seed)
        run("create_proposal", p.create_proposal(realm=realm, governance=governance, mint=mint,
                                                 token_owner_record=owner_tor, authority=owner.pubkey(),
                                                 payer=h.payer.pubkey(), name=label, seed=seed), owner)
        run("insert_transaction", p.insert_transaction(governance=governance, proposal=proposal,
                                                       token_owner_record=owner_tor, authority=owner.pubkey(),
                                                       payer=h.payer.pubkey(), index=0, instructions=[ix],
                                                       hold_up_time=HOLD_UP), owner)
        run("sign_off_proposal", p.sign_off_proposal(realm=realm, governance=governance, proposal=proposal,
                                                     signatory=owner.pubkey(), owner_record=owner_tor), owner)
        for i, (kp, _) in enumerate(voters):
            tor = p.token_owner_record(realm, mint, kp.pubkey())
            run("cast_vote", p.cast_vote(realm=realm, governance=governance, proposal=proposal,
                                         owner_record=owner_tor, voter_record=tor, voter=kp.pubkey(), mint=mint,
                                         payer=h.payer.pubkey(), yes=i != 1), kp)
        pr = Proposal.decode(h.account_data(proposal))
        h.set_unix_timestamp(pr.voting_at + VOTING_TIME + 1)
        run("finalize_vote", p.finalize_vote(realm=realm, governance=governance, proposal=proposal,
                                             owner_record=owner_tor, mint=mint))
        h.warp_seconds(HOLD_UP + 1)
        run(execute_name, p.execute_transaction(
            governance=governance, proposal=proposal, proposal_transaction=p.proposal_transaction(proposal, 0, 0),
            instructions=[gp.ProposalInstruction.of(ix)]))
        for kp, _ in voters:
            tor = p.token_owner_record(realm, mint, kp.pubkey())
            run("relinquish_vote", p.relinquish_vote(realm=realm, governance=governance, proposal=proposal,
                                                     voter_record=tor, mint=mint))

    cycle("accept the market", actions.accept_authority(esc, governance, mint), "execute_accept_authority")
    assert MarketView.decode(prog, market, h.account_data(market)).authority == governance
    for round_ in range(2):
        m = MarketView.decode(prog, market, h.account_data(market))
        cycle(f"fee {round_}", actions.set_fee(esc, governance, m, 300 + round_), "execute_transaction")
        assert MarketView.decode(prog, market, h.account_data(market)).fee_bps == 300 + round_
    for kp, tok in voters[:2]:
        run("withdraw", p.withdraw(realm=realm, mint=mint, destination=tok, owner=kp.pubkey()), kp)

    so_size = so.stat().st_size
    summary = {
        "program": "spl-governance 4.0.0 (crates.io), built by tools/sbpf",
        "so_bytes": so_size,
        "compute_units": {k: {"min": min(v), "max": max(v), "n": len(v)} for k, v in sorted(cu.items())},
        "baseline": True,
        "platform_tools_build": None,
        "platform_tools_note": "no registry package ships a platform-tools spl_governance.so (npm "
                               "@solana/spl-governance 0.3.28 is a JS client without one); these are the baseline",
        "execute_includes": "execute_transaction: job_escrow update_market (set fee) through CPI signed by the "
                            "governance PDA (with emit_cpi!); execute_accept_authority: job_escrow "
                            "accept_market_authority the same way (step two of the hand-over)",
    }
    out = Path(__file__).resolve().parents[2] / "target" / "cu" / "spl_governance.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    print(json.dumps(summary, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
