"""High-level async SDK of the rewards distributor.

``RewardsClient(chain, payer)`` over any :class:`iopay.core.chain.Chain`
(LiteSVM or JSON-RPC); ``RewardsClient.connect(url, payer)`` over JSON-RPC.
Writes return :class:`iopay.core.chain.Sent` with decoded events; program
failures raise the named errors of :mod:`iopay.core.errors`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.core import spl
from iopay.core.chain import CLOCK_SYSVAR, CLOCK_UNIX_TS_OFFSET, Chain, LiteSvmChain, Sent, rpc_chain
from iopay.core.idl import ProgramIdl
from iopay.rewards import merkle
from iopay.rewards.epoch import EpochRewards, Leaf
from iopay.rewards.program import IDL_NAME, Rewards, claims_space
from iopay.rewards.state import DistributorView, claimed_bits

# Rent-exempt minimum of the default rent (3480 lamports/byte-year, 2 years,
# 128 bytes of account overhead), the same on every public cluster.
def rent_exempt(space: int) -> int:
    """Rent-exempt minimum in lamports for an account of ``space`` bytes (the default rent of every public
    cluster), computed locally."""
    return (128 + space) * 3480 * 2


@dataclass
class Published:
    distributor: Pubkey
    vault: Pubkey
    claims: Pubkey
    sent: Sent


@dataclass(frozen=True)
class ClaimStatus:
    distributor: DistributorView
    now: int
    leaf: Optional[Leaf] = None
    leaf_claimed: Optional[bool] = None

    @property
    def seconds_left(self) -> int:
        """Seconds until the claim deadline (0 once passed or clawed back)."""
        return max(0, self.distributor.claim_deadline - self.now) if not self.distributor.clawed_back else 0


class RewardsClient:
    """Async client of the rewards distributor for one fee payer: publish an epoch, claim, claw back,
    hand the admin over."""

    def __init__(self, chain: Chain, payer: Keypair, program: Optional[ProgramIdl] = None) -> None:
        self.chain = chain
        self.payer = payer
        self.program = program or ProgramIdl.load(IDL_NAME)
        self.rw = Rewards(self.program)

    @classmethod
    def connect(cls, url: str, payer: Keypair, *, program: Optional[ProgramIdl] = None,
                send_config: Optional[Any] = None, commitment: str = "confirmed") -> "RewardsClient":
        """A client over JSON-RPC at ``url``, ``payer`` paying fees. ``TypeError`` if ``payer`` is not a solders
        ``Keypair``. Close it with :meth:`close` or ``async with``."""
        if not isinstance(payer, Keypair):
            raise TypeError(f"payer must be a solders Keypair, got {type(payer).__name__}")
        prog = program or ProgramIdl.load(IDL_NAME)
        return cls(rpc_chain(url, [prog], send_config=send_config, commitment=commitment), payer, prog)

    @classmethod
    def for_harness(cls, harness: Any, payer: Optional[Keypair] = None) -> "RewardsClient":
        """A client over an in-process LiteSVM :class:`~iopay.core.harness.Harness`; ``payer`` defaults to the
        harness's payer."""
        return cls(LiteSvmChain(harness), payer or harness.payer)

    async def close(self) -> None:
        """Close the RPC connection (nothing to do in process)."""
        close = getattr(self.chain, "close", None)
        if close is not None:
            await close()

    async def __aenter__(self) -> "RewardsClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # -- reads --

    async def now(self) -> int:
        """The cluster's unix time (Clock sysvar), the clock claim deadlines run on. ``LookupError`` if
        unreadable."""
        acc = await self.chain.get_account(CLOCK_SYSVAR)
        if acc is None:
            raise LookupError("Clock sysvar not readable")
        return struct.unpack_from("<q", acc[1], CLOCK_UNIX_TS_OFFSET)[0]

    async def distributor(self, address: Pubkey) -> DistributorView:
        """The :class:`DistributorView` at ``address`` (amounts in base units of its mint); ``LookupError`` if
        absent, ``ValueError`` if the rewards program does not own it."""
        acc = await self.chain.get_account(address)
        if acc is None:
            raise LookupError(f"distributor {address} does not exist")
        if acc[0] != self.program.program_id:
            raise ValueError(f"{address} is owned by {acc[0]}, not the rewards program")
        return DistributorView.decode(self.program, address, acc[1])

    async def is_claimed(self, d: DistributorView, index: int) -> bool:
        """Whether leaf ``index`` of ``d`` is claimed (reads its claim bitmap; ``LookupError`` if the bitmap is
        gone)."""
        acc = await self.chain.get_account(d.claims)
        if acc is None:
            raise LookupError(f"claim bitmap {d.claims} does not exist")
        return claimed_bits(acc[1], index)

    async def status(self, distributor: Pubkey, wallet: Optional[Pubkey] = None,
                     rewards: Optional[EpochRewards] = None) -> ClaimStatus:
        """The distributor, the cluster time and, given ``wallet`` and the epoch's ``rewards`` file, that
        wallet's leaf and whether it is claimed (``leaf`` None if the wallet earned nothing)."""
        d = await self.distributor(distributor)
        now = await self.now()
        if wallet is None or rewards is None:
            return ClaimStatus(d, now)
        try:
            leaf = rewards.leaf_of(wallet)
        except LookupError:
            return ClaimStatus(d, now)
        return ClaimStatus(d, now, leaf, await self.is_claimed(d, leaf.index))

    async def mint_decimals(self, mint: Pubkey) -> int:
        """Decimals of ``mint`` (``LookupError`` if it does not exist)."""
        acc = await self.chain.get_account(mint)
        if acc is None:
            raise LookupError(f"mint {mint} does not exist")
        return spl.Mint.decode(acc[1]).decimals

    # -- writes --

    async def publish(self, rewards: EpochRewards, *, creator: Keypair, mint: Pubkey, treasury: Pubkey,
                      claim_deadline: int, admin: Optional[Pubkey] = None,
                      creator_token: Optional[Pubkey] = None) -> Published:
        """Create epoch ``rewards.epoch``'s distributor with its root and fund
        it with the pool from ``creator_token`` (default: the creator's ATA),
        in one transaction together with the claim bitmap account."""
        claims = Keypair()
        n = len(rewards.leaves)
        ctok = creator_token or spl.associated_token_address(creator.pubkey(), mint)
        create = self.rw.claims_create(payer=creator.pubkey(), claims=claims.pubkey(), num_leaves=n,
                                       lamports=rent_exempt(claims_space(n)))
        ix = self.rw.new_distributor(
            creator=creator.pubkey(), admin=admin or creator.pubkey(), mint=mint, treasury=treasury,
            claims=claims.pubkey(), creator_token=ctok, epoch=rewards.epoch, root=rewards.root, num_leaves=n,
            total=sum(leaf.amount for leaf in rewards.leaves), claim_deadline=claim_deadline)
        signers = [claims] + ([creator] if creator.pubkey() != self.payer.pubkey() else [])
        sent = await self.chain.send([create, ix], signers, self.payer)
        dist = self.rw.distributor_address(creator.pubkey(), mint, rewards.epoch)
        return Published(dist, self.rw.vault_address(dist), claims.pubkey(), sent)

    async def claim(self, claimant: Keypair, distributor: Pubkey, rewards: EpochRewards, *,
                    claimant_token: Optional[Pubkey] = None, create_token_account: bool = True) -> Sent:
        """Claim ``claimant``'s leaf of ``rewards`` (its proof rebuilt from the
        file's leaves) into its ATA, created first if missing."""
        d = await self.distributor(distributor)
        if d.root != rewards.root or d.epoch != rewards.epoch:
            raise ValueError(f"the rewards file (epoch {rewards.epoch}, root {rewards.root.hex()[:16]}…) is not "
                             f"the one published at {distributor} (epoch {d.epoch}, root {d.root.hex()[:16]}…)")
        leaf = rewards.leaf_of(claimant.pubkey())
        proof = rewards.proof(leaf.index)
        assert merkle.verify(d.root, d.num_leaves, leaf.hash(d.epoch), leaf.index, proof)
        ctok = claimant_token or spl.associated_token_address(claimant.pubkey(), d.mint)
        ixs = []
        if claimant_token is None and create_token_account and await self.chain.get_account(ctok) is None:
            ixs.append(spl.create_associated_token_account_idempotent(self.payer.pubkey(), claimant.pubkey(),
                                                                       d.mint))
        ixs.append(self.rw.claim(claimant=claimant.pubkey(), distributor=distributor, claims=d.claims,
                                 claimant_token=ctok, index=leaf.index, amount=leaf.amount, proof=proof))
        signers = [claimant] if claimant.pubkey() != self.payer.pubkey() else []
        return await self.chain.send(ixs, signers, self.payer)

    async def clawback(self, distributor: Pubkey) -> Sent:
        """After the claim deadline (anyone may send it): everything left in the vault goes to the distributor's
        treasury, once (``ClawbackTooEarly``, ``AlreadyClawedBack``)."""
        d = await self.distributor(distributor)
        return await self.chain.send([self.rw.clawback(distributor=distributor, treasury=d.treasury)], [],
                                     self.payer)

    async def propose_admin(self, admin: Keypair, distributor: Pubkey, new_admin: Pubkey) -> Sent:
        """Step one of an admin hand-over: ``new_admin`` becomes admin when it accepts (the default key
        withdraws a proposal). Signed by the admin."""
        return await self._signed(admin, self.rw.propose_admin(admin=admin.pubkey(), distributor=distributor,
                                                              new_admin=new_admin))

    async def accept_admin(self, new_admin: Keypair, distributor: Pubkey) -> Sent:
        """Step two: the proposed admin signs to take the distributor over."""
        return await self._signed(new_admin, self.rw.accept_admin(new_admin=new_admin.pubkey(),
                                                                 distributor=distributor))

    async def extend_deadline(self, admin: Keypair, distributor: Pubkey, new_deadline: int) -> Sent:
        """Move the claim deadline later to ``new_deadline`` (unix seconds) while claims are open; never earlier
        (``DeadlineNotLater``). Signed by the admin."""
        return await self._signed(admin, self.rw.extend_deadline(admin=admin.pubkey(), distributor=distributor,
                                                                new_deadline=new_deadline))

    async def _signed(self, signer: Keypair, ix: Any, extra: Sequence[Keypair] = ()) -> Sent:
        signers = ([signer] if signer.pubkey() != self.payer.pubkey() else []) + list(extra)
        return await self.chain.send([ix], signers, self.payer)
