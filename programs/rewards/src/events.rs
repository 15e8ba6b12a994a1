//! Events, emitted with `emit_cpi!` so they survive log truncation.
use anchor_lang::prelude::*;

#[event]
pub struct DistributorCreated {
    pub distributor: Pubkey,
    pub creator: Pubkey,
    pub admin: Pubkey,
    pub mint: Pubkey,
    pub epoch: u64,
    pub root: [u8; 32],
    pub num_leaves: u32,
    pub total: u64,
    pub claim_deadline: i64,
    pub treasury: Pubkey,
    pub vault: Pubkey,
    pub claims: Pubkey,
}

#[event]
pub struct Claimed {
    pub distributor: Pubkey,
    pub epoch: u64,
    pub index: u32,
    pub claimant: Pubkey,
    pub amount: u64,
    /// Cumulative amount claimed from this distributor after this claim.
    pub claimed: u64,
    pub num_claimed: u32,
}

#[event]
pub struct ClawedBack {
    pub distributor: Pubkey,
    pub epoch: u64,
    pub treasury: Pubkey,
    /// Everything left in the vault, sent to the treasury.
    pub amount: u64,
    /// Amount claimed before the deadline.
    pub claimed: u64,
}

#[event]
pub struct AdminProposed {
    pub distributor: Pubkey,
    pub admin: Pubkey,
    /// The default key when a proposal is withdrawn.
    pub pending_admin: Pubkey,
}

#[event]
pub struct AdminAccepted {
    pub distributor: Pubkey,
    pub old_admin: Pubkey,
    pub new_admin: Pubkey,
}

#[event]
pub struct DeadlineExtended {
    pub distributor: Pubkey,
    pub old_deadline: i64,
    pub new_deadline: i64,
}
