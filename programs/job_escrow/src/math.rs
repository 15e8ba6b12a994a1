//! Pure money math. Integer only: u64 amounts, u128 intermediates, checked.
//!
//! Fee model: the protocol fee is charged to the customer *on top of* the
//! workers' pay. Per worker slot, the fee owed after `h` paid hours is
//! `fee_for(rate * h)` with `fee_for(x) = ceil(x * fee_bps / 10_000)`, i.e.
//! rounding goes against the customer (the caller paying), never in their
//! favour. Settlements pay the *difference* of that cumulative function, so
//! the fee shares paid over a job's life add up exactly to the fee locked at
//! open, whatever the settlement pattern (no dust, nothing paid twice).
//! Workers' pay is `rate * hours`: exact, no rounding.
//!
//! Every movement of a slot's money (open, extend, settle, quit, end) is the
//! cost of a span of hours `lo..hi` of that slot, [`span_cost`]: pay
//! `rate * (hi - lo)` and fee `fee(rate*hi) - fee(rate*lo)`. Because the fee
//! is a difference of one cumulative function, any sequence of spans that
//! covers `0..hours` adds up to exactly the amount locked, which is what
//! makes the vault balance equal to [`slot_outstanding`] summed over slots.
use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::state::{BPS_DENOMINATOR, MAX_ABS_EXPO, SECONDS_PER_HOUR, USD_DECIMALS};

/// `ceil(amount * fee_bps / 10_000)`. Never exceeds `amount` for valid bps.
pub fn fee_for(amount: u64, fee_bps: u16) -> Result<u64> {
    require!(fee_bps <= BPS_DENOMINATOR, EscrowError::InvalidFee);
    // Fast path in u64 (SBPF has no native 128-bit division): exact whenever
    // `amount * 10_000` fits, which covers every realistic amount.
    if amount <= u64::MAX / BPS_DENOMINATOR as u64 {
        let den = BPS_DENOMINATOR as u64;
        return Ok((amount * fee_bps as u64).div_ceil(den));
    }
    let num = (amount as u128)
        .checked_mul(fee_bps as u128)
        .ok_or(EscrowError::MathOverflow)?;
    let den = BPS_DENOMINATOR as u128;
    let fee = num
        .checked_add(den - 1)
        .ok_or(EscrowError::MathOverflow)?
        / den;
    u64::try_from(fee).map_err(|_| error!(EscrowError::MathOverflow))
}

/// Pay for one worker over `hours` hours.
pub fn pay_for(rate_per_hour: u64, hours: u32) -> Result<u64> {
    // u64 only: SBPF has no 128-bit multiply (a checked u128 product costs
    // about 300 units, as does a 64-bit division by a variable). The rate in
    // two 32-bit halves times a 32-bit `hours` gives two exact u64 products;
    // the result fits iff the high one is below 2^32 and the sum does not
    // overflow: the same overflow the 128-bit product would report.
    let h = hours as u64;
    let lo = (rate_per_hour & 0xFFFF_FFFF) * h;
    let hi = (rate_per_hour >> 32) * h;
    if hi >> 32 != 0 {
        return err!(EscrowError::MathOverflow);
    }
    (hi << 32).checked_add(lo).ok_or_else(|| error!(EscrowError::MathOverflow))
}

/// `(pay, fee)` of hours `lo..hi` of one slot: `rate * (hi - lo)` and
/// `fee(rate*hi) - fee(rate*lo)`. `lo <= hi` is required.
pub fn span_cost(rate_per_hour: u64, fee_bps: u16, lo: u32, hi: u32) -> Result<(u64, u64)> {
    require!(lo <= hi, EscrowError::MathOverflow);
    amount_span(pay_for(rate_per_hour, lo)?, pay_for(rate_per_hour, hi)?, fee_bps)
}

