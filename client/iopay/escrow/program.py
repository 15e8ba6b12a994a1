"""Job escrow SDK: instruction builders (pure, from the IDL) and the money
math the program uses, mirrored exactly so callers can predict payouts.

Builders return ``solders`` instructions and work with any sender: the
LiteSVM harness (``iopay.core.harness``) or a real RPC (``iopay.core.tx``). The
high-level async API is ``iopay.escrow.client``; keeper logic (which jobs
are running, what is due, how to batch it) is ``iopay.escrow.state``.

Money rules (``programs/job_escrow/src/math.rs``): every movement of a worker
slot's money is a span ``lo..hi`` of its cumulative pay (``rate * hours``
plus, once a booking is cut mid-hour, the pro-rata pay of that hour's
seconds): pay ``hi - lo`` and fee ``fee(hi) - fee(lo)`` with
``fee(x) = ceil(x * fee_bps / 10_000)``; the fee is charged to the customer
on top and rounded up, and its shares add up exactly to what was locked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence, Tuple, Union

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from iopay.core import pda
from iopay.core.idl import AccountFetcher, ProgramIdl

BPS_DENOMINATOR = 10_000
SECONDS_PER_HOUR = 3_600
USD_DECIMALS = 6
MAX_ABS_EXPO = 18
#: programs/job_escrow/src/state.rs: the most workers one open_job and one end_job transaction carry.
MAX_WORKERS_CAP = 13
MAX_HOURS_CAP = 87_600
#: Longest accept window ``open_job`` takes (seconds).
MAX_ACCEPT_WINDOW = 30 * 24 * 3_600
#: Accept window the SDK uses when the caller gives none: one day.
DEFAULT_ACCEPT_WINDOW = 24 * 3_600
U64_MAX = 2**64 - 1
IDL_NAME = "job_escrow"


class MathOverflow(ArithmeticError):
    """The program would fail with ``MathOverflow``."""


def _u64(x: int) -> int:
    if not 0 <= x <= U64_MAX:
        raise MathOverflow(x)
    return x


# -- money math (mirror of programs/job_escrow/src/math.rs) --------------------

def fee_for(amount: int, fee_bps: int) -> int:
    """ceil(amount * fee_bps / 10_000): rounding never favours the payer."""
    if not 0 <= fee_bps <= BPS_DENOMINATOR:
        raise ValueError("fee_bps out of range")
    return _u64(-(-amount * fee_bps // BPS_DENOMINATOR))


def span_cost(rate_per_hour: int, fee_bps: int, lo: int, hi: int) -> Tuple[int, int]:
    """(pay, fee) of hours ``lo..hi`` of one worker slot."""
    if lo > hi:
        raise MathOverflow("lo > hi")
    return (_u64(rate_per_hour * (hi - lo)),
            fee_for(_u64(rate_per_hour * hi), fee_bps) - fee_for(_u64(rate_per_hour * lo), fee_bps))


def amount_span(lo: int, hi: int, fee_bps: int) -> Tuple[int, int]:
    """(pay, fee) between two points ``lo <= hi`` of a slot's cumulative pay."""
    if lo > hi:
        raise MathOverflow("lo > hi")
    return _u64(hi - lo), fee_for(_u64(hi), fee_bps) - fee_for(_u64(lo), fee_bps)


