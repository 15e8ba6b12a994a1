use anchor_lang::prelude::*;

use crate::errors::CreditsError;
use crate::events::DelegateSet;
use crate::state::*;

/// The user lets `delegate` spend up to `allowance` credits per
/// `period_secs` (jobs and inference; never redeem, never delegates, never
/// where refunds go). Creates the delegation or updates its limits; the
/// current period's spending is kept (a new period starts now only for a
/// new delegation or a new period length).
#[event_cpi]
#[derive(Accounts)]
#[instruction(delegate: Pubkey)]
pub struct SetDelegate<'info> {
    #[account(mut)]
    pub user: Signer<'info>,
    #[account(
        seeds = [CREDIT_SEED, credit_account.config.as_ref(), credit_account.user.as_ref()],
        bump = credit_account.bump,
        has_one = user @ CreditsError::WrongUser,
    )]
    pub credit_account: Box<Account<'info, CreditAccount>>,
    #[account(
        init_if_needed,
        dup,
        payer = user,
        space = 8 + Delegation::INIT_SPACE,
        seeds = [DELEGATION_SEED, credit_account.key().as_ref(), delegate.as_ref()],
        bump,
    )]
    pub delegation: Box<Account<'info, Delegation>>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<SetDelegate>, delegate: Pubkey, allowance: u64, period_secs: u32) -> Result<()> {
    require!(
        (MIN_PERIOD_SECS..=MAX_PERIOD_SECS).contains(&period_secs),
        CreditsError::InvalidPeriod
    );
    require!(
        delegate != Pubkey::default() && delegate != ctx.accounts.user.key(),
        CreditsError::InvalidDelegate
    );
    let now_ts = Clock::get()?.unix_timestamp;
    let credit_key = ctx.accounts.credit_account.key();
    let d = &mut ctx.accounts.delegation;
    let fresh = d.credit_account == Pubkey::default();
    if fresh || d.period_secs != period_secs {
        d.period_start = now_ts;
        d.period_secs = period_secs;
    }
    if fresh {
        d.credit_account = credit_key;
        d.delegate = delegate;
        d.spent_in_period = 0;
        d.bump = ctx.bumps.delegation;
    }
    d.allowance = allowance;
    emit_cpi!(DelegateSet {
        credit_account: credit_key,
        delegate,
        allowance,
        period_secs,
        period_start: d.period_start,
    });
    Ok(())
}
