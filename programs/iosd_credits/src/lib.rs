//! iopay IOSD credits.
//!
//! USD-pegged prepaid credits (1 credit = 1 USD, in 10^-6 USD base units)
//! against a reserve of a 6-decimal USD stablecoin: `buy` deposits the
//! stablecoin and credits the same amount, `redeem` pays it back; the
//! reserve vault holds exactly `config.outstanding` at every instruction
//! boundary. Credits live in a program account per user, so no token
//! instruction can move them and no instruction of this program moves them
//! between users. They pay for job_escrow jobs by CPI (the job's customer is
//! a per-user PDA of this program, so refunds come back as that user's
//! credits) and for inference by CPI into inference_pay (the same PDA is the
//! channel's payer, the user's refund account its `refund_to`, so channel
//! refunds come back as that user's credits too).
//! A user can let delegate keys spend within an allowance per period.
//!
//! Handlers live in `instructions/`, one file per instruction; pure
//! accounting in `math.rs`; authorization, signers and refund crediting in
//! `credit.rs`; hand-written CPIs into SPL Token (`token.rs`), job_escrow
//! (`escrow.rs`) and inference_pay (`inference.rs`); the program's own
//! accounts read and written in place (`raw.rs`) and the program's own
//! entrypoint, a fast path for `open_job_with_credits` and event self-CPIs
//! in front of Anchor's (`fast.rs`).
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;

pub mod credit;
pub mod errors;
pub mod escrow;
pub mod events;
pub mod fast;
pub mod inference;
pub mod instructions;
pub mod math;
pub mod raw;
pub mod state;
pub mod token;

pub use instructions::*;
pub use escrow::WorkerTerms;

declare_id!("HqninjUX3u4uZJ5piip6hp6AYfx2WNkPBdJCqUCiSkhs");

#[program]
pub mod iosd_credits {
    use super::*;

    // -- reserve administration (config authority) ---------------------------

    pub fn init_config(ctx: Context<InitConfig>, cap: u64) -> Result<()> {
        instructions::init_config::handler(ctx, cap)
    }

    pub fn set_paused(ctx: Context<SetPaused>, paused: bool) -> Result<()> {
        instructions::set_paused::handler(ctx, paused)
    }

    pub fn set_cap(ctx: Context<SetCap>, cap: u64) -> Result<()> {
        instructions::set_cap::handler(ctx, cap)
    }

    pub fn propose_authority(ctx: Context<ProposeAuthority>, new_authority: Pubkey) -> Result<()> {
        instructions::propose_authority::handler(ctx, new_authority)
    }

    pub fn accept_authority(ctx: Context<AcceptAuthority>) -> Result<()> {
        instructions::accept_authority::handler(ctx)
    }

    // -- user ------------------------------------------------------------------

    pub fn open_account(ctx: Context<OpenAccount>) -> Result<()> {
        instructions::open_account::handler(ctx)
    }

    pub fn buy(ctx: Context<Buy>, amount: u64) -> Result<()> {
        instructions::buy::handler(ctx, amount)
    }

    pub fn redeem(ctx: Context<Redeem>, amount: u64) -> Result<()> {
        instructions::redeem::handler(ctx, amount)
    }

    pub fn set_delegate(ctx: Context<SetDelegate>, delegate: Pubkey, allowance: u64, period_secs: u32) -> Result<()> {
        instructions::set_delegate::handler(ctx, delegate, allowance, period_secs)
    }

    pub fn revoke_delegate(ctx: Context<RevokeDelegate>) -> Result<()> {
        instructions::revoke_delegate::handler(ctx)
    }

    pub fn withdraw_rent(ctx: Context<WithdrawRent>) -> Result<()> {
        instructions::withdraw_rent::handler(ctx)
    }

    // -- jobs (user or delegate) -----------------------------------------------

    pub fn open_job_with_credits(
        ctx: Context<OpenJobWithCredits>,
        job_id: u64,
        hours: u32,
        accept_window: u32,
        workers: Vec<WorkerTerms>,
    ) -> Result<()> {
        instructions::open_job::handler(ctx, job_id, hours, accept_window, workers)
    }

    pub fn end_job_with_credits<'info>(ctx: Context<'info, EndJobWithCredits<'info>>, slots: Vec<u8>) -> Result<()> {
        instructions::end_job::handler(ctx, slots)
    }

    pub fn cancel_job_with_credits(ctx: Context<CancelJobWithCredits>) -> Result<()> {
        instructions::cancel_job::handler(ctx)
    }

    pub fn close_job_with_credits(ctx: Context<CloseJobWithCredits>) -> Result<()> {
        instructions::close_job::handler(ctx)
    }

    /// Permissionless: credits refunds waiting in the user's customer-owned
    /// token accounts back to the user.
    pub fn reclaim(ctx: Context<Reclaim>) -> Result<()> {
        instructions::reclaim::handler(ctx)
    }

    // -- inference channels ------------------------------------------------------

    /// User or delegate (within its allowance); blocked while paused.
    pub fn open_channel_with_credits(
        ctx: Context<OpenChannelWithCredits>,
        channel_id: u64,
        deposit: u64,
        expires_at: i64,
        dispute_window: u32,
        voucher_signer: Pubkey,
    ) -> Result<()> {
        instructions::open_channel::handler(ctx, channel_id, deposit, expires_at, dispute_window, voucher_signer)
    }

    /// User or delegate (within its allowance); blocked while paused.
    pub fn top_up_channel_with_credits(ctx: Context<TopUpChannelWithCredits>, amount: u64, expires_at: i64)
        -> Result<()> {
        instructions::top_up_channel::handler(ctx, amount, expires_at)
    }

    /// User or delegate, after the channel's expiry.
    pub fn start_close_channel_with_credits(ctx: Context<StartCloseChannelWithCredits>) -> Result<()> {
        instructions::start_close_channel::handler(ctx)
    }

    /// User or delegate, with the provider's signature.
    pub fn coop_close_channel_with_credits(ctx: Context<CoopCloseChannelWithCredits>) -> Result<()> {
        instructions::coop_close_channel::handler(ctx)
    }

    /// Permissionless, after the dispute window.
    pub fn finish_close_channel_with_credits(ctx: Context<FinishCloseChannelWithCredits>) -> Result<()> {
        instructions::finish_close_channel::handler(ctx)
    }
}
