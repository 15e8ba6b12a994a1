"""iopay.core.tx retry / backoff / blockhash-expiry logic against a fake RPC.

The fake stands in for the JSON-RPC client only (a scripted validator:
block height, blockhashes, which sends land); no program is mocked."""

from __future__ import annotations

import random
import struct
from types import SimpleNamespace as NS
from typing import Any, List, Optional

import httpx
import pytest
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import Transaction
from solders.transaction_status import InstructionErrorCustom, TransactionErrorInstructionError

from iopay.core.errors import ErrorRegistry, ErrorTable, ProgramError
from iopay.core.tx import (
    COMPUTE_BUDGET_ID, BlockhashRenewalsExhausted, ConfirmationTimeout, RpcRetriesExhausted,
    SendConfig, TransactionSender, is_retryable,
)

PROGRAM = Keypair().pubkey()


def http_error(status: int, retry_after: Optional[str] = None) -> httpx.HTTPStatusError:
    req = httpx.Request("POST", "http://127.0.0.1:8899")
    headers = {"retry-after": retry_after} if retry_after else {}
    return httpx.HTTPStatusError(f"{status}", request=req, response=httpx.Response(status, headers=headers, request=req))


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: List[float] = []

    def __call__(self) -> float:
        return self.t

    async def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.t += s


class FakeRpc:
    """A scripted validator. Height advances by ``blocks_per_poll`` on each
    getBlockHeight; each blockhash is valid for ``validity`` blocks."""

    def __init__(self, clock: FakeClock, *, validity: int = 150, blocks_per_poll: int = 1) -> None:
        self.clock = clock
        self.height = 1_000
        self.validity = validity
        self.blocks_per_poll = blocks_per_poll
        self.hashes: List[tuple[Hash, int]] = []
        self.sent: List[bytes] = []
        self.landed: dict[Signature, Any] = {}
        self.fail_plan: dict[str, List[BaseException]] = {}
        self.calls: List[str] = []
        self.units = 42_000
        self.sim_err: Any = None
        self.fees = [0, 0, 5_000, 10_000, 20_000, 40_000]
        # Which sends land: a callable(tx, n_sent_for_this_sig) -> Optional[status]
        self.lands = lambda tx, n: NS(err=None, slot=77, confirmation_status="TransactionConfirmationStatus.Confirmed")

    def _maybe_fail(self, name: str) -> None:
        self.calls.append(name)
        plan = self.fail_plan.get(name)
        if plan:
            raise plan.pop(0)

    async def get_latest_blockhash(self, commitment: Any = None) -> Any:
        self._maybe_fail("get_latest_blockhash")
        h = Hash.new_unique()
        self.hashes.append((h, self.height + self.validity))
        return NS(value=NS(blockhash=h, last_valid_block_height=self.height + self.validity))

    async def get_recent_prioritization_fees(self, pubkeys: Any = None) -> Any:
        self._maybe_fail("get_recent_prioritization_fees")
        return NS(value=[NS(prioritization_fee=f, slot=i) for i, f in enumerate(self.fees)])

    async def simulate_transaction(self, txn: Transaction, sig_verify: bool = False, commitment: Any = None) -> Any:
        self._maybe_fail("simulate_transaction")
        return NS(value=NS(err=self.sim_err, logs=["Program log: sim"], units_consumed=self.units))

    async def send_raw_transaction(self, txn: bytes, opts: Any = None) -> Any:
        self._maybe_fail("send_raw_transaction")
        assert opts.skip_preflight and opts.max_retries == 0
        self.sent.append(txn)
        tx = Transaction.from_bytes(txn)
        sig = tx.signatures[0]
        n = sum(1 for r in self.sent if Transaction.from_bytes(r).signatures[0] == sig)
        valid_until = dict(self.hashes).get(tx.message.recent_blockhash, -1)
        if sig not in self.landed and self.height <= valid_until:
            st = self.lands(tx, n)
            if st is not None:
                self.landed[sig] = st
        return NS(value=sig)

    async def get_signature_statuses(self, signatures: List[Signature], search_transaction_history: bool = False) -> Any:
        self._maybe_fail("get_signature_statuses")
        return NS(value=[self.landed.get(s) for s in signatures])

    async def get_block_height(self, commitment: Any = None) -> Any:
        self._maybe_fail("get_block_height")
        self.height += self.blocks_per_poll
        return NS(value=self.height)


def _ix() -> Instruction:
    return Instruction(PROGRAM, b"\x01", [AccountMeta(Keypair().pubkey(), False, True)])


def _sender(rpc: FakeRpc, clock: FakeClock, **cfg: Any) -> TransactionSender:
    reg = ErrorRegistry()
    reg.add(ErrorTable(PROGRAM, {6000: ("Paused", "Market is paused")}))
    return TransactionSender(rpc, SendConfig(**cfg), errors=reg, sleep=clock.sleep, clock=clock,
                             rng=random.Random(1))


