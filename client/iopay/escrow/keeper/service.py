"""The keeper: streams the hourly payouts of every job of one or more markets.

A round (:meth:`Keeper.run_once`):

1. read the cluster clock (the program pays by ``Clock.unix_timestamp``, not
   by the keeper's wall clock) and every job of each market
   (``getProgramAccounts``: open jobs, and ended ones still owing hours; or,
   with a ``discovery`` :class:`iopay.escrow.keeper.discovery.JobWatch`,
   from its cache kept current over websockets);
2. compute every slot's due whole hours from on-chain state
   (:func:`iopay.escrow.state.due_slots`);
3. optionally make sure the accounts involved are in the keeper's address
   lookup tables (:mod:`iopay.escrow.keeper.lookup`);
4. pack the payouts of all jobs into as few transactions as size, account
   locks and compute allow (:mod:`iopay.escrow.keeper.planner`);
5. send them, at most ``concurrency`` at a time; transient failures (RPC
   errors, confirmation timeouts) are retried with exponential backoff; a
   transaction rejected as a whole is split (per job, then in halves) so one
   bad payee cannot block the others;
6. once every transaction of the round is done, retire the lookup tables no
   job still paying out needs (deactivate now, close, rent back to the payer,
   once the runtime allows it: :meth:`iopay.escrow.keeper.lookup.LookupTables.retire`).

Several keepers on one market (``shard``, :mod:`iopay.escrow.keeper.shard`):
each pays its own shard of the jobs and takes over another shard's payouts
only once they stayed unpaid for its takeover grace period.

Idempotent and restart-safe by construction: nothing is remembered between
rounds. Every round starts from the chain, where ``hours_paid`` only goes
up, and ``settle`` pays a slot only the hours it has earned and not been
paid. A settle that lands twice (a restart after a crash mid-batch, a
confirmation timeout followed by a resend, two keepers racing) fails with
``NothingToSettle`` and is counted as ``already_settled``: nothing is ever
paid twice.

:meth:`Keeper.run` repeats rounds until its stop event is set, sleeping until
the next hour boundary of any job (``next_due_ts``, plus ``grace``) but at
most ``max_sleep`` (to pick up newly opened or accepted jobs). Stopping
(SIGINT/SIGTERM with :meth:`Keeper.install_signal_handlers`) lets the
transactions in flight finish and starts no new ones.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple, Union

from solders.pubkey import Pubkey

from iopay.core import pda, spl
from iopay.core.errors import ProgramError, TransactionError
from iopay.escrow.state import JobView, MarketView, due_slots, next_due_ts
from iopay.escrow.keeper.logs import JsonLog
from iopay.escrow.keeper.lookup import LookupTables
from iopay.escrow.keeper.metrics import Metrics, MetricsServer
from iopay.escrow.keeper.planner import Batch, BatchPlanner, CuModel, Limits, Payout, payouts_of
from iopay.escrow.keeper.shard import Shard, Takeover

try:  # httpx is a dependency of solana-py; transport errors are transient
    import httpx

    _HTTPX: Tuple[type, ...] = (httpx.HTTPError,)
except ImportError:  # pragma: no cover
    _HTTPX = ()

#: failures worth retrying as they are (RpcRetriesExhausted is a ConnectionError,
#: ConfirmationTimeout / BlockhashRenewalsExhausted are TimeoutErrors)
TRANSIENT: Tuple[type, ...] = (ConnectionError, TimeoutError, asyncio.TimeoutError, OSError) + _HTTPX


@dataclass
class KeeperConfig:
    #: in-flight transactions at most (each waits ~a slot for its confirmation)
    concurrency: int = 16
    limits: Limits = field(default_factory=Limits)
    cu_model: CuModel = field(default_factory=CuModel)
    #: put the accounts in address lookup tables (v0 transactions) to fit more payouts per transaction
    lookup_tables: bool = True
    #: create tables even when every payout the watched jobs can still owe fits one plain transaction
    lookup_tables_always: bool = False
    #: wait this long at most for freshly written table entries to become active (next slot)
    lookup_activation_wait: float = 2.0
    #: create missing worker token accounts (ATAs, rent paid by the keeper) instead of skipping them
    create_missing_token_accounts: bool = False
    #: seconds after an hour boundary before settling it (clock skew between nodes)
    grace: float = 1.0
    #: wait this much longer after a boundary to pay the payouts falling due meanwhile in
    #: the same transactions (more payouts per transaction, that much more lag)
    batch_window: float = 0.0
    min_sleep: float = 0.2
    #: look for new jobs / accepts at least this often
    max_sleep: float = 30.0
    #: after a round with failures, try again within this many seconds
    failure_retry: float = 5.0
    retries: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    #: periodic ``metrics`` log line (seconds; 0 = every round)
    metrics_interval: float = 60.0
    #: serve /metrics on 127.0.0.1:PORT (0 = any free port, None = off)
    metrics_port: Optional[int] = None
    #: pay only this shard's jobs, and the others' once overdue by the shard's grace (None = every job)
    shard: Optional[Shard] = None
    #: address the metrics endpoint listens on
    metrics_host: str = "127.0.0.1"


@dataclass
class RoundReport:
    now: int
    jobs: int
    due: int
    batches: int
    paid: int
    already_settled: int
    failed: int
    skipped: int
    next_due_ts: Optional[int]
    seconds: float
    #: sharded keepers: payouts of other shards paid by this one / left to their owner this round
    taken_over: int = 0
    deferred: int = 0
    #: seconds until the first deferred payout may be taken over
    takeover_in: Optional[float] = None


@dataclass
class _RoundCounts:
    paid: int = 0
    already: int = 0
    failed: int = 0


class Keeper:
    """Embeddable keeper. ``client`` is an :class:`iopay.escrow.client.EscrowClient`
    (its payer signs and pays the fees); ``mints`` selects the markets."""

    def __init__(self, client: Any, mints: Union[Pubkey, Sequence[Pubkey]], config: Optional[KeeperConfig] = None,
                 *, log: Optional[JsonLog] = None, metrics: Optional[Metrics] = None,
                 rng: Optional[random.Random] = None, discovery: Any = None) -> None:
        self.client = client
        self.mints: List[Pubkey] = [mints] if isinstance(mints, Pubkey) else list(mints)
        if not self.mints:
            raise ValueError("a keeper needs at least one market mint")
        self.config = config or KeeperConfig()
        self.log = log if log is not None else JsonLog()
        self.m = metrics if metrics is not None else Metrics()
        self.planner = BatchPlanner(client.esc, client.payer.pubkey(), self.config.limits, self.config.cu_model)
        self.tables: Optional[LookupTables] = (
            LookupTables(client.chain, client.payer, on_event=self.log.info) if self.config.lookup_tables else None)
        self._rng = rng or random.Random()
        #: a JobWatch (started by :meth:`run`), or None: getProgramAccounts every round
        self.discovery = discovery
        self.takeover: Optional[Takeover] = Takeover(self.config.shard) if self.config.shard is not None else None
        self._token_accounts: Set[Pubkey] = set()
        self._sem: Optional[asyncio.Semaphore] = None
        self._stop: Optional[asyncio.Event] = None
        self._signals = 0
        self._main_task: Optional[asyncio.Task] = None
        self._last_metrics_log = 0.0
        self.server: Optional[MetricsServer] = None

    # -- control ---------------------------------------------------------------

    @property
    def stop_event(self) -> asyncio.Event:
        if self._stop is None:
            self._stop = asyncio.Event()
        return self._stop

    @property
    def stopping(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    def request_stop(self) -> None:
        """Graceful stop: in-flight transactions finish, no new ones start."""
        self._signals += 1
        if self._signals == 1 or self._main_task is None:
            self.log.info("keeper_stopping", reason="stop requested")
        elif self._main_task is not None:
            self.log.warning("keeper_forced_stop")
            self._main_task.cancel()
        self.stop_event.set()

    def install_signal_handlers(self) -> None:
        """SIGINT/SIGTERM -> :meth:`request_stop` (a second signal cancels)."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.request_stop)

    def metrics(self) -> Dict[str, Any]:
        return self.m.snapshot()

    # -- one round ---------------------------------------------------------------

    async def run_once(self) -> RoundReport:
        t0 = time.monotonic()
        if self._sem is None:
            self._sem = asyncio.Semaphore(max(1, self.config.concurrency))
        now = await self.client.now()
        counts = _RoundCounts()
        jobs_watched = due = batches_n = skipped = 0
        taken_over = deferred = 0
        takeover_in: Optional[float] = None
        shard = self.config.shard
        next_due: Optional[int] = None
        #: accounts of the jobs still paying out (every market): lookup tables holding none are retired
        live: Set[Pubkey] = set()
        for mint in self.mints:
            market = await self.client.market(mint)
            if self.discovery is not None and self.discovery.ready.is_set():
                jobs = self.discovery.jobs(mint)
            else:
                jobs = await self.client.jobs(mint, state=None)
            payouts: List[Payout] = []
            watched: List[JobView] = []
            for job in jobs:
                dues = due_slots(job, now)
                nd = next_due_ts(job, now)
                # (Sharded: other shards' jobs are watched for takeover, not kept in our tables.)
                if (dues or nd is not None) and (shard is None or shard.owns(job.address)):
                    watched.append(job)
                if nd is not None:
                    next_due = nd if next_due is None else min(next_due, nd)
                payouts += payouts_of(job, dues, lambda w, _m=market.mint: self.client.token_account_of(w, _m))
            if self.takeover is not None:
                sel = self.takeover.select(payouts)
                payouts = sel.payouts
                taken_over += sel.taken_over
                deferred += sel.deferred
                if sel.next_takeover_in is not None:
                    takeover_in = sel.next_takeover_in if takeover_in is None else min(takeover_in,
                                                                                       sel.next_takeover_in)
            jobs_watched += len(watched)
            due += len(payouts)
            payouts, missing = await self._usable(market, payouts)
            skipped += missing
            live.update(self._needed(market, watched, payouts))
            # Tables are written for every watched job, due or not, so their
            # entries are active by the time its next hour is due.
            tables = await self._lookup_tables(market, watched, payouts) \
                if watched and self._tables_help(market, watched, now) else []
            if not payouts:
                continue
            batches = self.planner.plan(market, payouts, tables)
            batches_n += len(batches)
            self.log.info("round_planned", market=str(market.address), payouts=len(payouts),
                          transactions=len(batches), lookup_tables=len(tables),
                          payouts_per_tx=round(len(payouts) / len(batches), 2))
            await asyncio.gather(*(self._settle(market, b, counts) for b in batches))
            if self.discovery is not None:
                try:  # our own payouts, before their notifications arrive
                    await self.discovery.refresh(p.job for p in payouts)
                except Exception as e:  # noqa: BLE001 - a stale job costs one NothingToSettle at worst
                    self.log.warning("discovery_refresh_failed", error=repr(e)[:300])
        # After every transaction of the round: none in flight references a table deactivated now.
        await self._retire_tables(live)
        m = self.m
        m.rounds += 1
        m.jobs_watched = jobs_watched
        m.due_last_round = due
        m.backlog = max(0, due - counts.paid - counts.already)
        m.last_round_ts = now
        m.next_due_ts = next_due or 0
        m.takeover_payouts += taken_over
        report = RoundReport(now, jobs_watched, due, batches_n, counts.paid, counts.already, counts.failed, skipped,
                             next_due, round(time.monotonic() - t0, 3), taken_over, deferred,
                             None if takeover_in is None else round(takeover_in, 3))
        self.log.info("round", **{k: v for k, v in report.__dict__.items()})
        return report

    async def _usable(self, market: MarketView, payouts: List[Payout]) -> Tuple[List[Payout], int]:
        """Payouts whose token account exists (created first with
        ``create_missing_token_accounts``); the others are skipped and logged."""
        unknown = list(dict.fromkeys(p.token_account for p in payouts if p.token_account not in self._token_accounts))
        if not unknown:
            return payouts, 0
        found = await self._exist(unknown)
        missing = {a for a, ok in zip(unknown, found) if not ok}
        self._token_accounts.update(a for a, ok in zip(unknown, found) if ok)
        if missing and self.config.create_missing_token_accounts:
            missing = await self._create_token_accounts(market, [p for p in payouts if p.token_account in missing])
        if missing:
            self.m.missing_token_accounts += len(missing)
            for p in payouts:
                if p.token_account in missing:
                    self.log.warning("payout_skipped", reason="worker token account missing", job=str(p.job),
                                     slot=p.slot, worker=str(p.worker), token_account=str(p.token_account))
        return [p for p in payouts if p.token_account not in missing], sum(p.token_account in missing for p in payouts)

    async def _exist(self, addresses: List[Pubkey]) -> List[bool]:
        """Which accounts exist: ``getMultipleAccounts`` (100 a call, 4 calls in flight) when the
        chain has it, else one read each."""
        chain = self.client.chain
        multi = getattr(chain, "get_multiple_accounts", None)
        sem = asyncio.Semaphore(4 if multi is not None else 8)

        async def one(chunk: List[Pubkey]) -> List[bool]:
            async with sem:
                if multi is not None:
                    return [a is not None for a in await multi(chunk)]
                return [await chain.get_account(chunk[0]) is not None]

        size = 100 if multi is not None else 1
        parts = await asyncio.gather(*(one(addresses[i:i + size]) for i in range(0, len(addresses), size)))
        return [ok for part in parts for ok in part]

    async def _create_token_accounts(self, market: MarketView, payouts: List[Payout]) -> Set[Pubkey]:
        left: Set[Pubkey] = set()
        todo: Dict[Pubkey, Pubkey] = {}
        for p in payouts:
            if spl.associated_token_address(p.worker, market.mint) == p.token_account:
                todo[p.token_account] = p.worker
            else:
                left.add(p.token_account)
        items = list(todo.items())
        for i in range(0, len(items), 4):
            chunk = items[i:i + 4]
            ixs = [spl.create_associated_token_account_idempotent(self.client.payer.pubkey(), w, market.mint)
                   for _, w in chunk]
            try:
                await self.client.chain.send(ixs, [], self.client.payer)
                self._token_accounts.update(a for a, _ in chunk)
                self.log.info("token_accounts_created", accounts=[str(a) for a, _ in chunk])
            except (TransactionError,) + TRANSIENT as e:
                self.log.warning("token_accounts_create_failed", error=str(e))
                left.update(a for a, _ in chunk)
        return left

    def _needed(self, market: MarketView, watched: List[JobView], payouts: List[Payout]) -> List[Pubkey]:
        """The accounts the payouts of ``watched`` jobs use (market's shared ones first)."""
        if not watched and not payouts:
            return []
        program = self.client.program.program_id
        out: List[Pubkey] = [spl.TOKEN_PROGRAM_ID, pda.event_authority_pda(program)]
        for job in watched:
            out += [job.address, self.client.esc.vault_address(job.address)]
            out += [self.client.token_account_of(s.worker, market.mint) for s in job.workers if s.started]
        out += [p.token_account for p in payouts]
        return out

    #: above this many outstanding payouts the plain-transaction check is skipped: tables will help
    TABLE_CHECK_LIMIT = 48

    def _tables_help(self, market: MarketView, watched: List[JobView], now: int) -> bool:
        """Whether lookup tables would save transactions: false when every
        payout the watched jobs can still owe fits one plain transaction (a
        table costs rent and a transaction of its own)."""
        if self.tables is None:
            return False
        if self.config.lookup_tables_always or self.tables.tables:
            return True  # already paid for; keep them current
        horizon = now + 10 * 365 * 86400
        outstanding: List[Payout] = []
        for job in watched:
            outstanding += payouts_of(job, due_slots(job, horizon),
                                      lambda w, _m=market.mint: self.client.token_account_of(w, _m))
            if len(outstanding) > self.TABLE_CHECK_LIMIT:
                return True
        return len(self.planner.plan(market, outstanding)) > 1

    async def _lookup_tables(self, market: MarketView, watched: List[JobView], payouts: List[Payout]) -> list:
        if self.tables is None:
            return []
        needed = self._needed(market, watched, payouts)
        needed = list(dict.fromkeys(needed))
        try:
            added = await self.tables.ensure(needed)
            self.m.lookup_table_entries_added += added
            slot = await self._slot()
            if self.tables.pending(slot) and self.config.lookup_activation_wait > 0:
                deadline = time.monotonic() + self.config.lookup_activation_wait
                while self.tables.pending(slot) and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
                    slot = await self._slot()
            return self.tables.active(slot, needed)
        except Exception as e:  # noqa: BLE001 - tables are an optimisation; plain transactions still work
            self.log.warning("lookup_tables_unavailable", error=repr(e)[:300])
            return []

    async def _retire_tables(self, live: Set[Pubkey]) -> None:
        """Deactivate the tables no live job needs, close the ones the runtime
        lets go (rent back to the payer). Skipped while stopping."""
        t = self.tables
        if t is None:
            return
        if not self.stopping:
            try:
                done = await t.retire(live, await self._slot())
                self.m.tables_closed += done["closed"]
                self.m.lamports_recovered += done["lamports"]
            except Exception as e:  # noqa: BLE001 - retried next round; payouts do not depend on it
                self.log.warning("lookup_tables_retire_failed", error=repr(e)[:300])
        self.m.tables_active = len(t.tables)
        self.m.tables_deactivating = len(t.deactivating)

    async def _slot(self) -> int:
        from iopay.core.chain import CLOCK_SYSVAR

        acc = await self.client.chain.get_account(CLOCK_SYSVAR)
        return int.from_bytes(acc[1][:8], "little") if acc else 0

    # -- sending ------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        cap = min(self.config.backoff_max, self.config.backoff_base * (2 ** attempt))
        return self._rng.uniform(cap / 2, cap)

    async def _settle(self, market: MarketView, batch: Batch, counts: _RoundCounts) -> None:
        cfg = self.config
        assert self._sem is not None
        for attempt in range(cfg.retries + 1):
            if self.stopping:
                return  # graceful stop: start nothing new; the next keeper pays it
            try:
                async with self._sem:
                    if self.stopping:
                        return
                    if batch.lookup_tables:
                        sent = await self.client.chain.send(batch.instructions, [], self.client.payer,
                                                            lookup_tables=batch.lookup_tables)
                    else:
                        sent = await self.client.chain.send(batch.instructions, [], self.client.payer)
            except ProgramError as e:
                if e.name == "NothingToSettle":
                    self.m.nothing_to_settle_transactions += 1  # wasted: paid already (by us or another keeper)
                if e.name == "NothingToSettle" and len(batch.instructions) == 1:
                    counts.already += len(batch.payouts)
                    self.m.already_settled += len(batch.payouts)
                    self.log.info("already_settled", job=str(batch.payouts[0].job),
                                  slots=[p.slot for p in batch.payouts])
                    return
                await self._split(market, batch, counts, e)
                return
            except TRANSIENT as e:
                self.m.retries += 1
                if attempt >= cfg.retries:
                    break
                delay = self._backoff(attempt)
                self.log.warning("batch_retry", attempt=attempt + 1, delay=round(delay, 3), error=repr(e),
                                 payouts=len(batch.payouts))
                await asyncio.sleep(delay)
                continue
            except TransactionError as e:
                await self._split(market, batch, counts, e)
                return
            except Exception as e:  # noqa: BLE001 - unknown: counted, logged, owed hours retried next round
                self.m.transactions_failed += 1
                self.m.payout_failures += len(batch.payouts)
                counts.failed += len(batch.payouts)
                self.log.error("batch_failed", reason="unexpected error", error=repr(e)[:500],
                               payouts=len(batch.payouts), jobs=[str(j) for j in batch.jobs])
                return
            self._record(batch, sent, counts)
            return
        self.m.transactions_failed += 1
        self.m.payout_failures += len(batch.payouts)
        counts.failed += len(batch.payouts)
        self.log.error("batch_failed", reason="retries exhausted", payouts=len(batch.payouts),
                       jobs=[str(j) for j in batch.jobs])

    async def _split(self, market: MarketView, batch: Batch, counts: _RoundCounts, err: Exception) -> None:
        """A transaction was rejected as a whole: isolate the cause."""
        name = getattr(err, "name", None)
        if len(batch.instructions) > 1:
            parts = self.planner.per_job(market, batch)
        elif len(batch.payouts) > 1 and name != "NothingToSettle":
            parts = self.planner.split(market, batch)
        else:
            self.m.transactions_failed += 1
            self.m.payout_failures += len(batch.payouts)
            counts.failed += len(batch.payouts)
            for p in batch.payouts:
                self.log.error("payout_failed", job=str(p.job), slot=p.slot, worker=str(p.worker),
                               error=name or type(err).__name__, detail=str(err)[:300])
            return
        self.m.transactions_failed += 1
        self.m.splits += 1
        self.log.warning("batch_split", error=name or type(err).__name__, detail=str(err)[:300], payouts=len(batch.payouts),
                         into=len(parts))
        await asyncio.gather(*(self._settle(market, b, counts) for b in parts))

    def _record(self, batch: Batch, sent: Any, counts: _RoundCounts) -> None:
        m = self.m
        m.transactions_sent += 1
        m.compute_units += int(sent.compute_units or 0)
        by_slot = {(p.job, p.slot): p for p in batch.payouts}
        evs = [e for e in sent.events if e.name == "HoursSettled"] if sent.events else []
        hours = amount = 0
        if evs:
            paid = 0
            for e in evs:
                for s in e.paid:
                    p = by_slot.get((e.job, s.slot))
                    m.payouts_sent += 1
                    m.worker_hours_paid += s.hours
                    m.tokens_paid += s.amount
                    m.fees_paid += s.fee
                    hours += s.hours
                    amount += s.amount
                    paid += 1
                    if p is not None:
                        m.observe_lag(max(0, e.settled_ts - p.due_since))
                if e.skipped:
                    self.log.warning("payouts_skipped", job=str(e.job), slots=list(e.skipped),
                                     reason="worker token account closed or frozen")
        else:  # no event decoder: count what was planned
            for p in batch.payouts:
                m.payouts_sent += 1
                m.worker_hours_paid += p.hours
                m.tokens_paid += p.amount
                m.fees_paid += p.fee
                hours += p.hours
                amount += p.amount
            paid = len(batch.payouts)
        counts.paid += paid
        self.log.info("batch_sent", signature=str(sent.signature), payouts=paid, worker_hours=hours, tokens=amount,
                      jobs=len(batch.jobs), tx_bytes=batch.tx_bytes, account_locks=batch.account_locks,
                      compute_units=sent.compute_units, lookup_tables=len(batch.lookup_tables))

    # -- the loop -------------------------------------------------------------------

    def _delay(self, report: Optional[RoundReport]) -> float:
        cfg = self.config
        if report is None or report.failed:
            return max(cfg.min_sleep, min(cfg.failure_retry, cfg.max_sleep))
        if report.next_due_ts is None:
            delay = cfg.max_sleep
        else:
            delay = max(cfg.min_sleep, min(cfg.max_sleep, report.next_due_ts - report.now + cfg.grace + cfg.batch_window))
        if report.takeover_in is not None:
            delay = max(cfg.min_sleep, min(delay, report.takeover_in))
        return delay

    async def run(self, stop: Optional[asyncio.Event] = None, *, max_rounds: Optional[int] = None) -> Metrics:
        """Rounds until ``stop`` (default: :attr:`stop_event`) is set or
        ``max_rounds`` rounds ran. Returns the metrics."""
        if stop is not None:
            self._stop = stop
        stop = self.stop_event
        self._main_task = asyncio.current_task()
        cfg = self.config
        if cfg.metrics_port is not None:
            self.server = MetricsServer(self.m, cfg.metrics_port, cfg.metrics_host)
            await self.server.start()
        self.log.info("keeper_started", markets=[str(m) for m in self.mints], payer=str(self.client.payer.pubkey()),
                      shard=str(cfg.shard) if cfg.shard else None,
                      takeover_grace=cfg.shard.grace if cfg.shard else None,
                      concurrency=cfg.concurrency, lookup_tables=cfg.lookup_tables,
                      metrics_port=self.server.port if self.server else None)
        if self.discovery is not None and not await self.discovery.start():
            # Retried in the background; rounds scan with getProgramAccounts until it is up.
            self.log.warning("discovery_pending", ws_url=self.discovery.ws_url,
                             fallback="getProgramAccounts every round until subscribed")
        rounds = 0
        try:
            while not stop.is_set():
                report: Optional[RoundReport] = None
                try:
                    report = await self.run_once()
                except asyncio.CancelledError:
                    raise
                except Exception as e:  # noqa: BLE001 - a keeper keeps going; logged
                    self.log.error("round_failed", error=repr(e)[:500])
                rounds += 1
                now = time.monotonic()
                if self.discovery is not None:
                    self.m.discovery_reconnects = max(0, self.discovery.stats["connects"] - 1)
                    self.m.discovery_notifications = self.discovery.stats["notifications"]
                if now - self._last_metrics_log >= cfg.metrics_interval:
                    self._last_metrics_log = now
                    self.log.info("metrics", summary=self.m.summary(), **self.m.snapshot())
                if max_rounds is not None and rounds >= max_rounds:
                    break
                try:
                    await asyncio.wait_for(stop.wait(), timeout=self._delay(report))
                except asyncio.TimeoutError:
                    pass
        finally:
            if self.server is not None:
                await self.server.stop()
            if self.discovery is not None:
                self.m.discovery_reconnects = max(0, self.discovery.stats["connects"] - 1)
                await self.discovery.stop()
            self.log.info("keeper_stopped", rounds_this_run=rounds, summary=self.m.summary(), **self.m.snapshot())
        return self.m
