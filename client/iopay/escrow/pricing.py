"""GPU-hour pricing in USD and its conversion to token rates.

Prices are set per GPU per hour in USD (integer micro-USD, 6 decimals, the
unit of ``open_job(usd=True)`` rates). A :class:`PriceBook` holds the
factors the network prices by: GPU model (base rate), bandwidth tier,
location, supply/demand (utilization of that GPU model), peak hours and
committed (longer) bookings; optionally a competitor reference that caps
the result. All factors are basis-point multipliers (10_000 = x1), combined
in one product and rounded up once, so a quote does not depend on the order
of the factors and never rounds in the paying customer's favour.

A book is configuration, not truth: :data:`EXAMPLE_BOOK` has illustrative
numbers only (tests and the demo use it); deployments load their own
(:meth:`PriceBook.from_dict`, e.g. from JSON).

Conversion to the mint's base units mirrors the program exactly
(``iopay.escrow.program.check_price`` / ``usd_to_tokens``): :func:`token_rate`
gives the rate ``open_job`` will lock for a USD rate at a given oracle
price, or raises :class:`~iopay.escrow.program.PriceRejected` with the error the
program would raise (``StalePrice``, ``PriceTooUncertain``, ``InvalidPrice``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from iopay.escrow.program import BPS_DENOMINATOR, check_price, usd_to_tokens

MICRO_USD = 1_000_000
HOURS_PER_DAY = 24


class UnknownFactor(KeyError):
    """A GPU model, bandwidth tier or location the book does not price."""


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class PriceBook:
    #: GPU model -> base micro-USD per GPU-hour.
    base_usd_micro: Mapping[str, int]
    #: bandwidth tier -> multiplier bps.
    bandwidth_bps: Mapping[str, int] = field(default_factory=dict)
    #: location (region code) -> multiplier bps; missing = x1.
    location_bps: Mapping[str, int] = field(default_factory=dict)
    #: UTC hours of the day that are peak, and their multiplier.
    peak_hours_utc: frozenset = frozenset()
    peak_bps: int = BPS_DENOMINATOR
    #: (minimum booked hours, discount bps), the largest qualifying applies.
    commitment_discounts: Sequence[Tuple[int, int]] = ()
    #: (minimum utilization bps, multiplier bps) of the GPU model's fleet,
    #: the largest qualifying threshold applies (surge / slack pricing).
    utilization_curve: Sequence[Tuple[int, int]] = ()
    #: GPU model -> competitor micro-USD per hour; the quote never exceeds
    #: it minus ``undercut_bps``.
    competitor_usd_micro: Mapping[str, int] = field(default_factory=dict)
    undercut_bps: int = 0

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "PriceBook":
        """A price book from its JSON form: ``base_usd_micro`` per GPU model is required, every adjustment
        (bandwidth, location, peak, commitment, utilization, competitor; in bps) is optional."""
        return cls(
            base_usd_micro=dict(d["base_usd_micro"]),
            bandwidth_bps=dict(d.get("bandwidth_bps", {})),
            location_bps=dict(d.get("location_bps", {})),
            peak_hours_utc=frozenset(int(h) for h in d.get("peak_hours_utc", ())),
            peak_bps=int(d.get("peak_bps", BPS_DENOMINATOR)),
            commitment_discounts=tuple((int(h), int(b)) for h, b in d.get("commitment_discounts", ())),
            utilization_curve=tuple((int(u), int(b)) for u, b in d.get("utilization_curve", ())),
            competitor_usd_micro=dict(d.get("competitor_usd_micro", {})),
            undercut_bps=int(d.get("undercut_bps", 0)),
        )

    def __post_init__(self) -> None:
        for name in ("peak_bps", "undercut_bps"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.undercut_bps > BPS_DENOMINATOR:
            raise ValueError("undercut_bps must be <= 10000")
        if any(not 0 <= h < HOURS_PER_DAY for h in self.peak_hours_utc):
            raise ValueError("peak hours are 0..23")
        if any(not 0 <= b <= BPS_DENOMINATOR for _, b in self.commitment_discounts):
            raise ValueError("commitment discounts are 0..10000 bps")
        if any(v <= 0 for v in self.base_usd_micro.values()):
            raise ValueError("base rates must be positive")


@dataclass(frozen=True)
class GpuRequest:
    gpu: str
    bandwidth: Optional[str] = None
    location: Optional[str] = None


@dataclass(frozen=True)
class Quote:
    """One GPU's hourly rate in micro-USD and how it was reached."""

    usd_micro_per_hour: int
    base: int
    factors_bps: Dict[str, int]
    capped: bool

    @property
    def usd_per_hour(self) -> str:
        """The hourly USD rate as a decimal string (``"2.500000"``)."""
        return f"{self.usd_micro_per_hour // MICRO_USD}.{self.usd_micro_per_hour % MICRO_USD:06d}"


