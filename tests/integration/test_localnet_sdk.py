"""solana-py's AsyncClient, anchorpy's Program/Provider and solana-py's
websocket client against a validator process over HTTP and websockets:
the local one, and a real ``solana-test-validator`` when one is on PATH."""

from __future__ import annotations

import asyncio
from typing import Any, List

import pytest
from anchorpy import Provider, Wallet
from solana.exceptions import SolanaRpcException
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed, Processed
from solana.rpc.core import RPCException
from solana.rpc.types import MemcmpOpts, TokenAccountOpts, TxOpts
from solana.rpc.websocket_api import connect
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.rpc.config import RpcTransactionLogsFilterMentions
from solders.rpc.responses import (
    AccountNotification, LogsNotification, ProgramNotification, SignatureNotification, SlotNotification,
    SubscriptionResult, UnsubscribeResult,
)
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction
from solders.transaction_status import TransactionErrorInstructionError

from tests.integration.conftest import Validator
from iopay.core import spl
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import JobEscrow
from tests.integration.rpc_env import SOL, RpcEnv, make_market

SYSTEM = Pubkey.from_string("11111111111111111111111111111111")
WAIT = 15.0


def _xfer(a: Keypair, b: Pubkey, lamports: int) -> Any:
    return transfer(TransferParams(from_pubkey=a.pubkey(), to_pubkey=b, lamports=lamports))


async def test_async_client_send_confirm_simulate_fetch(validator: Validator) -> None:
    async with AsyncClient(validator.url, commitment=Confirmed) as c:
        env = RpcEnv(validator.url, c)
        a, b = await env.funded(5), Keypair()
        bh = (await c.get_latest_blockhash()).value
        tx = Transaction([a], Message.new_with_blockhash([_xfer(a, b.pubkey(), SOL)], a.pubkey(), bh.blockhash),
                         bh.blockhash)
        sim = (await c.simulate_transaction(tx, sig_verify=True)).value
        assert sim.err is None and sim.units_consumed and sim.units_consumed > 0
        assert sim.logs and sim.logs[-1] == f"Program {SYSTEM} success"
        sig = (await c.send_transaction(tx)).value
        assert sig == tx.signatures[0]
        (st,) = (await c.confirm_transaction(sig, Confirmed, sleep_seconds=0.05,
                                             last_valid_block_height=bh.last_valid_block_height)).value
        assert st is not None and st.err is None
        got = (await c.get_transaction(sig, commitment=Confirmed)).value
        assert got is not None and got.slot == st.slot
        meta = got.transaction.meta
        assert meta.fee == 5000 and meta.err is None
        assert meta.pre_balances[0] - meta.post_balances[0] == SOL + 5000 and meta.post_balances[1] == SOL
        assert meta.log_messages == sim.logs and meta.compute_units_consumed == sim.units_consumed
        info = (await c.get_account_info(b.pubkey())).value
        assert info is not None and info.lamports == SOL and info.owner == SYSTEM and info.data == b""
        many = (await c.get_multiple_accounts([a.pubkey(), b.pubkey(), Keypair().pubkey()])).value
        assert [x.lamports if x else None for x in many] == [4 * SOL - 5000, SOL, None]
        assert (await c.get_balance(b.pubkey(), Processed)).value == SOL
        sigs = (await c.get_signatures_for_address(b.pubkey(), commitment=Confirmed)).value
        assert [s.signature for s in sigs] == [sig]
        # Preflight failure: -32002 with the simulation result.
        bh2 = (await c.get_latest_blockhash()).value
        bad = Transaction([b], Message.new_with_blockhash([_xfer(b, a.pubkey(), 10 * SOL)], b.pubkey(),
                                                          bh2.blockhash), bh2.blockhash)
        with pytest.raises(RPCException) as ei:
            await c.send_transaction(bad)
        failure = ei.value.args[0]
        assert isinstance(failure.data.err, TransactionErrorInstructionError)
        assert any("insufficient lamports" in line for line in failure.data.logs)
        assert (await c.get_signature_statuses([bad.signatures[0]])).value == [None]


