use anchor_lang::prelude::*;

use crate::errors::CreditsError;
use crate::events::CapChanged;
use crate::state::*;

/// Sets the cap on outstanding credits. A cap below the current outstanding
/// total only stops further buys; nothing held is affected.
#[event_cpi]
#[derive(Accounts)]
pub struct SetCap<'info> {
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

pub fn handler(ctx: Context<SetCap>, cap: u64) -> Result<()> {
    let config = &mut ctx.accounts.config;
    config.cap = cap;
    emit_cpi!(CapChanged { config: config.key(), cap });
    Ok(())
}
