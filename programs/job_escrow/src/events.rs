//! Events, emitted with `emit_cpi!` so they survive log truncation.
use anchor_lang::prelude::*;

use crate::state::WorkerTerms;

#[event]
pub struct MarketInitialized {
    pub market: Pubkey,
    pub authority: Pubkey,
    pub mint: Pubkey,
    pub treasury: Pubkey,
    pub fee_bps: u16,
    pub max_workers: u16,
    pub max_hours: u32,
}

#[event]
pub struct MarketPaused {
    pub market: Pubkey,
    pub paused: bool,
}

#[event]
pub struct MarketUpdated {
    pub market: Pubkey,
    pub treasury: Pubkey,
    pub fee_bps: u16,
    pub max_workers: u16,
    pub max_hours: u32,
}

#[event]
pub struct AuthorityChanged {
    pub market: Pubkey,
    pub old_authority: Pubkey,
    pub new_authority: Pubkey,
}

#[event]
pub struct OracleConfigured {
    pub market: Pubkey,
    pub price_feed: Pubkey,
    pub max_staleness: u32,
    pub max_conf_bps: u16,
}

#[event]
pub struct PriceUpdated {
    pub market: Pubkey,
    pub price_feed: Pubkey,
    pub price: i64,
    pub conf: u64,
    pub expo: i32,
    pub publish_time: i64,
}

#[event]
pub struct JobOpened {
    pub market: Pubkey,
    pub job: Pubkey,
    pub customer: Pubkey,
    pub job_id: u64,
    pub hours: u32,
    pub fee_bps: u16,
    /// Workers with their rates in base units of the mint (converted from
    /// micro-USD for USD-priced jobs).
    pub workers: Vec<WorkerTerms>,
    /// Amount owed to workers over the whole booking.
    pub principal: u64,
    /// Protocol fee over the whole booking (charged to the customer).
    pub fee: u64,
    /// Oracle price and exponent used for USD rates (0, 0 if token-priced).
    pub usd_price: i64,
    pub usd_expo: i32,
    pub created_ts: i64,
}

#[event]
pub struct WorkerAccepted {
    pub job: Pubkey,
    pub worker: Pubkey,
    pub slot: u8,
    pub start_ts: i64,
}

#[event]
pub struct HoursSettled {
    pub job: Pubkey,
    pub worker: Pubkey,
    pub slot: u8,
    /// Hours paid by this settlement.
    pub hours: u32,
    /// Cumulative hours paid to this worker after this settlement.
    pub hours_paid: u32,
    /// Paid to the worker.
    pub amount: u64,
    /// Paid to the treasury.
    pub fee: u64,
    pub settled_ts: i64,
}

#[event]
pub struct JobExtended {
    pub job: Pubkey,
    pub hours_added: u32,
    /// New booking per worker (job level).
    pub hours: u32,
    /// Locked for the workers by this extension.
    pub principal: u64,
    /// Fee locked by this extension.
    pub fee: u64,
}

#[event]
pub struct WorkerQuit {
    pub job: Pubkey,
    pub worker: Pubkey,
    pub slot: u8,
    /// The worker's final paid (= earned) hours.
    pub hours_paid: u32,
    /// Unearned share returned to the customer (pay + fee).
    pub refund: u64,
    pub quit_ts: i64,
}

#[event]
pub struct JobEnded {
    pub job: Pubkey,
    pub customer: Pubkey,
    /// Unearned remainder returned to the customer (pay + fee).
    pub refund: u64,
    /// Earned but not yet paid, still in the vault for `settle`.
    pub owed: u64,
    pub ended_ts: i64,
}

#[event]
pub struct JobCancelled {
    pub job: Pubkey,
    pub customer: Pubkey,
    /// Returned to the customer: everything locked.
    pub refund: u64,
}

#[event]
pub struct JobClosed {
    pub job: Pubkey,
    pub customer: Pubkey,
    /// Tokens found in the vault beyond what was owed (sent there by
    /// mistake), returned to the customer. 0 normally.
    pub refund: u64,
}
