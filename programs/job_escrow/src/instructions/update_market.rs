use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::MarketUpdated;
use crate::instructions::init_market::validate_params;
use crate::state::*;
use crate::token::TokenAccount;

/// Changes fee, limits and treasury. Open jobs keep the fee they were opened
/// with (snapshot in `Job::fee_bps`); fees already accrued go to the new
/// treasury when they are swept.
#[event_cpi]
#[derive(Accounts)]
pub struct UpdateMarket<'info> {
    pub authority: Signer<'info>,
    #[account(
        mut,
        dup,
        seeds = [MARKET_SEED, market.mint.as_ref()],
        bump = market.bump,
        has_one = authority @ EscrowError::Unauthorized,
    )]
    pub market: Account<'info, Market>,
    /// New (or unchanged) treasury.
    #[account(constraint = treasury.mint == market.mint @ EscrowError::WrongMint)]
    pub treasury: Account<'info, TokenAccount>,
}

pub fn handler(ctx: Context<UpdateMarket>, fee_bps: u16, max_workers: u16, max_hours: u32) -> Result<()> {
    validate_params(fee_bps, max_workers, max_hours)?;
    let market = &mut ctx.accounts.market;
    market.fee_bps = fee_bps;
    market.max_workers = max_workers;
    market.max_hours = max_hours;
    market.treasury = ctx.accounts.treasury.key();
    emit_cpi!(MarketUpdated {
        market: market.key(),
        treasury: market.treasury,
        fee_bps,
        max_workers,
        max_hours,
    });
    Ok(())
}
