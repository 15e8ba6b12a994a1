use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::JobExtended;
use crate::math;
use crate::state::*;
use crate::token::{self, Token, TokenAccount};

/// Customer tops up: every worker still on the job (pending or active) gets
/// `hours` more hours at its rate; the pay and the fee for them are locked
/// in the vault. Refused while the market is paused, after the job ended,
/// and once an active worker's booking has run out (the gap would be paid
/// retroactively: open a new job instead).
#[event_cpi]
#[derive(Accounts)]
pub struct Extend<'info> {
    pub customer: Signer<'info>,
    #[account(
        seeds = [MARKET_SEED, market.mint.as_ref()],
        bump = market.bump,
        constraint = !market.paused @ EscrowError::Paused,
    )]
    pub market: Box<Account<'info, Market>>,
    #[account(
        mut,
        dup,
        seeds = [JOB_SEED, job.market.as_ref(), job.customer.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        has_one = market @ EscrowError::WrongMarket,
        has_one = customer @ EscrowError::Unauthorized,
        constraint = job.state == JobState::Open @ EscrowError::JobNotOpen,
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
    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<Extend>, hours: u32) -> Result<()> {
    let now_ts = Clock::get()?.unix_timestamp;
    require!(hours > 0, EscrowError::ZeroHours);
    let max_hours = ctx.accounts.market.max_hours;
    let job = &mut ctx.accounts.job;
    let new_job_hours = job.hours.checked_add(hours).ok_or(EscrowError::TooManyHours)?;
    require!(new_job_hours <= max_hours, EscrowError::TooManyHours);
    let fee_bps = job.fee_bps;
    let mut locked = math::Totals::default();
    for s in job.workers.iter_mut() {
        match s.status {
            WorkerStatus::Pending => {}
            WorkerStatus::Active => {
                require!(math::elapsed_hours(s.start_ts, now_ts) < s.hours, EscrowError::BookingExpired);
            }
            WorkerStatus::Quit | WorkerStatus::Declined => continue,
        }
        let new_hours = s.hours.checked_add(hours).ok_or(EscrowError::TooManyHours)?;
        require!(new_hours <= max_hours, EscrowError::TooManyHours);
        locked.add(math::span_cost(s.rate_per_hour, fee_bps, s.hours, new_hours)?)?;
        s.hours = new_hours;
    }
    require!(locked.principal > 0, EscrowError::NoWorkers);
    job.hours = new_job_hours;
    token::transfer(
        &ctx.accounts.token_program.to_account_info(),
        &ctx.accounts.customer_token.to_account_info(),
        &ctx.accounts.vault.to_account_info(),
        &ctx.accounts.customer.to_account_info(),
        locked.total()?,
        &[],
    )?;
    emit_cpi!(JobExtended {
        job: job.key(),
        hours_added: hours,
        hours: new_job_hours,
        principal: locked.principal,
        fee: locked.fee,
    });
    Ok(())
}