/// `(pay, fee)` between two points of a slot's cumulative pay `lo <= hi`:
/// `hi - lo` and `fee(hi) - fee(lo)`. Every movement of a slot's money is
/// one of these, so any sequence of them covering `0..booked` adds up to
/// exactly what was locked, fee included.
pub fn amount_span(lo: u64, hi: u64, fee_bps: u16) -> Result<(u64, u64)> {
    let pay = hi.checked_sub(lo).ok_or(EscrowError::MathOverflow)?;
    let fee = fee_for(hi, fee_bps)?
        .checked_sub(fee_for(lo, fee_bps)?)
        .ok_or(EscrowError::MathOverflow)?;
    Ok((pay, fee))
}

/// A slot's cumulative pay after `hours` whole hours plus `tail` (the pay of
/// a final partial hour).
pub fn cumulative_pay(rate_per_hour: u64, hours: u32, tail: u64) -> Result<u64> {
    pay_for(rate_per_hour, hours)?.checked_add(tail).ok_or_else(|| error!(EscrowError::MathOverflow))
}

/// Pay for `secs` seconds (< 1 hour) of an hour at `rate_per_hour`:
/// `rate * secs / 3600`, rounded up when `round_up` (the worker did not cut
/// the booking: rounding favours it) and down otherwise (the worker quit:
/// rounding favours the customer). Never more than `rate_per_hour`.
pub fn tail_pay(rate_per_hour: u64, secs: u16, round_up: bool) -> u64 {
    let num = rate_per_hour as u128 * secs as u128;
    let den = SECONDS_PER_HOUR as u128;
    let q = if round_up { num.div_ceil(den) } else { num / den };
    q as u64 // <= rate_per_hour because secs < 3600
}

/// Where a running slot's booking is cut at `now_ts` (quit, release, end):
/// `Some((hours, tail_secs))`, or `None` when the whole booking is already
/// earned (nothing to cut). Never below `hours_paid`, whatever the clock
/// says: a clock before `start_ts + hours_paid` hours cuts to exactly
/// `hours_paid` with no tail.
pub fn cut_point(start_ts: i64, now_ts: i64, booked: u32, hours_paid: u32) -> Option<(u32, u16)> {
    let secs = (now_ts as i128 - start_ts as i128).max(0) as u64; // < 2^64
    let whole = u32::try_from(secs / SECONDS_PER_HOUR as u64).unwrap_or(u32::MAX);
    if whole >= booked {
        return None;
    }
    if whole < hours_paid {
        return Some((hours_paid, 0));
    }
    Some((whole, (secs % SECONDS_PER_HOUR as u64) as u16))
}

/// Running `(principal, fee)` total with overflow checks; the total
/// `principal + fee` (what is transferred) must fit in u64 too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub principal: u64,
    pub fee: u64,
}

impl Totals {
    pub fn add(&mut self, (pay, fee): (u64, u64)) -> Result<()> {
        self.principal = self.principal.checked_add(pay).ok_or(EscrowError::MathOverflow)?;
        self.fee = self.fee.checked_add(fee).ok_or(EscrowError::MathOverflow)?;
        self.total()?;
        Ok(())
    }

    pub fn total(&self) -> Result<u64> {
        self.principal.checked_add(self.fee).ok_or_else(|| error!(EscrowError::MathOverflow))
    }
}

/// What a customer locks at open: `(principal, fee)` for one slot per rate,
/// each booked `hours`. The fee is computed per slot so that per-slot
/// settlements add up exactly. `principal + fee` fits in u64.
pub fn booking_cost(rates: impl IntoIterator<Item = u64>, hours: u32, fee_bps: u16) -> Result<(u64, u64)> {
    let mut t = Totals::default();
    for rate in rates {
        t.add(span_cost(rate, fee_bps, 0, hours)?)?;
    }
    Ok((t.principal, t.fee))
}

