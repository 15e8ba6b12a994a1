use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::{HoursSettled, WorkerQuit};
use crate::payout::{self, Vault};
use crate::state::*;
use crate::token::{Token, TokenAccount};

/// A worker leaves the job: it is paid the whole hours it has earned, its
/// booking is cut to them (it earns nothing more) and the unearned part of
/// its share (pay and fee) goes back to the customer. A pending worker can
/// quit too (declines): everything locked for it is refunded. Works while
/// the market is paused and after the job was ended.
#[event_cpi]
#[derive(Accounts)]
pub struct Quit<'info> {
    pub worker: Signer<'info>,
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
        constraint = worker_token.owner == worker.key() @ EscrowError::WrongOwner,
    )]
    pub worker_token: Box<Account<'info, TokenAccount>>,
    #[account(
        mut,
        dup,
        constraint = customer_token.mint == market.mint @ EscrowError::WrongMint,
        constraint = customer_token.owner == job.customer @ EscrowError::WrongOwner,
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
        WorkerStatus::Quit | WorkerStatus::Declined => return err!(EscrowError::WorkerNotActive),
    };
    // Accounting first (pay what is due, then cut the booking to it), then
    // the transfers.
    let paid = payout::take_due(job, slot, now_ts)?;
    let (pay, fee) = payout::cut_to_earned(job, slot, now_ts)?;
    job.workers[slot].status = new_status;
    let refund = pay.checked_add(fee).ok_or(EscrowError::MathOverflow)?;
    vault.pay_out(&paid, &ctx.accounts.worker_token.to_account_info(), &ctx.accounts.treasury.to_account_info())?;
    vault.pay(&ctx.accounts.customer_token.to_account_info(), refund)?;

    let job_key = job_key;
    if paid.hours > 0 {
        emit_cpi!(HoursSettled {
            job: job_key,
            worker,
            slot: paid.slot,
            hours: paid.hours,
            hours_paid: paid.hours_paid,
            amount: paid.amount,
            fee: paid.fee,
            settled_ts: now_ts,
        });
    }
    emit_cpi!(WorkerQuit {
        job: job_key,
        worker,
        slot: slot as u8,
        hours_paid: paid.hours_paid,
        refund,
        quit_ts: now_ts,
    });
    Ok(())
}
