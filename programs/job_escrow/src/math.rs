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
use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::state::{BPS_DENOMINATOR, SECONDS_PER_HOUR};

/// `ceil(amount * fee_bps / 10_000)`. Never exceeds `amount` for valid bps.
pub fn fee_for(amount: u64, fee_bps: u16) -> Result<u64> {
    require!(fee_bps <= BPS_DENOMINATOR, EscrowError::InvalidFee);
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
    let pay = (rate_per_hour as u128)
        .checked_mul(hours as u128)
        .ok_or(EscrowError::MathOverflow)?;
    u64::try_from(pay).map_err(|_| error!(EscrowError::MathOverflow))
}

/// What a customer locks at open: `(principal, fee)` for `n_workers` slots
/// each booked `hours` at `rate_per_hour`. The fee is computed per slot so
/// that per-slot settlements add up exactly. `principal + fee` fits in u64.
pub fn booking_cost(
    rate_per_hour: u64,
    hours: u32,
    n_workers: u16,
    fee_bps: u16,
) -> Result<(u64, u64)> {
    let per_slot = pay_for(rate_per_hour, hours)?;
    let per_slot_fee = fee_for(per_slot, fee_bps)?;
    let n = n_workers as u128;
    let principal = (per_slot as u128).checked_mul(n).ok_or(EscrowError::MathOverflow)?;
    let fee = (per_slot_fee as u128).checked_mul(n).ok_or(EscrowError::MathOverflow)?;
    let total = principal.checked_add(fee).ok_or(EscrowError::MathOverflow)?;
    // The transfer amount must fit too, not only each part.
    u64::try_from(total).map_err(|_| error!(EscrowError::MathOverflow))?;
    Ok((principal as u64, fee as u64))
}

/// Whole hours elapsed since `start_ts` (floor: an hour in progress is not
/// earned). A clock before the start counts as zero.
pub fn elapsed_hours(start_ts: i64, now_ts: i64) -> u32 {
    if now_ts <= start_ts {
        return 0;
    }
    // i128 so that even extreme timestamps cannot overflow the subtraction.
    let hours = (now_ts as i128 - start_ts as i128) / SECONDS_PER_HOUR as i128;
    u32::try_from(hours).unwrap_or(u32::MAX)
}

/// Hours that can be paid now: elapsed hours capped at the booking, minus
/// what was already paid. Never negative, so a replayed settlement pays 0.
pub fn hours_due(elapsed: u32, booked: u32, paid: u32) -> u32 {
    elapsed.min(booked).saturating_sub(paid)
}

/// `(worker_amount, fee)` for paying `hours` more hours to a slot that
/// already received `paid_before` hours.
pub fn settlement(rate_per_hour: u64, fee_bps: u16, paid_before: u32, hours: u32) -> Result<(u64, u64)> {
    let paid_after = paid_before.checked_add(hours).ok_or(EscrowError::MathOverflow)?;
    let amount = pay_for(rate_per_hour, hours)?;
    let fee_after = fee_for(pay_for(rate_per_hour, paid_after)?, fee_bps)?;
    let fee_before = fee_for(pay_for(rate_per_hour, paid_before)?, fee_bps)?;
    // fee_for is monotonic, so this cannot underflow; checked anyway.
    let fee = fee_after.checked_sub(fee_before).ok_or(EscrowError::MathOverflow)?;
    Ok((amount, fee))
}

/// What one slot still holds in the vault: `(unpaid pay, unpaid fee)`.
pub fn slot_outstanding(rate_per_hour: u64, fee_bps: u16, booked: u32, paid: u32) -> Result<(u64, u64)> {
    require!(paid <= booked, EscrowError::MathOverflow);
    let pay = pay_for(rate_per_hour, booked - paid)?;
    let fee = fee_for(pay_for(rate_per_hour, booked)?, fee_bps)?
        .checked_sub(fee_for(pay_for(rate_per_hour, paid)?, fee_bps)?)
        .ok_or(EscrowError::MathOverflow)?;
    Ok((pay, fee))
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
    }

    #[test]
    fn booking_cost_totals() {
        // 1.5 IO/h (6 decimals) for 10 h, 2.5% fee.
        assert_eq!(booking_cost(1_500_000, 10, 1, 250).unwrap(), (15_000_000, 375_000));
        // Fee is per slot, rounded up per slot.
        assert_eq!(booking_cost(1, 1, 3, 1).unwrap(), (3, 3));
        assert_eq!(booking_cost(5, 0, 1, 250).unwrap(), (0, 0));
    }

    #[test]
    fn booking_cost_overflow_includes_fee() {
        // Principal fits exactly, the fee pushes the total over u64.
        assert!(is_overflow(booking_cost(u64::MAX, 1, 1, 1)));
        assert_eq!(booking_cost(u64::MAX, 1, 1, 0).unwrap(), (u64::MAX, 0));
        assert!(is_overflow(booking_cost(u64::MAX / 2 + 1, 1, 2, 0)));
        assert!(is_overflow(booking_cost(u64::MAX, u32::MAX, 1, 0)));
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
        let (_, locked_fee) = booking_cost(rate, booked, 1, bps).unwrap();
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
    fn settlement_zero_hours_is_zero() {
        assert_eq!(settlement(100, 250, 3, 0).unwrap(), (0, 0));
        assert!(is_overflow(settlement(1, 0, u32::MAX, 1)));
    }

    #[test]
    fn outstanding_plus_paid_is_conserved() {
        let (rate, bps, booked) = (999u64, 333u16, 9u32);
        let (principal, fee) = booking_cost(rate, booked, 1, bps).unwrap();
        for paid in 0..=booked {
            let (_, fee_paid) = settlement(rate, bps, 0, paid).unwrap();
            let (pay_left, fee_left) = slot_outstanding(rate, bps, booked, paid).unwrap();
            assert_eq!(pay_left + pay_for(rate, paid).unwrap(), principal);
            assert_eq!(fee_left + fee_paid, fee);
        }
        assert!(slot_outstanding(rate, bps, 1, 2).is_err());
    }
}