def tail_pay(rate_per_hour: int, secs: int, round_up: bool) -> int:
    """Pay of ``secs`` (< 3600) seconds of an hour: up for the worker when the
    customer cut the booking (end, release), down when the worker quit."""
    num = rate_per_hour * secs
    return -(-num // SECONDS_PER_HOUR) if round_up else num // SECONDS_PER_HOUR


def cut_point(start_ts: int, now_ts: int, booked: int, hours_paid: int) -> Optional[Tuple[int, int]]:
    """``(hours, tail_secs)`` a running slot is cut to at ``now_ts``, ``None``
    when its whole booking is earned; never below ``hours_paid``."""
    secs = max(0, now_ts - start_ts)
    whole = secs // SECONDS_PER_HOUR
    if whole >= booked:
        return None
    if whole < hours_paid:
        return hours_paid, 0
    return whole, secs % SECONDS_PER_HOUR


def booking_cost(rates: Union[int, Iterable[int]], hours: int, fee_bps: int) -> Tuple[int, int]:
    """(principal, fee) locked at open for one slot per rate, ``hours`` each."""
    if isinstance(rates, int):
        rates = [rates]
    principal = fee = 0
    for r in rates:
        p, f = span_cost(r, fee_bps, 0, hours)
        principal, fee = principal + p, fee + f
    _u64(principal + fee)
    return principal, fee


def elapsed_hours(start_ts: int, now_ts: int) -> int:
    """Whole hours from ``start_ts`` to ``now_ts`` (0 before the start)."""
    return 0 if now_ts <= start_ts else (now_ts - start_ts) // SECONDS_PER_HOUR


def settlement(rate_per_hour: int, fee_bps: int, paid_before: int, hours: int) -> Tuple[int, int]:
    """(worker amount, fee) for paying ``hours`` more after ``paid_before``."""
    return span_cost(rate_per_hour, fee_bps, paid_before, paid_before + hours)


def slot_outstanding(rate_per_hour: int, fee_bps: int, booked: int, paid: int) -> Tuple[int, int]:
    """(unpaid pay, unpaid fee) a slot still holds in the vault."""
    return span_cost(rate_per_hour, fee_bps, paid, booked)


# -- oracle (mirror of math::check_price / math::usd_to_tokens) -----------------

class PriceRejected(ValueError):
    """The program would refuse this price; ``name`` is the error it raises
    (``InvalidPrice``, ``StalePrice`` or ``PriceTooUncertain``)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


def check_price(price: int, conf: int, expo: int, publish_time: int, now_ts: int,
                max_staleness: int, max_conf_bps: int) -> None:
    """Raise :class:`PriceRejected` (``InvalidPrice``, ``StalePrice``, ``PriceTooUncertain``) when the program
    would refuse this feed price at ``now_ts``; mirror of ``math::check_price``."""
    if price <= 0 or not -MAX_ABS_EXPO <= expo <= MAX_ABS_EXPO:
        raise PriceRejected("InvalidPrice", f"price {price} expo {expo}")
    if now_ts - publish_time > max_staleness:
        raise PriceRejected("StalePrice", f"published {now_ts - publish_time}s ago, limit {max_staleness}s")
    if conf * BPS_DENOMINATOR > price * max_conf_bps:
        raise PriceRejected("PriceTooUncertain", f"conf/price {conf / price:.4%} > {max_conf_bps} bps")


def usd_to_tokens(usd_micro: int, price: int, expo: int, decimals: int) -> int:
    """Base units worth ``usd_micro`` micro-USD when one token is
    ``price * 10^expo`` USD, rounded up (against the paying customer)."""
    if price <= 0 or not -MAX_ABS_EXPO <= expo <= MAX_ABS_EXPO:
        raise PriceRejected("InvalidPrice", f"price {price} expo {expo}")
    e = decimals - USD_DECIMALS - expo
    num, den = (usd_micro * 10**e, price) if e >= 0 else (usd_micro, price * 10**-e)
    if num >= 2**128 or den >= 2**128:
        raise MathOverflow("u128")
    return _u64(-(-num // den))


# -- builders ---------------------------------------------------------------------

@dataclass(frozen=True)
class JobAddresses:
    market: Pubkey
    job: Pubkey
    vault: Pubkey


@dataclass(frozen=True)
class WorkerTerms:
    worker: Pubkey
    #: base units per hour, or micro-USD per hour for a USD-priced job
    rate_per_hour: int


Payee = Tuple[int, Pubkey]
"""(slot index, token account of that slot's worker) for settle/end_job."""


def _terms(w: Union[WorkerTerms, Tuple[Pubkey, int]]) -> dict:
    if isinstance(w, WorkerTerms):
        return {"worker": w.worker, "rate_per_hour": w.rate_per_hour}
    worker, rate = w
    return {"worker": worker, "rate_per_hour": rate}


class JobEscrow:
    """Instruction builders for the job escrow program."""

    def __init__(self, program: Optional[ProgramIdl] = None, fetch: Optional[AccountFetcher] = None) -> None:
        self.program = program or ProgramIdl.load(IDL_NAME)
        self.program_id = self.program.program_id
        self.fetch = fetch

    # -- addresses --

    def market_address(self, mint: Pubkey) -> Pubkey:
        """The market PDA of ``mint``."""
        return pda.market_pda(self.program_id, mint)[0]

    def price_feed_address(self, mint: Pubkey) -> Pubkey:
        """The USD price feed PDA of ``mint``'s market."""
        return pda.price_feed_pda(self.program_id, self.market_address(mint))[0]

    def vault_address(self, job: Pubkey) -> Pubkey:
        """The job's vault (token account PDA)."""
        return pda.vault_pda(self.program_id, job)[0]

    def job_addresses(self, mint: Pubkey, customer: Pubkey, job_id: int) -> JobAddresses:
        """Market, job and vault addresses of ``customer``'s job ``job_id`` on ``mint``."""
        market = self.market_address(mint)
        job = pda.job_pda(self.program_id, market, customer, job_id)[0]
        return JobAddresses(market, job, self.vault_address(job))

    def _ix(self, name: str, args: dict[str, Any], accounts: dict[str, Pubkey],
            overrides: Optional[dict[str, Pubkey]], remaining: Sequence[AccountMeta] = ()) -> Instruction:
        return self.program.build_instruction(name, args, accounts, fetch=self.fetch, overrides=overrides,
                                              remaining=remaining)

    @staticmethod
    def _payees(payees: Sequence[Payee]) -> Tuple[bytes, list[AccountMeta]]:
        slots = bytes(slot for slot, _ in payees)
        return slots, [AccountMeta(tok, False, True) for _, tok in payees]

    # -- market administration --

    def fee_vault_address(self, mint: Pubkey) -> Pubkey:
        """The market's fee vault (token account PDA), where closed jobs' fees wait for ``sweep_fees``."""
        return pda.fee_vault_pda(self.program_id, self.market_address(mint))[0]

    def init_market(
        self, *, payer: Pubkey, upgrade_authority: Pubkey, authority: Pubkey, mint: Pubkey,
        treasury: Pubkey, fee_bps: int, max_workers: int, max_hours: int,
        overrides: Optional[dict[str, Pubkey]] = None,
    ) -> Instruction:
        """``init_market``: fee (bps), worker and hour limits, treasury; signed by ``payer`` and the program's
        ``upgrade_authority``."""
        market = self.market_address(mint)
        return self._ix(
            "init_market",
            {"fee_bps": fee_bps, "max_workers": max_workers, "max_hours": max_hours},
            {"payer": payer, "upgrade_authority": upgrade_authority, "authority": authority,
             "mint": mint, "treasury": treasury, "market": market, "fee_vault": self.fee_vault_address(mint)},
            overrides,
        )

    def set_market_paused(self, *, authority: Pubkey, mint: Pubkey, paused: bool,
                          overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """``set_market_paused`` (market authority)."""
        return self._ix("set_market_paused", {"paused": paused},
                        {"authority": authority, "market": self.market_address(mint)}, overrides)

    def update_market(self, *, authority: Pubkey, mint: Pubkey, treasury: Pubkey, fee_bps: int,
                      max_workers: int, max_hours: int,
                      overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """``update_market``: treasury, fee (bps) and limits (market authority)."""
        return self._ix(
            "update_market",
            {"fee_bps": fee_bps, "max_workers": max_workers, "max_hours": max_hours},
            {"authority": authority, "market": self.market_address(mint), "treasury": treasury},
            overrides,
        )

    def set_market_authority(self, *, authority: Pubkey, mint: Pubkey, new_authority: Pubkey,
                             overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """Proposes ``new_authority``; it takes over with
        :meth:`accept_market_authority`."""
        return self._ix("set_market_authority", {"new_authority": new_authority},
                        {"authority": authority, "market": self.market_address(mint)}, overrides)

    def accept_market_authority(self, *, new_authority: Pubkey, mint: Pubkey,
                                overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """``accept_market_authority``: the proposed authority takes the market (a governance PDA may sign it
        through ``invoke_signed``)."""
        return self._ix("accept_market_authority", {},
                        {"new_authority": new_authority, "market": self.market_address(mint)}, overrides)

    def sweep_fees(self, *, mint: Pubkey, treasury: Pubkey, job: Optional[Pubkey] = None,
                   overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """Moves accrued fees to the treasury: the market fee vault's, and
        ``job``'s when given (permissionless)."""
        accounts = {"market": self.market_address(mint), "fee_vault": self.fee_vault_address(mint),
                    "treasury": treasury}
        if job is not None:
            accounts.update(job=job, vault=self.vault_address(job))
        return self._ix("sweep_fees", {}, accounts, overrides)

    def init_price_feed(self, *, payer: Pubkey, authority: Pubkey, mint: Pubkey, max_staleness: int,
                        max_conf_bps: int, overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """``init_price_feed``: the market's USD feed with ``max_staleness`` (seconds) and ``max_conf_bps``."""
        market = self.market_address(mint)
        return self._ix("init_price_feed", {"max_staleness": max_staleness, "max_conf_bps": max_conf_bps},
                        {"payer": payer, "authority": authority, "market": market,
                         "price_feed": pda.price_feed_pda(self.program_id, market)[0]}, overrides)

    def set_oracle_limits(self, *, authority: Pubkey, mint: Pubkey, max_staleness: int, max_conf_bps: int,
                          overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """``set_oracle_limits``: new staleness and confidence limits."""
        return self._ix("set_oracle_limits", {"max_staleness": max_staleness, "max_conf_bps": max_conf_bps},
                        {"authority": authority, "market": self.market_address(mint)}, overrides)

    def set_price(self, *, authority: Pubkey, mint: Pubkey, price: int, conf: int, expo: int,
                  publish_time: int, overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """``set_price``: one token = ``price * 10^expo`` USD +- ``conf * 10^expo`` at ``publish_time`` (unix
        seconds)."""
        market = self.market_address(mint)
        return self._ix("set_price", {"price": price, "conf": conf, "expo": expo, "publish_time": publish_time},
                        {"authority": authority, "market": market,
                         "price_feed": pda.price_feed_pda(self.program_id, market)[0]}, overrides)

    # -- jobs --

    def open_job(
        self, *, customer: Pubkey, mint: Pubkey, customer_token: Pubkey, job_id: int, hours: int,
        workers: Sequence[Union[WorkerTerms, Tuple[Pubkey, int]]], max_total: int, usd: bool = False,
        accept_window: int = DEFAULT_ACCEPT_WINDOW, price_feed: Optional[Pubkey] = None,
        overrides: Optional[dict[str, Pubkey]] = None,
    ) -> Instruction:
        """``workers``: (wallet, rate) pairs; rates in base units per hour,
        or micro-USD per hour with ``usd=True`` (then ``price_feed`` defaults
        to the market's feed PDA). ``max_total``: the most the customer
        accepts to lock, pay plus fee (``MaxTotalExceeded`` above it; see
        :func:`iopay.escrow.pricing` for USD quotes with slippage).
        ``accept_window``: seconds the workers have to accept."""
        return self._open("open_job", customer, mint, {"customer_token": customer_token}, job_id, hours, workers,
                          max_total, usd, accept_window, price_feed, overrides)

    def open_job_funded(
        self, *, customer: Pubkey, funder: Pubkey, funder_token: Pubkey, mint: Pubkey, job_id: int, hours: int,
        workers: Sequence[Union[WorkerTerms, Tuple[Pubkey, int]]], max_total: int, usd: bool = False,
        accept_window: int = DEFAULT_ACCEPT_WINDOW, price_feed: Optional[Pubkey] = None,
        overrides: Optional[dict[str, Pubkey]] = None,
    ) -> Instruction:
        """``open_job`` whose deposit comes from ``funder_token``, a token
        account of ``funder`` (a second signer); the job is ``customer``'s
        (PDA, rent, control, refunds) exactly as with ``open_job``."""
        return self._open("open_job_funded", customer, mint, {"funder": funder, "funder_token": funder_token}, job_id,
                          hours, workers, max_total, usd, accept_window, price_feed, overrides)

    def _open(self, name: str, customer: Pubkey, mint: Pubkey, source: dict[str, Pubkey], job_id: int, hours: int,
              workers: Sequence[Union[WorkerTerms, Tuple[Pubkey, int]]], max_total: int, usd: bool,
              accept_window: int, price_feed: Optional[Pubkey], overrides: Optional[dict[str, Pubkey]]) -> Instruction:
        if not 0 <= max_total <= U64_MAX:
            raise ValueError("max_total must be a u64")
        if not 0 < accept_window <= MAX_ACCEPT_WINDOW:
            raise ValueError(f"accept_window must be 1..{MAX_ACCEPT_WINDOW} seconds")
        a = self.job_addresses(mint, customer, job_id)
        accounts = {"customer": customer, "market": a.market, "mint": mint, "job": a.job, "vault": a.vault, **source}
        if usd or price_feed is not None:
            accounts["price_feed"] = price_feed or pda.price_feed_pda(self.program_id, a.market)[0]
        return self._ix(
            name,
            {"job_id": job_id, "hours": hours, "usd": usd, "accept_window": accept_window, "max_total": max_total,
             "workers": [_terms(w) for w in workers]},
            accounts, overrides,
        )

    def accept(self, *, worker: Pubkey, job: Pubkey, overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """``accept``: ``worker`` starts its booked slot of ``job``."""
        return self._ix("accept", {}, {"worker": worker, "job": job}, overrides)

    def settle(self, *, job: Pubkey, payees: Sequence[Payee],
               overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """Pays each ``(slot, worker_token)`` in ``payees`` what it is due."""
        slots, remaining = self._payees(payees)
        return self._ix("settle", {"slots": slots}, {"job": job, "vault": self.vault_address(job)},
                        overrides, remaining)

    def extend(self, *, customer: Pubkey, mint: Pubkey, job: Pubkey, customer_token: Pubkey, hours: int,
               slots: Sequence[int] = (), overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """``hours`` more for the named ``slots``, or for every slot still
        running when none is named."""
        return self._ix(
            "extend", {"hours": hours, "slots": bytes(slots)},
            {"customer": customer, "market": self.market_address(mint), "job": job,
             "vault": self.vault_address(job), "customer_token": customer_token},
            overrides,
        )

    def quit(self, *, worker: Pubkey, job: Pubkey, worker_token: Pubkey, customer_token: Pubkey,
             overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """``quit``: ``worker`` is paid what it earned into ``worker_token``, the unearned rest refunded to
        ``customer_token``."""
        return self._ix(
            "quit", {},
            {"worker": worker, "job": job, "vault": self.vault_address(job),
             "worker_token": worker_token, "customer_token": customer_token},
            overrides,
        )

    def release(self, *, customer: Pubkey, job: Pubkey, customer_token: Pubkey, slot: int,
                worker_token: Optional[Pubkey] = None, overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """Releases one slot; pays what it earned into ``worker_token`` at once
        when given (otherwise ``settle`` pays it later)."""
        remaining = [AccountMeta(worker_token, False, True)] if worker_token is not None else []
        return self._ix(
            "release", {"slot": slot},
            {"customer": customer, "job": job, "vault": self.vault_address(job), "customer_token": customer_token},
            overrides, remaining,
        )

    def end_job(self, *, customer: Pubkey, job: Pubkey, customer_token: Pubkey,
                payees: Sequence[Payee] = (), overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """``end_job``: cut every running slot, refund the unearned rest to ``customer_token`` and pay
        ``payees`` (slot, worker token account) their due in the same instruction."""
        slots, remaining = self._payees(payees)
        return self._ix(
            "end_job", {"slots": slots},
            {"customer": customer, "job": job, "vault": self.vault_address(job), "customer_token": customer_token},
            overrides, remaining,
        )

    def cancel(self, *, customer: Pubkey, job: Pubkey, customer_token: Pubkey,
               overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """``cancel``: before any worker accepted, refund everything and close the job."""
        return self._ix(
            "cancel", {},
            {"customer": customer, "job": job, "vault": self.vault_address(job), "customer_token": customer_token},
            overrides,
        )

    def close_job(self, *, customer: Pubkey, mint: Pubkey, job: Pubkey, customer_token: Pubkey,
                  overrides: Optional[dict[str, Pubkey]] = None) -> Instruction:
        """``close_job``: once nothing is owed; fees to the fee vault, the rest to ``customer_token``."""
        return self._ix(
            "close_job", {},
            {"customer": customer, "job": job, "vault": self.vault_address(job), "customer_token": customer_token,
             "market": self.market_address(mint), "fee_vault": self.fee_vault_address(mint)},
            overrides,
        )
