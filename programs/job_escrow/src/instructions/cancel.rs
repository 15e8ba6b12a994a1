use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::JobCancelled;
use crate::payout::{self, Vault};
use crate::state::*;
use crate::token::{Token, TokenAccount};

/// Customer cancels a job no worker has accepted yet: everything in the
/// vault goes back, then the vault and the job are closed (rent to the
/// customer). Once a worker accepted, use `end_job`. Works while the market
/// is paused.
#[event_cpi]
#[derive(Accounts)]
pub struct Cancel<'info> {
    #[account(mut)]
    pub customer: Signer<'info>,
    #[account(
        mut,
        dup,
        close = customer,
        seeds = [JOB_SEED, job.market.as_ref(), job.customer.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        has_one = customer @ EscrowError::Unauthorized,
        constraint = !job.any_accepted() @ EscrowError::JobStarted,
    )]
    pub job: Box<Account<'info, Job>>,
    #[account(
        mut,
        dup,
        seeds = [VAULT_SEED, job.key().as_ref()],
        bump = job.vault_bump,
    )]
    pub vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, dup, constraint = payout::paid_from_vault(&customer_token, &vault, &customer.key())?)]
    pub customer_token: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<Cancel>) -> Result<()> {
    let job_key = ctx.accounts.job.key();
    let vault = Vault::new(
        ctx.accounts.token_program.to_account_info(),
        ctx.accounts.vault.to_account_info(),
        &ctx.accounts.job,
    );
    // Everything: the booking plus anything sent to the vault by mistake
    // (the vault must be empty to be closed).
    let refund = ctx.accounts.vault.amount;
    let customer_token = ctx.accounts.customer_token.to_account_info();
    vault.empty_and_close(refund, &customer_token, &ctx.accounts.customer.to_account_info())?;
    emit_cpi!(JobCancelled { job: job_key, customer: ctx.accounts.job.customer, refund });
    Ok(())
}
