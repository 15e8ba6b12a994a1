//! Pure credit accounting: no accounts, no CPIs, unit-tested here.
use anchor_lang::prelude::*;

use crate::errors::CreditsError;

/// The reserve's books: every change keeps `reserve == outstanding`.
pub fn add(a: u64, b: u64) -> Result<u64> {
    a.checked_add(b).ok_or_else(|| error!(CreditsError::MathOverflow))
}

/// `a - b`, with `err` when `b > a`.
pub fn sub(a: u64, b: u64, err: CreditsError) -> Result<u64> {
    a.checked_sub(b).ok_or_else(|| err.into())
}

/// `outstanding + amount` if it stays within `cap`.
pub fn within_cap(outstanding: u64, amount: u64, cap: u64) -> Result<u64> {
    let after = add(outstanding, amount)?;
    require!(after <= cap, CreditsError::CapExceeded);
    Ok(after)
}

/// A delegate's period state after spending `amount` at `now_ts`:
/// returns `(period_start, spent_in_period)`. Periods are consecutive
/// windows of `period_secs` starting at the stored `period_start`; a new
/// window starts with nothing spent. Refuses what would exceed `allowance`
/// in the current window.
pub fn delegate_spend(
    period_start: i64,
    period_secs: u32,
    spent: u64,
    allowance: u64,
    amount: u64,
    now_ts: i64,
) -> Result<(i64, u64)> {
    let (start, spent) = current_period(period_start, period_secs, spent, now_ts)?;
    let after = add(spent, amount)?;
    require!(after <= allowance, CreditsError::AllowanceExceeded);
    Ok((start, after))
}

