use anchor_lang::prelude::*;
use crate::escrow::{read_job, JobEscrow};
use crate::token::Token;

use crate::credit::job_accounts;
use crate::math;

/// Closes a finished job paid with credits (job_escrow `close_job`): the
/// job's accrued fees go to the market's fee vault, stray tokens come back
/// as credits (up to what is still out in jobs), the job's rent to the
/// customer PDA. What the job paid out (workers' pay and fee, read from the
/// job before it is closed) leaves `in_flight` first. Signed by the user or
/// a delegate. The only way such a job's account is closed besides
/// `cancel_job_with_credits` (nothing paid out): job_escrow's `close_job`
/// and `cancel` need the customer's signature, and the customer is the
/// user's customer PDA.
#[event_cpi]
#[derive(Accounts)]
pub struct CloseJobWithCredits<'info> {
    pub authority: Signer<'info>,
    /// CHECK: a `Config` (`JobUser::check`: as `Account<Config>`); its reserve vault.
    #[account(mut, dup)]
    pub config: UncheckedAccount<'info>,
    /// CHECK: a `CreditAccount` of `config` (`JobUser::check`).
    #[account(mut, dup)]
    pub credit_account: UncheckedAccount<'info>,
    /// CHECK: a `Delegation` of `credit_account` and `authority` when a delegate signs (`JobUser::check`).
    pub delegation: Option<UncheckedAccount<'info>>,
    /// CHECK: `config.reserve_vault` (`JobUser::check`).
    #[account(mut, dup)]
    pub reserve_vault: UncheckedAccount<'info>,
    /// CHECK: `credit_account.customer`, a system account (`JobUser::check`).
    #[account(mut, dup)]
    pub customer: UncheckedAccount<'info>,
    /// CHECK: `credit_account.refund_account` (`JobUser::check`).
    #[account(mut, dup)]
    pub refund_account: UncheckedAccount<'info>,
    /// CHECK: owner and customer checked in the handler, the rest by job_escrow.
    #[account(mut, dup)]
    pub job: UncheckedAccount<'info>,
    /// CHECK: checked by job_escrow (the job's market).
    pub market: UncheckedAccount<'info>,
    /// CHECK: checked by job_escrow (the market's fee vault PDA).
    #[account(mut, dup)]
    pub fee_vault: UncheckedAccount<'info>,
    /// CHECK: checked by job_escrow.
    #[account(mut, dup)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: job_escrow's event authority (checked by job_escrow).
    pub escrow_event_authority: UncheckedAccount<'info>,
    pub escrow_program: Program<'info, JobEscrow>,
    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<CloseJobWithCredits>) -> Result<()> {
    let a = &ctx.accounts;
    let (who, call) = job_accounts!(a);
    let u = who.check()?;
    // Read before the close CPI (which closes the account): at close every
    // slot is finished and paid all it earned (job_escrow's constraint), so
    // this is everything the job paid out, fee included.
    let (fee_bps, slots) = read_job(&a.job, a.customer.key)?;
    let spent = math::job_spent(fee_bps, slots.iter().map(|s| {
        (s.rate_per_hour, s.hours_paid, if s.tail_paid { s.tail_pay } else { 0 })
    }))?;

    who.refund_after(&u, &a.token_program, &a.event_authority, spent, |signer_seeds| {
        call.close_job(&a.customer, &a.job, &a.market, &a.fee_vault, &a.vault, &a.refund_account, signer_seeds)
    })
}
