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

/// Refunds (from job_escrow or an inference allowance) credited back.
#[event]
pub struct CreditsRefunded {
    pub credit_account: Pubkey,
    /// The token account swept (the refund account), or the allowance.
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

#[event]
pub struct InferenceFunded {
    pub credit_account: Pubkey,
    pub allowance: Pubkey,
    pub provider_token: Pubkey,
    pub delegate: Pubkey,
    pub amount: u64,
    pub total: u64,
    pub balance: u64,
}

#[event]
pub struct InferencePaid {
    pub credit_account: Pubkey,
    pub allowance: Pubkey,
    pub provider_token: Pubkey,
    pub amount: u64,
    pub paid: u64,
    pub outstanding: u64,
}
