use anchor_lang::prelude::*;

use crate::errors::PayError;
use crate::events::ChannelClosed;
use crate::pool::PoolVault;
use crate::state::*;
use crate::token::{Token, TokenAccount};

/// After the dispute window: refunds `deposit - settled` to the channel's
/// `refund_to` and closes it (rent to `rent_payer`). Permissionless: every
/// destination was fixed at open.
#[event_cpi]
#[derive(Accounts)]
pub struct FinishClose<'info> {
    #[account(
        mut,
        dup,
        close = rent_payer,
        seeds = [CHANNEL_SEED, channel.payer.as_ref(), channel.provider.as_ref(), channel.mint.as_ref(), &channel.id.to_le_bytes()],
        bump = channel.bump,
        has_one = rent_payer @ PayError::WrongRentPayer,
        has_one = refund_to @ PayError::WrongRefundAccount,
        constraint = channel.state == ChannelState::Closing @ PayError::NotClosing,
    )]
    pub channel: Box<Account<'info, Channel>>,
    /// CHECK: must be the recorded rent payer (`has_one`); receives lamports.
    #[account(mut, dup)]
    pub rent_payer: UncheckedAccount<'info>,
    #[account(mut, dup, constraint = refund_to.key() != vault.key() @ PayError::WrongVault)]
    pub refund_to: Box<Account<'info, TokenAccount>>,
    #[account(seeds = [POOL_SEED, channel.mint.as_ref()], bump = pool.bump)]
    pub pool: Box<Account<'info, Pool>>,
    #[account(mut, dup, address = pool.vault @ PayError::WrongVault)]
    pub vault: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<FinishClose>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    require!(now >= ctx.accounts.channel.close_at, PayError::DisputeWindowOpen);
    close_and_refund(&ctx.accounts.channel, &ctx.accounts.pool, &ctx.accounts.vault, &ctx.accounts.refund_to, &ctx.accounts.token_program)?;
    let c = &ctx.accounts.channel;
    emit_cpi!(ChannelClosed { channel: c.key(), refund: c.remaining(), settled: c.settled, cooperative: false });
    Ok(())
}

/// Pays the channel's unsettled deposit back to `refund_to` (the channel
/// account itself is closed by Anchor's `close` constraint).
pub fn close_and_refund<'info>(
    channel: &Account<'info, Channel>,
    pool: &Account<'info, Pool>,
    vault: &Account<'info, TokenAccount>,
    refund_to: &Account<'info, TokenAccount>,
    token_program: &Program<'info, Token>,
) -> Result<()> {
    let vault = PoolVault::new(token_program.to_account_info(), vault.to_account_info(), pool);
    vault.pay(&refund_to.to_account_info(), channel.remaining())
}
