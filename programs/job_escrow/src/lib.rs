//! iopay job escrow.
//!
//! A customer books a GPU job: `rate_per_hour * hours` per worker plus the
//! protocol fee is locked in a vault owned by the job PDA. A permissionless
//! crank (`settle`) streams each whole elapsed hour to the worker and the
//! matching fee share to the market treasury. The customer can `cancel` at any
//! time and gets back exactly what was not yet earned.
//!
//! Handlers live in `instructions/`, one file per instruction; this module
//! only dispatches.
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;

pub mod errors;
pub mod events;
pub mod instructions;
pub mod math;
pub mod state;
pub mod token;

pub use instructions::*;

declare_id!("B5T8K3qFKCuKxUXnxs6QY24Legzn6KoQXr5hr1E2oksG");

#[program]
pub mod job_escrow {
    use super::*;

    pub fn init_market(
        ctx: Context<InitMarket>,
        fee_bps: u16,
        max_workers: u16,
        max_hours: u32,
    ) -> Result<()> {
        instructions::init_market::handler(ctx, fee_bps, max_workers, max_hours)
    }

    pub fn set_market_paused(ctx: Context<SetMarketPaused>, paused: bool) -> Result<()> {
        instructions::set_market_paused::handler(ctx, paused)
    }

    pub fn update_market(
        ctx: Context<UpdateMarket>,
        fee_bps: u16,
        max_workers: u16,
        max_hours: u32,
    ) -> Result<()> {
        instructions::update_market::handler(ctx, fee_bps, max_workers, max_hours)
    }

    pub fn set_market_authority(ctx: Context<SetMarketAuthority>, new_authority: Pubkey) -> Result<()> {
        instructions::set_market_authority::handler(ctx, new_authority)
    }

    pub fn open_job(ctx: Context<OpenJob>, job_id: u64, rate_per_hour: u64, hours: u32) -> Result<()> {
        instructions::open_job::handler(ctx, job_id, rate_per_hour, hours)
    }

    pub fn settle(ctx: Context<Settle>) -> Result<()> {
        instructions::settle::handler(ctx)
    }

    pub fn cancel(ctx: Context<Cancel>) -> Result<()> {
        instructions::cancel::handler(ctx)
    }
}
