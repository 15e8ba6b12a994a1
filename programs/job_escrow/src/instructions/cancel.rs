use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::{HoursSettled, JobCancelled};
use crate::instructions::settle::pay_slot;
use crate::state::*;
use crate::token::{self, Token, TokenAccount};

/// Customer ends the job (or closes out a completed one). Whole hours that
/// have already elapsed are earned: they are paid to the worker (and fee to
/// the treasury) first, in the same instruction, so cancelling never takes
/// back earned pay and never pays anything twice. The hour in progress is not
/// earned. Everything left in the vault goes back to the customer, then the
/// vault and the job are closed (rent to the customer).
#[event_cpi]
#[derive(Accounts)]
pub struct Cancel<'info> {
    #[account(mut)]
    pub customer: Signer<'info>,
    #[account(
        seeds = [MARKET_SEED, market.mint.as_ref()],
        bump = market.bump,
        has_one = treasury @ EscrowError::WrongTreasury,
    )]
    pub market: Box<Account<'info, Market>>,
    #[account(
        mut,
        dup,
        close = customer,
        seeds = [JOB_SEED, job.market.as_ref(), job.customer.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        has_one = market @ EscrowError::WrongMarket,
        has_one = customer @ EscrowError::Unauthorized,
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
        constraint = customer_token.mint == market.mint @ EscrowError::WrongMint,
        constraint = customer_token.owner == customer.key() @ EscrowError::WrongOwner,
        constraint = customer_token.key() != vault.key() @ EscrowError::WrongVault,
    )]
    pub customer_token: Box<Account<'info, TokenAccount>>,
    #[account(
        mut,
        dup,
        constraint = worker_token.mint == market.mint @ EscrowError::WrongMint,
        constraint = worker_token.owner == job.workers[0].worker @ EscrowError::WrongOwner,
        constraint = worker_token.key() != vault.key() @ EscrowError::WrongVault,
    )]
    pub worker_token: Box<Account<'info, TokenAccount>>,
    #[account(
        mut,
        dup,
        constraint = treasury.key() != vault.key() @ EscrowError::WrongTreasury,
    )]
    pub treasury: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<Cancel>) -> Result<()> {
    let now_ts = Clock::get()?.unix_timestamp;
    let job_info = ctx.accounts.job.to_account_info();
    let vault_info = ctx.accounts.vault.to_account_info();
    let token_program = ctx.accounts.token_program.to_account_info();

    let payout = pay_slot(
        &mut ctx.accounts.job,
        &job_info,
        &vault_info,
        &ctx.accounts.worker_token.to_account_info(),
        &ctx.accounts.treasury.to_account_info(),
        &token_program,
        0,
        now_ts,
    )?;
    if payout.hours > 0 {
        emit_cpi!(HoursSettled {
            job: job_info.key(),
            worker: payout.worker,
            hours: payout.hours,
            hours_paid: payout.hours_paid,
            amount: payout.amount,
            fee: payout.fee,
            settled_ts: now_ts,
        });
    }

    // Refund the whole remaining balance: what was not earned, plus anything
    // sent to the vault by mistake. The vault must be empty to be closed.
    ctx.accounts.vault.reload()?;
    let refund = ctx.accounts.vault.amount;
    let job = &ctx.accounts.job;
    let job_id = job.job_id.to_le_bytes();
    let bump = [job.bump];
    let seeds: &[&[u8]] = &[JOB_SEED, job.market.as_ref(), job.customer.as_ref(), &job_id, &bump];
    if refund > 0 {
        token::transfer(
            &token_program,
            &vault_info,
            &ctx.accounts.customer_token.to_account_info(),
            &job_info,
            refund,
            &[seeds],
        )?;
    }
    token::close_account(
        &token_program,
        &vault_info,
        &ctx.accounts.customer.to_account_info(),
        &job_info,
        &[seeds],
    )?;

    emit_cpi!(JobCancelled {
        job: job_info.key(),
        customer: job.customer,
        refund,
        hours_paid: job.workers[0].hours_paid,
        hours_booked: job.hours,
    });
    Ok(())
}
