"""Amounts typed in UI units parse exactly (decimal, never float); times read well."""

from __future__ import annotations

import pytest

from iopay.core.units import (U64_MAX, duration, format_amount, iso_utc, parse_amount, parse_sol, plural, relative,
                              when)


@pytest.mark.parametrize("text,decimals,base", [
    ("2.5", 6, 2_500_000), ("0.000001", 6, 1), ("100", 0, 100), ("1_000.25", 2, 100_025),
    ("0.1", 9, 100_000_000), ("18446744073709.551615", 6, U64_MAX), ("2500000base", 6, 2_500_000),
    (" 7 ", 6, 7_000_000),
])
def test_parse_amount_exact(text: str, decimals: int, base: int) -> None:
    assert parse_amount(text, decimals) == base


def test_base_units_on_request() -> None:
    assert parse_amount("2500000", 6, base_units=True) == 2_500_000
    with pytest.raises(ValueError, match="base units are whole numbers"):
        parse_amount("2.5", 6, base_units=True)


@pytest.mark.parametrize("text,message", [
    ("-1", "must not be negative: -1 tokens"),
    ("0", "must be positive: 0 tokens"),
    ("abc", "invalid amount 'abc': expected a number of tokens"),
    ("", "invalid amount ''"),
    ("nan", "expected a finite number"),
    ("1e999", "more than 6 decimal places|too large"),
    ("0.0000001", "0.0000001 tokens has more than 6 decimal places"),
    ("18446744073709.551616", "amount too large: 18446744073709.551616 tokens"),
    (str(2**64) + "base", "amount too large"),
])
def test_bad_amounts_speak_the_input_units(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_amount(text, 6)


def test_types_are_checked() -> None:
    with pytest.raises(TypeError):
        parse_amount(2.5, 6)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        parse_amount("1", -1)


def test_format_round_trips() -> None:
    for base in (0, 1, 10, 2_500_000, 123_456_789, U64_MAX):
        for dec in (0, 1, 6, 9):
            ui = format_amount(base, dec)
            assert "e" not in ui and parse_amount(ui, dec, allow_zero=True) == base
    assert format_amount(2_500_000, 6) == "2.5" and format_amount(7_687_500, 6) == "7.6875"
    assert parse_sol("1.5") == 1_500_000_000


def test_times() -> None:
    assert iso_utc(0) == "1970-01-01T00:00:00Z" and iso_utc(None) is None
    assert duration(45) == "45 s" and duration(41 * 60) == "41 min" and duration(7500) == "2 h 5 min"
    assert duration(3 * 86400 + 4 * 3600) == "3 d 4 h"
    assert relative(1000 + 41 * 60, 1000) == "in 41 min" and relative(1000, 1000 + 90) == "1 min 30 s ago"
    assert when(3600, 0) == "1970-01-01T01:00:00Z (in 1 h)" and when(None, 0) == "-"
    assert plural(1, "payout") == "1 payout" and plural(3, "payout") == "3 payouts" and plural(0, "job") == "0 jobs"
