use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::PriceUpdated;
use crate::state::*;

/// Publishes a USD price of the market mint (Pyth semantics: one whole
/// token = `price * 10^expo` USD +- `conf * 10^expo`, as of `publish_time`).
/// Signed by the market authority. Publish times must not be in the future
/// nor go backwards; staleness and confidence are checked where the price is
/// used (`open_job` with `usd`), against the market's limits.
#[event_cpi]
#[derive(Accounts)]
pub struct SetPrice<'info> {
    pub authority: Signer<'info>,
    #[account(
        seeds = [MARKET_SEED, market.mint.as_ref()],
        bump = market.bump,
        has_one = authority @ EscrowError::Unauthorized,
    )]
    pub market: Account<'info, Market>,
    #[account(
        mut,
        dup,
        seeds = [PRICE_FEED_SEED, market.key().as_ref()],
        bump = price_feed.bump,
        has_one = market @ EscrowError::WrongMarket,
    )]
    pub price_feed: Account<'info, PriceFeed>,
}

pub fn handler(ctx: Context<SetPrice>, price: i64, conf: u64, expo: i32, publish_time: i64) -> Result<()> {
    let now_ts = Clock::get()?.unix_timestamp;
    require!(price > 0 && (-MAX_ABS_EXPO..=MAX_ABS_EXPO).contains(&expo), EscrowError::InvalidPrice);
    let feed = &mut ctx.accounts.price_feed;
    require!(publish_time <= now_ts && publish_time >= feed.publish_time, EscrowError::InvalidPublishTime);
    feed.price = price;
    feed.conf = conf;
    feed.expo = expo;
    feed.publish_time = publish_time;
    emit_cpi!(PriceUpdated {
        market: feed.market,
        price_feed: feed.key(),
        price,
        conf,
        expo,
        publish_time,
    });
    Ok(())
}
