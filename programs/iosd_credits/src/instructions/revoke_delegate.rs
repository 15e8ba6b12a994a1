use anchor_lang::prelude::*;

use crate::errors::CreditsError;
use crate::events::DelegateRevoked;
use crate::state::*;

/// The user revokes a delegate: the delegation is closed (rent back to the
/// user), so the delegate's next spend fails in the same slot.
#[event_cpi]
#[derive(Accounts)]
pub struct RevokeDelegate<'info> {
    #[account(mut)]
    pub user: Signer<'info>,
    #[account(
        seeds = [CREDIT_SEED, credit_account.config.as_ref(), credit_account.user.as_ref()],
        bump = credit_account.bump,
        has_one = user @ CreditsError::WrongUser,
    )]
    pub credit_account: Box<Account<'info, CreditAccount>>,
    #[account(
        mut,

        dup,
        close = user,
        seeds = [DELEGATION_SEED, credit_account.key().as_ref(), delegation.delegate.as_ref()],
        bump = delegation.bump,
        constraint = delegation.credit_account == credit_account.key() @ CreditsError::WrongDelegation,
    )]
    pub delegation: Box<Account<'info, Delegation>>,
}

pub fn handler(ctx: Context<RevokeDelegate>) -> Result<()> {
    emit_cpi!(DelegateRevoked {
        credit_account: ctx.accounts.credit_account.key(),
        delegate: ctx.accounts.delegation.delegate,
    });
    Ok(())
}