def _budget(raw: bytes) -> dict[str, int]:
    tx = Transaction.from_bytes(raw)
    keys = tx.message.account_keys
    out = {}
    for ci in tx.message.instructions:
        if keys[ci.program_id_index] == COMPUTE_BUDGET_ID:
            d = bytes(ci.data)
            if d[0] == 2:
                out["limit"] = struct.unpack_from("<I", d, 1)[0]
            elif d[0] == 3:
                out["price"] = struct.unpack_from("<Q", d, 1)[0]
    return out


async def test_happy_path_sets_cu_limit_and_priority_fee() -> None:
    clock = FakeClock()
    rpc = FakeRpc(clock)
    payer = Keypair()
    res = await _sender(rpc, clock).send([_ix()], payer)
    assert res.units_simulated == 42_000
    assert res.compute_unit_limit == 42_000 * 115 // 100 + 1_000
    # 75th percentile of the non-zero fees [5k, 10k, 20k, 40k] -> 20k
    assert res.priority_fee == 20_000
    assert len(rpc.sent) == 1 and _budget(rpc.sent[0]) == {"limit": res.compute_unit_limit, "price": 20_000}
    assert res.signature == Transaction.from_bytes(rpc.sent[0]).signatures[0]
    assert (res.slot, res.blockhash_renewals) == (77, 0)


async def test_fixed_priority_fee_and_existing_budget_ixs_replaced() -> None:
    from solders.compute_budget import set_compute_unit_limit

    clock = FakeClock()
    rpc = FakeRpc(clock)
    res = await _sender(rpc, clock, priority_fee=7).send([set_compute_unit_limit(5), _ix()], Keypair())
    assert _budget(rpc.sent[0]) == {"limit": res.compute_unit_limit, "price": 7}
    assert "get_recent_prioritization_fees" not in rpc.calls


async def test_auto_fee_falls_back_to_minimum() -> None:
    clock = FakeClock()
    rpc = FakeRpc(clock)
    rpc.fees = [0, 0]
    res = await _sender(rpc, clock, priority_fee_min=1_234).send([_ix()], Keypair())
    assert res.priority_fee == 1_234


async def test_429_and_5xx_are_retried_with_exponential_backoff() -> None:
    clock = FakeClock()
    rpc = FakeRpc(clock)
    rpc.fail_plan["get_latest_blockhash"] = [http_error(429), http_error(503), httpx.ConnectError("refused")]
    res = await _sender(rpc, clock, backoff_base=1.0, backoff_max=100.0).send([_ix()], Keypair())
    assert res.signature
    assert rpc.calls.count("get_latest_blockhash") == 4
    # Full jitter: attempt k sleeps in [0, base * 2^k].
    assert len(clock.sleeps) >= 3
    for k, s in enumerate(clock.sleeps[:3]):
        assert 0 <= s <= 2 ** k


async def test_retry_after_header_is_honoured() -> None:
    clock = FakeClock()
    rpc = FakeRpc(clock)
    rpc.fail_plan["send_raw_transaction"] = [http_error(429, retry_after="3")]
    await _sender(rpc, clock, backoff_base=0.01).send([_ix()], Keypair())
    assert clock.sleeps[0] == 3.0


async def test_solana_py_wrapped_errors_are_classified() -> None:
    from solana.exceptions import SolanaRpcException
    from solana.rpc.core import RPCException

    try:
        try:
            raise http_error(429)
        except httpx.HTTPStatusError as inner:
            raise SolanaRpcException(inner, lambda: None, None, NS()) from inner
    except SolanaRpcException as wrapped:
        assert is_retryable(wrapped)
    assert is_retryable(RPCException({"code": -32005, "message": "Node is behind"}))
    assert not is_retryable(RPCException({"code": -32602, "message": "invalid params"}))
    assert not is_retryable(http_error(400))
    assert is_retryable(http_error(502))


async def test_non_retryable_error_is_raised_at_once() -> None:
    clock = FakeClock()
    rpc = FakeRpc(clock)
    rpc.fail_plan["get_latest_blockhash"] = [http_error(401)]
    with pytest.raises(httpx.HTTPStatusError):
        await _sender(rpc, clock).send([_ix()], Keypair())
    assert clock.sleeps == []


async def test_retries_are_bounded() -> None:
    clock = FakeClock()
    rpc = FakeRpc(clock)
    rpc.fail_plan["get_latest_blockhash"] = [http_error(429) for _ in range(10)]
    with pytest.raises(RpcRetriesExhausted):
        await _sender(rpc, clock, rpc_retries=3).send([_ix()], Keypair())
    assert rpc.calls.count("get_latest_blockhash") == 4 and len(clock.sleeps) == 3


