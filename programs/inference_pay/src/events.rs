//! Events, emitted with `emit_cpi!` so they survive log truncation.
use anchor_lang::prelude::*;

use crate::state::PriceUnit;

#[event]
pub struct PoolInitialized {
    pub pool: Pubkey,
    pub mint: Pubkey,
    pub vault: Pubkey,
}

#[event]
pub struct ListingCreated {
    pub listing: Pubkey,
    pub provider: Pubkey,
    pub mint: Pubkey,
    pub model_id: u64,
    pub price: u64,
    pub unit: PriceUnit,
}

#[event]
pub struct ListingUpdated {
    pub listing: Pubkey,
    pub price: u64,
    pub unit: PriceUnit,
    pub active: bool,
}

#[event]
pub struct ListingClosed {
    pub listing: Pubkey,
}

#[event]
pub struct ChannelOpened {
    pub channel: Pubkey,
    pub payer: Pubkey,
    pub provider: Pubkey,
    pub mint: Pubkey,
    pub voucher_signer: Pubkey,
    pub refund_to: Pubkey,
    pub rent_payer: Pubkey,
    pub id: u64,
    pub open_slot: u64,
    pub deposit: u64,
    pub fee_bps: u16,
    pub expires_at: i64,
    pub dispute_window: u32,
}

#[event]
pub struct ChannelToppedUp {
    pub channel: Pubkey,
    pub amount: u64,
    pub deposit: u64,
    pub expires_at: i64,
}

/// One settled channel of a `ChannelsSettled` batch.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug)]
pub struct Settlement {
    pub channel: Pubkey,
    /// The voucher redeemed: the channel's new `settled` and `nonce`.
    pub cumulative: u64,
    pub nonce: u64,
    /// Paid to the provider and accrued as fee by this settlement.
    pub amount: u64,
    pub fee: u64,
}

/// One event per `settle` instruction, one entry per channel (one self-CPI
/// for the whole batch keeps the per-channel cost low).
#[event]
pub struct ChannelsSettled {
    pub provider: Pubkey,
    pub mint: Pubkey,
    pub settlements: Vec<Settlement>,
    pub paid: u64,
    pub fees: u64,
    pub settled_ts: i64,
}

#[event]
pub struct CloseStarted {
    pub channel: Pubkey,
    pub close_at: i64,
}

#[event]
pub struct ChannelClosed {
    pub channel: Pubkey,
    pub refund: u64,
    pub settled: u64,
    pub cooperative: bool,
}

#[event]
pub struct FeesSwept {
    pub pool: Pubkey,
    pub treasury: Pubkey,
    pub amount: u64,
}