/// The window containing `now_ts` and what was spent in it.
pub fn current_period(period_start: i64, period_secs: u32, spent: u64, now_ts: i64) -> Result<(i64, u64)> {
    require!(period_secs > 0, CreditsError::InvalidPeriod);
    if now_ts < period_start.saturating_add(period_secs as i64) {
        return Ok((period_start, spent));
    }
    // i128: no overflow for any pair of i64 timestamps.
    let elapsed = now_ts as i128 - period_start as i128;
    let windows = elapsed / period_secs as i128;
    let start = period_start as i128 + windows * period_secs as i128;
    Ok((i64::try_from(start).map_err(|_| CreditsError::MathOverflow)?, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u32 = 86_400;

    #[test]
    fn cap_is_inclusive() {
        assert_eq!(within_cap(90, 10, 100).unwrap(), 100);
        assert!(within_cap(90, 11, 100).is_err());
        assert!(within_cap(u64::MAX, 1, u64::MAX).is_err());
    }

    #[test]
    fn sub_refuses_more_than_held() {
        assert_eq!(sub(10, 10, CreditsError::InsufficientCredits).unwrap(), 0);
        assert!(sub(10, 11, CreditsError::InsufficientCredits).is_err());
    }

    #[test]
    fn allowance_per_period() {
        // 500 USD a day, started at t = 1000.
        let a = 500_000_000;
        let (s, spent) = delegate_spend(1_000, DAY, 0, a, 300_000_000, 1_000).unwrap();
        assert_eq!((s, spent), (1_000, 300_000_000));
        let (s, spent) = delegate_spend(s, DAY, spent, a, 200_000_000, 1_000 + DAY as i64 - 1).unwrap();
        assert_eq!(spent, a);
        assert!(delegate_spend(s, DAY, spent, a, 1, 1_000 + DAY as i64 - 1).is_err());
        // Next window (aligned to the start), even days later.
        let (s2, spent2) = delegate_spend(s, DAY, spent, a, 1, 1_000 + 3 * DAY as i64 + 5).unwrap();
        assert_eq!((s2, spent2), (1_000 + 3 * DAY as i64, 1));
        assert!(delegate_spend(s2, DAY, 0, a, a + 1, s2).is_err());
        assert!(delegate_spend(0, 0, 0, a, 1, 0).is_err());
    }

    #[test]
    fn current_period_handles_extremes() {
        assert_eq!(current_period(i64::MIN, 60, 5, i64::MAX).unwrap().1, 0);
        assert_eq!(current_period(100, 60, 5, 50).unwrap(), (100, 5));
    }
}

/// What job_escrow locks for a booking (its `math::booking_cost`): per
/// worker `rate * hours` plus the fee `ceil(rate * hours * fee_bps / 10_000)`.
/// Returns `(principal, fee)`.
pub fn booking_cost(rates: impl IntoIterator<Item = u64>, hours: u32, fee_bps: u16) -> Result<(u64, u64)> {
    let (mut principal, mut fee) = (0u64, 0u64);
    for rate in rates {
        let pay = u64::try_from(rate as u128 * hours as u128).map_err(|_| CreditsError::MathOverflow)?;
        let f = u64::try_from((pay as u128 * fee_bps as u128).div_ceil(10_000)).map_err(|_| CreditsError::MathOverflow)?;
        principal = add(principal, pay)?;
        fee = add(fee, f)?;
    }
    add(principal, fee)?;
    Ok((principal, fee))
}

/// What a job's workers and the protocol were paid out of it, which never
/// comes back: per worker slot its paid pay `p = rate * hours_paid + tail`
/// (`tail` = the slot's `tail_pay` once paid, else 0: job_escrow's
/// `payout::paid_pay`) plus the fee on it, `ceil(p * fee_bps / 10_000)`.
/// job_escrow charges the fee on top of pay and on cumulative amounts (each
/// payment's fee is `fee(after) - fee(before)`, `math::amount_span`), so the
/// fee shares a slot paid over the job's life add up to exactly `fee(p)`.
/// Items are `(rate_per_hour, hours_paid, tail)`.
pub fn job_spent(fee_bps: u16, slots: impl IntoIterator<Item = (u64, u32, u64)>) -> Result<u64> {
    let mut spent = 0u64;
    for (rate, hours_paid, tail) in slots {
        // u128 cannot overflow here: rate * hours_paid < 2^64 * 2^32 = 2^96,
        // plus tail < 2^64 gives p < 2^97; p * fee_bps < 2^97 * 2^16 = 2^113;
        // p + fee <= 2p (fee <= p for bps <= 10_000, and < 2^113 anyway).
        let p = rate as u128 * hours_paid as u128 + tail as u128;
        let fee = (p * fee_bps as u128).div_ceil(10_000);
        // Never fails for a job job_escrow opened: what its slots were paid,
        // fee included, is at most what was locked at open (or extension),
        // and job_escrow checks that total fits in u64. Checked all the same.
        let slot = u64::try_from(p + fee).map_err(|_| CreditsError::MathOverflow)?;
        spent = add(spent, slot)?;
    }
    Ok(spent)
}

#[cfg(test)]
mod booking_tests {
    use super::*;

    #[test]
    fn booking_cost_matches_job_escrow() {
        // The numbers of tests/credits/test_program.py (fee rounds up).
        assert_eq!(booking_cost([3_000_000, 2_333_333], 5, 250).unwrap(), (26_666_665, 666_667));
        assert_eq!(booking_cost([1], 1, 1).unwrap(), (1, 1));
        assert_eq!(booking_cost([5], 3, 0).unwrap(), (15, 0));
        assert!(booking_cost([u64::MAX], 2, 0).is_err());
    }

    #[test]
    fn job_spent_is_paid_pay_plus_its_fee_per_slot() {
        use job_escrow::math as em;
        // tests/credits/test_program.py: 2 h + 30 min at 3 and 2.333333 USD,
        // fee 2.5% rounded up on each slot's cumulative pay.
        let spent = job_spent(250, [(3_000_000, 2, 1_500_000), (2_333_333, 2, 1_166_667)]).unwrap();
        assert_eq!(spent, 7_500_000 + 187_500 + 5_833_333 + 145_834);
        assert_eq!(spent, 27_333_332 - 13_666_665); // the deposit less what came back
        assert_eq!(job_spent(250, []).unwrap(), 0);
        assert_eq!(job_spent(10_000, [(1, 1, 0)]).unwrap(), 2);
        // Extremes: no panic, overflow reported.
        assert_eq!(job_spent(0, [(u64::MAX, 1, 0)]).unwrap(), u64::MAX);
        assert!(job_spent(1, [(u64::MAX, 1, 0)]).is_err());
        assert!(job_spent(u16::MAX, [(u64::MAX, u32::MAX, u64::MAX)]).is_err());
        assert!(job_spent(0, [(u64::MAX, 1, 0), (0, 0, 1)]).is_err());
        // Against job_escrow's cumulative_pay + fee_for, around its u64 fast path.
        let edge = u64::MAX / 10_000;
        for rate in [0, 1, 3, 999_999, 2_333_333, edge / 7, edge - 1, edge, edge + 1, u64::MAX / 3] {
            for hours in [0u32, 1, 2, 3, 720] {
                for tail in [0u64, 1, 463, rate / 2] {
                    for bps in [0u16, 1, 250, 9_999, 10_000] {
                        let Ok(p) = em::cumulative_pay(rate, hours, tail) else { continue };
                        let expected = em::fee_for(p, bps).ok().and_then(|f| p.checked_add(f));
                        assert_eq!(job_spent(bps, [(rate, hours, tail)]).ok(), expected, "{rate} {hours} {tail} {bps}");
                    }
                }
            }
        }
    }
}
