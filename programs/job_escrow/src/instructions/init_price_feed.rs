use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::OracleConfigured;
use crate::state::*;

/// Gives the market a USD price feed for its mint (the `PriceFeed` PDA of
/// the market) with staleness and confidence limits, enabling USD-priced
/// jobs. Signed by the market authority. The feed starts without a price
/// (price 0 is refused at use) until `set_price`.
#[event_cpi]
#[derive(Accounts)]
pub struct InitPriceFeed<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    pub authority: Signer<'info>,
    #[account(
        mut,
        dup,
        seeds = [MARKET_SEED, market.mint.as_ref()],
        bump = market.bump,
        has_one = authority @ EscrowError::Unauthorized,
    )]
    pub market: Account<'info, Market>,
    #[account(
        init,
        payer = payer,
        space = 8 + PriceFeed::INIT_SPACE,
        seeds = [PRICE_FEED_SEED, market.key().as_ref()],
        bump,
    )]
    pub price_feed: Account<'info, PriceFeed>,
    pub system_program: Program<'info, System>,
}

pub fn validate_oracle_limits(max_staleness: u32, max_conf_bps: u16) -> Result<()> {
    require!(
        max_staleness > 0 && max_conf_bps > 0 && max_conf_bps <= BPS_DENOMINATOR,
        EscrowError::InvalidOracleLimits
    );
    Ok(())
}

pub fn handler(ctx: Context<InitPriceFeed>, max_staleness: u32, max_conf_bps: u16) -> Result<()> {
    validate_oracle_limits(max_staleness, max_conf_bps)?;
    let market_key = ctx.accounts.market.key();
    let feed_key = ctx.accounts.price_feed.key();
    ctx.accounts.price_feed.set_inner(PriceFeed {
        market: market_key,
        price: 0,
        conf: 0,
        expo: 0,
        publish_time: 0,
        bump: ctx.bumps.price_feed,
        reserved: [0; 32],
    });
    let market = &mut ctx.accounts.market;
    market.oracle = feed_key;
    market.max_staleness = max_staleness;
    market.max_conf_bps = max_conf_bps;
    emit_cpi!(OracleConfigured { market: market_key, price_feed: feed_key, max_staleness, max_conf_bps });
    Ok(())
}