async def test_simulation_error_is_typed_and_nothing_is_sent() -> None:
    clock = FakeClock()
    rpc = FakeRpc(clock)
    # Index 2: the program's instruction comes after the two ComputeBudget ones.
    rpc.sim_err = TransactionErrorInstructionError(2, InstructionErrorCustom(6000))
    with pytest.raises(ProgramError) as ei:
        await _sender(rpc, clock).send([_ix()], Keypair())
    assert (ei.value.name, ei.value.code, ei.value.program_id) == ("Paused", 6000, PROGRAM)
    assert rpc.sent == []


async def test_onchain_failure_is_decoded() -> None:
    clock = FakeClock()
    rpc = FakeRpc(clock)
    rpc.lands = lambda tx, n: NS(err=TransactionErrorInstructionError(2, InstructionErrorCustom(6000)), slot=5,
                                 confirmation_status="confirmed")
    with pytest.raises(ProgramError) as ei:
        await _sender(rpc, clock).send([_ix()], Keypair())
    assert ei.value.name == "Paused"


async def test_expired_blockhash_is_renewed_and_resigned() -> None:
    clock = FakeClock()
    rpc = FakeRpc(clock, validity=10, blocks_per_poll=1)
    first: List[Hash] = []

    def lands(tx: Transaction, n: int) -> Any:
        if not first:
            first.append(tx.message.recent_blockhash)
        if tx.message.recent_blockhash == first[0]:
            return None  # dropped by the network, every time
        return NS(err=None, slot=99, confirmation_status="finalized")

    rpc.lands = lands
    res = await _sender(rpc, clock, poll_interval=0.4, resend_interval=2.0).send([_ix()], Keypair())
    assert res.blockhash_renewals == 1
    assert len(res.signatures_sent) == 2 and res.signatures_sent[0] != res.signatures_sent[1]
    assert res.signature == res.signatures_sent[1] and res.slot == 99
    # The first transaction was re-broadcast (same bytes) while it was valid.
    first_sends = [r for r in rpc.sent if Transaction.from_bytes(r).message.recent_blockhash == first[0]]
    assert len(first_sends) >= 2 and len(set(first_sends)) == 1
    assert rpc.calls.count("get_latest_blockhash") == 2


async def test_landing_at_expiry_is_not_sent_twice() -> None:
    """The status is checked once more after expiry: a transaction that
    landed in the last valid block must not be re-signed (double spend)."""
    clock = FakeClock()
    rpc = FakeRpc(clock, validity=3)
    rpc.lands = lambda tx, n: None
    sender = _sender(rpc, clock)
    orig = rpc.get_block_height

    async def height_then_land(commitment: Any = None) -> Any:
        r = await orig(commitment)
        if r.value > rpc.hashes[0][1]:
            sig = Transaction.from_bytes(rpc.sent[0]).signatures[0]
            rpc.landed[sig] = NS(err=None, slot=12, confirmation_status="confirmed")
        return r

    rpc.get_block_height = height_then_land  # type: ignore[method-assign]
    res = await sender.send([_ix()], Keypair())
    assert res.blockhash_renewals == 0 and len(res.signatures_sent) == 1 and res.slot == 12


async def test_renewals_are_bounded() -> None:
    clock = FakeClock()
    rpc = FakeRpc(clock, validity=2)
    rpc.lands = lambda tx, n: None
    with pytest.raises(BlockhashRenewalsExhausted) as ei:
        await _sender(rpc, clock, max_blockhash_renewals=2, confirm_timeout=10_000).send([_ix()], Keypair())
    assert len(ei.value.signatures) == 3


async def test_confirmation_timeout() -> None:
    clock = FakeClock()
    rpc = FakeRpc(clock, blocks_per_poll=0)  # chain stalled: blockhash never expires
    rpc.lands = lambda tx, n: None
    with pytest.raises(ConfirmationTimeout) as ei:
        await _sender(rpc, clock, confirm_timeout=5.0, poll_interval=0.5).send([_ix()], Keypair())
    assert len(ei.value.signatures) == 1
    assert 5.0 <= clock.t <= 6.0


async def test_processed_is_not_enough_for_confirmed() -> None:
    clock = FakeClock()
    rpc = FakeRpc(clock)
    calls = {"n": 0}
    orig = rpc.get_signature_statuses

    async def statuses(sigs: List[Signature], search_transaction_history: bool = False) -> Any:
        calls["n"] += 1
        if calls["n"] < 3:
            return NS(value=[NS(err=None, slot=1, confirmation_status="processed")])
        return await orig(sigs)

    rpc.get_signature_statuses = statuses  # type: ignore[method-assign]
    res = await _sender(rpc, clock).send([_ix()], Keypair())
    assert calls["n"] == 3 and res.slot == 77
