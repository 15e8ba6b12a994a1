use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::{HoursSettled, JobEnded};
use crate::math;
use crate::payout::{self, Vault};
use crate::state::*;
use crate::token::{Token, TokenAccount};

/// Customer ends the job early. Every worker's booking is cut to the whole
/// hours it has earned (the hour in progress is not earned; a worker who
/// never accepted earned nothing) and the unearned remainder, pay and fee,
/// goes back to the customer. Earned hours are paid in the same instruction
/// to the listed slots (`slots[i]` into remaining account `i`, as `settle`);
/// whatever is not listed stays owed in the vault for `settle`. Works while
/// the market is paused.
#[event_cpi]
#[derive(Accounts)]
pub struct EndJob<'info> {
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
    #[account(
        mut,
        dup,
        constraint = treasury.key() != vault.key() @ EscrowError::WrongTreasury,
    )]
    pub treasury: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn handler<'info>(ctx: Context<'info, EndJob<'info>>, slots: Vec<u8>) -> Result<()> {
    let now_ts = Clock::get()?.unix_timestamp;
    let job_key = ctx.accounts.job.key();
    let treasury = ctx.accounts.treasury.to_account_info();
    let mint = ctx.accounts.market.mint;
    let vault = Vault::new(
        ctx.accounts.token_program.to_account_info(),
        ctx.accounts.vault.to_account_info(),
        &ctx.accounts.job,
    );
    let job = &mut ctx.accounts.job;
    let mut released = math::Totals::default();
    for slot in 0..job.workers.len() {
        released.add(payout::cut_to_earned(job, slot, now_ts)?)?;
    }
    job.state = JobState::Ended;
    job.ended_ts = now_ts;
    let refund = released.total()?;
    let paid = payout::pay_listed(job, &slots, ctx.remaining_accounts, &mint, &vault, &treasury, now_ts)?;
    vault.pay(&ctx.accounts.customer_token.to_account_info(), refund)?;
    let owed = payout::vault_owed(job)?;
    let customer = job.customer;

    let job_key = job_key;
    for p in paid {
        emit_cpi!(HoursSettled {
            job: job_key,
            worker: p.worker,
            slot: p.slot,
            hours: p.hours,
            hours_paid: p.hours_paid,
            amount: p.amount,
            fee: p.fee,
            settled_ts: now_ts,
        });
    }
    emit_cpi!(JobEnded { job: job_key, customer, refund, owed, ended_ts: now_ts });
    Ok(())
}
