"""Reliable transaction sending over JSON-RPC (``solana.rpc.async_api.AsyncClient``).

What it does, in order:

1. fetch a blockhash (and its ``lastValidBlockHeight``);
2. simulate with a 1.4M CU limit to learn the units consumed: a simulation
   error is raised at once, decoded (``iopay.core.errors``), nothing is sent; the
   compute-unit limit becomes ``ceil(units * margin) + headroom`` (capped at
   1.4M) and is set with a ComputeBudget instruction;
3. pick a priority fee (fixed, or ``"auto"``: a percentile of
   ``getRecentPrioritizationFees`` over the writable accounts, clamped);
4. send (``skipPreflight``, ``maxRetries=0``: we do the retrying), poll the
   signature status, re-broadcast the *same* signed bytes every
   ``resend_interval`` while its blockhash is valid;
5. once the block height passes ``lastValidBlockHeight`` without the
   signature landing, the old transaction can never land: check its status
   one last time, then re-sign with a fresh blockhash and go on (at most
   ``max_blockhash_renewals`` times);
6. give up after ``confirm_timeout`` seconds with :class:`ConfirmationTimeout`
   (which lists every signature sent, so the caller can look them up).

Every RPC call is retried with exponential backoff and full jitter on HTTP
429 / 5xx, transport errors and "node is behind"-type RPC errors, honouring
``Retry-After`` when the server sends one. ``sleep``/``clock`` are
injectable so all of this is unit-tested with a fake RPC.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Awaitable, Callable, List, Literal, Optional, Protocol, Sequence, Union

import httpx
from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import Transaction, VersionedTransaction

from iopay.core.errors import ErrorRegistry, TransactionError

log = logging.getLogger(__name__)

MAX_COMPUTE_UNITS = 1_400_000
COMPUTE_BUDGET_ID = Pubkey.from_string("ComputeBudget111111111111111111111111111111")
# JSON-RPC error codes worth retrying: node unhealthy/behind, slot skipped,
# block not available yet, and providers' JSON-level rate limiting.
RETRYABLE_RPC_CODES = {-32005, -32007, -32004, -32014, -32429, 429}


class ConfirmationTimeout(TimeoutError):
    def __init__(self, message: str, signatures: Sequence[Signature]) -> None:
        super().__init__(message)
        self.signatures = list(signatures)


class BlockhashRenewalsExhausted(TimeoutError):
    def __init__(self, message: str, signatures: Sequence[Signature]) -> None:
        super().__init__(message)
        self.signatures = list(signatures)


class RpcRetriesExhausted(ConnectionError):
    pass


class DryRun(Exception):
    """``SendConfig(dry_run=True)``: the transaction was simulated and not
    sent. Carries what the simulation reported."""

    def __init__(self, units: Optional[int], logs: Sequence[str], fee_payer: Pubkey, cu_limit: int,
                 priority_fee: int, size: int) -> None:
        super().__init__(f"dry run: simulation succeeded ({units} compute units); nothing sent")
        self.units, self.logs, self.fee_payer = units, list(logs), fee_payer
        self.cu_limit, self.priority_fee, self.size = cu_limit, priority_fee, size


class RpcClient(Protocol):
    """The subset of ``solana.rpc.async_api.AsyncClient`` used here."""

    async def get_latest_blockhash(self, commitment: Any = None) -> Any: ...
    async def simulate_transaction(self, txn: Any, sig_verify: bool = False, commitment: Any = None) -> Any: ...
    async def send_raw_transaction(self, txn: bytes, opts: Any = None) -> Any: ...
    async def get_signature_statuses(self, signatures: List[Signature], search_transaction_history: bool = False) -> Any: ...
    async def get_block_height(self, commitment: Any = None) -> Any: ...
    async def get_recent_prioritization_fees(self, pubkeys: Optional[List[Pubkey]] = None) -> Any: ...


@dataclass
class SendConfig:
    cu_margin: float = 1.15
    cu_headroom: int = 1_000
    #: micro-lamports per CU, or "auto" (recent fees percentile).
    priority_fee: Union[int, Literal["auto"]] = "auto"
    priority_fee_percentile: float = 75.0
    priority_fee_min: int = 1_000
    priority_fee_max: int = 5_000_000
    commitment: str = "confirmed"
    confirm_timeout: float = 90.0
    poll_interval: float = 0.5
    resend_interval: float = 2.0
    max_blockhash_renewals: int = 3
    rpc_retries: int = 6
    backoff_base: float = 0.25
    backoff_max: float = 8.0
    simulate: bool = True
    #: simulate, then raise :class:`DryRun` instead of sending
    dry_run: bool = False


@dataclass
class SendResult:
    signature: Signature
    slot: int
    compute_unit_limit: int
    units_simulated: Optional[int]
    priority_fee: int
    blockhash_renewals: int
    signatures_sent: List[Signature] = field(default_factory=list)
    logs: List[str] = field(default_factory=list)


def _status_code_of(exc: BaseException) -> Optional[int]:
    e: Optional[BaseException] = exc
    while e is not None:
        if isinstance(e, httpx.HTTPStatusError):
            return e.response.status_code
        code = getattr(e, "status_code", None)
        if isinstance(code, int):
            return code
        e = e.__cause__ or e.__context__
    return None


def _retry_after(exc: BaseException) -> Optional[float]:
    e: Optional[BaseException] = exc
    while e is not None:
        if isinstance(e, httpx.HTTPStatusError):
            ra = e.response.headers.get("retry-after")
            try:
                return float(ra) if ra is not None else None
            except ValueError:
                return None
        ra = getattr(e, "retry_after", None)
        if isinstance(ra, (int, float)):
            return float(ra)
        e = e.__cause__ or e.__context__
    return None


def _rpc_error_code(exc: BaseException) -> Optional[int]:
    # solana.rpc.core.RPCException(args[0] = error object or dict)
    if exc.args:
        a0 = exc.args[0]
        code = a0.get("code") if isinstance(a0, dict) else getattr(a0, "code", None)
        if isinstance(code, int):
            return code
    return getattr(exc, "code", None) if isinstance(getattr(exc, "code", None), int) else None


def is_retryable(exc: BaseException) -> bool:
    status = _status_code_of(exc)
    if status is not None:
        return status == 429 or status >= 500
    e: Optional[BaseException] = exc
    while e is not None:
        if isinstance(e, (httpx.TransportError, asyncio.TimeoutError, ConnectionError)):
            return True
        e = e.__cause__ or e.__context__
    code = _rpc_error_code(exc)
    return code in RETRYABLE_RPC_CODES


class TransactionSender:
    def __init__(
        self,
        rpc: RpcClient,
        config: Optional[SendConfig] = None,
        *,
        errors: Optional[ErrorRegistry] = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: Optional[random.Random] = None,
    ) -> None:
        self.rpc = rpc
        self.config = config or SendConfig()
        self.errors = errors or ErrorRegistry()
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()

    # -- RPC with backoff -----------------------------------------------------

    def backoff_delay(self, attempt: int, exc: Optional[BaseException] = None) -> float:
        """Full-jitter exponential backoff; ``Retry-After`` wins when larger."""
        cap = min(self.config.backoff_max, self.config.backoff_base * (2 ** attempt))
        delay = self._rng.uniform(0, cap)
        ra = _retry_after(exc) if exc is not None else None
        if ra is not None:
            delay = max(delay, min(ra, self.config.backoff_max * 4))
        return delay

    async def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        # solana-py 0.36.6's AsyncClient lacks some methods (getRecentPrioritizationFees);
        # those go out as raw JSON-RPC requests through the client's own HTTP session.
        fn = getattr(self.rpc, name, None) or getattr(self, f"_raw_{name}")
        attempt = 0
        while True:
            try:
                return await fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - classified below
                if not is_retryable(exc):
                    raise
                if attempt >= self.config.rpc_retries:
                    raise RpcRetriesExhausted(f"{name}: gave up after {attempt + 1} attempts: {exc!r}") from exc
                await self._sleep(self.backoff_delay(attempt, exc))
                attempt += 1

    async def _raw_get_recent_prioritization_fees(self, pubkeys: Optional[List[Pubkey]] = None) -> Any:
        provider = getattr(self.rpc, "_provider", None)
        if provider is None:
            raise AttributeError("the RPC client has no get_recent_prioritization_fees and no HTTP provider")
        body = {"jsonrpc": "2.0", "id": 1, "method": "getRecentPrioritizationFees",
                "params": [[str(k) for k in pubkeys or []]]}
        resp = await provider.session.post(provider.endpoint_uri, json=body)
        resp.raise_for_status()  # 429/5xx surface as httpx errors, which call() retries
        payload = resp.json()
        if "error" in payload:
            raise RuntimeError(f"getRecentPrioritizationFees: {payload['error']}")
        fees = [SimpleNamespace(slot=e["slot"], prioritization_fee=e["prioritizationFee"]) for e in payload["result"]]
        return SimpleNamespace(value=fees)

    # -- building -------------------------------------------------------------

    @staticmethod
    def _strip_budget(ixs: Sequence[Instruction]) -> List[Instruction]:
        return [ix for ix in ixs if ix.program_id != COMPUTE_BUDGET_ID]

    def _build(
        self, ixs: Sequence[Instruction], payer: Keypair, signers: Sequence[Keypair],
        blockhash: Hash, cu_limit: int, price: int,
        lookup_tables: Sequence[AddressLookupTableAccount] = (),
    ) -> Any:
        budget = [set_compute_unit_limit(cu_limit)]
        if price > 0:
            budget.append(set_compute_unit_price(price))
        keys = {payer.pubkey(): payer}
        for s in signers:
            keys.setdefault(s.pubkey(), s)
        if lookup_tables:
            # v0 message: accounts found in the tables cost 1 byte instead of 32.
            v0 = MessageV0.try_compile(payer.pubkey(), budget + list(ixs), list(lookup_tables), blockhash)
            return VersionedTransaction(v0, list(keys.values()))
        msg = Message.new_with_blockhash(budget + list(ixs), payer.pubkey(), blockhash)
        return Transaction(list(keys.values()), msg, blockhash)

    async def priority_fee(self, ixs: Sequence[Instruction]) -> int:
        cfg = self.config
        if cfg.priority_fee != "auto":
            return int(cfg.priority_fee)
        writable = sorted({m.pubkey for ix in ixs for m in ix.accounts if m.is_writable}, key=bytes)[:128]
        try:
            resp = await self.call("get_recent_prioritization_fees", writable)
            fees = sorted(f.prioritization_fee for f in resp.value if f.prioritization_fee > 0)
        except Exception as exc:  # noqa: BLE001 - a fee estimate is best effort
            log.warning("priority fee estimate failed, using the minimum: %r", exc)
            fees = []
        if not fees:
            return cfg.priority_fee_min
        idx = min(len(fees) - 1, max(0, math.ceil(cfg.priority_fee_percentile / 100 * len(fees)) - 1))
        return max(cfg.priority_fee_min, min(cfg.priority_fee_max, fees[idx]))

    def _decode(self, err: Any, logs: Sequence[str], tx: Any) -> TransactionError:
        keys = tx.message.account_keys
        programs = [keys[ci.program_id_index] for ci in tx.message.instructions]
        return self.errors.decode(err, logs, programs)

    # -- sending --------------------------------------------------------------

    async def send(
        self,
        instructions: Sequence[Instruction],
        payer: Keypair,
        signers: Sequence[Keypair] = (),
        lookup_tables: Sequence[AddressLookupTableAccount] = (),
    ) -> SendResult:
        """Send ``instructions``; with ``lookup_tables``, as a v0
        transaction resolving accounts through those address lookup tables."""
        cfg = self.config
        ixs = self._strip_budget(instructions)
        deadline = self._clock() + cfg.confirm_timeout
        bh = (await self.call("get_latest_blockhash", cfg.commitment)).value
        blockhash, last_valid = bh.blockhash, bh.last_valid_block_height

        price = await self.priority_fee(ixs)
        units: Optional[int] = None
        cu_limit = MAX_COMPUTE_UNITS
        if cfg.simulate:
            probe = self._build(ixs, payer, signers, blockhash, MAX_COMPUTE_UNITS, price, lookup_tables)
            sim = (await self.call("simulate_transaction", probe, False, cfg.commitment)).value
            if sim.err is not None:
                raise self._decode(sim.err, sim.logs or [], probe)
            units = sim.units_consumed
            if units:
                # The budget instructions themselves cost CUs too (in the probe).
                cu_limit = min(MAX_COMPUTE_UNITS, math.ceil(units * cfg.cu_margin) + cfg.cu_headroom)
            if cfg.dry_run:
                raise DryRun(units, sim.logs or [], payer.pubkey(), cu_limit, price, len(bytes(probe)))
        elif cfg.dry_run:
            raise ValueError("dry_run needs simulate=True")

        sent: List[Signature] = []
        renewals = 0
        while True:
            tx = self._build(ixs, payer, signers, blockhash, cu_limit, price, lookup_tables)
            sig = tx.signatures[0]
            sent.append(sig)
            raw = bytes(tx)
            landed = await self._drive(raw, sig, last_valid, deadline, sent)
            if landed is not None:
                status = landed
                if status.err is not None:
                    raise self._decode(status.err, [], tx)
                return SendResult(sig, status.slot, cu_limit, units, price, renewals, sent)
            # Blockhash expired without the transaction landing.
            if renewals >= cfg.max_blockhash_renewals:
                raise BlockhashRenewalsExhausted(
                    f"blockhash expired {renewals + 1} times without confirmation", sent
                )
            renewals += 1
            bh = (await self.call("get_latest_blockhash", cfg.commitment)).value
            blockhash, last_valid = bh.blockhash, bh.last_valid_block_height

    async def _send_raw(self, raw: bytes) -> None:
        from solana.rpc.types import TxOpts

        await self.call("send_raw_transaction", raw, TxOpts(skip_preflight=True, max_retries=0))

    async def _status(self, sig: Signature) -> Any:
        resp = await self.call("get_signature_statuses", [sig])
        st = resp.value[0] if resp.value else None
        if st is None:
            return None
        if st.err is not None:
            return st  # failed on chain: final
        level = str(st.confirmation_status or "").lower()
        want = self.config.commitment
        ok = {"processed": ("processed", "confirmed", "finalized"),
              "confirmed": ("confirmed", "finalized"),
              "finalized": ("finalized",)}[want]
        return st if any(level.endswith(x) for x in ok) else None

    async def _drive(
        self, raw: bytes, sig: Signature, last_valid: int, deadline: float, sent: List[Signature]
    ) -> Any:
        """Send and poll until landed (status returned), expired (None) or
        the deadline (raises)."""
        cfg = self.config
        await self._send_raw(raw)
        last_send = self._clock()
        while True:
            st = await self._status(sig)
            if st is not None:
                return st
            height = (await self.call("get_block_height", cfg.commitment)).value
            if height > last_valid:
                # Cannot land any more; one last look in case it did just now.
                st = await self._status(sig)
                return st
            now = self._clock()
            if now >= deadline:
                raise ConfirmationTimeout(
                    f"not confirmed within {cfg.confirm_timeout:.0f}s (signatures: {', '.join(map(str, sent))})",
                    sent,
                )
            if now - last_send >= cfg.resend_interval:
                await self._send_raw(raw)
                last_send = now
            await self._sleep(cfg.poll_interval)
