//! Pure money math. Integer only, checked.
//!
//! Fee model: the protocol fee is taken out of what the provider is paid.
//! The fee owed on a channel once `c` has been settled is the cumulative
//! `fee_for(c) = ceil(c * fee_bps / 10_000)` (job_escrow's rounding, the
//! network-wide one: against the party being paid, never in its
//! favour). A settlement from `settled` to `cumulative` accrues the
//! difference `fee_for(cumulative) - fee_for(settled)`, so the fees of a
//! channel add up to `fee_for(final settled)` however often it is settled:
//! batching never changes who gets what.
use anchor_lang::prelude::*;

use crate::errors::PayError;

/// `ceil(amount * fee_bps / 10_000)` (the same rounding as job_escrow's
/// `fee_for`); `fee_bps <= 10_000` so it never exceeds `amount`.
pub fn fee_for(amount: u64, fee_bps: u16) -> Result<u64> {
    require!(fee_bps <= 10_000, PayError::MathOverflow);
    let fee = ((amount as u128) * (fee_bps as u128) + 9_999) / 10_000;
    u64::try_from(fee).map_err(|_| error!(PayError::MathOverflow))
}

/// `(to_provider, fee)` of moving a channel from `settled` to `cumulative`
/// (the caller checked `settled <= cumulative`).
pub fn settlement(settled: u64, cumulative: u64, fee_bps: u16) -> Result<(u64, u64)> {
    let gross = cumulative.checked_sub(settled).ok_or(PayError::AmountDecreased)?;
    let fee = fee_for(cumulative, fee_bps)?
        .checked_sub(fee_for(settled, fee_bps)?)
        .ok_or(PayError::MathOverflow)?;
    // fee_for is monotone and fee_for(x) <= x, so fee <= gross.
    let to_provider = gross.checked_sub(fee).ok_or(PayError::MathOverflow)?;
    Ok((to_provider, fee))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fee_shares_add_up_whatever_the_batching() {
        let bps = 250;
        let total = 1_001_003u64;
        let (one_p, one_f) = settlement(0, total, bps).unwrap();
        let mut paid = 0u64;
        let mut fees = 0u64;
        let mut settled = 0u64;
        for step in [1u64, 7, 13, 400, 99_999, 900_000, 583] {
            let next = settled + step;
            let (p, f) = settlement(settled, next, bps).unwrap();
            assert_eq!(p + f, step);
            paid += p;
            fees += f;
            settled = next;
        }
        assert_eq!(settled, total);
        assert_eq!((paid, fees), (one_p, one_f));
        assert_eq!(one_f, fee_for(total, bps).unwrap());
        assert_eq!(one_p + one_f, total);
    }

    #[test]
    fn fee_rounds_up_against_the_provider() {
        assert_eq!(settlement(0, 1, 1).unwrap(), (0, 1));
        assert_eq!(settlement(0, 10_000, 1).unwrap(), (9_999, 1));
        assert_eq!(settlement(0, 10_001, 1).unwrap(), (9_999, 2));
        assert_eq!(settlement(5, 5, 300).unwrap(), (0, 0));
        assert_eq!(settlement(0, u64::MAX, 10_000).unwrap(), (0, u64::MAX));
        assert_eq!(settlement(0, u64::MAX, 0).unwrap(), (u64::MAX, 0));
    }

    #[test]
    fn never_moves_backwards() {
        assert!(settlement(10, 9, 0).is_err());
    }
}