def peak_fraction_bps(peak_hours_utc: frozenset, start_hour_utc: int, hours: int) -> int:
    """Share of the booked hours that fall in peak hours, in bps (rounded up)."""
    if hours <= 0 or not peak_hours_utc:
        return 0
    n = sum(1 for k in range(hours) if (start_hour_utc + k) % HOURS_PER_DAY in peak_hours_utc)
    return _ceil_div(n * BPS_DENOMINATOR, hours)


def _pick(table: Sequence[Tuple[int, int]], x: int, default: int) -> int:
    best: Optional[Tuple[int, int]] = None
    for threshold, value in table:
        if x >= threshold and (best is None or threshold > best[0]):
            best = (threshold, value)
    return default if best is None else best[1]


def quote(book: PriceBook, req: GpuRequest, *, hours: int, start_hour_utc: int = 0,
          utilization_bps: int = 0) -> Quote:
    """The micro-USD hourly rate of one GPU booked for ``hours`` hours
    starting at ``start_hour_utc``, with the fleet of that model
    ``utilization_bps`` rented."""
    if hours <= 0:
        raise ValueError("hours must be > 0")
    if req.gpu not in book.base_usd_micro:
        raise UnknownFactor(f"GPU model {req.gpu!r}")
    base = book.base_usd_micro[req.gpu]
    factors: Dict[str, int] = {}
    if req.bandwidth is not None:
        if req.bandwidth not in book.bandwidth_bps:
            raise UnknownFactor(f"bandwidth tier {req.bandwidth!r}")
        factors["bandwidth"] = book.bandwidth_bps[req.bandwidth]
    if req.location is not None:
        factors["location"] = book.location_bps.get(req.location, BPS_DENOMINATOR)
    share = peak_fraction_bps(book.peak_hours_utc, start_hour_utc, hours)
    # Blend: peak share at peak_bps, the rest at x1 (rounded up).
    factors["peak"] = _ceil_div(share * book.peak_bps + (BPS_DENOMINATOR - share) * BPS_DENOMINATOR,
                                BPS_DENOMINATOR)
    factors["utilization"] = _pick(book.utilization_curve, utilization_bps, BPS_DENOMINATOR)
    factors["commitment"] = BPS_DENOMINATOR - _pick(book.commitment_discounts, hours, 0)
    num = base
    for v in factors.values():
        num *= v
    rate = _ceil_div(num, BPS_DENOMINATOR ** len(factors))
    capped = False
    ref = book.competitor_usd_micro.get(req.gpu)
    if ref is not None:
        cap = ref * (BPS_DENOMINATOR - book.undercut_bps) // BPS_DENOMINATOR
        if 0 < cap < rate:
            rate, capped = cap, True
    return Quote(max(rate, 1), base, factors, capped)


def quote_cluster(book: PriceBook, reqs: Sequence[GpuRequest], *, hours: int, start_hour_utc: int = 0,
                  utilization_bps: Optional[Mapping[str, int]] = None) -> List[Quote]:
    """One quote per requested GPU (a cluster = one job, one worker each)."""
    util = utilization_bps or {}
    return [quote(book, r, hours=hours, start_hour_utc=start_hour_utc, utilization_bps=util.get(r.gpu, 0))
            for r in reqs]


def token_rate(usd_micro_per_hour: int, *, price: int, conf: int, expo: int, publish_time: int, now_ts: int,
               decimals: int, max_staleness: int, max_conf_bps: int) -> int:
    """Base units per hour ``open_job(usd=True)`` locks for this USD rate at
    this oracle state: refused exactly as the program refuses, rounded up
    exactly as the program rounds."""
    check_price(price, conf, expo, publish_time, now_ts, max_staleness, max_conf_bps)
    return usd_to_tokens(usd_micro_per_hour, price, expo, decimals)


#: Illustrative numbers only (not io.net's prices): used by tests and the demo.
EXAMPLE_BOOK = PriceBook(
    base_usd_micro={"A100-80G": 1_500_000, "H100-80G": 2_490_000, "RTX4090": 400_000, "RTX3090": 250_000},
    bandwidth_bps={"low": 9_500, "medium": 10_000, "high": 10_500, "ultra": 11_000},
    location_bps={"US": 10_000, "EU": 10_200, "ASIA": 9_800},
    peak_hours_utc=frozenset(range(14, 22)),
    peak_bps=11_500,
    commitment_discounts=((24, 500), (168, 1_000), (720, 2_000)),
    utilization_curve=((0, 9_000), (5_000, 10_000), (8_000, 11_000), (9_500, 12_500)),
    competitor_usd_micro={"H100-80G": 2_990_000, "A100-80G": 1_890_000},
    undercut_bps=1_000,
)
