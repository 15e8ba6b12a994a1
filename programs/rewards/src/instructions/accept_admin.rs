use anchor_lang::prelude::*;

use crate::errors::RewardsError;
use crate::events::AdminAccepted;
use crate::state::*;

/// Step two of an admin handover, signed by the proposed admin.
#[event_cpi]
#[derive(Accounts)]
pub struct AcceptAdmin<'info> {
    pub new_admin: Signer<'info>,
    #[account(
        mut,
        dup,
        constraint = distributor.pending_admin != Pubkey::default() @ RewardsError::NotPendingAdmin,
        constraint = distributor.pending_admin == new_admin.key() @ RewardsError::NotPendingAdmin,
    )]
    pub distributor: Account<'info, Distributor>,
}

pub fn handler(ctx: Context<AcceptAdmin>) -> Result<()> {
    let d = &mut ctx.accounts.distributor;
    let old_admin = d.admin;
    d.admin = d.pending_admin;
    d.pending_admin = Pubkey::default();
    emit_cpi!(AdminAccepted { distributor: d.key(), old_admin, new_admin: d.admin });
    Ok(())
}