async def test_token_accounts_and_program_account_filters(validator: Validator) -> None:
    async with AsyncClient(validator.url, commitment=Confirmed) as c:
        env = RpcEnv(validator.url, c)
        payer = await env.funded(10)
        mint = await env.create_mint(payer, payer.pubkey())
        owners = [Keypair().pubkey(), Keypair().pubkey()]
        accts = [await env.create_token_account(payer, mint, o) for o in (owners[0], owners[1], owners[0])]
        await env.send([spl.mint_to(mint, accts[0], payer.pubkey(), 2_500_000),
                        spl.mint_to(mint, accts[1], payer.pubkey(), 7)], payer)
        tp = spl.TOKEN_PROGRAM_ID
        by_mint = (await c.get_program_accounts(tp, encoding="base64",
                                                filters=[165, MemcmpOpts(offset=0, bytes=str(mint))])).value
        assert sorted(str(x.pubkey) for x in by_mint) == sorted(map(str, accts))
        assert all(len(x.account.data) == 165 and x.account.owner == tp for x in by_mint)
        by_owner = (await c.get_program_accounts(tp, encoding="base64", filters=[
            165, MemcmpOpts(offset=0, bytes=str(mint)), MemcmpOpts(offset=32, bytes=str(owners[0]))])).value
        assert sorted(str(x.pubkey) for x in by_owner) == sorted([str(accts[0]), str(accts[2])])
        mints = (await c.get_program_accounts(tp, encoding="base64", filters=[82])).value
        assert str(mint) in {str(x.pubkey) for x in mints}
        toks = (await c.get_token_accounts_by_owner(owners[0], TokenAccountOpts(mint=mint))).value
        assert sorted(str(x.pubkey) for x in toks) == sorted([str(accts[0]), str(accts[2])])
        parsed = (await c.get_token_accounts_by_owner_json_parsed(owners[1], TokenAccountOpts(program_id=tp))).value
        (only,) = parsed
        assert only.account.data.parsed["info"]["tokenAmount"]["amount"] == "7"
        bal = (await c.get_token_account_balance(accts[0])).value
        assert (bal.amount, bal.decimals, bal.ui_amount_string) == ("2500000", 6, "2.5")
        assert (await c.get_token_supply(mint)).value.amount == "2500007"


async def test_anchorpy_program_fetch_multiple_all_and_provider_send(validator: Validator) -> None:
    prog = ProgramIdl.load("job_escrow")
    async with AsyncClient(validator.url, commitment=Confirmed) as c:
        env = RpcEnv(validator.url, c, prog)
        esc = JobEscrow(prog, fetch=env.fetch)
        m1 = await make_market(env, esc, validator.upgrade_authority, fee_bps=250)
        m2 = await make_market(env, esc, validator.upgrade_authority, fee_bps=100)
        provider = Provider(c, Wallet(m1.payer), TxOpts(preflight_commitment=Confirmed))
        program = prog.anchorpy_program(provider)
        market = await program.account["Market"].fetch(m1.address)
        assert (market.mint, market.treasury, market.fee_bps, market.authority) == (
            m1.mint, m1.treasury, 250, m1.authority.pubkey())
        got = await program.account["Market"].fetch_multiple([m1.address, Keypair().pubkey(), m2.address])
        assert got[0].fee_bps == 250 and got[1] is None and got[2].fee_bps == 100
        mine = await program.account["Market"].all(filters=[MemcmpOpts(offset=8 + 32, bytes=str(m2.mint))])
        assert [(x.public_key, x.account.fee_bps) for x in mine] == [(m2.address, 100)]
        everyone = {x.public_key for x in await program.account["Market"].all()}
        assert {m1.address, m2.address} <= everyone
        # anchorpy's Provider simulates and sends a transaction built by our SDK.
        bh = (await c.get_latest_blockhash()).value.blockhash
        ix = esc.set_market_paused(authority=m1.authority.pubkey(), mint=m1.mint, paused=True)
        tx = Transaction([m1.payer, m1.authority], Message.new_with_blockhash([ix], m1.payer.pubkey(), bh), bh)
        sim = await provider.simulate(tx)
        assert sim.value.err is None and any("Instruction: SetMarketPaused" in x for x in sim.value.logs)
        sig = await provider.send(tx)
        await c.confirm_transaction(sig, Confirmed, sleep_seconds=0.05)
        assert (await program.account["Market"].fetch(m1.address)).paused is True


