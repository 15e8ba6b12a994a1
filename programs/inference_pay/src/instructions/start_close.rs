use anchor_lang::prelude::*;

use crate::errors::PayError;
use crate::events::CloseStarted;
use crate::state::*;

/// The payer's unilateral close, once the channel has expired: opens the
/// dispute window (`dispute_window` seconds) in which the provider can still
/// settle its best voucher; `finish_close` refunds the rest after it.
#[event_cpi]
#[derive(Accounts)]
pub struct StartClose<'info> {
    pub payer: Signer<'info>,
    #[account(
        mut,
        seeds = [CHANNEL_SEED, channel.payer.as_ref(), channel.provider.as_ref(), channel.mint.as_ref(), &channel.id.to_le_bytes()],
        bump = channel.bump,
        has_one = payer @ PayError::Unauthorized,
        constraint = channel.state == ChannelState::Open @ PayError::ChannelClosing,
    )]
    pub channel: Box<Account<'info, Channel>>,
}

pub fn handler(ctx: Context<StartClose>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let channel = &mut ctx.accounts.channel;
    require!(now >= channel.expires_at, PayError::NotExpired);
    channel.close_at = now.checked_add(channel.dispute_window as i64).ok_or(PayError::MathOverflow)?;
    channel.state = ChannelState::Closing;
    emit_cpi!(CloseStarted { channel: channel.key(), close_at: channel.close_at });
    Ok(())
}
