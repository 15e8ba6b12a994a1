use anchor_lang::prelude::*;

pub const CONFIG_SEED: &[u8] = b"config";
pub const RESERVE_SEED: &[u8] = b"reserve";
pub const CREDIT_SEED: &[u8] = b"credit";
pub const CUSTOMER_SEED: &[u8] = b"customer";
pub const REFUND_SEED: &[u8] = b"refund";
pub const DELEGATION_SEED: &[u8] = b"delegation";

/// Credits are micro-USD: the reserve stablecoin must have 6 decimals so one
/// base unit of it is one base unit of credit.
pub const CREDIT_DECIMALS: u8 = 6;
/// A delegate's period: at least a minute, at most a year.
pub const MIN_PERIOD_SECS: u32 = 60;
pub const MAX_PERIOD_SECS: u32 = 366 * 24 * 3_600;

/// One reserve per stablecoin mint. `reserve_vault` (an SPL token account at
/// the `["reserve", config]` PDA, owned by the config PDA) holds exactly
/// `outstanding` base units at every instruction boundary.
#[account]
#[derive(InitSpace)]
pub struct Config {
    pub authority: Pubkey,
    /// Two-step transfer: `propose_authority` sets it, `accept_authority`
    /// (signed by it; a governance PDA signs by CPI) completes it.
    pub pending_authority: Pubkey,
    pub mint: Pubkey,
    pub reserve_vault: Pubkey,
    /// Credits in all users' balances (what the reserve owes).
    pub outstanding: u64,
    /// `buy` refuses to raise `outstanding` above this. Refunds are never capped.
    pub cap: u64,
    /// Blocks `buy` and every spend; never refunds, reclaims or redemption.
    pub paused: bool,
    pub bump: u8,
    pub reserve_bump: u8,
    /// Credit accounts ever opened (statistics).
    pub accounts: u64,
    pub reserved: [u8; 64],
}

/// A user's credits: a program account, so no token instruction can ever
/// move them (see README: why not a Token-2022 NonTransferable mint).
#[account]
#[derive(InitSpace)]
pub struct CreditAccount {
    pub config: Pubkey,
    pub user: Pubkey,
    /// Spendable credits (micro-USD).
    pub balance: u64,
    /// Lifetime totals (only ever increase): what the user deposited, redeemed,
    /// spent on jobs and inference, and got back as refunds.
    pub deposited: u64,
    pub redeemed: u64,
    pub spent: u64,
    pub refunded: u64,
    /// Credits out in jobs and inference channels that can still come
    /// back: refunds are credited up to this, so tokens sent to the refund
    /// account by anyone else never become credits (no buying into another
    /// user's balance, no way around the cap or the pause).
    pub in_flight: u64,
    /// Jobs opened with credits (the SDK's default next job id).
    pub jobs_opened: u64,
    /// `["customer", config, user]`: the system-owned PDA that is the
    /// job_escrow customer of every job and the inference_pay payer of every
    /// channel this account pays for. Only this program can sign for it, so
    /// only this program can end, cancel, top up or close them, and every
    /// refund goes to a token account it owns.
    pub customer: Pubkey,
    /// `["refund", config, user]`: the customer's token account of the
    /// stablecoin, where job and channel refunds land before they are
    /// credited back (every channel's `refund_to`).
    pub refund_account: Pubkey,
    pub bump: u8,
    pub customer_bump: u8,
    pub refund_bump: u8,
    /// Inference channels opened with credits (statistics). Carved out of
    /// `reserved`: the account keeps its size.
    pub channels_opened: u64,
    pub reserved: [u8; 24],
}

/// A backend key allowed to spend `allowance` per `period_secs` from one
/// credit account. Closing it (revoke) takes effect at once.
#[account]
#[derive(InitSpace)]
pub struct Delegation {
    pub credit_account: Pubkey,
    pub delegate: Pubkey,
    pub allowance: u64,
    pub period_secs: u32,
    /// Start of the current period; periods are aligned to it.
    pub period_start: i64,
    pub spent_in_period: u64,
    pub bump: u8,
    pub reserved: [u8; 16],
}
