use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::WorkerAccepted;
use crate::state::*;

/// A booked worker accepts the job: its clock starts now. Only until the
/// job's accept deadline (`AcceptDeadlinePassed`); allowed while the market
/// is paused (the job is already funded).
#[event_cpi]
#[derive(Accounts)]
pub struct Accept<'info> {
    pub worker: Signer<'info>,
    #[account(
        mut,
        dup,
        seeds = [JOB_SEED, job.market.as_ref(), job.customer.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        constraint = job.state == JobState::Open @ EscrowError::JobNotOpen,
    )]
    pub job: Box<Account<'info, Job>>,
}

pub fn handler(ctx: Context<Accept>) -> Result<()> {
    let now_ts = Clock::get()?.unix_timestamp;
    let worker = ctx.accounts.worker.key();
    let job = &mut ctx.accounts.job;
    let slot = job.slot_of(&worker).ok_or(EscrowError::NotAWorker)?;
    let deadline = job.accept_deadline;
    let s = &mut job.workers[slot];
    match s.status {
        WorkerStatus::Pending => require!(now_ts <= deadline, EscrowError::AcceptDeadlinePassed),
        WorkerStatus::Active => return err!(EscrowError::AlreadyAccepted),
        _ => return err!(EscrowError::WorkerNotActive),
    }
    s.status = WorkerStatus::Active;
    s.start_ts = now_ts;
    emit_cpi!(WorkerAccepted { job: job.key(), worker, slot: slot as u8, start_ts: now_ts });
    Ok(())
}
