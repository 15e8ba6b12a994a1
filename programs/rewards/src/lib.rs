//! iopay worker rewards: one Merkle distributor per epoch.
//!
//! Off chain, the SDK computes every worker's reward for an epoch (points
//! from job hours read from job_escrow's settlement events, bandwidth, GPU
//! model and uptime) and a Merkle tree of `(epoch, index, wallet, amount)`
//! leaves. `new_distributor` stores the root and funds a vault with the
//! pool; each worker `claim`s its leaf with a proof, once (a bit in the
//! distributor's claim bitmap, no account per claim, so no rent); after the
//! claim deadline `clawback` sends what is left to the treasury.
//!
//! Handlers live in `instructions/`, one file per instruction; the tree and
//! bitmap math is in `merkle.rs`, accounts in `state.rs`.
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;

pub mod errors;
pub mod events;
pub mod fast;
pub mod instructions;
pub mod merkle;
pub mod state;
pub mod token;

pub use instructions::*;

declare_id!("9xAthT2ibcsFND3eJnNBFSpbFffW3MMAjEr6oLJgbVbQ");

#[program]
pub mod rewards {
    use super::*;

    pub fn new_distributor(
        ctx: Context<NewDistributor>,
        epoch: u64,
        root: [u8; 32],
        num_leaves: u32,
        total: u64,
        claim_deadline: i64,
    ) -> Result<()> {
        instructions::new_distributor::handler(ctx, epoch, root, num_leaves, total, claim_deadline)
    }

    pub fn claim(ctx: Context<Claim>, index: u32, amount: u64, proof: Vec<[u8; 32]>) -> Result<()> {
        instructions::claim::handler(ctx, index, amount, proof)
    }

    pub fn clawback(ctx: Context<Clawback>) -> Result<()> {
        instructions::clawback::handler(ctx)
    }

    pub fn propose_admin(ctx: Context<ProposeAdmin>, new_admin: Pubkey) -> Result<()> {
        instructions::propose_admin::handler(ctx, new_admin)
    }

    pub fn accept_admin(ctx: Context<AcceptAdmin>) -> Result<()> {
        instructions::accept_admin::handler(ctx)
    }

    pub fn extend_deadline(ctx: Context<ExtendDeadline>, new_deadline: i64) -> Result<()> {
        instructions::extend_deadline::handler(ctx, new_deadline)
    }
}
