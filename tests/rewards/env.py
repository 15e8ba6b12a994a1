"""Shared setup for the rewards program tests: the compiled program in
LiteSVM with the real SPL Token program, a mint, a funded creator, a
treasury, and helpers that publish a distributor from an epoch's leaves,
claim, and assert exact error names/codes with balances unchanged."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import pytest
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.core.errors import ProgramError
from iopay.core.harness import Harness, ProgramNotBuilt, TxResult
from iopay.core.idl import IdlNotFound, ProgramIdl
from iopay.rewards import merkle
from iopay.rewards.client import rent_exempt
from iopay.rewards.epoch import Leaf
from iopay.rewards.program import Rewards, claims_space
from iopay.rewards.state import DistributorView

DECIMALS = 6
CREATOR_FUNDS = 10**15
DAY = 86_400


def load_rewards(h: Harness) -> ProgramIdl:
    try:
        prog = ProgramIdl.load("rewards")
    except IdlNotFound as e:
        pytest.fail(f"{e}\n-> generate it: make idl, then commit idl/rewards.json")
    try:
        h.load_program(prog)
    except ProgramNotBuilt as e:
        pytest.fail(f"{e}: `make programs` builds target/deploy/rewards.so")
    return prog


@dataclass
class Dist:
    address: Pubkey
    claims: Pubkey
    vault: Pubkey
    epoch: int
    leaves: List[Leaf]
    tree: merkle.MerkleTree
    total: int
    deadline: int
    created: TxResult

    def proof(self, index: int) -> List[bytes]:
        return self.tree.proof(index)


@dataclass
class Env:
    h: Harness
    prog: ProgramIdl
    rw: Rewards
    mint: Pubkey
    mint_auth: Keypair
    creator: Keypair
    creator_token: Pubkey
    treasury: Pubkey
    workers: List[Keypair]
    tokens: Dict[Pubkey, Pubkey] = field(default_factory=dict)

    @classmethod
    def make(cls, n_workers: int = 6) -> "Env":
        h = Harness()
        prog = load_rewards(h)
        mint_auth = Keypair()
        mint = h.create_mint(mint_auth, DECIMALS)
        creator = h.funded_keypair(100)
        ctok = h.create_token_account(mint, creator.pubkey())
        h.mint_to(mint, ctok, CREATOR_FUNDS, mint_auth)
        treasury = h.create_token_account(mint, h.funded_keypair().pubkey())
        workers = [h.funded_keypair(1) for _ in range(n_workers)]
        env = cls(h, prog, Rewards(prog), mint, mint_auth, creator, ctok, treasury, workers)
        for w in workers:
            env.tokens[w.pubkey()] = h.create_token_account(mint, w.pubkey())
        return env

    # -- publishing --
    def leaves(self, amounts: Sequence[int], wallets: Optional[Sequence[Pubkey]] = None) -> List[Leaf]:
        ws = list(wallets) if wallets is not None else [w.pubkey() for w in self.workers]
        return [Leaf(i, w, a) for i, (w, a) in enumerate(zip(ws, amounts))]

    def publish_ixs(self, epoch: int, leaves: Sequence[Leaf], *, deadline: Optional[int] = None,
                    admin: Optional[Pubkey] = None, claims: Optional[Keypair] = None,
                    num_leaves: Optional[int] = None, total: Optional[int] = None,
                    claims_len: Optional[int] = None, claims_owner: Optional[Pubkey] = None,
                    mint: Optional[Pubkey] = None, **overrides: Pubkey) -> Tuple[List[Instruction], Keypair, merkle.MerkleTree, int, int]:
        from solders.system_program import CreateAccountParams, create_account

        claims = claims or Keypair()
        tree = merkle.MerkleTree.build([leaf.hash(epoch) for leaf in leaves])
        n = len(leaves) if num_leaves is None else num_leaves
        space = claims_space(n) if claims_len is None else claims_len
        tot = sum(leaf.amount for leaf in leaves) if total is None else total
        dl = self.h.now() + 30 * DAY if deadline is None else deadline
        create = create_account(CreateAccountParams(
            from_pubkey=self.creator.pubkey(), to_pubkey=claims.pubkey(), lamports=rent_exempt(space), space=space,
            owner=claims_owner or self.prog.program_id))
        ix = self.rw.new_distributor(
            creator=self.creator.pubkey(), admin=admin if admin is not None else self.creator.pubkey(), mint=mint or self.mint,
            treasury=self.treasury, claims=claims.pubkey(), creator_token=self.creator_token, epoch=epoch,
            root=tree.root, num_leaves=n, total=tot, claim_deadline=dl, overrides=overrides or None)
        return [create, ix], claims, tree, tot, dl

    def publish(self, epoch: int, leaves: Sequence[Leaf], **kw) -> Dist:
        ixs, claims, tree, tot, dl = self.publish_ixs(epoch, leaves, **kw)
        res = self.ok(ixs, self.creator, claims)
        addr = self.rw.distributor_address(self.creator.pubkey(), self.mint, epoch)
        return Dist(addr, claims.pubkey(), self.rw.vault_address(addr), epoch, list(leaves), tree, tot, dl, res)

    # -- claiming --
    def claim_ix(self, d: Dist, who: Keypair, index: int, amount: Optional[int] = None,
                 proof: Optional[Sequence[bytes]] = None, token: Optional[Pubkey] = None, **overrides: Pubkey):
        return self.rw.claim(claimant=who.pubkey(), distributor=d.address, claims=d.claims,
                             claimant_token=token or self.tokens[who.pubkey()], index=index,
                             amount=d.leaves[index].amount if amount is None else amount,
                             proof=d.proof(index) if proof is None else proof, overrides=overrides or None)

    def claim(self, d: Dist, who: Keypair, index: int) -> TxResult:
        return self.ok([self.claim_ix(d, who, index)], who)

    # -- sending --
    def ok(self, ixs: Sequence[Instruction], *signers: Keypair) -> TxResult:
        res = self.h.send(list(ixs), signers)
        if res.error:
            raise AssertionError(f"{res.error}\n" + "\n".join(res.logs))
        return res

    def fails(self, ixs: Sequence[Instruction], *signers: Keypair, name: str) -> ProgramError:
        before = self.balances()
        res = self.h.send(list(ixs), signers)
        assert res.error is not None, f"expected {name}, transaction succeeded:\n" + "\n".join(res.logs)
        assert isinstance(res.error, ProgramError), res.error
        assert res.error.name == name, f"expected {name}, got {res.error}\n" + "\n".join(res.logs)
        if name in {e["name"] for e in self.prog.raw["errors"]}:
            assert res.error.code == self.prog.errors.code_of(name)
            assert res.error.program_id == self.prog.program_id
        assert self.balances() == before, "a failed transaction changed balances"
        return res.error

    def balances(self) -> Dict[str, int]:
        out = {str(k): self.h.token_balance(v) for k, v in self.tokens.items()}
        out["treasury"] = self.h.token_balance(self.treasury)
        out["creator"] = self.h.token_balance(self.creator_token)
        return out

    def view(self, d: Dist) -> DistributorView:
        return DistributorView.decode(self.prog, d.address, self.h.account_data(d.address))
