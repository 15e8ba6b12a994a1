use anchor_lang::prelude::*;
use crate::escrow::JobEscrow;
use crate::token::Token;

use crate::credit::{check_job, job_accounts};

/// Cancels a job paid with credits that no worker has accepted (job_escrow
/// `cancel`): the whole deposit comes back as credits, the job's rent to the
/// customer PDA. Signed by the user or a delegate; works while paused.
#[event_cpi]
#[derive(Accounts)]
pub struct CancelJobWithCredits<'info> {
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
    /// CHECK: checked by job_escrow.
    #[account(mut, dup)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: job_escrow's event authority (checked by job_escrow).
    pub escrow_event_authority: UncheckedAccount<'info>,
    pub escrow_program: Program<'info, JobEscrow>,
    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<CancelJobWithCredits>) -> Result<()> {
    let a = &ctx.accounts;
    let (who, call) = job_accounts!(a);
    let u = who.check()?;
    check_job(&a.job, a.customer.key)?;

    who.refund_after(&u, &a.token_program, &a.event_authority, 0, |signer_seeds| {
        call.cancel(&a.customer, &a.job, &a.vault, &a.refund_account, signer_seeds)
    })
}
