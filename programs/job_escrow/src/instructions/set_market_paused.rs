use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::MarketPaused;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct SetMarketPaused<'info> {
    pub authority: Signer<'info>,
    #[account(
        mut,
        dup,
        seeds = [MARKET_SEED, market.mint.as_ref()],
        bump = market.bump,
        has_one = authority @ EscrowError::Unauthorized,
    )]
    pub market: Account<'info, Market>,
}

pub fn handler(ctx: Context<SetMarketPaused>, paused: bool) -> Result<()> {
    let market = &mut ctx.accounts.market;
    market.paused = paused;
    emit_cpi!(MarketPaused { market: market.key(), paused });
    Ok(())
}
