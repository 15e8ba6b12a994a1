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

/// `set_market_authority`: `proposed` becomes the authority when it signs
/// `accept_market_authority` (the default key withdraws a proposal).
#[event]
pub struct AuthorityProposed {
    pub market: Pubkey,
    pub authority: Pubkey,
    pub proposed: Pubkey,
}

/// `accept_market_authority`: the hand-over is done.
#[event]
pub struct AuthorityChanged {
    pub market: Pubkey,
    pub old_authority: Pubkey,
    pub new_authority: Pubkey,
}

/// `sweep_fees`: accrued fees moved to the market treasury.
#[event]
pub struct FeesSwept {
    pub market: Pubkey,
    pub treasury: Pubkey,
    /// The job whose accrued fees were swept (default key if none).
    pub job: Pubkey,
    /// From the job's vault.
    pub from_job: u64,
    /// From the market fee vault (fees of closed jobs).
    pub from_fee_vault: u64,
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
    pub accept_deadline: i64,
}

#[event]
pub struct WorkerAccepted {
    pub job: Pubkey,
    pub worker: Pubkey,
    pub slot: u8,
    pub start_ts: i64,
}

/// One worker's payout in a `HoursSettled` event.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug)]
pub struct SlotPaid {
    pub slot: u8,
    /// The worker's wallet.
    pub worker: Pubkey,
    /// Whole hours paid by this settlement.
    pub hours: u32,
    /// Seconds of a final partial hour paid by this settlement (0..3599;
    /// only once a booking was cut mid-hour by quit, release or end).
    pub secs: u16,
    /// Cumulative whole hours paid to this worker after this settlement.
    pub hours_paid: u32,
    /// Paid to the worker.
    pub amount: u64,
    /// Fee share of this payout (accrues in the job until `sweep_fees`).
    pub fee: u64,
}

/// Every payout of one instruction (settle, end_job, quit, release): one
/// event per instruction, with one entry per worker paid.
#[event]
pub struct HoursSettled {
    pub job: Pubkey,
    pub settled_ts: i64,
    pub paid: Vec<SlotPaid>,
    /// Listed slots not paid because their token account was closed or
    /// frozen: what they earned stays owed in the vault.
    pub skipped: Vec<u8>,
}

#[event]
pub struct JobExtended {
    pub job: Pubkey,
    pub hours_added: u32,
    /// The slots extended.
    pub slots: Vec<u8>,
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
    /// The worker's final booking: whole hours and seconds of a started
    /// hour (pro rata, rounded down).
    pub hours: u32,
    pub secs: u16,
    /// Unearned share returned to the customer (pay + fee).
    pub refund: u64,
    pub quit_ts: i64,
}

/// The customer released one slot: a running one is cut to what it earned
/// (pro rata by the second, rounded up), a pending one past the accept
/// deadline to nothing.
#[event]
pub struct SlotReleased {
    pub job: Pubkey,
    pub worker: Pubkey,
    pub slot: u8,
    pub hours: u32,
    pub secs: u16,
    /// Unearned share returned to the customer (pay + fee).
    pub refund: u64,
    pub released_ts: i64,
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
    /// Accrued fees moved to the market fee vault.
    pub fees: u64,
}
