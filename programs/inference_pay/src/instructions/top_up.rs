use anchor_lang::prelude::*;

use crate::errors::PayError;
use crate::events::ChannelToppedUp;
use crate::state::*;
use crate::market;
use crate::token::{self, Token, TokenAccount};

/// The payer adds `amount` to an open channel and/or moves its expiry later
/// (`expires_at` equal to the current one keeps it).
#[event_cpi]
#[derive(Accounts)]
pub struct TopUp<'info> {
    pub payer: Signer<'info>,
    /// job_escrow's market of the mint (owner, discriminator, mint and PDA
    /// checked by `market::read`).
    /// CHECK: read by hand in the handler.
    pub market: UncheckedAccount<'info>,
    #[account(seeds = [POOL_SEED, pool.mint.as_ref()], bump = pool.bump)]
    pub pool: Box<Account<'info, Pool>>,
    #[account(mut, dup, address = pool.vault @ PayError::WrongVault)]
    pub vault: Box<Account<'info, TokenAccount>>,
    #[account(
        mut,
        dup,
        constraint = payer_token.mint == pool.mint @ PayError::WrongMint,
        constraint = payer_token.owner == payer.key() @ PayError::WrongOwner,
        constraint = payer_token.key() != vault.key() @ PayError::WrongVault,
    )]
    pub payer_token: Box<Account<'info, TokenAccount>>,
    #[account(
        mut,
        dup,
        seeds = [CHANNEL_SEED, channel.payer.as_ref(), channel.provider.as_ref(), channel.mint.as_ref(), &channel.id.to_le_bytes()],
        bump = channel.bump,
        has_one = payer @ PayError::Unauthorized,
        constraint = channel.mint == pool.mint @ PayError::WrongMint,
        constraint = channel.state == ChannelState::Open @ PayError::ChannelClosing,
    )]
    pub channel: Box<Account<'info, Channel>>,
    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<TopUp>, amount: u64, expires_at: i64) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    require!(!market::read(&ctx.accounts.market, &ctx.accounts.pool.mint)?.paused, PayError::MarketPaused);
    let channel = &ctx.accounts.channel;
    require!(expires_at >= channel.expires_at, PayError::ExpiryMovedBack);
    require!(amount > 0 || expires_at > channel.expires_at, PayError::ZeroAmount);
    require!(expires_at - now <= MAX_CHANNEL_LIFE, PayError::InvalidExpiry);
    if amount > 0 {
        token::transfer(
            &ctx.accounts.token_program.to_account_info(),
            &ctx.accounts.payer_token.to_account_info(),
            &ctx.accounts.vault.to_account_info(),
            &ctx.accounts.payer.to_account_info(),
            amount,
            &[],
        )?;
    }
    let channel = &mut ctx.accounts.channel;
    channel.deposit = channel.deposit.checked_add(amount).ok_or(PayError::MathOverflow)?;
    channel.expires_at = expires_at;
    emit_cpi!(ChannelToppedUp { channel: channel.key(), amount, deposit: channel.deposit, expires_at });
    Ok(())
}
