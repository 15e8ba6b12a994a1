use anchor_lang::prelude::*;

use crate::errors::RewardsError;
use crate::events::DeadlineExtended;
use crate::state::*;

/// The admin gives claimants more time, while claims are still open. A
/// deadline can never move earlier, so no admin can cut anyone short.
#[event_cpi]
#[derive(Accounts)]
pub struct ExtendDeadline<'info> {
    pub admin: Signer<'info>,
    #[account(mut, dup, has_one = admin @ RewardsError::Unauthorized)]
    pub distributor: Account<'info, Distributor>,
}

pub fn handler(ctx: Context<ExtendDeadline>, new_deadline: i64) -> Result<()> {
    let now_ts = Clock::get()?.unix_timestamp;
    let d = &mut ctx.accounts.distributor;
    require!(now_ts <= d.claim_deadline && !d.clawed_back, RewardsError::ClaimDeadlinePassed);
    require!(new_deadline > d.claim_deadline, RewardsError::DeadlineNotLater);
    let old_deadline = d.claim_deadline;
    d.claim_deadline = new_deadline;
    emit_cpi!(DeadlineExtended { distributor: d.key(), old_deadline, new_deadline });
    Ok(())
}
