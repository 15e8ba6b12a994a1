use anchor_lang::prelude::*;

use crate::errors::CreditsError;
use crate::events::ConfigPaused;
use crate::state::*;

/// Pausing blocks `buy` and every spend; refunds, reclaims, redemption and
/// revocations keep working so nobody's money is ever stuck.
#[event_cpi]
#[derive(Accounts)]
pub struct SetPaused<'info> {
    pub authority: Signer<'info>,
    #[account(
        mut,

        dup,
        seeds = [CONFIG_SEED, config.mint.as_ref()],
        bump = config.bump,
        has_one = authority @ CreditsError::Unauthorized,
    )]
    pub config: Account<'info, Config>,
}

pub fn handler(ctx: Context<SetPaused>, paused: bool) -> Result<()> {
    let config = &mut ctx.accounts.config;
    config.paused = paused;
    emit_cpi!(ConfigPaused { config: config.key(), paused });
    Ok(())
}
