use anchor_lang::prelude::*;

use crate::errors::PayError;
use crate::events::ChannelClosed;
use crate::instructions::finish_close::close_and_refund;
use crate::state::*;
use crate::token::{Token, TokenAccount};

/// Cooperative close, at any time: payer and provider both sign, the
/// unsettled rest goes back to `refund_to` at once and the channel closes
/// (rent to `rent_payer`). The provider settles its last voucher first (in
/// the same transaction if it likes): what was not settled is refunded.
#[event_cpi]
#[derive(Accounts)]
pub struct CoopClose<'info> {
    pub payer: Signer<'info>,
    pub provider: Signer<'info>,
    #[account(
        mut,
        dup,
        close = rent_payer,
        seeds = [CHANNEL_SEED, channel.payer.as_ref(), channel.provider.as_ref(), channel.mint.as_ref(), &channel.id.to_le_bytes()],
        bump = channel.bump,
        has_one = payer @ PayError::Unauthorized,
        has_one = provider @ PayError::WrongProvider,
        has_one = rent_payer @ PayError::WrongRentPayer,
        has_one = refund_to @ PayError::WrongRefundAccount,
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

pub fn handler(ctx: Context<CoopClose>) -> Result<()> {
    close_and_refund(&ctx.accounts.channel, &ctx.accounts.pool, &ctx.accounts.vault, &ctx.accounts.refund_to, &ctx.accounts.token_program)?;
    let c = &ctx.accounts.channel;
    emit_cpi!(ChannelClosed { channel: c.key(), refund: c.remaining(), settled: c.settled, cooperative: true });
    Ok(())
}
