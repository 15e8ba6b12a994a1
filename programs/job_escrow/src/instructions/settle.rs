use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::HoursSettled;
use crate::math;
use crate::state::*;
use crate::token::{self, Token, TokenAccount};

/// Permissionless crank: pays every whole elapsed hour not yet paid.
/// Works while the market is paused: earned pay is never held back.
#[event_cpi]
#[derive(Accounts)]
pub struct Settle<'info> {
    #[account(
        seeds = [MARKET_SEED, market.mint.as_ref()],
        bump = market.bump,
        has_one = treasury @ EscrowError::WrongTreasury,
    )]
    pub market: Box<Account<'info, Market>>,
    #[account(
        mut,
        dup,
        seeds = [JOB_SEED, job.market.as_ref(), job.customer.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        has_one = market @ EscrowError::WrongMarket,
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

/// Result of paying one worker slot.
pub struct Payout {
    pub worker: Pubkey,
    pub hours: u32,
    pub hours_paid: u32,
    pub amount: u64,
    pub fee: u64,
}

/// Pays slot `slot` everything due at `now_ts` (possibly nothing) from the
/// vault, signed by the job PDA. Updates the slot counter and the job state
/// before the transfers so the accounting cannot lag behind the money.
#[allow(clippy::too_many_arguments)]
pub(crate) fn pay_slot<'info>(
    job: &mut Job,
    job_info: &AccountInfo<'info>,
    vault: &AccountInfo<'info>,
    worker_token: &AccountInfo<'info>,
    treasury: &AccountInfo<'info>,
    token_program: &AccountInfo<'info>,
    slot: usize,
    now_ts: i64,
) -> Result<Payout> {
    let elapsed = math::elapsed_hours(job.start_ts, now_ts);
    let s = job.workers[slot];
    let hours = math::hours_due(elapsed, job.hours, s.hours_paid);
    let (amount, fee) = math::settlement(job.rate_per_hour, job.fee_bps, s.hours_paid, hours)?;
    let hours_paid = s.hours_paid.checked_add(hours).ok_or(EscrowError::MathOverflow)?;
    job.workers[slot].hours_paid = hours_paid;
    if job.workers.iter().all(|w| w.hours_paid >= job.hours) {
        job.state = JobState::Completed;
    }

    let job_id = job.job_id.to_le_bytes();
    let bump = [job.bump];
    let seeds: &[&[u8]] = &[JOB_SEED, job.market.as_ref(), job.customer.as_ref(), &job_id, &bump];
    if amount > 0 {
        token::transfer(token_program, vault, worker_token, job_info, amount, &[seeds])?;
    }
    if fee > 0 {
        token::transfer(token_program, vault, treasury, job_info, fee, &[seeds])?;
    }
    Ok(Payout { worker: s.worker, hours, hours_paid, amount, fee })
}

pub fn handler(ctx: Context<Settle>) -> Result<()> {
    let now_ts = Clock::get()?.unix_timestamp;
    let job_info = ctx.accounts.job.to_account_info();
    let payout = pay_slot(
        &mut ctx.accounts.job,
        &job_info,
        &ctx.accounts.vault.to_account_info(),
        &ctx.accounts.worker_token.to_account_info(),
        &ctx.accounts.treasury.to_account_info(),
        &ctx.accounts.token_program.to_account_info(),
        0,
        now_ts,
    )?;
    require!(payout.hours > 0, EscrowError::NothingToSettle);
    emit_cpi!(HoursSettled {
        job: job_info.key(),
        worker: payout.worker,
        hours: payout.hours,
        hours_paid: payout.hours_paid,
        amount: payout.amount,
        fee: payout.fee,
        settled_ts: now_ts,
    });
    Ok(())
}
