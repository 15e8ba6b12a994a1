use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::AuthorityChanged;
use crate::state::*;

/// Second step of the hand-over: the proposed authority signs and takes the
/// market over. A PDA signs through `invoke_signed` (e.g. an SPL Governance
/// governance account executing a proposal that carries this instruction).
#[event_cpi]
#[derive(Accounts)]
pub struct AcceptMarketAuthority<'info> {
    pub new_authority: Signer<'info>,
    #[account(
        mut,
        dup,
        seeds = [MARKET_SEED, market.mint.as_ref()],
        bump = market.bump,
        constraint = market.pending_authority == new_authority.key() @ EscrowError::NotPendingAuthority,
    )]
    pub market: Account<'info, Market>,
}

pub fn handler(ctx: Context<AcceptMarketAuthority>) -> Result<()> {
    let market = &mut ctx.accounts.market;
    let old_authority = market.authority;
    market.authority = market.pending_authority;
    market.pending_authority = Pubkey::default();
    emit_cpi!(AuthorityChanged { market: market.key(), old_authority, new_authority: market.authority });
    Ok(())
}
