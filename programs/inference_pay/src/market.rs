//! The network-wide fee policy: job_escrow's `Market` of the mint, read by
//! hand (owner, discriminator, mint, canonical PDA) because a program cannot
//! depend on job_escrow's crate (Cargo.toml). The layout is checked against
//! job_escrow's own serialization by the unit test below.
use anchor_lang::prelude::*;

use crate::errors::PayError;

pub const JOB_ESCROW_ID: Pubkey = pubkey!("B5T8K3qFKCuKxUXnxs6QY24Legzn6KoQXr5hr1E2oksG");
pub const MARKET_SEED: &[u8] = b"market";
/// `sha256("account:Market")[..8]`.
pub const MARKET_DISCRIMINATOR: [u8; 8] = [219, 190, 213, 55, 0, 227, 198, 154];
// Offsets after the discriminator: authority 32, mint 32, treasury 32,
// fee_bps u16, max_workers u16, max_hours u32, paused bool, bump u8.
const MINT_AT: usize = 8 + 32;
const TREASURY_AT: usize = MINT_AT + 32;
const FEE_AT: usize = TREASURY_AT + 32;
const PAUSED_AT: usize = FEE_AT + 2 + 2 + 4;
const BUMP_AT: usize = PAUSED_AT + 1;
const FEE_DENOMINATOR: u16 = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketPolicy {
    pub treasury: Pubkey,
    pub fee_bps: u16,
    pub paused: bool,
}

/// Parses a market's data for `mint` (pure; the caller checks owner and key).
pub fn parse(data: &[u8], mint: &Pubkey) -> Result<(MarketPolicy, u8)> {
    require!(data.len() > BUMP_AT && data[..8] == MARKET_DISCRIMINATOR, PayError::WrongMarket);
    require!(&data[MINT_AT..MINT_AT + 32] == mint.as_ref(), PayError::WrongMarket);
    let fee_bps = u16::from_le_bytes([data[FEE_AT], data[FEE_AT + 1]]);
    require!(fee_bps <= FEE_DENOMINATOR, PayError::WrongMarket);
    let treasury = Pubkey::try_from(&data[TREASURY_AT..TREASURY_AT + 32]).map_err(|_| PayError::WrongMarket)?;
    Ok((MarketPolicy { treasury, fee_bps, paused: data[PAUSED_AT] != 0 }, data[BUMP_AT]))
}

/// job_escrow's market of `mint`: owned by job_escrow, at its canonical PDA.
pub fn read(info: &AccountInfo, mint: &Pubkey) -> Result<MarketPolicy> {
    require_keys_eq!(*info.owner, JOB_ESCROW_ID, PayError::WrongMarket);
    let (policy, bump) = parse(&info.try_borrow_data()?, mint)?;
    let expected = Pubkey::create_program_address(&[MARKET_SEED, mint.as_ref(), &[bump]], &JOB_ESCROW_ID)
        .map_err(|_| PayError::WrongMarket)?;
    require_keys_eq!(expected, info.key(), PayError::WrongMarket);
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::{AccountSerialize, Discriminator};
    use job_escrow::state::Market;

    fn market(mint: Pubkey, fee_bps: u16, paused: bool) -> Market {
        Market {
            authority: Pubkey::new_from_array([1; 32]),
            mint,
            treasury: Pubkey::new_from_array([2; 32]),
            fee_bps,
            max_workers: 3,
            max_hours: 4,
            paused,
            bump: 254,
            job_count: 5,
            oracle: Pubkey::default(),
            max_staleness: 6,
            max_conf_bps: 7,
            pending_authority: Pubkey::new_from_array([3; 32]),
            fee_vault_bump: 253,
            reserved: [0; 31],
        }
    }

    #[test]
    fn reads_job_escrows_own_serialization() {
        assert_eq!(Market::DISCRIMINATOR, &MARKET_DISCRIMINATOR[..]);
        assert_eq!(job_escrow::ID, JOB_ESCROW_ID);
        let mint = Pubkey::new_from_array([9; 32]);
        for (fee, paused) in [(250u16, false), (10_000, true)] {
            let mut data = Vec::new();
            market(mint, fee, paused).try_serialize(&mut data).unwrap();
            let (p, bump) = parse(&data, &mint).unwrap();
            assert_eq!(p, MarketPolicy { treasury: Pubkey::new_from_array([2; 32]), fee_bps: fee, paused });
            assert_eq!(bump, 254);
            assert!(parse(&data, &Pubkey::new_from_array([8; 32])).is_err());
            data[0] ^= 1;
            assert!(parse(&data, &mint).is_err());
        }
    }
}
