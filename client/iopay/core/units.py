"""Amounts and times as people type and read them.

* :func:`parse_amount` - ``"2.5"`` in UI units of a mint with ``decimals``
  -> base units, exactly (``decimal.Decimal``, never float); ``"2500000base"``
  (or ``base_units=True``) takes base units as they are. Too many decimal
  places, negatives, non-numbers and values beyond u64 raise ``ValueError``
  with a message in the units the input was written in.
* :func:`format_amount` - base units -> the shortest exact UI string.
* :func:`iso_utc`, :func:`relative`, :func:`duration` - timestamps as
  ISO-8601 UTC with a relative form ("in 41 min"), durations ("2 h 5 min").
* :func:`plural` - "1 payout", "3 payouts".
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal, InvalidOperation
from typing import Optional

U64_MAX = 2**64 - 1
BASE_SUFFIX = "base"
LAMPORTS_PER_SOL = 1_000_000_000
SOL_DECIMALS = 9


def parse_amount(text: str, decimals: int, *, base_units: bool = False, unit: str = "tokens",
                 allow_zero: bool = False) -> int:
    """``text`` -> base units (an int in 0..u64). UI units by default,
    base units with ``base_units`` or the ``base`` suffix (``2500000base``)."""
    if not isinstance(text, str):
        raise TypeError(f"amount must be a string, got {type(text).__name__}")
    if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 255:
        raise ValueError(f"decimals must be an integer in 0..255, got {decimals!r}")
    s = text.strip().replace("_", "")
    if s.lower().endswith(BASE_SUFFIX):
        s, base_units = s[: -len(BASE_SUFFIX)].strip(), True
    shown = f"{text.strip()}" + ("" if base_units or text.strip().lower().endswith(BASE_SUFFIX) else f" {unit}")
    try:
        d = Decimal(s)
    except InvalidOperation:
        raise ValueError(f"invalid amount {text.strip()!r}: expected a number"
                         + (" of base units" if base_units else f" of {unit}, e.g. 2.5 (or 2500000base)"))
    if not d.is_finite():
        raise ValueError(f"invalid amount {text.strip()!r}: expected a finite number")
    if d < 0:
        raise ValueError(f"amount must not be negative: {shown}")
    if d == 0 and not allow_zero:
        raise ValueError(f"amount must be positive: {shown}")
    if base_units:
        if d != d.to_integral_value():
            raise ValueError(f"base units are whole numbers: {text.strip()!r}")
        value = int(d)
        if value > U64_MAX:
            raise ValueError(f"amount too large: {text.strip()} base units (at most {U64_MAX})")
        return value
    scaled = d.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{shown} has more than {decimals} decimal places (the mint's decimals)")
    value = int(scaled)
    if value > U64_MAX:
        raise ValueError(f"amount too large: {shown} (at most {format_amount(U64_MAX, decimals)} {unit})")
    return value


def format_amount(amount: int, decimals: int) -> str:
    """Base units -> exact UI string (``2500000, 6`` -> ``"2.5"``)."""
    if decimals == 0:
        return str(amount)
    neg = amount < 0
    s = str(abs(amount)).rjust(decimals + 1, "0")
    out = f"{s[:-decimals]}.{s[-decimals:]}".rstrip("0").rstrip(".")
    return ("-" if neg else "") + out


def parse_sol(text: str, *, allow_zero: bool = False) -> int:
    """SOL (``"1.5"``) or lamports (``"1500000000base"``) -> lamports."""
    return parse_amount(text, SOL_DECIMALS, unit="SOL", allow_zero=allow_zero)


def format_sol(lamports: int) -> str:
    return f"{format_amount(lamports, SOL_DECIMALS)} SOL"


def iso_utc(ts: Optional[int]) -> Optional[str]:
    """Unix seconds -> ``2026-11-28T03:05:00Z``; None stays None."""
    if ts is None:
        return None
    return _dt.datetime.fromtimestamp(int(ts), tz=_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration(seconds: int) -> str:
    """Readable duration: ``45 s``, ``41 min``, ``2 h 5 min``, ``3 d 4 h``."""
    s = abs(int(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        m, r = divmod(s, 60)
        return f"{m} min" + (f" {r} s" if r else "")
    if s < 86400:
        h, r = divmod(s, 3600)
        return f"{h} h" + (f" {r // 60} min" if r // 60 else "")
    d, r = divmod(s, 86400)
    return f"{d} d" + (f" {r // 3600} h" if r // 3600 else "")


def relative(ts: int, now: int) -> str:
    """``in 41 min`` / ``41 min ago`` / ``now``."""
    delta = int(ts) - int(now)
    if delta == 0:
        return "now"
    return f"in {duration(delta)}" if delta > 0 else f"{duration(delta)} ago"


def when(ts: Optional[int], now: int) -> str:
    """``2026-11-28T03:05:00Z (in 41 min)``; ``-`` for None."""
    if ts is None:
        return "-"
    return f"{iso_utc(ts)} ({relative(ts, now)})"


def plural(n: int, word: str, many: Optional[str] = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"
