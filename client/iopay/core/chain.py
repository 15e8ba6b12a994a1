"""Chain backends: what every program's client needs from a cluster.

* :class:`Chain` - the protocol (read an account, list a program's accounts
  with memcmp filters, send instructions);
* :class:`LiteSvmChain` - the embedded LiteSVM of :class:`iopay.core.harness.Harness`
  (tests, demo, benchmarks);
* :class:`RpcChain` - a JSON-RPC node through ``solana.rpc.async_api.AsyncClient``
  and :class:`iopay.core.tx.TransactionSender` (simulated compute-unit limit,
  priority fee, blockhash renewal, 429 backoff). Events are read back from
  ``getTransaction``'s inner instructions (``emit_cpi!``), so log truncation
  cannot lose them.

Writes return a :class:`Sent`: the signature, decoded events and compute units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, List, Optional, Protocol, Sequence, Tuple, Union

from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.compute_budget import set_compute_unit_limit
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature

from iopay.core.events import DecodedEvent, EventDecoder
from iopay.core.tx import COMPUTE_BUDGET_ID, MAX_COMPUTE_UNITS

CLOCK_SYSVAR = Pubkey.from_string("SysvarC1ock11111111111111111111111111111111")
CLOCK_UNIX_TS_OFFSET = 32  # slot, epoch_start_timestamp, epoch, leader_schedule_epoch, unix_timestamp


@dataclass(frozen=True)
class Memcmp:
    """A ``getProgramAccounts`` memcmp filter (RPC takes ``bytes`` base58)."""

    offset: int
    bytes: bytes


def matches(data: bytes, filters: Iterable[Memcmp]) -> bool:
    """Whether account data passes every memcmp filter (as the RPC node checks)."""
    return all(data[f.offset:f.offset + len(f.bytes)] == f.bytes for f in filters)


@dataclass
class Sent:
    signature: Signature
    events: List[DecodedEvent] = field(default_factory=list)
    compute_units: Optional[int] = None
    logs: List[str] = field(default_factory=list)

    def events_named(self, name: str) -> List[DecodedEvent]:
        return [e for e in self.events if e.name == name]


class Chain(Protocol):
    """What the SDK needs from a cluster."""

    async def get_account(self, address: Pubkey) -> Optional[Tuple[Pubkey, bytes]]:
        """(owner, data) or None when the account does not exist."""
        ...

    async def get_program_accounts(self, program_id: Pubkey, filters: Sequence[Memcmp]) -> List[Tuple[Pubkey, bytes]]:
        ...

    async def send(self, instructions: Sequence[Instruction], signers: Sequence[Keypair], payer: Keypair,
                   lookup_tables: Sequence[AddressLookupTableAccount] = ()) -> Sent:
        """Send (a v0 transaction when ``lookup_tables`` are given)."""
        ...


# -- backends --------------------------------------------------------------------------

class LiteSvmChain:
    """The embedded chain of :class:`iopay.core.harness.Harness`."""

    def __init__(self, harness: Any) -> None:
        self.h = harness

    async def get_account(self, address: Pubkey) -> Optional[Tuple[Pubkey, bytes]]:
        data = self.h.account_data(address)
        if data is None:
            return None
        acc = self.h.account(address)
        return acc.owner, data

    async def get_program_accounts(self, program_id: Pubkey, filters: Sequence[Memcmp]) -> List[Tuple[Pubkey, bytes]]:
        return self.h.program_accounts(program_id, filters)

    async def get_multiple_accounts(self, addresses: Sequence[Pubkey]) -> List[Optional[Tuple[Pubkey, bytes]]]:
        return [await self.get_account(a) for a in addresses]

    async def get_lamports(self, address: Pubkey) -> int:
        return self.h.lamports(address) if self.h.exists(address) else 0

    async def rent_exempt(self, size: int) -> int:
        return int(self.h.svm.minimum_balance_for_rent_exemption(size))

    async def request_airdrop(self, address: Pubkey, lamports: int) -> None:
        self.h.airdrop(address, lamports)

    async def warp_time(self, seconds: int) -> int:
        return int(self.h.warp_seconds(seconds))

    async def send(self, instructions: Sequence[Instruction], signers: Sequence[Keypair], payer: Keypair,
                   lookup_tables: Sequence[AddressLookupTableAccount] = ()) -> Sent:
        ixs = list(instructions)
        if not any(ix.program_id == COMPUTE_BUDGET_ID for ix in ixs):
            # As TransactionSender does from a simulation: the default
            # 200k CU per instruction is too little for a batch of payees.
            ixs.insert(0, set_compute_unit_limit(MAX_COMPUTE_UNITS))
        res = self.h.send(ixs, signers, payer, lookup_tables=lookup_tables)
        res.raise_for_error()
        return Sent(res.signature, res.events, res.compute_units, res.logs)


class RpcMethodError(RuntimeError):
    """A JSON-RPC error response (``code``, ``message``)."""

    def __init__(self, method: str, code: int, message: str) -> None:
        super().__init__(f"{method}: {message} ({code})")
        self.method, self.code, self.message = method, code, message


class WarpUnsupported(RuntimeError):
    """The cluster has no ``iopay_warpTime`` (only ``iopay localnet`` does)."""


@dataclass
class _Inner:
    program_id_index: int
    data: bytes


class RpcChain:
    """A JSON-RPC node. ``client`` is a ``solana.rpc.async_api.AsyncClient``;
    ``sender`` an :class:`iopay.core.tx.TransactionSender` over the same client."""

    def __init__(self, client: Any, sender: Any, decoders: Sequence[EventDecoder] = (),
                 commitment: str = "confirmed") -> None:
        self.client = client
        self.sender = sender
        self.decoders = list(decoders)
        self.commitment = commitment

    async def get_account(self, address: Pubkey) -> Optional[Tuple[Pubkey, bytes]]:
        from solana.rpc.commitment import Commitment

        resp = await self.sender.call("get_account_info", address, Commitment(self.commitment))
        acc = resp.value
        if acc is None:
            return None
        return acc.owner, bytes(acc.data)

    async def get_lamports(self, address: Pubkey) -> int:
        from solana.rpc.commitment import Commitment

        resp = await self.sender.call("get_balance", address, Commitment(self.commitment))
        return int(resp.value)

    async def get_multiple_accounts(self, addresses: Sequence[Pubkey]) -> List[Optional[Tuple[Pubkey, bytes]]]:
        """(owner, data) or None per address: ``getMultipleAccounts``, 100 a call."""
        from solana.rpc.commitment import Commitment

        out: List[Optional[Tuple[Pubkey, bytes]]] = []
        keys = list(addresses)
        for i in range(0, len(keys), 100):
            resp = await self.sender.call("get_multiple_accounts", keys[i:i + 100], Commitment(self.commitment),
                                          "base64")
            out += [None if a is None else (a.owner, bytes(a.data)) for a in resp.value]
        return out

    @property
    def url(self) -> str:
        provider = getattr(self.client, "_provider", None)
        return str(getattr(provider, "endpoint_uri", "") or "")

    async def rent_exempt(self, size: int) -> int:
        return int((await self.sender.call("get_minimum_balance_for_rent_exemption", size)).value)

    async def request_airdrop(self, address: Pubkey, lamports: int, timeout: float = 30.0) -> Signature:
        """Ask the cluster's faucet for ``lamports`` and wait until confirmed."""
        import asyncio

        from solana.rpc.commitment import Commitment

        sig = (await self.sender.call("request_airdrop", address, lamports, Commitment(self.commitment))).value
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            st = (await self.sender.call("get_signature_statuses", [sig])).value[0]
            if st is not None:
                if st.err is not None:
                    raise RuntimeError(f"airdrop {sig} failed: {st.err}")
                level = str(st.confirmation_status or "").lower()
                if level.endswith(("confirmed", "finalized")):
                    return sig
            await asyncio.sleep(0.1)
        raise TimeoutError(f"airdrop {sig} not confirmed within {timeout:.0f}s")

    async def raw_request(self, method: str, params: Sequence[Any]) -> Any:
        """A JSON-RPC call outside solana-py's methods; RPC errors raise
        :class:`RpcMethodError`."""
        provider = getattr(self.client, "_provider", None)
        if provider is None:
            raise RuntimeError("the RPC client has no HTTP provider")
        resp = await provider.session.post(provider.endpoint_uri,
                                           json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
        resp.raise_for_status()
        body = resp.json()
        if "error" in body:
            err = body["error"] or {}
            raise RpcMethodError(method, int(err.get("code", 0)), str(err.get("message", "")))
        return body["result"]

    async def warp_time(self, seconds: int) -> int:
        """Move the clock forward (``iopay localnet``'s ``iopay_warpTime``)."""
        try:
            res = await self.raw_request("iopay_warpTime", [seconds])
        except RpcMethodError as e:
            if e.code == -32601:
                raise WarpUnsupported(f"{self.url or 'this node'} cannot warp time: iopay_warpTime is an "
                                      f"`iopay localnet` extension") from None
            raise
        # Visible at our commitment from the next slot on (the localnet answers each commitment
        # from its own bank): wait for it, so what follows sees the new time.
        import asyncio

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while loop.time() < deadline:
            if int(await self.raw_request("getSlot", [{"commitment": self.commitment}])) >= int(res.get("slot", 0)):
                break
            await asyncio.sleep(0.05)
        return int(res["unixTimestamp"])

    async def get_program_accounts(self, program_id: Pubkey, filters: Sequence[Memcmp]) -> List[Tuple[Pubkey, bytes]]:
        from solana.rpc.commitment import Commitment
        from solana.rpc.types import MemcmpOpts

        opts = [MemcmpOpts(offset=f.offset, bytes=_b58(f.bytes)) for f in filters]
        resp = await self.sender.call("get_program_accounts", program_id, Commitment(self.commitment),
                                      "base64", None, opts)
        return sorted(((a.pubkey, bytes(a.account.data)) for a in resp.value), key=lambda x: bytes(x[0]))

    async def send(self, instructions: Sequence[Instruction], signers: Sequence[Keypair], payer: Keypair,
                   lookup_tables: Sequence[AddressLookupTableAccount] = ()) -> Sent:
        if lookup_tables:
            res = await self.sender.send(instructions, payer, list(signers), lookup_tables=lookup_tables)
        else:
            res = await self.sender.send(instructions, payer, list(signers))
        events = await self.fetch_events(res.signature)
        return Sent(res.signature, events, res.units_simulated, res.logs)

    async def close(self) -> None:
        """Close the underlying HTTP client."""
        await self.client.close()

    async def __aenter__(self) -> "RpcChain":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def fetch_events(self, signature: Signature) -> List[DecodedEvent]:
        """Events of a landed transaction, from its inner instructions."""
        from solana.rpc.commitment import Commitment

        resp = await self.sender.call("get_transaction", signature, "base64", Commitment(self.commitment), 0)
        if resp.value is None:
            return []
        tx = resp.value.transaction
        keys = list(tx.transaction.message.account_keys)
        meta = tx.meta
        loaded = getattr(meta, "loaded_addresses", None)
        if loaded is not None:
            keys += list(loaded.writable) + list(loaded.readonly)
        groups = [[_Inner(ix.program_id_index, _b58decode(ix.data)) for ix in g.instructions]
                  for g in (meta.inner_instructions or [])]
        out: List[DecodedEvent] = []
        for dec in self.decoders:
            out.extend(dec.from_inner_instructions(groups, keys))
        return out


def _b58(b: bytes) -> str:
    import base58

    return base58.b58encode(b).decode()


def _b58decode(s: Union[str, bytes]) -> bytes:
    import base58

    return base58.b58decode(s) if isinstance(s, str) else bytes(s)


def register_program(chain: Any, program: Any) -> None:
    """Make ``chain`` name ``program``'s errors and decode its events if it
    does not already (an ``RpcChain`` built by hand, without decoders or
    error tables, would otherwise say ``custom program error 6003`` and
    return no events). LiteSVM chains decode through their harness."""
    decoders = getattr(chain, "decoders", None)
    if isinstance(decoders, list) and not any(getattr(d, "program", None) is not None
                                              and d.program.program_id == program.program_id for d in decoders):
        decoders.append(EventDecoder(program))
    sender = getattr(chain, "sender", None)
    errors = getattr(sender, "errors", None)
    tables = getattr(errors, "tables", None)
    if isinstance(tables, dict) and program.program_id not in tables:
        errors.add(program.errors)
    harness = getattr(chain, "h", None)
    register = getattr(harness, "register", None)
    known = getattr(harness, "decoders", None)
    if callable(register) and isinstance(known, dict) and program.program_id not in known:
        register(program)


def rpc_chain(url: str, programs: Sequence[Any], *, send_config: Optional[Any] = None,
              commitment: str = "confirmed", timeout: float = 30.0) -> RpcChain:
    """A :class:`RpcChain` over JSON-RPC at ``url`` that knows ``programs``
    (:class:`iopay.core.idl.ProgramIdl`): their errors are decoded by name
    (``ZeroHours``, not ``custom program error 6003``) and their
    ``emit_cpi!`` events are decoded from every landed transaction.

    The sender defaults suit a public cluster: compute-unit limit from
    simulation, an "auto" priority fee from recent fees, blockhash renewal,
    and backoff on 429/5xx. Close it with ``await chain.close()`` (or use
    ``async with``)."""
    from solana.rpc.async_api import AsyncClient

    from iopay.core.errors import ErrorRegistry
    from iopay.core.tx import SendConfig, TransactionSender

    if not isinstance(url, str):
        raise TypeError(f"url must be a string, got {type(url).__name__}")
    if not url.startswith(("http://", "https://")):
        host, sep, port = url.rpartition(":")
        if sep and host and "/" not in host and port.isdigit():
            url = f"http://{url}"
        else:
            raise ValueError(f"url must be an http(s) JSON-RPC URL or HOST:PORT, got {url!r}")
    client = AsyncClient(url, timeout=timeout)
    errors = ErrorRegistry()
    for program in programs:
        errors.add(program.errors)
    sender = TransactionSender(client, send_config or SendConfig(commitment=commitment), errors=errors)
    return RpcChain(client, sender, [EventDecoder(p) for p in programs], commitment=commitment)
