use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::WorkerQuit;
use crate::payout::{self, Vault};
use crate::state::*;
use crate::token::{Token, TokenAccount};

/// A worker leaves the job: its booking is cut to what it has earned (whole
/// hours plus the seconds of the hour in progress, pro rata, rounded down:
/// the worker chose to leave, rounding favours the customer; never below
/// what was paid), it is paid all of it at once, and the unearned part of its
/// share (pay and fee) goes back to the customer. A pending worker can quit
/// too (declines): everything locked for it is refunded. After the job
/// ended (the booking was already cut) a quit only collects the pay. Works
/// while the market is paused. The treasury is not involved.
#[event_cpi]
#[derive(Accounts)]
pub struct Quit<'info> {
    pub worker: Signer<'info>,
    #[account(mut, dup)]
    pub job: Box<Account<'info, Job>>,
    #[account(mut, dup, seeds = [VAULT_SEED, job.key().as_ref()], bump = job.vault_bump)]
    pub vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, dup, constraint = payout::paid_from_vault(&worker_token, &vault, &worker.key())?)]
    pub worker_token: Box<Account<'info, TokenAccount>>,
    /// Refunds go only to a token account of the vault's mint owned by the
    /// job's customer.
    #[account(mut, dup, constraint = payout::paid_from_vault(&customer_token, &vault, &job.customer)?)]
    pub customer_token: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<Quit>) -> Result<()> {
    let now_ts = Clock::get()?.unix_timestamp;
    let worker = ctx.accounts.worker.key();
    let job_key = ctx.accounts.job.key();
    let vault = Vault::new(
        ctx.accounts.token_program.to_account_info(),
        ctx.accounts.vault.to_account_info(),
        &ctx.accounts.job,
    );
    let job = &mut ctx.accounts.job;
    let slot = job.slot_of(&worker).ok_or(EscrowError::NotAWorker)?;
    let new_status = match job.workers[slot].status {
        WorkerStatus::Pending => WorkerStatus::Declined,
        WorkerStatus::Active => WorkerStatus::Quit,
        _ => return err!(EscrowError::WorkerNotActive),
    };
    // Accounting first (cut the booking, then take all that is owed), then
    // the transfers.
    let (pay, fee) = payout::cut_to_earned(job, slot, now_ts, false)?;
    job.workers[slot].status = new_status;
    let paid = payout::take_due(job, slot, now_ts)?;
    let refund = pay.checked_add(fee).ok_or(EscrowError::MathOverflow)?;
    vault.pay(&ctx.accounts.worker_token.to_account_info(), paid.amount)?;
    vault.pay(&ctx.accounts.customer_token.to_account_info(), refund)?;
    let s = job.workers[slot];
    if !paid.is_empty() {
        let batch = payout::Batch { paid: vec![paid], skipped: vec![] };
        payout::emit_cpi_data(&ctx.accounts.event_authority, &batch.event_data(&job_key, now_ts)?)?;
    }
    emit_cpi!(WorkerQuit {
        job: job_key,
        worker,
        slot: slot as u8,
        hours: s.hours,
        secs: s.tail_secs,
        refund,
        quit_ts: now_ts,
    });
    Ok(())
}
