use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::SlotReleased;
use crate::instructions::CustomerCut;
use crate::payout::{self, Vault};
use crate::state::*;

/// The customer releases one slot without ending the job for the others. A
/// running slot is cut to what it has earned (whole hours plus the seconds
/// of the hour in progress, pro rata, rounded up: the customer cut it,
/// rounding favours the worker; never below what was paid); a pending slot
/// only once its accept deadline has passed (`AcceptWindowOpen` before),
/// and then to nothing. The unearned share (pay and fee) goes back to the
/// customer. The earned pay is paid at once when the worker's token account
/// is given as the one remaining account (skipped if closed or frozen),
/// otherwise it stays owed for `settle`. Works while the market is paused.
pub fn handler<'info>(ctx: Context<'info, CustomerCut<'info>>, slot: u8) -> Result<()> {
    let now_ts = Clock::get()?.unix_timestamp;
    let job_key = ctx.accounts.job.key();
    let mint = ctx.accounts.vault.mint;
    let vault = Vault::new(
        ctx.accounts.token_program.to_account_info(),
        ctx.accounts.vault.to_account_info(),
        &ctx.accounts.job,
    );
    let job = &mut ctx.accounts.job;
    let i = slot as usize;
    require!(i < job.workers.len(), EscrowError::InvalidSlot);
    let new_status = match job.workers[i].status {
        WorkerStatus::Pending => {
            require!(now_ts > job.accept_deadline, EscrowError::AcceptWindowOpen);
            WorkerStatus::Lapsed
        }
        WorkerStatus::Active => WorkerStatus::Released,
        _ => return err!(EscrowError::WorkerNotActive),
    };
    let (pay, fee) = payout::cut_to_earned(job, i, now_ts, true)?;
    job.workers[i].status = new_status;
    let refund = pay.checked_add(fee).ok_or(EscrowError::MathOverflow)?;
    let remaining = ctx.remaining_accounts;
    require!(remaining.len() <= 1, EscrowError::WorkerAccountsMismatch);
    let batch = payout::pay_listed(job, &[slot][..remaining.len()], remaining, &mint, &vault, now_ts)?;
    vault.pay(&ctx.accounts.customer_token.to_account_info(), refund)?;
    let s = job.workers[i];
    if !batch.paid.is_empty() || !batch.skipped.is_empty() {
        payout::emit_cpi_data(&ctx.accounts.event_authority, &batch.event_data(&job_key, now_ts)?)?;
    }
    emit_cpi!(SlotReleased {
        job: job_key,
        worker: s.worker,
        slot,
        hours: s.hours,
        secs: s.tail_secs,
        refund,
        released_ts: now_ts,
    });
    Ok(())
}