/// Whole hours elapsed since `start_ts` (floor: an hour in progress is not
/// earned). A clock before the start counts as zero.
pub fn elapsed_hours(start_ts: i64, now_ts: i64) -> u32 {
    if now_ts <= start_ts {
        return 0;
    }
    // i128 so that even extreme timestamps cannot overflow the subtraction;
    // the difference of two i64 is below 2^64, so the division is a u64 one.
    let secs = (now_ts as i128 - start_ts as i128) as u64;
    u32::try_from(secs / SECONDS_PER_HOUR as u64).unwrap_or(u32::MAX)
}

/// Hours that can be paid now: elapsed hours capped at the booking, minus
/// what was already paid. Never negative, so a replayed settlement pays 0.
pub fn hours_due(elapsed: u32, booked: u32, paid: u32) -> u32 {
    elapsed.min(booked).saturating_sub(paid)
}

/// Whole hours a slot has earned at `now_ts`: elapsed since its start,
/// capped at its booking. A slot that never started earns nothing.
pub fn earned_hours(start_ts: i64, started: bool, now_ts: i64, booked: u32) -> u32 {
    if !started {
        return 0;
    }
    elapsed_hours(start_ts, now_ts).min(booked)
}

/// `(worker_amount, fee)` for paying `hours` more hours to a slot that
/// already received `paid_before` hours.
pub fn settlement(rate_per_hour: u64, fee_bps: u16, paid_before: u32, hours: u32) -> Result<(u64, u64)> {
    let paid_after = paid_before.checked_add(hours).ok_or(EscrowError::MathOverflow)?;
    span_cost(rate_per_hour, fee_bps, paid_before, paid_after)
}

/// What one slot still holds in the vault: `(unpaid pay, unpaid fee)`.
pub fn slot_outstanding(rate_per_hour: u64, fee_bps: u16, booked: u32, paid: u32) -> Result<(u64, u64)> {
    span_cost(rate_per_hour, fee_bps, paid, booked)
}

// -- oracle ---------------------------------------------------------------------

/// Refuses a price the market must not use at `now_ts`: not positive or with
/// an exponent out of range (`InvalidPrice`), published more than
/// `max_staleness` seconds ago (`StalePrice`), or with `conf / price` above
/// `max_conf_bps` (`PriceTooUncertain`). A publish time slightly ahead of the
/// clock counts as fresh (set_price refuses future times).
pub fn check_price(
    price: i64,
    conf: u64,
    expo: i32,
    publish_time: i64,
    now_ts: i64,
    max_staleness: u32,
    max_conf_bps: u16,
) -> Result<()> {
    require!(price > 0 && (-MAX_ABS_EXPO..=MAX_ABS_EXPO).contains(&expo), EscrowError::InvalidPrice);
    let age = (now_ts as i128) - (publish_time as i128);
    require!(age <= max_staleness as i128, EscrowError::StalePrice);
    // conf / price <= max_conf_bps / 10_000, cross-multiplied in u128.
    let lhs = (conf as u128) * (BPS_DENOMINATOR as u128);
    let rhs = (price as u128) * (max_conf_bps as u128);
    require!(lhs <= rhs, EscrowError::PriceTooUncertain);
    Ok(())
}

