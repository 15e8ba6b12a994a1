"""High-level async SDK for the job escrow: what backend services, the CLI
and the keeper call.

``EscrowClient.connect(url, payer)`` is the client over JSON-RPC a backend
wants. ``EscrowClient(chain, payer)`` works over any
:class:`iopay.core.chain.Chain`:

* :class:`LiteSvmChain` - the embedded LiteSVM harness (tests, demo, bench);
* :class:`RpcChain` - a JSON-RPC node through ``solana.rpc.async_api.AsyncClient``
  and :class:`iopay.core.tx.TransactionSender` (simulated compute-unit limit,
  priority fee, blockhash renewal, 429 backoff); events are read back from
  ``getTransaction``'s inner instructions (``emit_cpi!``), so log truncation
  cannot lose them.

Reads return the typed views of :mod:`iopay.escrow.state`; writes return a
:class:`Sent` with the signature, the decoded events and compute units.
Failures raise the typed errors of :mod:`iopay.core.errors` (``except
error_class("NothingToSettle")``).

Keeper entry points (no keeper loop here, only its pieces):

* :meth:`EscrowClient.running_jobs` - every open job of a market
  (``getProgramAccounts`` with memcmp filters);
* :meth:`EscrowClient.now` - the cluster clock the program pays by;
* :func:`iopay.escrow.state.due_slots` / ``next_due_ts`` - what is due, and when next;
* :meth:`EscrowClient.settle_instructions` - ``settle`` instructions paying
  many workers of one job each (at most ``max_payees`` per instruction);
* :meth:`EscrowClient.settle` - all of the above for one job, sent.
"""

from __future__ import annotations

import secrets
import struct
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Protocol, Sequence, Tuple, Union

from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.compute_budget import set_compute_unit_limit
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature

from iopay.core import spl
from iopay.core.chain import (CLOCK_SYSVAR, CLOCK_UNIX_TS_OFFSET, Chain, LiteSvmChain, RpcChain, Sent, register_program,
                              rpc_chain)
from iopay.escrow.state import (DEFAULT_MAX_PAYEES, JobView, MarketView, PriceFeedView, SlotDue,
                                due_slots, is_closable, job_filters, plan_settlements)
from iopay.core.events import DecodedEvent, EventDecoder
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import (DEFAULT_ACCEPT_WINDOW, IDL_NAME, MAX_ACCEPT_WINDOW, U64_MAX, JobEscrow, WorkerTerms,
                                  booking_cost, check_price, usd_to_tokens)

#: Default tolerance of a USD-priced open between the quote and the price
#: the program converts with: 1%.
DEFAULT_SLIPPAGE_BPS = 100
from iopay.core.tx import COMPUTE_BUDGET_ID, MAX_COMPUTE_UNITS



# -- results ----------------------------------------------------------------------------

