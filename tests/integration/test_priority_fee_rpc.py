"""The "auto" priority fee reads getRecentPrioritizationFees from a real validator, although
solana-py 0.36.6's AsyncClient has no method for it (a raw JSON-RPC request is used)."""
from solana.rpc.async_api import AsyncClient
from solders.keypair import Keypair
from solders.system_program import TransferParams, transfer

from iopay.core.tx import SendConfig, TransactionSender


async def test_auto_priority_fee_follows_recent_fees(localnet):
    payer = Keypair()
    localnet.airdrop(payer.pubkey(), 2)
    async with AsyncClient(localnet.url) as client:
        assert not hasattr(client, "get_recent_prioritization_fees")
        paying = TransactionSender(client, SendConfig(priority_fee=77_000, commitment="confirmed",
                                                      poll_interval=0.05, confirm_timeout=30.0))
        ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=1_000_000))
        await paying.send([ix], payer)
        auto = TransactionSender(client, SendConfig(priority_fee="auto", priority_fee_percentile=100.0))
        assert await auto.priority_fee([ix]) == 77_000
