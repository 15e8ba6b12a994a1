use anchor_lang::prelude::*;

use crate::errors::CreditsError;
use crate::events::AuthorityAccepted;
use crate::state::*;

/// Step two: the proposed authority signs (a governance PDA signs by CPI
/// when its proposal executes) and takes over.
#[event_cpi]
#[derive(Accounts)]
pub struct AcceptAuthority<'info> {
    pub new_authority: Signer<'info>,
    #[account(
        mut,

        dup,
        seeds = [CONFIG_SEED, config.mint.as_ref()],
        bump = config.bump,
        constraint = config.pending_authority != Pubkey::default()
            && config.pending_authority == new_authority.key() @ CreditsError::NotPendingAuthority,
    )]
    pub config: Account<'info, Config>,
}

pub fn handler(ctx: Context<AcceptAuthority>) -> Result<()> {
    let config = &mut ctx.accounts.config;
    let old_authority = config.authority;
    config.authority = ctx.accounts.new_authority.key();
    config.pending_authority = Pubkey::default();
    emit_cpi!(AuthorityAccepted { config: config.key(), old_authority, new_authority: config.authority });
    Ok(())
}
