use anchor_lang::prelude::*;
use crate::escrow::{EscrowCall, JobEscrow};
use crate::token::{Token, TokenAccount};

use crate::credit::{emit_event, check_actor, check_job, credit_refund, CustomerSigner};
use crate::errors::CreditsError;
use crate::events::CreditsRefunded;
use crate::state::*;

/// Cancels a job paid with credits that no worker has accepted (job_escrow
/// `cancel`): the whole deposit comes back as credits, the job's rent to the
/// customer PDA. Signed by the user or a delegate; works while paused.
#[event_cpi]
#[derive(Accounts)]
pub struct CancelJobWithCredits<'info> {
    pub authority: Signer<'info>,
    #[account(
        mut,

        dup,
        has_one = reserve_vault @ CreditsError::WrongReserveVault,
    )]
    pub config: Box<Account<'info, Config>>,
    #[account(
        mut,

        dup,
        constraint = credit_account.config == config.key() @ CreditsError::WrongConfig,
    )]
    pub credit_account: Box<Account<'info, CreditAccount>>,
    pub delegation: Option<Box<Account<'info, Delegation>>>,
    #[account(mut, dup)]
    pub reserve_vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, dup, address = credit_account.customer @ CreditsError::WrongCustomer)]
    pub customer: SystemAccount<'info>,
    #[account(mut, dup, address = credit_account.refund_account @ CreditsError::WrongRefundAccount)]
    pub refund_account: Box<Account<'info, TokenAccount>>,
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
    let authority = ctx.accounts.authority.key();
    check_actor(&ctx.accounts.credit_account, &authority, ctx.accounts.delegation.as_deref().map(|d| &**d))?;
    check_job(&ctx.accounts.job, &ctx.accounts.credit_account.customer)?;

    let customer_signer = CustomerSigner::new(&ctx.accounts.credit_account);
    let customer_seeds = customer_signer.seeds();
    let signer_seeds = [&customer_seeds[..]];
    let call = EscrowCall {
        program: &ctx.accounts.escrow_program.to_account_info(),
        event_authority: &ctx.accounts.escrow_event_authority.to_account_info(),
        token_program: &ctx.accounts.token_program.to_account_info(),
    };
    call.cancel(
        &ctx.accounts.customer.to_account_info(),
        &ctx.accounts.job.to_account_info(),
        &ctx.accounts.vault.to_account_info(),
        &ctx.accounts.refund_account.to_account_info(),
        &signer_seeds,
    )?;

    ctx.accounts.refund_account.reload()?;
    let available = ctx.accounts.refund_account.amount;
    let amount = credit_refund(
        &ctx.accounts.token_program.to_account_info(),
        &ctx.accounts.refund_account.to_account_info(),
        available,
        &ctx.accounts.reserve_vault.to_account_info(),
        &ctx.accounts.customer.to_account_info(),
        &mut ctx.accounts.credit_account,
        &mut ctx.accounts.config,
    )?;
    emit_event(&token_cpi::CInfo::new(&ctx.accounts.event_authority), &CreditsRefunded {
        credit_account: ctx.accounts.credit_account.key(),
        source: ctx.accounts.refund_account.key(),
        amount,
        balance: ctx.accounts.credit_account.balance,
        outstanding: ctx.accounts.config.outstanding,
    })?;
    Ok(())
}
