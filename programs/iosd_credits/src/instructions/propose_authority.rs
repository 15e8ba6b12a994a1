use anchor_lang::prelude::*;

use crate::errors::CreditsError;
use crate::events::AuthorityProposed;
use crate::state::*;

/// Step one of an authority transfer: the current authority names its
/// successor (the default key withdraws a proposal). Nothing changes until
/// the successor accepts, so a typo cannot orphan the reserve.
#[event_cpi]
#[derive(Accounts)]
pub struct ProposeAuthority<'info> {
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

pub fn handler(ctx: Context<ProposeAuthority>, new_authority: Pubkey) -> Result<()> {
    let config = &mut ctx.accounts.config;
    config.pending_authority = new_authority;
    emit_cpi!(AuthorityProposed {
        config: config.key(),
        authority: config.authority,
        pending_authority: new_authority,
    });
    Ok(())
}
