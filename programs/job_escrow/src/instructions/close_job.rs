use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::JobClosed;
use crate::payout::Vault;
use crate::state::*;
use crate::token::{Token, TokenAccount};

/// Customer closes a job once nothing is owed out of its vault: every slot
/// has been paid all the hours it can earn (booking run out and settled,
/// worker quit, or job ended and settled). Returns any stray tokens and the
/// rent of the vault and the job to the customer.
#[event_cpi]
#[derive(Accounts)]
pub struct CloseJob<'info> {
    #[account(mut)]
    pub customer: Signer<'info>,
    #[account(
        mut,
        dup,
        close = customer,
        seeds = [JOB_SEED, job.market.as_ref(), job.customer.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        has_one = customer @ EscrowError::Unauthorized,
        constraint = job.workers.iter().all(|w| w.hours_paid == w.hours) @ EscrowError::OutstandingPayments,
    )]
    pub job: Box<Account<'info, Job>>,
    #[account(
        mut,
        dup,
        seeds = [VAULT_SEED, job.key().as_ref()],
        bump = job.vault_bump,
    )]
    pub vault: Box<Account<'info, TokenAccount>>,
    #[account(
        mut,
        dup,
        constraint = customer_token.mint == vault.mint @ EscrowError::WrongMint,
        constraint = customer_token.owner == customer.key() @ EscrowError::WrongOwner,
        constraint = customer_token.key() != vault.key() @ EscrowError::WrongVault,
    )]
    pub customer_token: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<CloseJob>) -> Result<()> {
    let job_key = ctx.accounts.job.key();
    let vault = Vault::new(
        ctx.accounts.token_program.to_account_info(),
        ctx.accounts.vault.to_account_info(),
        &ctx.accounts.job,
    );
    // Nothing is owed (constraint above), so the balance is stray tokens.
    let refund = ctx.accounts.vault.amount;
    let customer_token = ctx.accounts.customer_token.to_account_info();
    vault.empty_and_close(refund, &customer_token, &ctx.accounts.customer.to_account_info())?;
    emit_cpi!(JobClosed { job: job_key, customer: ctx.accounts.job.customer, refund });
    Ok(())
}