@dataclass(frozen=True)
class BookingQuote:
    """What ``open_job`` will lock: per-worker token rates (converted for
    USD jobs), principal, fee and the total."""

    rates: Tuple[int, ...]
    hours: int
    principal: int
    fee: int

    @property
    def total(self) -> int:
        """Base units ``open_job`` locks: principal plus fee."""
        return self.principal + self.fee

    def max_total(self, slippage_bps: int = 0) -> int:
        """The ``max_total`` to pass to ``open_job``: this quote's total plus
        ``slippage_bps`` (rounded up), so a price move beyond the customer's
        tolerance fails with ``MaxTotalExceeded`` instead of locking more."""
        if not isinstance(slippage_bps, int) or not 0 <= slippage_bps <= 10_000:
            raise ValueError("slippage_bps must be an int in 0..10000")
        return min(U64_MAX, -(-self.total * (10_000 + slippage_bps) // 10_000))


@dataclass
class OpenedJob:
    job: Pubkey
    vault: Pubkey
    job_id: int
    sent: Sent


Worker = Union[WorkerTerms, Tuple[Pubkey, int]]
TokenAccountOf = Callable[[Pubkey, Pubkey], Pubkey]
"""(wallet, mint) -> the token account it pays from / is paid into."""


def associated_token_account(wallet: Pubkey, mint: Pubkey) -> Pubkey:
    """The default :data:`TokenAccountOf`: ``wallet``'s associated token account of ``mint``."""
    return spl.associated_token_address(wallet, mint)


# -- argument checks (plain ValueError/TypeError before anything is encoded) --------------

U64_MAX = 2**64 - 1
U32_MAX = 2**32 - 1


def _keypair(v: Any, what: str) -> Keypair:
    if not isinstance(v, Keypair):
        raise TypeError(f"{what} must be a solders Keypair, got {type(v).__name__}")
    return v


def _pubkey(v: Any, what: str) -> Pubkey:
    if isinstance(v, Keypair):
        raise TypeError(f"{what} must be a Pubkey, got a Keypair (use .pubkey())")
    if not isinstance(v, Pubkey):
        raise TypeError(f"{what} must be a solders Pubkey, got {type(v).__name__}")
    return v


def _int(v: Any, what: str, lo: int, hi: int) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError(f"{what} must be an int, got {type(v).__name__}")
    if not lo <= v <= hi:
        raise ValueError(f"{what} must be in {lo}..{hi}, got {v}")
    return v


def check_workers(workers: Any) -> List[Tuple[Pubkey, int]]:
    """(wallet, rate) pairs or :class:`WorkerTerms`; at least one, rates 1..u64."""
    if isinstance(workers, (str, bytes)) or not isinstance(workers, Sequence):
        raise TypeError(f"workers must be a list of (wallet, rate) pairs, got {type(workers).__name__}")
    if not workers:
        raise ValueError("workers must not be empty")
    out = []
    for i, w in enumerate(workers):
        if isinstance(w, WorkerTerms):
            wallet, rate = w.worker, w.rate_per_hour
        elif isinstance(w, tuple) and len(w) == 2:
            wallet, rate = w
        else:
            raise TypeError(f"workers[{i}] must be a (wallet, rate) pair or WorkerTerms, got {type(w).__name__}")
        out.append((_pubkey(wallet, f"workers[{i}] wallet"), _int(rate, f"workers[{i}] rate", 1, U64_MAX)))
    return out


def _is_fee_payer_unfunded(e: BaseException) -> bool:
    text = str(e)
    return "AccountNotFound" in text or "InsufficientFundsForFee" in text or "insufficient funds for fee" in text


# -- the client ----------------------------------------------------------------------------

class EscrowClient:
    """Async client of the job escrow: reads return decoded views
    (:mod:`iopay.escrow.state`), writes return :class:`Sent` with decoded
    events; program failures raise named errors (:mod:`iopay.core.errors`).

    ``EscrowClient.connect(url, payer)`` over JSON-RPC;
    ``EscrowClient.for_harness(harness)`` over the embedded LiteSVM."""

    def __init__(self, chain: Chain, payer: Keypair, program: Optional[ProgramIdl] = None,
                 token_account_of: TokenAccountOf = associated_token_account) -> None:
        _keypair(payer, "payer")
        if program is not None and not isinstance(program, ProgramIdl):
            raise TypeError(f"program must be a ProgramIdl, got {type(program).__name__}")
        self.chain = chain
        self.payer = payer
        self.program = program or ProgramIdl.load(IDL_NAME)
        self.esc = JobEscrow(self.program)
        self.token_account_of = token_account_of
        register_program(chain, self.program)

    @classmethod
    def connect(cls, url: str, payer: Keypair, *, program: Optional[ProgramIdl] = None,
                send_config: Optional[Any] = None, commitment: str = "confirmed") -> "EscrowClient":
        """A client over JSON-RPC at ``url`` with ``payer`` paying fees: errors
        named from the IDL, events decoded from every transaction, and the
        sender's defaults for a real cluster (see :func:`iopay.core.chain.rpc_chain`).
        ``await client.close()`` when done, or ``async with EscrowClient.connect(...)``."""
        if not isinstance(payer, Keypair):
            raise TypeError(f"payer must be a solders Keypair, got {type(payer).__name__}")
        prog = program or ProgramIdl.load(IDL_NAME)
        return cls(rpc_chain(url, [prog], send_config=send_config, commitment=commitment), payer, prog)

    async def close(self) -> None:
        """Release the chain's connection (a no-op for LiteSVM)."""
        close = getattr(self.chain, "close", None)
        if close is not None:
            await close()

    async def __aenter__(self) -> "EscrowClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    @classmethod
    def for_harness(cls, harness: Any, program: Optional[ProgramIdl] = None, payer: Optional[Keypair] = None,
                    **kw: Any) -> "EscrowClient":
        """A client over an in-process LiteSVM :class:`~iopay.core.harness.Harness`; ``payer`` defaults to the
        harness's payer, ``kw`` goes to the constructor (``token_account_of``)."""
        return cls(LiteSvmChain(harness), payer or harness.payer, program, **kw)

    # -- reads --------------------------------------------------------------------------

    async def _data(self, address: Pubkey, what: str) -> bytes:
        acc = await self.chain.get_account(address)
        if acc is None:
            raise LookupError(f"{what} {address} does not exist")
        owner, data = acc
        if owner != self.program.program_id:
            raise ValueError(f"{what} {address} is owned by {owner}, not the escrow program")
        return data

    async def market(self, mint: Pubkey) -> MarketView:
        """The :class:`MarketView` of ``mint``'s market; ``LookupError`` if there is none, ``TypeError`` if
        ``mint`` is not a Pubkey."""
        _pubkey(mint, "mint")
        addr = self.esc.market_address(mint)
        return MarketView.decode(self.program, addr, await self._data(addr, "market"))

    async def job(self, job: Pubkey) -> JobView:
        """The :class:`JobView` at ``job``; ``LookupError`` if it does not exist, ``ValueError`` if the escrow
        program does not own it."""
        _pubkey(job, "job")
        return JobView.decode(self.program, job, await self._data(job, "job"))

    async def price_feed(self, mint: Pubkey) -> Optional[PriceFeedView]:
        """The USD :class:`PriceFeedView` of ``mint``'s market, or None without one."""
        addr = self.esc.price_feed_address(mint)
        acc = await self.chain.get_account(addr)
        return None if acc is None else PriceFeedView.decode(self.program, addr, acc[1])

    async def jobs(self, mint: Optional[Pubkey] = None, *, state: Optional[str] = "Open",
                   customer: Optional[Pubkey] = None) -> List[JobView]:
        """Jobs in one getProgramAccounts, filtered by ``mint``'s market, ``state`` (``"Open"`` by default, None
        for all) and ``customer``."""
        market = self.esc.market_address(mint) if mint is not None else None
        rows = await self.chain.get_program_accounts(
            self.program.program_id, job_filters(self.program, market, state, customer))
        return [JobView.decode(self.program, k, d) for k, d in rows]

    async def running_jobs(self, mint: Pubkey) -> List[JobView]:
        """Open jobs of the market of ``mint`` (the keeper's work list)."""
        return await self.jobs(mint, state="Open")

    async def now(self) -> int:
        """The cluster's ``Clock.unix_timestamp`` (what the program pays by)."""
        acc = await self.chain.get_account(CLOCK_SYSVAR)
        if acc is None:
            raise LookupError("Clock sysvar not readable")
        return struct.unpack_from("<q", acc[1], CLOCK_UNIX_TS_OFFSET)[0]

    async def due(self, job: Union[Pubkey, JobView], now: Optional[int] = None) -> List[SlotDue]:
        """What ``settle`` would pay each slot of ``job`` at ``now`` (default: the cluster clock), as
        :class:`SlotDue` rows; empty when nothing is due."""
        view = job if isinstance(job, JobView) else await self.job(job)
        return due_slots(view, await self.now() if now is None else now)

    async def mint_decimals(self, mint: Pubkey) -> int:
        """Decimals of ``mint`` (``LookupError`` if it does not exist)."""
        acc = await self.chain.get_account(mint)
        if acc is None:
            raise LookupError(f"mint {mint} does not exist")
        return spl.Mint.decode(acc[1]).decimals

    async def quote_open(self, mint: Pubkey, rates: Sequence[int], hours: int, *, usd: bool = False,
                         now: Optional[int] = None) -> BookingQuote:
        """What opening now would lock; for ``usd`` rates, converted with
        the market's oracle exactly as the program will (raises
        ``PriceRejected`` when the program would refuse the price)."""
        market = await self.market(mint)
        token_rates = list(rates)
        if usd:
            feed = await self.price_feed(mint)
            if feed is None or market.oracle is None:
                from iopay.escrow.program import PriceRejected

                raise PriceRejected("OracleRequired", "the market has no price feed")
            ts = await self.now() if now is None else now
            check_price(feed.price, feed.conf, feed.expo, feed.publish_time, ts, market.max_staleness,
                        market.max_conf_bps)
            dec = await self.mint_decimals(mint)
            token_rates = [usd_to_tokens(r, feed.price, feed.expo, dec) for r in rates]
        principal, fee = booking_cost(token_rates, hours, market.fee_bps)
        return BookingQuote(tuple(token_rates), hours, principal, fee)

    # -- job lifecycle ----------------------------------------------------------------------

    async def _send(self, ixs: Sequence[Instruction], signers: Sequence[Keypair] = ()) -> Sent:
        try:
            return await self.chain.send(ixs, signers, self.payer)
        except Exception as e:
            # A fee payer without SOL: the same message the CLI gives, not AccountNotFound.
            if _is_fee_payer_unfunded(e):
                get_lamports = getattr(self.chain, "get_lamports", None)
                if get_lamports is not None and await get_lamports(self.payer.pubkey()) < 1_000_000:
                    from iopay.core.wallet import require_sol

                    await require_sol(self.chain, self.payer.pubkey(), 1_000_000, "paying transaction fees")
            raise

    async def open_job(self, customer: Keypair, mint: Pubkey, workers: Sequence[Worker], hours: int, *,
                       job_id: Optional[int] = None, usd: bool = False,
                       customer_token: Optional[Pubkey] = None, max_total: Optional[int] = None,
                       slippage_bps: int = DEFAULT_SLIPPAGE_BPS,
                       accept_window: int = DEFAULT_ACCEPT_WINDOW) -> OpenedJob:
        """Open a job; ``workers`` are (wallet, rate) pairs (micro-USD rates
        with ``usd``). ``job_id`` defaults to a random 63-bit id.
        ``max_total`` defaults to the quote's total, plus ``slippage_bps``
        for a USD-priced job (exact for a token-priced one)."""
        _keypair(customer, "customer")
        _pubkey(mint, "mint")
        workers = check_workers(workers)
        _int(hours, "hours", 1, U32_MAX)
        jid = secrets.randbits(63) if job_id is None else _int(job_id, "job_id", 0, U64_MAX)
        if customer_token is not None:
            _pubkey(customer_token, "customer_token")
        _int(accept_window, "accept_window", 1, MAX_ACCEPT_WINDOW)
        if max_total is None:
            _int(slippage_bps, "slippage_bps", 0, 10_000)
            quote = await self.quote_open(mint, [r for _, r in workers], hours, usd=usd)
            max_total = quote.max_total(slippage_bps if usd else 0)
        _int(max_total, "max_total", 0, U64_MAX)
        ctok = customer_token or self.token_account_of(customer.pubkey(), mint)
        ix = self.esc.open_job(customer=customer.pubkey(), mint=mint, customer_token=ctok, job_id=jid,
                               hours=hours, workers=workers, usd=usd, max_total=max_total,
                               accept_window=accept_window)
        sent = await self._send([ix], [customer])
        a = self.esc.job_addresses(mint, customer.pubkey(), jid)
        return OpenedJob(a.job, a.vault, jid, sent)

    async def accept(self, worker: Keypair, job: Pubkey) -> Sent:
        """A booked worker accepts ``job``: its clock starts now (``AcceptDeadlinePassed`` after the job's
        accept deadline)."""
        _keypair(worker, "worker")
        _pubkey(job, "job")
        return await self._send([self.esc.accept(worker=worker.pubkey(), job=job)], [worker])

    def settle_instructions(self, job: JobView, market: MarketView, now: int,
                            max_payees: int = DEFAULT_MAX_PAYEES) -> List[Instruction]:
        """``settle`` instructions paying every slot of ``job`` due at
        ``now``, at most ``max_payees`` workers each (pure: no I/O). Empty
        when nothing is due."""
        out = []
        for chunk in plan_settlements(due_slots(job, now), max_payees):
            payees = [(d.slot, self.token_account_of(d.worker, market.mint)) for d in chunk]
            out.append(self.esc.settle(job=job.address, payees=payees))
        return out

    async def settle(self, job: Pubkey, *, max_payees: int = DEFAULT_MAX_PAYEES, now: Optional[int] = None,
                     create_missing_token_accounts: bool = False) -> List[Sent]:
        """Pay everything due on ``job``: one transaction per chunk of
        ``max_payees`` workers; ``[]`` when nothing is due. With
        ``create_missing_token_accounts`` the payer creates missing worker
        ATAs first (idempotent)."""
        view = await self.job(job)
        market = await self._market_at(view.market)
        ts = await self.now() if now is None else now
        sent = []
        for ix in self.settle_instructions(view, market, ts, max_payees):
            pre: List[Instruction] = []
            if create_missing_token_accounts:
                for meta in ix.accounts[len(self.program.instruction_accounts("settle")):]:
                    if await self.chain.get_account(meta.pubkey) is None:
                        slot = next(d for d in due_slots(view, ts)
                                    if self.token_account_of(d.worker, market.mint) == meta.pubkey)
                        pre.append(spl.create_associated_token_account_idempotent(
                            self.payer.pubkey(), slot.worker, market.mint))
            sent.append(await self._send(pre + [ix]))
        return sent

    async def _market_at(self, address: Pubkey) -> MarketView:
        return MarketView.decode(self.program, address, await self._data(address, "market"))

    async def extend(self, customer: Keypair, job: Pubkey, hours: int, customer_token: Optional[Pubkey] = None,
                     slots: Sequence[int] = ()) -> Sent:
        """``hours`` more for the named ``slots``, or every slot still running."""
        _keypair(customer, "customer")
        _int(hours, "hours", 1, U32_MAX)
        for i in slots:
            _int(i, "slot", 0, 255)
        view = await self.job(job)
        market = await self._market_at(view.market)
        ctok = customer_token or self.token_account_of(customer.pubkey(), market.mint)
        return await self._send([self.esc.extend(customer=customer.pubkey(), mint=market.mint, job=job,
                                                 customer_token=ctok, hours=hours, slots=slots)], [customer])

    async def quit(self, worker: Keypair, job: Pubkey, worker_token: Optional[Pubkey] = None) -> Sent:
        """The worker leaves ``job``: it is paid what it earned (whole hours plus the hour in progress pro rata,
        rounded down) into ``worker_token`` (default: its ATA); the unearned rest goes back to the customer's
        ATA."""
        _keypair(worker, "worker")
        view = await self.job(job)
        market = await self._market_at(view.market)
        return await self._send([self.esc.quit(
            worker=worker.pubkey(), job=job,
            worker_token=worker_token or self.token_account_of(worker.pubkey(), market.mint),
            customer_token=self.token_account_of(view.customer, market.mint),
        )], [worker])

    async def release(self, customer: Keypair, job: Pubkey, slot: int, *, pay: bool = True,
                      customer_token: Optional[Pubkey] = None) -> Sent:
        """Release one slot (pro rata, rounded up for the worker; a pending
        slot only after the accept deadline); with ``pay`` its earned pay is
        sent to the worker's token account in the same instruction."""
        _keypair(customer, "customer")
        _pubkey(job, "job")
        _int(slot, "slot", 0, 255)
        view = await self.job(job)
        if not isinstance(slot, int) or not 0 <= slot < len(view.workers):
            raise ValueError(f"slot must be 0..{len(view.workers) - 1}")
        market = await self._market_at(view.market)
        ctok = customer_token or self.token_account_of(customer.pubkey(), market.mint)
        wtok = self.token_account_of(view.workers[slot].worker, market.mint) if pay else None
        return await self._send([self.esc.release(customer=customer.pubkey(), job=job, customer_token=ctok,
                                                  slot=slot, worker_token=wtok)], [customer])

    async def end_job(self, customer: Keypair, job: Pubkey, *, close: bool = True,
                      customer_token: Optional[Pubkey] = None, max_payees: int = DEFAULT_MAX_PAYEES) -> Sent:
        """End early: refund the unearned remainder and pay the due hours of
        up to ``max_payees`` workers in the same instruction (the rest stay
        owed for ``settle``); with ``close``, also close the job in the same
        transaction when nothing is left owed."""
        _keypair(customer, "customer")
        view = await self.job(job)
        market = await self._market_at(view.market)
        ts = await self.now()
        ctok = customer_token or self.token_account_of(customer.pubkey(), market.mint)
        # Every started slot not fully paid is owed something once the job is
        # cut (its due hours and the started hour pro rata).
        dues = [s for s in view.workers if s.started and not s.fully_paid]
        payees = [(s.index, self.token_account_of(s.worker, market.mint)) for s in dues[:max_payees]]
        ixs = [self.esc.end_job(customer=customer.pubkey(), job=job, customer_token=ctok, payees=payees)]
        if close and len(dues) <= max_payees:
            ixs.append(self.esc.close_job(customer=customer.pubkey(), mint=market.mint, job=job,
                                          customer_token=ctok))
        return await self._send(ixs, [customer])

    async def cancel(self, customer: Keypair, job: Pubkey, customer_token: Optional[Pubkey] = None) -> Sent:
        """Cancel a job no worker accepted yet: everything goes back to the customer's token account (default:
        ATA), job and vault closed."""
        _keypair(customer, "customer")
        view = await self.job(job)
        market = await self._market_at(view.market)
        ctok = customer_token or self.token_account_of(customer.pubkey(), market.mint)
        return await self._send([self.esc.cancel(customer=customer.pubkey(), job=job, customer_token=ctok)],
                                [customer])

    async def close_job(self, customer: Keypair, job: Pubkey, customer_token: Optional[Pubkey] = None) -> Sent:
        """Close a job that owes nothing (rent and stray tokens back, fees to the fee vault). Raises
        ``OutstandingPayments`` client-side, before sending, while any slot is owed."""
        _keypair(customer, "customer")
        view = await self.job(job)
        if not is_closable(view):
            from iopay.core.errors import error_class

            raise error_class("OutstandingPayments")(
                code=self.program.errors.code_of("OutstandingPayments"), name="OutstandingPayments",
                msg="settle or end the job first (checked client-side)", program_id=self.program.program_id,
                instruction_index=0)
        market = await self._market_at(view.market)
        ctok = customer_token or self.token_account_of(customer.pubkey(), market.mint)
        return await self._send([self.esc.close_job(customer=customer.pubkey(), mint=market.mint, job=job,
                                                    customer_token=ctok)], [customer])

    async def sweep_fees(self, mint: Pubkey, job: Optional[Pubkey] = None) -> Sent:
        """Move accrued fees to the market treasury (permissionless): the fee
        vault's, and ``job``'s when given."""
        _pubkey(mint, "mint")
        if job is not None:
            _pubkey(job, "job")
        market = await self.market(mint)
        return await self._send([self.esc.sweep_fees(mint=mint, treasury=market.treasury, job=job)])

    # -- market administration ------------------------------------------------------------

    async def init_market(self, upgrade_authority: Keypair, mint: Pubkey, treasury: Pubkey, *, authority: Pubkey,
                          fee_bps: int, max_workers: int, max_hours: int) -> Sent:
        """Create ``mint``'s market (fee in basis points, worker and hour limits, ``treasury`` token account,
        ``authority``). Signed by the program's upgrade authority."""
        return await self._send([self.esc.init_market(
            payer=self.payer.pubkey(), upgrade_authority=upgrade_authority.pubkey(), authority=authority,
            mint=mint, treasury=treasury, fee_bps=fee_bps, max_workers=max_workers, max_hours=max_hours)],
            [upgrade_authority])

    async def set_market_paused(self, authority: Keypair, mint: Pubkey, paused: bool) -> Sent:
        """Pause or resume opening jobs on ``mint``'s market (market authority); running jobs keep paying."""
        return await self._send([self.esc.set_market_paused(authority=authority.pubkey(), mint=mint,
                                                             paused=paused)], [authority])

    async def update_market(self, authority: Keypair, mint: Pubkey, *, treasury: Pubkey, fee_bps: int,
                            max_workers: int, max_hours: int) -> Sent:
        """Change fee (bps), limits and treasury (market authority); open jobs keep the fee they were opened
        with."""
        return await self._send([self.esc.update_market(
            authority=authority.pubkey(), mint=mint, treasury=treasury, fee_bps=fee_bps, max_workers=max_workers,
            max_hours=max_hours)], [authority])

    async def set_market_authority(self, authority: Keypair, mint: Pubkey, new_authority: Pubkey) -> Sent:
        """Propose ``new_authority``; it takes over with :meth:`accept_market_authority`."""
        return await self._send([self.esc.set_market_authority(authority=authority.pubkey(), mint=mint,
                                                                new_authority=new_authority)], [authority])

    async def accept_market_authority(self, new_authority: Keypair, mint: Pubkey) -> Sent:
        """The proposed authority takes over (second step of the hand-over)."""
        _keypair(new_authority, "new_authority")
        _pubkey(mint, "mint")
        return await self._send([self.esc.accept_market_authority(new_authority=new_authority.pubkey(), mint=mint)],
                                [new_authority])

    async def init_price_feed(self, authority: Keypair, mint: Pubkey, *, max_staleness: int,
                              max_conf_bps: int) -> Sent:
        """Give ``mint``'s market a USD price feed with staleness (seconds) and confidence (bps) limits,
        enabling USD-priced jobs (market authority)."""
        return await self._send([self.esc.init_price_feed(
            payer=self.payer.pubkey(), authority=authority.pubkey(), mint=mint, max_staleness=max_staleness,
            max_conf_bps=max_conf_bps)], [authority])

    async def set_oracle_limits(self, authority: Keypair, mint: Pubkey, *, max_staleness: int,
                                max_conf_bps: int) -> Sent:
        """Change the feed's staleness (seconds) and confidence (bps) limits (market authority)."""
        return await self._send([self.esc.set_oracle_limits(
            authority=authority.pubkey(), mint=mint, max_staleness=max_staleness, max_conf_bps=max_conf_bps)],
            [authority])

    async def set_price(self, authority: Keypair, mint: Pubkey, *, price: int, conf: int, expo: int,
                        publish_time: Optional[int] = None) -> Sent:
        """Publish a USD price of the mint, Pyth style: one token = ``price * 10^expo`` USD +- ``conf *
        10^expo``, at ``publish_time`` (default: the cluster clock). Market authority."""
        ts = await self.now() if publish_time is None else publish_time
        return await self._send([self.esc.set_price(authority=authority.pubkey(), mint=mint, price=price,
                                                    conf=conf, expo=expo, publish_time=ts)], [authority])
