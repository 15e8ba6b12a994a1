"""A local Solana validator over LiteSVM: ``iopay localnet`` / ``python -m iopay.localnet``.

Serves the Solana JSON-RPC API on ``http://127.0.0.1:8899`` and the websocket
PubSub API on ``ws://127.0.0.1:8900`` (``--rpc-port``/``--ws-port``; ``0``
picks free ports, reported in ``LEDGER/localnet.json``), so the SDK, the CLI
and services run against it unchanged, as against ``solana-test-validator``.

Chain model (``chain.py``): slots advance every 400 ms (``--slot-time``); the
Clock's ``unix_timestamp`` follows wall time; one blockhash per slot, valid
for 150 blocks (``lastValidBlockHeight = slot + 150``); a transaction is
``confirmed`` one slot after it was processed and ``finalized``
``--finality-depth`` (32) slots after. Programs in ``target/deploy`` load at
start at their keypair's address (``--bpf-program ADDRESS FILE`` adds more),
deployed through the upgradeable loader with a known upgrade authority
(``LEDGER/upgrade-authority-keypair.json`` or ``--upgrade-authority``), so
instructions that check it (``init_market``) can be signed. The faucet
(``LEDGER/faucet-keypair.json``) funds ``requestAirdrop``.

HTTP (``http.py``) as Agave's: POST with ``Content-Type: application/json``
(else ``415``), at most 50 KiB (else ``413``), answers
``application/json; charset=utf-8``; a bare number or string is a parse
error, an empty batch an empty answer.

HTTP methods (``methods.py``): getAccountInfo, getBalance, getBlockHeight,
getBlockTime, getClusterNodes, getEpochInfo, getEpochSchedule, getFeeForMessage,
getFirstAvailableBlock, getGenesisHash, getHealth, getHighestSnapshotSlot,
getIdentity, getLatestBlockhash, getMaxRetransmitSlot, getMaxShredInsertSlot,
getMinimumBalanceForRentExemption, getMultipleAccounts, getProgramAccounts,
getRecentPrioritizationFees, getSignatureStatuses, getSignaturesForAddress,
getSlot, getSlotLeader, getTokenAccountBalance, getTokenAccountsByDelegate,
getTokenAccountsByOwner, getTokenSupply, getTransaction, getTransactionCount,
getVersion, getVoteAccounts, isBlockhashValid, minimumLedgerSlot,
requestAirdrop, sendTransaction, simulateTransaction; batches of any of them.

Websocket (``pubsub.py``): account/program/signature/logs/slot/root
``Subscribe`` and ``Unsubscribe``.

Extra methods (not in Agave):

``iopay_warpTime``
    params ``[seconds]`` or ``[{"seconds": N}]``: moves the Clock's
    ``unix_timestamp`` forward by N seconds (slots keep real time), e.g. to
    make job hours elapse for payout tests. Returns
    ``{"unixTimestamp", "slot", "timeOffset"}``. Persisted in the ledger.

Commitment: every read, blockhash and simulation answers from the bank of
its commitment (default ``finalized``, as Agave): what a transaction wrote
at ``processed`` (accounts, balances, program/token accounts, lookup
tables) and the blockhash of the current slot are not visible at
``confirmed`` until the next slot, nor at ``finalized`` for
``--finality-depth`` slots; sendTransaction's preflight runs at
``preflightCommitment`` (default ``finalized``), so a blockhash fetched at
``processed`` fails it with ``BlockhashNotFound`` until it is confirmed.
Account and program notifications carry the state of the subscription's
commitment.

``iopay_dropWebsockets``
    params ``[]`` or ``[{"refuseSeconds": N}]``: closes every websocket
    connection (code 1001) and refuses new ones for N seconds (code 1013),
    a network cut for tests of clients that must resubscribe. Returns
    ``{"closed", "refuseSeconds"}``.

``iopay_rpcStats``
    no params: ``{"calls": {method: count}}`` of the HTTP JSON-RPC calls
    served since start (benchmarks count a client's calls with it).

``--account-dir DIR`` loads every ``DIR/*.json`` account (the format
``solana account --output json`` writes and solana-test-validator's
``--account-dir`` reads) at genesis of a fresh ledger.

Known differences from Agave: the state replayed from the ledger at start
(and the programs loaded at start) is at every commitment at once; a
simulation in an older bank sees the latest Clock and the latest state of
the programs it calls; ``getTransactionCount`` counts to the latest slot;
``getSignatureStatuses`` without ``searchTransactionHistory`` sees the last
300 slots; no blocks API (getBlock/getBlocks, nor ``blockSubscribe``:
"Method not found" where Agave checks its params first), no vote/stake
accounts, no leader schedule; address lookup tables are resolved for execution and
indexing; the priority fee is charged in full (no burn/reward split).

``--ledger DIR`` (default ``test-ledger``) keeps everything across restarts,
including unclean ones (``SIGKILL``): see ``ledger.py``.
"""

__all__ = ["main"]


def main(argv=None):  # type: ignore[no-untyped-def]
    from iopay.localnet.cli import main as _main

    return _main(argv)
