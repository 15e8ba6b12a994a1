use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::JobExtended;
use crate::math;
use crate::state::*;
use crate::token::{self, Token, TokenAccount};

/// Customer tops up: `hours` more hours for each slot still running, at its
/// rate; the pay and the fee for them are locked in the vault. With `slots`
/// empty every slot that can still be extended is (pending ones within the
/// accept deadline, active ones whose booking has not run out), the others
/// are left alone; with `slots` named each of them must be extendable
/// (`BookingExpired`, `AcceptDeadlinePassed`, `WorkerNotActive`).
/// `NothingToExtend` when no slot qualifies. Extending a booking that ran
/// out would pay the gap retroactively: open a new job instead. Refused
/// while the market is paused and after the job ended.
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
        has_one = market @ EscrowError::WrongMarket,
        has_one = customer @ EscrowError::Unauthorized,
        constraint = job.state == JobState::Open @ EscrowError::JobNotOpen,
    )]
    pub job: Box<Account<'info, Job>>,
    #[account(mut, dup, seeds = [VAULT_SEED, job.key().as_ref()], bump = job.vault_bump)]
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

/// Whether slot `s` can be extended at `now_ts`, or why not.
fn extendable(s: &WorkerSlot, now_ts: i64, accept_deadline: i64) -> Result<()> {
    match s.status {
        WorkerStatus::Pending => require!(now_ts <= accept_deadline, EscrowError::AcceptDeadlinePassed),
        WorkerStatus::Active => {
            require!(math::elapsed_hours(s.start_ts, now_ts) < s.hours, EscrowError::BookingExpired)
        }
        _ => return err!(EscrowError::WorkerNotActive),
    }
    Ok(())
}

pub fn handler(ctx: Context<Extend>, hours: u32, slots: Vec<u8>) -> Result<()> {
    let now_ts = Clock::get()?.unix_timestamp;
    require!(hours > 0, EscrowError::ZeroHours);
    let max_hours = ctx.accounts.market.max_hours;
    let job = &mut ctx.accounts.job;
    let deadline = job.accept_deadline;
    let targets: Vec<u8> = if slots.is_empty() {
        (0..job.workers.len() as u8).filter(|&i| extendable(&job.workers[i as usize], now_ts, deadline).is_ok()).collect()
    } else {
        for (n, &i) in slots.iter().enumerate() {
            require!((i as usize) < job.workers.len(), EscrowError::InvalidSlot);
            require!(!slots[..n].contains(&i), EscrowError::InvalidSlot);
            extendable(&job.workers[i as usize], now_ts, deadline)?;
        }
        slots
    };
    require!(!targets.is_empty(), EscrowError::NothingToExtend);
    let fee_bps = job.fee_bps;
    let mut locked = math::Totals::default();
    for &i in &targets {
        let s = &mut job.workers[i as usize];
        let new_hours = s.hours.checked_add(hours).ok_or(EscrowError::TooManyHours)?;
        require!(new_hours <= max_hours, EscrowError::TooManyHours);
        // A running slot has no tail: its cumulative pay is `rate * hours`.
        locked.add(math::span_cost(s.rate_per_hour, fee_bps, s.hours, new_hours)?)?;
        s.hours = new_hours;
        job.hours = job.hours.max(new_hours);
    }
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
        slots: targets,
        principal: locked.principal,
        fee: locked.fee,
    });
    Ok(())
}
