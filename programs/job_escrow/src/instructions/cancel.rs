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

pub fn handler(ctx: Context<Cancel>) -> Result<()> {
    let job_info = ctx.accounts.job.to_account_info();
    let vault_info = ctx.accounts.vault.to_account_info();
    let token_program = ctx.accounts.token_program.to_account_info();
    let vault = Vault {
        token_program: &token_program,
        vault: &vault_info,
        job: &job_info,
        signer: payout::JobSigner::new(&ctx.accounts.job),
    };
    // Everything: the booking plus anything sent to the vault by mistake
    // (the vault must be empty to be closed).
    let refund = ctx.accounts.vault.amount;
    vault.pay(&ctx.accounts.customer_token.to_account_info(), refund)?;
    vault.close(&ctx.accounts.customer.to_account_info())?;
    emit_cpi!(JobCancelled { job: job_info.key(), customer: ctx.accounts.job.customer, refund });
    Ok(())
}
