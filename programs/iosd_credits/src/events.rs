//! Events, emitted with `emit_cpi!` so they survive log truncation. Every
//! balance change carries the balance and the reserve's outstanding total
//! after it, so an indexer can check reserve == outstanding from events alone.
use anchor_lang::prelude::*;

#[event]
pub struct ConfigInitialized {
    pub config: Pubkey,
    pub mint: Pubkey,
    pub reserve_vault: Pubkey,
    pub authority: Pubkey,
    pub cap: u64,
}

#[event]
pub struct ConfigPaused {
    pub config: Pubkey,
    pub paused: bool,
}

#[event]
pub struct CapChanged {
    pub config: Pubkey,
    pub cap: u64,
}

#[event]
pub struct AuthorityProposed {
    pub config: Pubkey,
    pub authority: Pubkey,
    pub pending_authority: Pubkey,
}

#[event]
pub struct AuthorityAccepted {
    pub config: Pubkey,
    pub old_authority: Pubkey,
    pub new_authority: Pubkey,
}

#[event]
pub struct CreditAccountOpened {
    pub config: Pubkey,
    pub credit_account: Pubkey,
    pub user: Pubkey,
    pub customer: Pubkey,
    pub refund_account: Pubkey,
}

#[event]
pub struct CreditsBought {
    pub credit_account: Pubkey,
    pub user: Pubkey,
    pub amount: u64,
    pub balance: u64,
    pub outstanding: u64,
}

#[event]
pub struct CreditsRedeemed {
    pub credit_account: Pubkey,
    pub user: Pubkey,
    pub amount: u64,
    pub balance: u64,
    pub outstanding: u64,
}

#[event]
pub struct DelegateSet {
    pub credit_account: Pubkey,
    pub delegate: Pubkey,
    pub allowance: u64,
    pub period_secs: u32,
    pub period_start: i64,
}

#[event]
pub struct DelegateRevoked {
    pub credit_account: Pubkey,
    pub delegate: Pubkey,
}

/// A job opened with credits. `delegate` is the default key when the user
/// signed itself; otherwise `spent_in_period` is the delegate's total after it.
#[event]
pub struct JobPaidWithCredits {
    pub credit_account: Pubkey,
    pub job: Pubkey,
    pub job_id: u64,
    pub delegate: Pubkey,
    pub amount: u64,
    pub spent_in_period: u64,
    pub balance: u64,
    pub outstanding: u64,
}

/// Refunds (from job_escrow, or from a channel closed outside this
/// program, through `reclaim`) credited back.
#[event]
pub struct CreditsRefunded {
    pub credit_account: Pubkey,
    /// The token account swept (a token account of the customer PDA).
    pub source: Pubkey,
    pub amount: u64,
    pub balance: u64,
    pub outstanding: u64,
}

#[event]
pub struct RentWithdrawn {
    pub credit_account: Pubkey,
    pub user: Pubkey,
    pub lamports: u64,
}

/// An inference_pay channel opened with credits: the user's customer PDA
/// is its payer and the user's refund account its `refund_to`.
/// `delegate` is the default key when the user signed itself; otherwise
/// `spent_in_period` is the delegate's total after it.
#[event]
pub struct ChannelOpenedWithCredits {
    pub credit_account: Pubkey,
    pub channel: Pubkey,
    pub channel_id: u64,
    pub provider: Pubkey,
    pub voucher_signer: Pubkey,
    pub delegate: Pubkey,
    pub amount: u64,
    pub spent_in_period: u64,
    pub balance: u64,
    pub outstanding: u64,
}

/// A channel paid with credits topped up (`amount` may be 0 when only the
/// expiry moved).
#[event]
pub struct ChannelToppedUpWithCredits {
    pub credit_account: Pubkey,
    pub channel: Pubkey,
    pub delegate: Pubkey,
    pub amount: u64,
    pub expires_at: i64,
    pub spent_in_period: u64,
    pub balance: u64,
    pub outstanding: u64,
}

/// The unilateral close of a channel paid with credits started (by the user
/// or a delegate); inference_pay's `CloseStarted` carries `close_at`.
#[event]
pub struct ChannelCloseStartedWithCredits {
    pub credit_account: Pubkey,
    pub channel: Pubkey,
    pub delegate: Pubkey,
}

/// A channel paid with credits closed (cooperatively, or finished after
/// the dispute window) and its refund credited. `amount` is what was
/// credited from the refund account (the channel's unsettled rest, plus any
/// refund of the user's jobs waiting there); `settled` is what the provider
/// got (fee included), which never comes back and leaves `in_flight`.
#[event]
pub struct ChannelRefunded {
    pub credit_account: Pubkey,
    pub channel: Pubkey,
    pub cooperative: bool,
    pub settled: u64,
    pub amount: u64,
    pub in_flight: u64,
    pub balance: u64,
    pub outstanding: u64,
}
