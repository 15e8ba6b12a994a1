use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::AuthorityProposed;
use crate::state::*;

/// First step of the hand-over, signed by the current authority: proposes
/// `new_authority`, which takes over only when it signs
/// `accept_market_authority` (a typo can no longer lose the market). A new
/// proposal replaces the previous one.
#[event_cpi]
#[derive(Accounts)]
pub struct SetMarketAuthority<'info> {
    pub authority: Signer<'info>,
    #[account(
        mut,
        dup,
        seeds = [MARKET_SEED, market.mint.as_ref()],
        bump = market.bump,
        has_one = authority @ EscrowError::Unauthorized,
    )]
    pub market: Account<'info, Market>,
}

pub fn handler(ctx: Context<SetMarketAuthority>, new_authority: Pubkey) -> Result<()> {
    require_keys_neq!(new_authority, Pubkey::default(), EscrowError::InvalidAuthority);
    let market = &mut ctx.accounts.market;
    market.pending_authority = new_authority;
    emit_cpi!(AuthorityProposed { market: market.key(), authority: market.authority, proposed: new_authority });
    Ok(())
}
