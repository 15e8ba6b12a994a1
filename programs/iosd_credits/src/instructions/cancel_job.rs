use anchor_lang::prelude::*;
use crate::escrow::{EscrowCall, JobEscrow};
use crate::token::Token;

use crate::credit::{emit_event, JobUser, check_job};
use crate::events::CreditsRefunded;

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
    let who = JobUser {
        authority: &a.authority,
        config: &a.config,
        credit_account: &a.credit_account,
        delegation: a.delegation.as_deref(),
        reserve_vault: &a.reserve_vault,
        customer: &a.customer,
        refund_account: &a.refund_account,
    };
    let u = who.check()?;
    check_job(&a.job, a.customer.key)?;

    let customer_seeds = u.customer.seeds();
    let signer_seeds = [&customer_seeds[..]];
    let call = EscrowCall {
        program: &a.escrow_program,
        event_authority: &a.escrow_event_authority,
        token_program: &a.token_program,
    };
    call.cancel(&a.customer, &a.job, &a.vault, &a.refund_account, &signer_seeds)?;

    let (amount, book) = who.credit_refund(&a.token_program, &u, 0)?;
    emit_event(&token_cpi::CInfo::new(&a.event_authority), &CreditsRefunded {
        credit_account: a.credit_account.key(),
        source: a.refund_account.key(),
        amount,
        balance: book.balance,
        outstanding: book.outstanding,
    })
}
