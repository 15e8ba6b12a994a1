//! iopay inference payments.
//!
//! Every inference on a model listed by a provider is paid by a signed
//! voucher: the payer opens a channel (a PDA per payer, provider, mint and
//! id) with a deposit, then signs for each inference the *cumulative*
//! amount owed so far with an increasing nonce. The provider keeps only the
//! best voucher and redeems it with `settle`, which checks the ed25519
//! signature through the Ed25519 precompile (instruction introspection,
//! `voucher.rs`) and pays `cumulative - settled` minus the protocol fee.
//! Many channels settle in one instruction, out of one pooled vault per mint
//! (`Pool`), with one transfer to the provider. Fees accrue in the pool and
//! are swept to the treasury of job_escrow's market for the mint by anyone
//! (`sweep_fees`): no outside account can block a settlement.
//!
//! Closing: cooperative (payer and provider sign, immediate refund of the
//! rest), or the payer's unilateral close after expiry, which opens a
//! dispute window in which the provider can still settle; after it, anyone
//! finishes the close. Refunds go to the token account fixed at open, rent
//! to whoever paid it.
//!
//! CPI seam (IOSD credits): `open_channel` takes the channel owner `payer`
//! (a signer: a PDA signs by `invoke_signed`), a separate `rent_payer`, the
//! `voucher_signer` key (a PDA cannot sign ed25519 vouchers) and `refund_to`
//! (e.g. the credits program's own vault), all recorded at open.
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;

pub mod errors;
pub mod events;
pub mod instructions;
pub mod market;
pub mod math;
pub mod pool;
pub mod state;
pub mod token;
pub mod voucher;

pub use instructions::*;
pub use state::PriceUnit;

declare_id!("9rUK5Wp7mPrD8AqASRarNbQB2LC65TZJ2YFZggw5wrKw");

#[program]
pub mod inference_pay {
    use super::*;

    /// Creates the pool (vault) of a mint. Permissionless, once per mint.
    pub fn init_pool(ctx: Context<InitPool>) -> Result<()> {
        instructions::init_pool::handler(ctx)
    }

    pub fn create_listing(ctx: Context<CreateListing>, model_id: u64, price: u64, unit: PriceUnit) -> Result<()> {
        instructions::create_listing::handler(ctx, model_id, price, unit)
    }

    pub fn update_listing(ctx: Context<UpdateListing>, price: u64, unit: PriceUnit, active: bool) -> Result<()> {
        instructions::update_listing::handler(ctx, price, unit, active)
    }

    pub fn close_listing(ctx: Context<CloseListing>) -> Result<()> {
        instructions::close_listing::handler(ctx)
    }

    pub fn open_channel(
        ctx: Context<OpenChannel>,
        id: u64,
        deposit: u64,
        expires_at: i64,
        dispute_window: u32,
        voucher_signer: Pubkey,
    ) -> Result<()> {
        instructions::open_channel::handler(ctx, id, deposit, expires_at, dispute_window, voucher_signer)
    }

    pub fn top_up(ctx: Context<TopUp>, amount: u64, expires_at: i64) -> Result<()> {
        instructions::top_up::handler(ctx, amount, expires_at)
    }

    /// Redeems one voucher per remaining account (channel), signature `i` of
    /// the Ed25519 precompile instruction `ed25519_back` instructions before
    /// this one for channel `i`.
    pub fn settle<'info>(ctx: Context<'info, Settle<'info>>, ed25519_back: u8) -> Result<()> {
        instructions::settle::handler(ctx, ed25519_back)
    }

    pub fn start_close(ctx: Context<StartClose>) -> Result<()> {
        instructions::start_close::handler(ctx)
    }

    pub fn finish_close(ctx: Context<FinishClose>) -> Result<()> {
        instructions::finish_close::handler(ctx)
    }

    pub fn coop_close(ctx: Context<CoopClose>) -> Result<()> {
        instructions::coop_close::handler(ctx)
    }

    pub fn sweep_fees(ctx: Context<SweepFees>) -> Result<()> {
        instructions::sweep_fees::handler(ctx)
    }
}