/// Base units of a mint with `decimals` worth `usd_micro` micro-USD when one
/// whole token is worth `price * 10^expo` USD:
/// `ceil(usd_micro * 10^(decimals - 6 - expo) / price)`. Rounded up: the
/// customer paying never gets a fraction of a base unit for free.
pub fn usd_to_tokens(usd_micro: u64, price: i64, expo: i32, decimals: u8) -> Result<u64> {
    require!(price > 0 && (-MAX_ABS_EXPO..=MAX_ABS_EXPO).contains(&expo), EscrowError::InvalidPrice);
    let e = decimals as i32 - USD_DECIMALS as i32 - expo;
    let pow = |n: i32| 10u128.checked_pow(n as u32).ok_or_else(|| error!(EscrowError::MathOverflow));
    let (num, den) = if e >= 0 {
        ((usd_micro as u128).checked_mul(pow(e)?).ok_or(EscrowError::MathOverflow)?, price as u128)
    } else {
        (usd_micro as u128, (price as u128).checked_mul(pow(-e)?).ok_or(EscrowError::MathOverflow)?)
    };
    let q = num.div_ceil(den);
    u64::try_from(q).map_err(|_| error!(EscrowError::MathOverflow))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_overflow<T: std::fmt::Debug>(r: Result<T>) -> bool {
        r.unwrap_err() == error!(EscrowError::MathOverflow)
    }

    #[test]
    fn fee_rounds_up_against_the_customer() {
        assert_eq!(fee_for(0, 250).unwrap(), 0);
        assert_eq!(fee_for(1, 1).unwrap(), 1); // 0.0001 -> 1
        assert_eq!(fee_for(10_000, 1).unwrap(), 1); // exact
        assert_eq!(fee_for(10_001, 1).unwrap(), 2); // 1.0001 -> 2
        assert_eq!(fee_for(999, 250).unwrap(), 25); // 24.975 -> 25
        assert_eq!(fee_for(1_000, 250).unwrap(), 25); // exact
    }

    #[test]
    fn fee_fast_path_matches_u128() {
        let edge = u64::MAX / 10_000;
        for amount in [0, 1, 9_999, 10_001, edge - 1, edge, edge + 1, u64::MAX / 2, u64::MAX] {
            for bps in [0u16, 1, 250, 9_999, 10_000] {
                let exact = (amount as u128 * bps as u128).div_ceil(10_000) as u64;
                assert_eq!(fee_for(amount, bps).unwrap(), exact, "{amount} {bps}");
            }
        }
    }

    #[test]
    fn fee_bounds() {
        assert_eq!(fee_for(12_345, 0).unwrap(), 0);
        assert_eq!(fee_for(12_345, 10_000).unwrap(), 12_345);
        assert_eq!(fee_for(u64::MAX, 10_000).unwrap(), u64::MAX);
        assert_eq!(fee_for(u64::MAX, 9_999).unwrap(), (u64::MAX as u128 * 9_999).div_ceil(10_000) as u64);
        assert_eq!(fee_for(1, 10_001).unwrap_err(), error!(EscrowError::InvalidFee));
    }

    #[test]
    fn pay_and_overflow() {
        assert_eq!(pay_for(7, 3).unwrap(), 21);
        assert_eq!(pay_for(u64::MAX, 1).unwrap(), u64::MAX);
        assert!(is_overflow(pay_for(u64::MAX, 2)));
        assert!(is_overflow(pay_for(u64::MAX / 2 + 1, 2)));
        assert_eq!(pay_for(u64::MAX / 3, 3).unwrap(), u64::MAX / 3 * 3);
        assert_eq!(pay_for(u64::MAX, 0).unwrap(), 0);
        assert!(is_overflow(pay_for(u64::MAX / 3 + 1, 3)));
        // Same as the 128-bit product, everywhere near the boundary.
        for hours in [1u32, 2, 3, 7, 3_600, 87_600, 1 << 31, u32::MAX - 1, u32::MAX] {
            let edge = u64::MAX / hours as u64;
            for rate in [edge - 1, edge, edge.saturating_add(1), 0, 1, u64::MAX, 1 << 32, (1 << 32) - 1, edge | 0xFFFF_FFFF] {
                let wide = u64::try_from(rate as u128 * hours as u128).ok();
                assert_eq!(pay_for(rate, hours).ok(), wide, "{rate} x {hours}");
            }
        }
    }

    #[test]
    fn booking_cost_totals() {
        // 1.5 IO/h (6 decimals) for 10 h, 2.5% fee.
        assert_eq!(booking_cost([1_500_000], 10, 250).unwrap(), (15_000_000, 375_000));
        // Fee is per slot, rounded up per slot.
        assert_eq!(booking_cost([1, 1, 1], 1, 1).unwrap(), (3, 3));
        assert_eq!(booking_cost([5], 0, 250).unwrap(), (0, 0));
        // Different rates per worker.
        assert_eq!(booking_cost([100, 200, 333], 3, 100).unwrap(), (1_899, 3 + 6 + 10));
    }

    #[test]
    fn booking_cost_overflow_includes_fee() {
        // Principal fits exactly, the fee pushes the total over u64.
        assert!(is_overflow(booking_cost([u64::MAX], 1, 1)));
        assert_eq!(booking_cost([u64::MAX], 1, 0).unwrap(), (u64::MAX, 0));
        assert!(is_overflow(booking_cost([u64::MAX / 2 + 1, u64::MAX / 2 + 1], 1, 0)));
        assert!(is_overflow(booking_cost([u64::MAX], u32::MAX, 0)));
        // Each part fits, the sum does not.
        assert!(is_overflow(booking_cost([u64::MAX / 2, u64::MAX / 2], 1, 10)));
    }

    #[test]
    fn span_cost_telescopes() {
        let (rate, bps) = (333_333u64, 175u16);
        // open 0..4, extend 4..9, quit at 6 (refund 6..9), settled 0..2, 2..6.
        let open = span_cost(rate, bps, 0, 4).unwrap();
        let ext = span_cost(rate, bps, 4, 9).unwrap();
        let refund = span_cost(rate, bps, 6, 9).unwrap();
        let s1 = span_cost(rate, bps, 0, 2).unwrap();
        let s2 = span_cost(rate, bps, 2, 6).unwrap();
        assert_eq!(open.0 + ext.0, refund.0 + s1.0 + s2.0);
        assert_eq!(open.1 + ext.1, refund.1 + s1.1 + s2.1);
        assert!(is_overflow(span_cost(rate, bps, 3, 2)));
        assert_eq!(span_cost(rate, bps, 5, 5).unwrap(), (0, 0));
    }

    #[test]
    fn earned_hours_needs_a_start() {
        assert_eq!(earned_hours(1_000, false, 1_000 + 10 * 3_600, 5), 0);
        assert_eq!(earned_hours(1_000, true, 1_000 + 2 * 3_600 + 5, 5), 2);
        assert_eq!(earned_hours(1_000, true, 1_000 + 10 * 3_600, 5), 5);
        assert_eq!(earned_hours(0, true, 3_600, 5), 1); // a start at ts 0 still counts
    }

    #[test]
    fn price_checks() {
        let now = 1_700_000_000;
        // 0.25 USD, conf 0.0025 (1%), 60 s old; market allows 120 s, 1%.
        assert!(check_price(25_000_000, 250_000, -8, now - 60, now, 120, 100).is_ok());
        assert!(check_price(25_000_000, 250_000, -8, now - 120, now, 120, 100).is_ok());
        assert_eq!(check_price(25_000_000, 250_000, -8, now - 121, now, 120, 100).unwrap_err(),
                   error!(EscrowError::StalePrice));
        assert_eq!(check_price(25_000_000, 250_001, -8, now, now, 120, 100).unwrap_err(),
                   error!(EscrowError::PriceTooUncertain));
        assert_eq!(check_price(0, 0, -8, now, now, 120, 100).unwrap_err(), error!(EscrowError::InvalidPrice));
        assert_eq!(check_price(-5, 0, -8, now, now, 120, 100).unwrap_err(), error!(EscrowError::InvalidPrice));
        assert_eq!(check_price(5, 0, -19, now, now, 120, 100).unwrap_err(), error!(EscrowError::InvalidPrice));
        // Extremes do not overflow.
        assert!(check_price(i64::MAX, u64::MAX, 0, i64::MIN, i64::MAX, u32::MAX, 10_000).is_err());
        assert!(check_price(i64::MAX, u64::MAX, 0, now, now, 0, 10_000).is_err());
    }

    #[test]
    fn usd_conversion_rounds_up() {
        // IO at 0.25 USD (price 25_000_000, expo -8), 6 decimals:
        // 2 USD/h = 2_000_000 micro-USD -> 8 IO = 8_000_000 base units.
        assert_eq!(usd_to_tokens(2_000_000, 25_000_000, -8, 6).unwrap(), 8_000_000);
        // 1 micro-USD at 0.3 USD/IO = 3.33.. base units -> 4.
        assert_eq!(usd_to_tokens(1, 30_000_000, -8, 6).unwrap(), 4);
        // 9 decimals, price 3 (expo 0 = 3 USD/IO): 1 USD -> 0.333.. IO -> ceil.
        assert_eq!(usd_to_tokens(1_000_000, 3, 0, 9).unwrap(), 333_333_334);
        // Negative net exponent: 0 decimals, price 2 USD (expo 0): 1 USD -> 1 token (0.5 up).
        assert_eq!(usd_to_tokens(1_000_000, 2, 0, 0).unwrap(), 1);
        assert_eq!(usd_to_tokens(0, 2, 0, 0).unwrap(), 0);
        // Positive expo: price 5 * 10^2 = 500 USD per token, 6 decimals: 1 USD = 2_000 base units.
        assert_eq!(usd_to_tokens(1_000_000, 5, 2, 6).unwrap(), 2_000);
        assert!(is_overflow(usd_to_tokens(u64::MAX, 1, -18, 18)));
        assert_eq!(usd_to_tokens(1, 0, -8, 6).unwrap_err(), error!(EscrowError::InvalidPrice));
        assert_eq!(usd_to_tokens(1, 1, 19, 6).unwrap_err(), error!(EscrowError::InvalidPrice));
    }

    #[test]
    fn elapsed_hours_floor_and_clock_skew() {
        assert_eq!(elapsed_hours(1_000, 1_000), 0);
        assert_eq!(elapsed_hours(1_000, 999), 0);
        assert_eq!(elapsed_hours(1_000, 1_000 + 3_599), 0);
        assert_eq!(elapsed_hours(1_000, 1_000 + 3_600), 1);
        assert_eq!(elapsed_hours(1_000, 1_000 + 7_199), 1);
        assert_eq!(elapsed_hours(i64::MIN, i64::MAX), u32::MAX);
        assert_eq!(elapsed_hours(i64::MAX, i64::MIN), 0);
    }

    #[test]
    fn hours_due_is_capped_and_idempotent() {
        assert_eq!(hours_due(0, 10, 0), 0);
        assert_eq!(hours_due(3, 10, 0), 3);
        assert_eq!(hours_due(3, 10, 3), 0); // replay pays nothing
        assert_eq!(hours_due(50, 10, 4), 6); // capped at booking
        assert_eq!(hours_due(50, 10, 10), 0);
        assert_eq!(hours_due(2, 10, 5), 0); // never negative
    }

    #[test]
    fn settlement_fee_shares_sum_to_locked_fee() {
        let (rate, bps, booked) = (333_333u64, 175u16, 7u32);
        let (_, locked_fee) = booking_cost([rate], booked, bps).unwrap();
        // Any settlement pattern pays exactly the locked fee and principal.
        for pattern in [vec![1u32; 7], vec![7], vec![2, 3, 2], vec![6, 1]] {
            let (mut paid, mut pay_sum, mut fee_sum) = (0u32, 0u64, 0u64);
            for h in pattern {
                let (a, f) = settlement(rate, bps, paid, h).unwrap();
                paid += h;
                pay_sum += a;
                fee_sum += f;
            }
            assert_eq!(pay_sum, rate * booked as u64);
            assert_eq!(fee_sum, locked_fee);
        }
    }

    #[test]
    fn tail_pay_rounds_against_the_cutter() {
        assert_eq!(tail_pay(3_600, 1, true), 1);
        assert_eq!(tail_pay(3_600, 1, false), 1);
        assert_eq!(tail_pay(1_000, 1, true), 1); // 0.277.. -> 1 for the worker
        assert_eq!(tail_pay(1_000, 1, false), 0); // -> 0 when the worker quit
        assert_eq!(tail_pay(1_000, 3_599, true), 1_000);
        assert_eq!(tail_pay(1_000, 3_599, false), 999);
        assert_eq!(tail_pay(1_000, 0, true), 0);
        assert_eq!(tail_pay(7_200, 1_800, false), 3_600);
        // Rates near u64::MAX never overflow nor exceed the rate.
        assert_eq!(tail_pay(u64::MAX, 3_599, true), (u64::MAX as u128 * 3_599).div_ceil(3_600) as u64);
        assert!(tail_pay(u64::MAX, 3_599, true) < u64::MAX);
        assert_eq!(tail_pay(u64::MAX, 0, false), 0);
    }

    #[test]
    fn cut_point_never_below_paid() {
        // Mid-hour: whole hours and the seconds of the started one.
        assert_eq!(cut_point(100, 100 + 2 * 3_600 + 59, 5, 0), Some((2, 59)));
        assert_eq!(cut_point(100, 100 + 2 * 3_600 + 59, 5, 2), Some((2, 59)));
        assert_eq!(cut_point(100, 100 + 3_599, 5, 0), Some((0, 3_599)));
        assert_eq!(cut_point(100, 100 + 3_600, 5, 0), Some((1, 0)));
        // Booking fully earned: nothing to cut.
        assert_eq!(cut_point(100, 100 + 5 * 3_600, 5, 0), None);
        assert_eq!(cut_point(100, i64::MAX, 5, 5), None);
        // Clock moved back behind what was paid: cut to exactly what was paid.
        assert_eq!(cut_point(100, 100 + 3_600 + 10, 5, 3), Some((3, 0)));
        assert_eq!(cut_point(100, 50, 5, 2), Some((2, 0)));
        assert_eq!(cut_point(100, 50, 5, 0), Some((0, 0)));
        assert_eq!(cut_point(i64::MAX, i64::MIN, 5, 1), Some((1, 0)));
    }

    #[test]
    fn amount_spans_telescope_with_tails() {
        let (rate, bps) = (u64::MAX / 7, 9_999u16);
        let booked = cumulative_pay(rate, 7, 0).unwrap();
        let cut = cumulative_pay(rate, 3, tail_pay(rate, 1_801, true)).unwrap();
        let paid = cumulative_pay(rate, 2, 0).unwrap();
        let (lock_pay, lock_fee) = amount_span(0, booked, bps).unwrap();
        let parts = [amount_span(0, paid, bps).unwrap(), amount_span(paid, cut, bps).unwrap(),
                     amount_span(cut, booked, bps).unwrap()];
        assert_eq!(parts.iter().map(|p| p.0 as u128).sum::<u128>(), lock_pay as u128);
        assert_eq!(parts.iter().map(|p| p.1 as u128).sum::<u128>(), lock_fee as u128);
        assert!(is_overflow(amount_span(2, 1, bps)));
    }

    #[test]
    fn settlement_zero_hours_is_zero() {
        assert_eq!(settlement(100, 250, 3, 0).unwrap(), (0, 0));
        assert!(is_overflow(settlement(1, 0, u32::MAX, 1)));
    }

    #[test]
    fn outstanding_plus_paid_is_conserved() {
        let (rate, bps, booked) = (999u64, 333u16, 9u32);
        let (principal, fee) = booking_cost([rate], booked, bps).unwrap();
        for paid in 0..=booked {
            let (_, fee_paid) = settlement(rate, bps, 0, paid).unwrap();
            let (pay_left, fee_left) = slot_outstanding(rate, bps, booked, paid).unwrap();
            assert_eq!(pay_left + pay_for(rate, paid).unwrap(), principal);
            assert_eq!(fee_left + fee_paid, fee);
        }
        assert!(slot_outstanding(rate, bps, 1, 2).is_err());
    }
}
