use anchor_lang::prelude::*;
use crate::escrow::{read_job, EscrowCall, JobEscrow};
use crate::token::{Token, TokenAccount};

use crate::credit::{emit_event, check_actor, credit_job_refund, CustomerSigner};
use crate::errors::CreditsError;
use crate::events::CreditsRefunded;
use crate::math;
use crate::state::*;

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
    let authority = ctx.accounts.authority.key();
    check_actor(&ctx.accounts.credit_account, &authority, ctx.accounts.delegation.as_deref().map(|d| &**d))?;
    // Read before the close CPI (which closes the account): at close every
    // slot is finished and paid all it earned (job_escrow's constraint), so
    // this is everything the job paid out, fee included.
    let (fee_bps, slots) = read_job(&ctx.accounts.job, &ctx.accounts.credit_account.customer)?;
    let spent = math::job_spent(fee_bps, slots.iter().map(|s| {
        (s.rate_per_hour, s.hours_paid, if s.tail_paid { s.tail_pay } else { 0 })
    }))?;

    let customer_signer = CustomerSigner::new(&ctx.accounts.credit_account);
    let customer_seeds = customer_signer.seeds();
    let signer_seeds = [&customer_seeds[..]];
    let call = EscrowCall {
        program: &ctx.accounts.escrow_program.to_account_info(),
        event_authority: &ctx.accounts.escrow_event_authority.to_account_info(),
        token_program: &ctx.accounts.token_program.to_account_info(),
    };
    call.close_job(
        &ctx.accounts.customer.to_account_info(),
        &ctx.accounts.job.to_account_info(),
        &ctx.accounts.market.to_account_info(),
        &ctx.accounts.fee_vault.to_account_info(),
        &ctx.accounts.vault.to_account_info(),
        &ctx.accounts.refund_account.to_account_info(),
        &signer_seeds,
    )?;

    ctx.accounts.refund_account.reload()?;
    let available = ctx.accounts.refund_account.amount;
    let amount = credit_job_refund(
        &ctx.accounts.token_program.to_account_info(),
        &ctx.accounts.refund_account.to_account_info(),
        available,
        &ctx.accounts.reserve_vault.to_account_info(),
        &ctx.accounts.customer.to_account_info(),
        &mut ctx.accounts.credit_account,
        &mut ctx.accounts.config,
        spent,
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
