use anchor_lang::prelude::*;

use crate::credit::check_actor;
use crate::errors::CreditsError;
use crate::events::CreditsRefunded;
use crate::math;
use crate::state::*;

/// Closes an inference allowance: what was not paid goes back to the
/// user's balance (it never left the reserve), the rent to the user.
/// Signed by the user or a delegate; works while paused.
#[event_cpi]
#[derive(Accounts)]
pub struct CloseInference<'info> {
    pub authority: Signer<'info>,
    /// CHECK: the credit account's user (rent destination).
    #[account(mut, dup, address = credit_account.user @ CreditsError::WrongUser)]
    pub user: UncheckedAccount<'info>,
    #[account(seeds = [CONFIG_SEED, config.mint.as_ref()], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(
        mut,

        dup,
        seeds = [CREDIT_SEED, credit_account.config.as_ref(), credit_account.user.as_ref()],
        bump = credit_account.bump,
        constraint = credit_account.config == config.key() @ CreditsError::WrongConfig,
    )]
    pub credit_account: Box<Account<'info, CreditAccount>>,
    pub delegation: Option<Box<Account<'info, Delegation>>>,
    #[account(
        mut,

        dup,
        close = user,
        seeds = [ALLOWANCE_SEED, allowance.credit_account.as_ref(), allowance.provider_token.as_ref()],
        bump = allowance.bump,
        constraint = allowance.credit_account == credit_account.key() @ CreditsError::WrongAllowance,
    )]
    pub allowance: Box<Account<'info, InferenceAllowance>>,
}

pub fn handler(ctx: Context<CloseInference>) -> Result<()> {
    let authority = ctx.accounts.authority.key();
    check_actor(&ctx.accounts.credit_account, &authority, ctx.accounts.delegation.as_deref().map(|d| &**d))?;
    let a = &ctx.accounts.allowance;
    let rest = a.amount - a.paid; // paid <= amount
    let credit = &mut ctx.accounts.credit_account;
    credit.balance = math::add(credit.balance, rest)?;
    emit_cpi!(CreditsRefunded {
        credit_account: credit.key(),
        source: a.key(),
        amount: rest,
        balance: credit.balance,
        outstanding: ctx.accounts.config.outstanding,
    });
    Ok(())
}
