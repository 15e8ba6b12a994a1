use anchor_lang::prelude::*;

use crate::errors::RewardsError;
use crate::events::AdminProposed;
use crate::state::*;

/// Step one of an admin handover, signed by the admin: `new_admin` becomes
/// admin only when it signs `accept_admin` (a governance PDA signs it in
/// the proposal that executes it). The default key withdraws a proposal.
#[event_cpi]
#[derive(Accounts)]
pub struct ProposeAdmin<'info> {
    pub admin: Signer<'info>,
    #[account(mut, dup, has_one = admin @ RewardsError::Unauthorized)]
    pub distributor: Account<'info, Distributor>,
}

pub fn handler(ctx: Context<ProposeAdmin>, new_admin: Pubkey) -> Result<()> {
    let d = &mut ctx.accounts.distributor;
    d.pending_admin = new_admin;
    emit_cpi!(AdminProposed { distributor: d.key(), admin: d.admin, pending_admin: new_admin });
    Ok(())
}
