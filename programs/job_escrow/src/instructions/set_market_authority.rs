use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::AuthorityChanged;
use crate::state::*;

/// One-step transfer signed by the current authority: the new authority need
/// not sign, so it can be a PDA (e.g. the governance program's).
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
    let old_authority = market.authority;
    market.authority = new_authority;
    emit_cpi!(AuthorityChanged { market: market.key(), old_authority, new_authority });
    Ok(())
}
