//! `Config`, `CreditAccount` and `Delegation` read and written in place,
//! for `open_job_with_credits`' hot path: instead of deserializing whole
//! accounts into boxed `Account<>`s (and serializing them back at exit),
//! each account is checked as `Account<T>` would check it (initialized,
//! owned by this program, `T`'s discriminator, long enough for `T`; the same
//! error codes), the few fields needed are read at their Borsh offsets and
//! only what changes is written back. The layout is the Borsh one of the
//! `state.rs` types (no change on chain); the tests below pin every offset
//! against Borsh itself.
//!
//! A `Config`, `CreditAccount` or `Delegation` owned by this program was
//! created by it at its PDA (`init` with the seeds of `state.rs`), so owner
//! and discriminator are the same check as re-deriving the address, minus
//! the `create_program_address` (1,500 CU each); the relations the seeds
//! encode (credit account -> config, delegation -> credit account) are
//! checked on the stored fields.
use anchor_lang::error::ErrorCode;
use anchor_lang::prelude::*;
use anchor_lang::Discriminator;

use token_cpi::CInfo;

use crate::errors::CreditsError;
use crate::state::{Config, CreditAccount, Delegation};

/// `Config` (after the 8-byte discriminator: authority, pending_authority).
pub mod config {
    pub const MINT: usize = 72;
    pub const RESERVE_VAULT: usize = 104;
    pub const OUTSTANDING: usize = 136;
    pub const PAUSED: usize = 152;
    pub const BUMP: usize = 153;
}

/// `CreditAccount`.
pub mod credit {
    pub const CONFIG: usize = 8;
    pub const USER: usize = 40;
    pub const BALANCE: usize = 72;
    pub const SPENT: usize = 96;
    pub const REFUNDED: usize = 104;
    pub const IN_FLIGHT: usize = 112;
    pub const JOBS_OPENED: usize = 120;
    pub const CUSTOMER: usize = 128;
    pub const REFUND_ACCOUNT: usize = 160;
    pub const CUSTOMER_BUMP: usize = 193;
}

/// `Delegation`.
pub mod delegation {
    pub const CREDIT_ACCOUNT: usize = 8;
    pub const DELEGATE: usize = 40;
    pub const ALLOWANCE: usize = 72;
    pub const PERIOD_SECS: usize = 80;
    pub const PERIOD_START: usize = 84;
    pub const SPENT_IN_PERIOD: usize = 92;
}

pub fn u64_at(d: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[at..at + 8]);
    u64::from_le_bytes(b)
}

pub fn key_at(d: &[u8], at: usize) -> Pubkey {
    let mut b = [0u8; 32];
    b.copy_from_slice(&d[at..at + 32]);
    Pubkey::new_from_array(b)
}

