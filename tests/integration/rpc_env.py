"""Helpers for the integration tier: funded keypairs, SPL Token setup and a
job-escrow market, all sent over JSON-RPC with ``iopay.core.tx`` (the sender
services use against devnet)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Optional, Sequence

import httpx
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.system_program import CreateAccountParams, create_account

from iopay.core import spl
from iopay.core.errors import ErrorRegistry
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import JobEscrow
from iopay.core.tx import SendConfig, SendResult, TransactionSender

SOL = 1_000_000_000


def fast_send_config() -> SendConfig:
    return SendConfig(priority_fee=1_000, commitment="confirmed", poll_interval=0.05, resend_interval=1.0,
                      confirm_timeout=30.0)


class RpcEnv:
    def __init__(self, url: str, client: AsyncClient, program: Optional[ProgramIdl] = None) -> None:
        self.url = url
        self.client = client
        errors = ErrorRegistry()
        if program is not None:
            errors.add(program.errors)
        self.sender = TransactionSender(client, fast_send_config(), errors=errors)

    def fetch(self, address: Pubkey) -> Optional[bytes]:
        """Synchronous account fetch (for the SDK's account resolver)."""
        r = httpx.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": "getAccountInfo",
                                       "params": [str(address), {"encoding": "base64", "commitment": "confirmed"}]})
        v = r.json()["result"]["value"]
        return None if v is None else base64.b64decode(v["data"][0])

    async def funded(self, sol: int = 10) -> Keypair:
        kp = Keypair()
        sig = (await self.client.request_airdrop(kp.pubkey(), sol * SOL, Confirmed)).value
        await self.client.confirm_transaction(sig, Confirmed, sleep_seconds=0.05)
        return kp

    async def send(self, ixs: Sequence[Instruction], payer: Keypair, *signers: Keypair) -> SendResult:
        return await self.sender.send(list(ixs), payer, list(signers))

    async def rent(self, size: int) -> int:
        return (await self.client.get_minimum_balance_for_rent_exemption(size)).value

    async def create_mint(self, payer: Keypair, authority: Pubkey, decimals: int = 6) -> Pubkey:
        mint = Keypair()
        await self.send([
            create_account(CreateAccountParams(from_pubkey=payer.pubkey(), to_pubkey=mint.pubkey(),
                                               lamports=await self.rent(spl.MINT_LEN), space=spl.MINT_LEN,
                                               owner=spl.TOKEN_PROGRAM_ID)),
            spl.initialize_mint2(mint.pubkey(), decimals, authority),
        ], payer, mint)
        return mint.pubkey()

    async def create_token_account(self, payer: Keypair, mint: Pubkey, owner: Pubkey) -> Pubkey:
        acct = Keypair()
        await self.send([
            create_account(CreateAccountParams(from_pubkey=payer.pubkey(), to_pubkey=acct.pubkey(),
                                               lamports=await self.rent(spl.ACCOUNT_LEN), space=spl.ACCOUNT_LEN,
                                               owner=spl.TOKEN_PROGRAM_ID)),
            spl.initialize_account3(acct.pubkey(), mint, owner),
        ], payer, acct)
        return acct.pubkey()

    async def token_balance(self, account: Pubkey) -> int:
        return int((await self.client.get_token_account_balance(account, Confirmed)).value.amount)


@dataclass
class Market:
    payer: Keypair
    mint: Pubkey
    mint_authority: Keypair
    authority: Keypair
    treasury: Pubkey
    address: Pubkey


async def make_market(env: RpcEnv, esc: JobEscrow, upgrade_authority: Keypair, fee_bps: int = 250) -> Market:
    payer, mint_authority, authority = await env.funded(100), Keypair(), Keypair()
    mint = await env.create_mint(payer, mint_authority.pubkey())
    treasury = await env.create_token_account(payer, mint, authority.pubkey())
    await env.send([esc.init_market(payer=payer.pubkey(), upgrade_authority=upgrade_authority.pubkey(),
                                    authority=authority.pubkey(), mint=mint, treasury=treasury, fee_bps=fee_bps,
                                    max_workers=8, max_hours=720)], payer, upgrade_authority)
    return Market(payer, mint, mint_authority, authority, treasury, esc.market_address(mint))
