use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::OracleConfigured;
use crate::instructions::init_price_feed::validate_oracle_limits;
use crate::state::*;

/// Changes the staleness and confidence limits of the market's oracle.
#[event_cpi]
#[derive(Accounts)]
pub struct SetOracleLimits<'info> {
    pub authority: Signer<'info>,
    #[account(
        mut,
        dup,
        seeds = [MARKET_SEED, market.mint.as_ref()],
        bump = market.bump,
        has_one = authority @ EscrowError::Unauthorized,
        constraint = market.oracle != Pubkey::default() @ EscrowError::OracleRequired,
    )]
    pub market: Account<'info, Market>,
}

pub fn handler(ctx: Context<SetOracleLimits>, max_staleness: u32, max_conf_bps: u16) -> Result<()> {
    validate_oracle_limits(max_staleness, max_conf_bps)?;
    let market = &mut ctx.accounts.market;
    market.max_staleness = max_staleness;
    market.max_conf_bps = max_conf_bps;
    emit_cpi!(OracleConfigured { market: market.key(), price_feed: market.oracle, max_staleness, max_conf_bps });
    Ok(())
}