async def _recv(ws: Any, kind: type, timeout: float = WAIT) -> Any:
    """The next message of type ``kind`` (others, e.g. slot ticks, skipped)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise TimeoutError(f"no {kind.__name__} within {timeout}s")
        msgs: List[Any] = await asyncio.wait_for(ws.recv(), left)
        for m in msgs:
            if isinstance(m, kind):
                return m


async def test_websocket_subscriptions(validator: Validator) -> None:
    async with AsyncClient(validator.url, commitment=Confirmed) as c:
        env = RpcEnv(validator.url, c)
        payer, dest = await env.funded(10), Keypair()
        mint = await env.create_mint(payer, payer.pubkey())
        async with connect(validator.ws_url) as acc_ws, connect(validator.ws_url) as logs_ws, \
                connect(validator.ws_url) as sig_ws, connect(validator.ws_url) as prog_ws, \
                connect(validator.ws_url) as slot_ws:
            await acc_ws.account_subscribe(dest.pubkey(), Confirmed, "base64")
            acc_id = (await _recv(acc_ws, SubscriptionResult)).result
            await logs_ws.logs_subscribe(RpcTransactionLogsFilterMentions(dest.pubkey()), Processed)
            await _recv(logs_ws, SubscriptionResult)
            await prog_ws.program_subscribe(spl.TOKEN_PROGRAM_ID, Confirmed, "base64", filters=[
                165, MemcmpOpts(offset=0, bytes=str(mint))])
            await _recv(prog_ws, SubscriptionResult)
            await slot_ws.slot_subscribe()
            slot_id = (await _recv(slot_ws, SubscriptionResult)).result
            tick = await _recv(slot_ws, SlotNotification)
            assert tick.subscription == slot_id and tick.result.slot > 0 and tick.result.parent == tick.result.slot - 1

            # Blockhash and preflight at one commitment: a blockhash fetched at processed is
            # unknown to a confirmed preflight until the next slot (BlockhashNotFound on Agave).
            bh = (await c.get_latest_blockhash(Confirmed)).value.blockhash
            tx = Transaction([payer], Message.new_with_blockhash([_xfer(payer, dest.pubkey(), 3 * SOL)],
                                                                 payer.pubkey(), bh), bh)
            await sig_ws.signature_subscribe(tx.signatures[0], Confirmed)
            await _recv(sig_ws, SubscriptionResult)
            await c.send_raw_transaction(bytes(tx), TxOpts(skip_confirmation=True, preflight_commitment=Confirmed))

            logs = await _recv(logs_ws, LogsNotification)
            assert logs.result.value.signature == tx.signatures[0] and logs.result.value.err is None
            assert logs.result.value.logs[-1] == f"Program {SYSTEM} success"
            done = await _recv(sig_ws, SignatureNotification)
            assert done.result.value.err is None
            (st,) = (await c.get_signature_statuses([tx.signatures[0]])).value
            assert st is not None and st.confirmation_status is not None and int(st.confirmation_status) >= 1
            acc = await _recv(acc_ws, AccountNotification)
            assert acc.subscription == acc_id and acc.result.value.lamports == 3 * SOL

            tok = await env.create_token_account(payer, mint, dest.pubkey())
            note = await _recv(prog_ws, ProgramNotification)
            assert note.result.value.pubkey == tok and len(note.result.value.account.data) == 165

            await acc_ws.account_unsubscribe(acc_id)
            assert (await _recv(acc_ws, UnsubscribeResult)).result is True
            await slot_ws.slot_unsubscribe(slot_id)
            # Later account changes are not sent any more.
            await env.send([_xfer(payer, dest.pubkey(), 1)], payer)
            with pytest.raises((TimeoutError, asyncio.TimeoutError)):
                await _recv(acc_ws, AccountNotification, timeout=1.5)


async def test_rpc_errors_reach_clients(validator: Validator) -> None:
    async with AsyncClient(validator.url, commitment=Confirmed) as c:
        with pytest.raises((RPCException, SolanaRpcException)):
            await c.get_transaction(Keypair().sign_message(b"x"), commitment=Processed)
        assert (await c.get_transaction(Keypair().sign_message(b"x"), commitment=Confirmed)).value is None
        assert (await c.get_account_info(Keypair().pubkey())).value is None
        v = (await c.get_version()).value
        assert v.solana_core
        assert (await c.get_genesis_hash()).value
        info = (await c.get_epoch_info()).value
        assert info.absolute_slot > 0 and info.slots_in_epoch > 0
