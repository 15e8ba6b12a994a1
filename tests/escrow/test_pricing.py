"""iopay.escrow.pricing: USD GPU-hour quotes from the pricing factors, and their
conversion to token rates exactly as the program converts them."""

from __future__ import annotations

import pytest

from iopay.escrow.program import PriceRejected, usd_to_tokens
from iopay.escrow.pricing import (EXAMPLE_BOOK, GpuRequest, PriceBook, UnknownFactor, peak_fraction_bps, quote,
                           quote_cluster, token_rate)

BOOK = PriceBook(
    base_usd_micro={"A": 1_000_000, "B": 333_333},
    bandwidth_bps={"low": 9_000, "high": 11_000},
    location_bps={"EU": 10_500},
    peak_hours_utc=frozenset({18, 19}),
    peak_bps=12_000,
    commitment_discounts=((24, 500), (168, 1_000)),
    utilization_curve=((0, 9_000), (5_000, 10_000), (9_000, 13_000)),
    competitor_usd_micro={"A": 1_400_000},
    undercut_bps=1_000,
)


def test_base_rate_with_neutral_factors() -> None:
    q = quote(BOOK, GpuRequest("A"), hours=1, start_hour_utc=3, utilization_bps=5_000)
    assert q.usd_micro_per_hour == 1_000_000 and q.usd_per_hour == "1.000000" and not q.capped


def test_factors_multiply_once_and_round_up() -> None:
    q = quote(BOOK, GpuRequest("B", "high", "EU"), hours=2, start_hour_utc=19, utilization_bps=9_500)
    # peak: 1 of 2 hours -> share 5000 bps -> (5000*12000 + 5000*10000)/10000 = 11000.
    assert q.factors_bps == {"bandwidth": 11_000, "location": 10_500, "peak": 11_000, "utilization": 13_000,
                             "commitment": 10_000}
    exact = 333_333 * 11_000 * 10_500 * 11_000 * 13_000 * 10_000
    assert q.usd_micro_per_hour == -(-exact // 10_000**5)


def test_commitment_discount_slack_and_location_default() -> None:
    week = quote(BOOK, GpuRequest("B", location="ASIA"), hours=200, utilization_bps=0)
    assert week.factors_bps["commitment"] == 9_000 and week.factors_bps["location"] == 10_000
    assert week.factors_bps["utilization"] == 9_000
    day = quote(BOOK, GpuRequest("B"), hours=24, utilization_bps=6_000)
    assert day.factors_bps["commitment"] == 9_500


def test_competitor_cap() -> None:
    q = quote(BOOK, GpuRequest("A", "high"), hours=1, start_hour_utc=18, utilization_bps=9_999)
    assert q.capped and q.usd_micro_per_hour == 1_260_000  # 1.4 USD - 10%


def test_peak_fraction_wraps_midnight() -> None:
    assert peak_fraction_bps(frozenset({23, 0}), 22, 4) == 5_000
    assert peak_fraction_bps(frozenset({1}), 0, 3) == 3_334  # rounded up
    assert peak_fraction_bps(frozenset(), 0, 3) == 0


def test_errors_and_validation() -> None:
    with pytest.raises(UnknownFactor):
        quote(BOOK, GpuRequest("Z"), hours=1)
    with pytest.raises(UnknownFactor):
        quote(BOOK, GpuRequest("A", "ultra"), hours=1)
    with pytest.raises(ValueError):
        quote(BOOK, GpuRequest("A"), hours=0)
    with pytest.raises(ValueError):
        PriceBook(base_usd_micro={"A": 0})
    with pytest.raises(ValueError):
        PriceBook(base_usd_micro={"A": 1}, peak_hours_utc=frozenset({24}))


def test_from_dict_and_cluster() -> None:
    book = PriceBook.from_dict({"base_usd_micro": {"A": 2_000_000}, "peak_hours_utc": [1], "peak_bps": 15_000,
                                "commitment_discounts": [[10, 1_000]]})
    qs = quote_cluster(book, [GpuRequest("A")] * 3, hours=10, start_hour_utc=0)
    assert [q.usd_micro_per_hour for q in qs] == [1_890_000] * 3  # x1.05 peak blend, -10%
    assert quote_cluster(EXAMPLE_BOOK, [GpuRequest("H100-80G", "high", "EU")], hours=24,
                         utilization_bps={"H100-80G": 8_500})[0].capped


def test_token_rate_mirrors_the_program() -> None:
    now = 1_700_000_000
    kw = dict(price=25_000_000, conf=100_000, expo=-8, publish_time=now - 30, now_ts=now, decimals=6,
              max_staleness=60, max_conf_bps=100)
    assert token_rate(2_000_000, **kw) == 8_000_000 == usd_to_tokens(2_000_000, 25_000_000, -8, 6)
    assert token_rate(1, **kw) == 4  # 1 micro-USD = 4 base units at 0.25 USD: rounded up
    with pytest.raises(PriceRejected) as e:
        token_rate(1, **{**kw, "publish_time": now - 61})
    assert e.value.name == "StalePrice"
    with pytest.raises(PriceRejected) as e:
        token_rate(1, **{**kw, "conf": 250_001})
    assert e.value.name == "PriceTooUncertain"
    with pytest.raises(PriceRejected) as e:
        token_rate(1, **{**kw, "price": 0})
    assert e.value.name == "InvalidPrice"
