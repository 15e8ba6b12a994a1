"""Rewards distributor SDK: addresses and instruction builders (pure, from the IDL).

Accounts (``programs/rewards/src/state.rs``):

* ``Distributor`` at ``["distributor", creator, mint, epoch u64 LE]``;
* its vault, an SPL token account at ``["vault", distributor]`` (authority = distributor);
* its claim bitmap, a program-owned account the creator makes with a
  top-level ``create_account`` in the publishing transaction
  (:meth:`Rewards.claims_create`): 32-byte header (the distributor's key),
  then one bit per leaf. 1M leaves = 125,032 bytes, about 0.87 SOL of rent
  paid once by the creator; a claim creates nothing.
"""

from __future__ import annotations

import struct
from typing import Any, Dict, Optional, Sequence

from solders.instruction import Instruction
from solders.pubkey import Pubkey
from solders.system_program import CreateAccountParams, create_account

from iopay.core.idl import AccountFetcher, ProgramIdl
from iopay.rewards import merkle

IDL_NAME = "rewards"
DISTRIBUTOR_SEED = b"distributor"
VAULT_SEED = b"vault"
CLAIMS_HEADER = 32


def claims_space(num_leaves: int) -> int:
    """Bytes of the claim bitmap account for ``num_leaves`` leaves: a 32-byte header plus one bit per leaf."""
    return CLAIMS_HEADER + merkle.bitmap_len(num_leaves)


class Rewards:
    """Instruction builders for the rewards program."""

    def __init__(self, program: Optional[ProgramIdl] = None, fetch: Optional[AccountFetcher] = None) -> None:
        self.program = program or ProgramIdl.load(IDL_NAME)
        self.program_id = self.program.program_id
        self.fetch = fetch

    # -- addresses --

    def distributor_address(self, creator: Pubkey, mint: Pubkey, epoch: int) -> Pubkey:
        """The distributor PDA ``["distributor", creator, mint, epoch u64 LE]``."""
        return Pubkey.find_program_address(
            [DISTRIBUTOR_SEED, bytes(creator), bytes(mint), struct.pack("<Q", epoch)], self.program_id)[0]

    def vault_address(self, distributor: Pubkey) -> Pubkey:
        """The distributor's vault, a token account PDA ``["vault", distributor]``."""
        return Pubkey.find_program_address([VAULT_SEED, bytes(distributor)], self.program_id)[0]

    def _ix(self, name: str, args: Dict[str, Any], accounts: Dict[str, Pubkey],
            overrides: Optional[Dict[str, Pubkey]]) -> Instruction:
        return self.program.build_instruction(name, args, accounts, fetch=self.fetch, overrides=overrides)

    # -- instructions --

    def claims_create(self, *, payer: Pubkey, claims: Pubkey, num_leaves: int, lamports: int) -> Instruction:
        """System ``create_account`` of the claim bitmap (owner = this program)."""
        return create_account(CreateAccountParams(from_pubkey=payer, to_pubkey=claims, lamports=lamports,
                                                  space=claims_space(num_leaves), owner=self.program_id))

    def new_distributor(self, *, creator: Pubkey, admin: Pubkey, mint: Pubkey, treasury: Pubkey,
                        claims: Pubkey, creator_token: Pubkey, epoch: int, root: bytes, num_leaves: int,
                        total: int, claim_deadline: int,
                        overrides: Optional[Dict[str, Pubkey]] = None) -> Instruction:
        """``new_distributor``: epoch ``epoch``'s distributor with Merkle ``root`` (32 bytes; ``ValueError``
        otherwise) over ``num_leaves`` leaves, funded with ``total`` base units from ``creator_token`` in the
        same instruction; claims close at ``claim_deadline`` (unix seconds). Send after :meth:`claims_create`
        in one transaction."""
        if len(root) != 32:
            raise ValueError("root must be 32 bytes")
        distributor = self.distributor_address(creator, mint, epoch)
        return self._ix(
            "new_distributor",
            {"epoch": epoch, "root": list(root), "num_leaves": num_leaves, "total": total,
             "claim_deadline": claim_deadline},
            {"creator": creator, "admin": admin, "mint": mint, "treasury": treasury, "distributor": distributor,
             "vault": self.vault_address(distributor), "claims": claims, "creator_token": creator_token},
            overrides,
        )

    def claim(self, *, claimant: Pubkey, distributor: Pubkey, claims: Pubkey, claimant_token: Pubkey,
              index: int, amount: int, proof: Sequence[bytes],
              overrides: Optional[Dict[str, Pubkey]] = None) -> Instruction:
        """``claim``: leaf ``index`` pays ``amount`` base units to ``claimant_token`` given its Merkle ``proof``
        (32-byte nodes, leaf to root)."""
        return self._ix(
            "claim", {"index": index, "amount": amount, "proof": [list(p) for p in proof]},
            {"claimant": claimant, "distributor": distributor, "claims": claims,
             "vault": self.vault_address(distributor), "claimant_token": claimant_token},
            overrides,
        )

    def clawback(self, *, distributor: Pubkey, treasury: Pubkey,
                 overrides: Optional[Dict[str, Pubkey]] = None) -> Instruction:
        """``clawback`` (permissionless, after the deadline): the vault's rest to ``treasury``."""
        return self._ix("clawback", {}, {"distributor": distributor, "vault": self.vault_address(distributor),
                                         "treasury": treasury}, overrides)

    def propose_admin(self, *, admin: Pubkey, distributor: Pubkey, new_admin: Pubkey,
                      overrides: Optional[Dict[str, Pubkey]] = None) -> Instruction:
        """``propose_admin``: step one of an admin hand-over."""
        return self._ix("propose_admin", {"new_admin": new_admin}, {"admin": admin, "distributor": distributor},
                        overrides)

    def accept_admin(self, *, new_admin: Pubkey, distributor: Pubkey,
                     overrides: Optional[Dict[str, Pubkey]] = None) -> Instruction:
        """``accept_admin``: the proposed admin takes over."""
        return self._ix("accept_admin", {}, {"new_admin": new_admin, "distributor": distributor}, overrides)

    def extend_deadline(self, *, admin: Pubkey, distributor: Pubkey, new_deadline: int,
                        overrides: Optional[Dict[str, Pubkey]] = None) -> Instruction:
        """``extend_deadline``: a later claim deadline (unix seconds)."""
        return self._ix("extend_deadline", {"new_deadline": new_deadline},
                        {"admin": admin, "distributor": distributor}, overrides)
