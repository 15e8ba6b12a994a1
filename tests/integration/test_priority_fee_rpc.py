"""The "auto" priority fee reads getRecentPrioritizationFees from each validator, although
solana-py 0.36.6's AsyncClient has no method for it (a raw JSON-RPC request is used). Both report
the price actually paid (Agave 4.2): the fee rounded up to whole lamports over the unit limit."""
from solana.rpc.async_api import AsyncClient
from solders.keypair import Keypair
from solders.system_program import TransferParams, transfer

from iopay.core.tx import SendConfig, TransactionSender


async def test_auto_priority_fee_follows_recent_fees(validator):
    payer = Keypair()
    validator.airdrop(payer.pubkey(), 2)
    async with AsyncClient(validator.url) as client:
        assert not hasattr(client, "get_recent_prioritization_fees")
        paying = TransactionSender(client, SendConfig(priority_fee=77_000, commitment="confirmed",
                                                      poll_interval=0.05, confirm_timeout=30.0))
        ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=1_000_000))
        sent = await paying.send([ix], payer)
        paid = -(-77_000 * sent.compute_unit_limit // 1_000_000)  # lamports, rounded up
        auto = TransactionSender(client, SendConfig(priority_fee="auto", priority_fee_percentile=100.0))
        assert await auto.priority_fee([ix]) == paid * 1_000_000 // sent.compute_unit_limit >= 77_000
