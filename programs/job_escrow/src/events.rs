//! Events, emitted with `emit_cpi!` so they survive log truncation.
use anchor_lang::prelude::*;

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
pub struct JobOpened {
    pub market: Pubkey,
    pub job: Pubkey,
    pub customer: Pubkey,
    pub job_id: u64,
    pub worker: Pubkey,
    pub rate_per_hour: u64,
    pub hours: u32,
    pub fee_bps: u16,
    /// Amount owed to workers over the whole booking.
    pub principal: u64,
    /// Protocol fee over the whole booking (charged to the customer).
    pub fee: u64,
    pub start_ts: i64,
}

#[event]
pub struct HoursSettled {
    pub job: Pubkey,
    pub worker: Pubkey,
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
pub struct JobCancelled {
    pub job: Pubkey,
    pub customer: Pubkey,
    /// Returned to the customer (everything not earned).
    pub refund: u64,
    pub hours_paid: u32,
    pub hours_booked: u32,
}
