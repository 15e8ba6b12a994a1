use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::JobClosed;
use crate::payout::{self, Vault};
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
    let job_info = ctx.accounts.job.to_account_info();
    let vault_info = ctx.accounts.vault.to_account_info();
    let token_program = ctx.accounts.token_program.to_account_info();
    let vault = Vault {
        token_program: &token_program,
        vault: &vault_info,
        job: &job_info,
        signer: payout::JobSigner::new(&ctx.accounts.job),
    };
    // Nothing is owed (constraint above), so the balance is stray tokens.
    let refund = ctx.accounts.vault.amount;
    vault.pay(&ctx.accounts.customer_token.to_account_info(), refund)?;
    vault.close(&ctx.accounts.customer.to_account_info())?;
    emit_cpi!(JobClosed { job: job_info.key(), customer: ctx.accounts.job.customer, refund });
    Ok(())
}