pub fn put_u64(d: &mut [u8], at: usize, v: u64) {
    d[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// The checks `Account<T>` makes before its handler, with the same errors:
/// initialized, owned by this program, `T`'s discriminator, at least `len`
/// bytes (Borsh of `T`'s fixed-size fields; `AccountDidNotDeserialize`
/// otherwise).
pub fn check<T: Discriminator>(info: &CInfo, len: usize) -> Result<()> {
    check_parts::<T>(info.owner(), info.lamports(), info.data(), len)
}

fn check_parts<T: Discriminator>(owner: &Pubkey, lamports: u64, d: &[u8], len: usize) -> Result<()> {
    if *owner == anchor_lang::system_program::ID && lamports == 0 {
        return err!(ErrorCode::AccountNotInitialized);
    }
    if *owner != crate::ID {
        return Err(Error::from(ErrorCode::AccountOwnedByWrongProgram).with_pubkeys((*owner, crate::ID)));
    }
    if d.len() < T::DISCRIMINATOR.len() {
        return err!(ErrorCode::AccountDiscriminatorNotFound);
    }
    if &d[..8] != T::DISCRIMINATOR {
        return err!(ErrorCode::AccountDiscriminatorMismatch);
    }
    require!(d.len() >= len, ErrorCode::AccountDidNotDeserialize);
    Ok(())
}

pub const CONFIG_LEN: usize = 8 + Config::INIT_SPACE;
pub const CREDIT_LEN: usize = 8 + CreditAccount::INIT_SPACE;
pub const DELEGATION_LEN: usize = 8 + Delegation::INIT_SPACE;

/// A `Config` that passed [`check`]; `paused` must be a Borsh bool.
pub fn check_config(info: &CInfo) -> Result<()> {
    check_config_parts(info.owner(), info.lamports(), info.data())
}

fn check_config_parts(owner: &Pubkey, lamports: u64, d: &[u8]) -> Result<()> {
    check_parts::<Config>(owner, lamports, d, CONFIG_LEN)?;
    require!(d[config::PAUSED] <= 1, ErrorCode::AccountDidNotDeserialize);
    Ok(())
}

/// `credit::check_actor`'s rule on a delegation read in place (one
/// implementation for every in-place instruction): `None` when `signer` is
/// the credit account's `user`; else the data of `delegation`, which must be
/// a delegation of `credit_account` to `signer` (`DelegationRequired`,
/// `WrongDelegation`). The delegation already passed [`check`].
#[inline(always)]
pub fn delegate_signing<'a>(signer: &Pubkey, user: &Pubkey, credit_account: &Pubkey, delegation: Option<&'a CInfo>)
    -> Result<Option<&'a [u8]>> {
    if signer == user {
        return Ok(None);
    }
    let g = delegation.ok_or_else(|| error!(CreditsError::DelegationRequired))?.data();
    require_keys_eq!(key_at(g, delegation::CREDIT_ACCOUNT), *credit_account, CreditsError::WrongDelegation);
    require_keys_eq!(key_at(g, delegation::DELEGATE), *signer, CreditsError::WrongDelegation);
    Ok(Some(g))
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::AccountSerialize;

    fn bytes<T: AccountSerialize>(t: &T) -> Vec<u8> {
        let mut d = Vec::new();
        t.try_serialize(&mut d).unwrap();
        d
    }

    fn key(b: u8) -> Pubkey {
        Pubkey::new_from_array([b; 32])
    }

    #[test]
    fn config_offsets_match_borsh() {
        let c = Config {
            authority: key(1),
            pending_authority: key(2),
            mint: key(3),
            reserve_vault: key(4),
            outstanding: 0x0102_0304_0506_0708,
            cap: 9,
            paused: true,
            bump: 0xfd,
            reserve_bump: 0xfc,
            accounts: 11,
            reserved: [0; 64],
        };
        let mut d = bytes(&c);
        assert_eq!(d.len(), CONFIG_LEN);
        assert_eq!((key_at(&d, config::MINT), key_at(&d, config::RESERVE_VAULT)), (c.mint, c.reserve_vault));
        assert_eq!((u64_at(&d, config::OUTSTANDING), d[config::PAUSED], d[config::BUMP]), (c.outstanding, 1, c.bump));
        put_u64(&mut d, config::OUTSTANDING, 77);
        let mut c2 = c.clone();
        c2.outstanding = 77;
        assert_eq!(d, bytes(&c2));
    }

    #[test]
    fn credit_account_offsets_match_borsh() {
        let c = CreditAccount {
            config: key(1),
            user: key(2),
            balance: 3,
            deposited: 4,
            redeemed: 5,
            spent: 6,
            refunded: 7,
            in_flight: 8,
            jobs_opened: 9,
            customer: key(10),
            refund_account: key(11),
            bump: 12,
            customer_bump: 13,
            refund_bump: 14,
            channels_opened: 15,
            reserved: [0; 24],
        };
        let mut d = bytes(&c);
        assert_eq!(d.len(), CREDIT_LEN);
        assert_eq!((key_at(&d, credit::CONFIG), key_at(&d, credit::USER)), (c.config, c.user));
        assert_eq!((key_at(&d, credit::CUSTOMER), key_at(&d, credit::REFUND_ACCOUNT)), (c.customer, c.refund_account));
        assert_eq!(
            (u64_at(&d, credit::BALANCE), u64_at(&d, credit::SPENT), u64_at(&d, credit::IN_FLIGHT),
             u64_at(&d, credit::JOBS_OPENED), d[credit::CUSTOMER_BUMP]),
            (3, 6, 8, 9, 13)
        );
        assert_eq!(u64_at(&d, credit::REFUNDED), 7);
        for (at, v) in [(credit::BALANCE, 100), (credit::SPENT, 101), (credit::IN_FLIGHT, 102), (credit::JOBS_OPENED, 103),
                        (credit::REFUNDED, 104)] {
            put_u64(&mut d, at, v);
        }
        let mut c2 = c.clone();
        (c2.balance, c2.spent, c2.in_flight, c2.jobs_opened, c2.refunded) = (100, 101, 102, 103, 104);
        assert_eq!(d, bytes(&c2));
    }

    #[test]
    fn delegation_offsets_match_borsh() {
        let g = Delegation {
            credit_account: key(1),
            delegate: key(2),
            allowance: 3,
            period_secs: 0x0405_0607,
            period_start: -8,
            spent_in_period: 9,
            bump: 10,
            reserved: [0; 16],
        };
        let mut d = bytes(&g);
        assert_eq!(d.len(), DELEGATION_LEN);
        assert_eq!((key_at(&d, delegation::CREDIT_ACCOUNT), key_at(&d, delegation::DELEGATE)), (g.credit_account, g.delegate));
        assert_eq!(u64_at(&d, delegation::ALLOWANCE), 3);
        assert_eq!(u32::from_le_bytes(d[delegation::PERIOD_SECS..delegation::PERIOD_SECS + 4].try_into().unwrap()),
                   g.period_secs);
        assert_eq!(u64_at(&d, delegation::PERIOD_START) as i64, -8);
        put_u64(&mut d, delegation::PERIOD_START, 1_000i64 as u64);
        put_u64(&mut d, delegation::SPENT_IN_PERIOD, 55);
        let mut g2 = g.clone();
        (g2.period_start, g2.spent_in_period) = (1_000, 55);
        assert_eq!(d, bytes(&g2));
    }

    fn code(r: Result<()>) -> u32 {
        match r {
            Err(Error::AnchorError(e)) => e.error_code_number,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn check_refuses_as_account_would() {
        let c = bytes(&Config { authority: key(1), pending_authority: key(2), mint: key(3), reserve_vault: key(4),
                                outstanding: 0, cap: 0, paused: false, bump: 1, reserve_bump: 2, accounts: 0,
                                reserved: [0; 64] });
        let id = crate::ID;
        assert!(check_config_parts(&id, 1, &c).is_ok());
        let sys = anchor_lang::system_program::ID;
        assert_eq!(code(check_config_parts(&sys, 0, &[])), ErrorCode::AccountNotInitialized as u32);
        assert_eq!(code(check_config_parts(&sys, 1, &c)), ErrorCode::AccountOwnedByWrongProgram as u32);
        assert_eq!(code(check_config_parts(&id, 1, &[0; 7])), ErrorCode::AccountDiscriminatorNotFound as u32);
        let mut other = c.clone();
        other[..8].copy_from_slice(CreditAccount::DISCRIMINATOR);
        assert_eq!(code(check_config_parts(&id, 1, &other)), ErrorCode::AccountDiscriminatorMismatch as u32);
        assert_eq!(code(check_config_parts(&id, 1, &c[..CONFIG_LEN - 1])), ErrorCode::AccountDidNotDeserialize as u32);
        let mut bad_bool = c.clone();
        bad_bool[config::PAUSED] = 2;
        assert_eq!(code(check_config_parts(&id, 1, &bad_bool)), ErrorCode::AccountDidNotDeserialize as u32);
        // The other types: another type's discriminator, too short.
        let d = bytes(&Delegation { credit_account: key(1), delegate: key(2), allowance: 0, period_secs: 60,
                                    period_start: 0, spent_in_period: 0, bump: 0, reserved: [0; 16] });
        assert!(check_parts::<Delegation>(&id, 1, &d, DELEGATION_LEN).is_ok());
        assert_eq!(code(check_parts::<CreditAccount>(&id, 1, &d, CREDIT_LEN)), ErrorCode::AccountDiscriminatorMismatch as u32);
        assert_eq!(code(check_parts::<Delegation>(&id, 1, &d[..DELEGATION_LEN - 1], DELEGATION_LEN)),
                   ErrorCode::AccountDidNotDeserialize as u32);
    }
}
