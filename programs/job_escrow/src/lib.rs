//! iopay job escrow.
//!
//! A customer books a GPU job for 1..N workers, each at its own hourly rate
//! (in tokens, or in USD converted with the market's price feed), for a
//! number of hours: the workers' pay plus the protocol fee is locked in a
//! vault owned by the job PDA. Each worker `accept`s before a deadline,
//! which starts its clock; a permissionless crank (`settle`) streams each
//! whole elapsed hour to the workers, the matching fee shares accrue in the
//! job until a permissionless `sweep_fees` moves them to the treasury. The
//! customer can `extend` running slots, `release` one slot or `end_job`
//! early (partial hours pro rata by the second), or `cancel` before anyone
//! started, and gets back exactly what was not earned; a worker can `quit`;
//! `close_job` returns the rent once nothing is owed.
//!
//! Handlers live in `instructions/`, one file per instruction; money math
//! is in `math.rs`, slot accounting and vault transfers in `payout.rs`.
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;

pub mod errors;
pub mod events;
pub mod instructions;
pub mod math;
pub mod payout;
pub mod raw;
pub mod state;
pub mod token;

pub use instructions::*;
pub use state::WorkerTerms;

declare_id!("B5T8K3qFKCuKxUXnxs6QY24Legzn6KoQXr5hr1E2oksG");

#[program]
pub mod job_escrow {
    use super::*;

    // -- market administration (market authority) ----------------------------

    pub fn init_market(ctx: Context<InitMarket>, fee_bps: u16, max_workers: u16, max_hours: u32) -> Result<()> {
        instructions::init_market::handler(ctx, fee_bps, max_workers, max_hours)
    }

    pub fn set_market_paused(ctx: Context<SetMarketPaused>, paused: bool) -> Result<()> {
        instructions::set_market_paused::handler(ctx, paused)
    }

    pub fn update_market(ctx: Context<UpdateMarket>, fee_bps: u16, max_workers: u16, max_hours: u32) -> Result<()> {
        instructions::update_market::handler(ctx, fee_bps, max_workers, max_hours)
    }

    pub fn set_market_authority(ctx: Context<SetMarketAuthority>, new_authority: Pubkey) -> Result<()> {
        instructions::set_market_authority::handler(ctx, new_authority)
    }

    pub fn accept_market_authority(ctx: Context<AcceptMarketAuthority>) -> Result<()> {
        instructions::accept_market_authority::handler(ctx)
    }

    pub fn sweep_fees(ctx: Context<SweepFees>) -> Result<()> {
        instructions::sweep_fees::handler(ctx)
    }

    pub fn init_price_feed(ctx: Context<InitPriceFeed>, max_staleness: u32, max_conf_bps: u16) -> Result<()> {
        instructions::init_price_feed::handler(ctx, max_staleness, max_conf_bps)
    }

    pub fn set_oracle_limits(ctx: Context<SetOracleLimits>, max_staleness: u32, max_conf_bps: u16) -> Result<()> {
        instructions::set_oracle_limits::handler(ctx, max_staleness, max_conf_bps)
    }

    pub fn set_price(ctx: Context<SetPrice>, price: i64, conf: u64, expo: i32, publish_time: i64) -> Result<()> {
        instructions::set_price::handler(ctx, price, conf, expo, publish_time)
    }

    // -- job lifecycle ---------------------------------------------------------

    pub fn open_job(
        ctx: Context<OpenJob>,
        job_id: u64,
        hours: u32,
        usd: bool,
        accept_window: u32,
        max_total: u64,
        workers: Vec<WorkerTerms>,
    ) -> Result<()> {
        instructions::open_job::handler(ctx, job_id, hours, usd, accept_window, max_total, workers)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn open_job_funded(
        ctx: Context<OpenJobFunded>,
        job_id: u64,
        hours: u32,
        usd: bool,
        accept_window: u32,
        max_total: u64,
        workers: Vec<WorkerTerms>,
    ) -> Result<()> {
        instructions::open_job_funded::handler(ctx, job_id, hours, usd, accept_window, max_total, workers)
    }

    pub fn accept(ctx: Context<Accept>) -> Result<()> {
        instructions::accept::handler(ctx)
    }

    pub fn settle<'info>(ctx: Context<'info, Settle<'info>>, slots: Vec<u8>) -> Result<()> {
        instructions::settle::handler(ctx, slots)
    }

    pub fn extend(ctx: Context<Extend>, hours: u32, slots: Vec<u8>) -> Result<()> {
        instructions::extend::handler(ctx, hours, slots)
    }

    pub fn quit(ctx: Context<Quit>) -> Result<()> {
        instructions::quit::handler(ctx)
    }

    pub fn release<'info>(ctx: Context<'info, CustomerCut<'info>>, slot: u8) -> Result<()> {
        instructions::release::handler(ctx, slot)
    }

    pub fn end_job<'info>(ctx: Context<'info, CustomerCut<'info>>, slots: Vec<u8>) -> Result<()> {
        instructions::end_job::handler(ctx, slots)
    }

    pub fn cancel(ctx: Context<Cancel>) -> Result<()> {
        instructions::cancel::handler(ctx)
    }

    pub fn close_job(ctx: Context<CloseJob>) -> Result<()> {
        instructions::close_job::handler(ctx)
    }
}
