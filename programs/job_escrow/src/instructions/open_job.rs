use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::JobOpened;
use crate::math;
use crate::state::*;
use crate::token::{self, Token, TokenAccount, TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID};

/// Workers per job in this version. The job stores a list of slots so the
/// N-worker follow-up only changes this instruction.
pub const WORKERS_PER_JOB: u16 = 1;

#[event_cpi]
#[derive(Accounts)]
#[instruction(job_id: u64)]
pub struct OpenJob<'info> {
    #[account(mut)]
    pub customer: Signer<'info>,
    #[account(
        mut,
        dup,
        seeds = [MARKET_SEED, market.mint.as_ref()],
        bump = market.bump,
        has_one = mint @ EscrowError::WrongMint,
        constraint = !market.paused @ EscrowError::Paused,
    )]
    pub market: Box<Account<'info, Market>>,
    /// The market mint (`has_one` on market); the Token program validates it
    /// again when the vault is initialized.
    /// CHECK: address checked by `has_one`.
    pub mint: UncheckedAccount<'info>,
    /// The worker's wallet; only its key is stored. Payouts go to any token
    /// account of the market mint owned by this key.
    /// CHECK: only the key is used.
    #[account(
        constraint = worker.key() != Pubkey::default() @ EscrowError::InvalidWorker,
        constraint = worker.key() != job.key() @ EscrowError::InvalidWorker,
    )]
    pub worker: UncheckedAccount<'info>,
    #[account(
        init,
        payer = customer,
        space = Job::space(WORKERS_PER_JOB as usize),
        seeds = [JOB_SEED, market.key().as_ref(), customer.key().as_ref(), &job_id.to_le_bytes()],
        bump,
    )]
    pub job: Box<Account<'info, Job>>,
    /// Created here as a Token account (owner = Token program, 165 bytes) at
    /// the job's vault PDA, then initialized with the job PDA as its owner.
    /// CHECK: created and initialized by this instruction.
    #[account(
        init,
        payer = customer,
        space = TOKEN_ACCOUNT_LEN,
        owner = TOKEN_PROGRAM_ID,
        seeds = [VAULT_SEED, job.key().as_ref()],
        bump,
    )]
    pub vault: UncheckedAccount<'info>,
    #[account(
        mut,
        dup,
        constraint = customer_token.mint == market.mint @ EscrowError::WrongMint,
        constraint = customer_token.owner == customer.key() @ EscrowError::WrongOwner,
    )]
    pub customer_token: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<OpenJob>, job_id: u64, rate_per_hour: u64, hours: u32) -> Result<()> {
    let market = &ctx.accounts.market;
    require!(rate_per_hour > 0, EscrowError::ZeroRate);
    require!(hours > 0, EscrowError::ZeroHours);
    require!(hours <= market.max_hours, EscrowError::TooManyHours);
    require!(WORKERS_PER_JOB <= market.max_workers, EscrowError::TooManyWorkers);

    let fee_bps = market.fee_bps;
    let (principal, fee) = math::booking_cost(rate_per_hour, hours, WORKERS_PER_JOB, fee_bps)?;
    // booking_cost guarantees the sum fits.
    let deposit = principal.checked_add(fee).ok_or(EscrowError::MathOverflow)?;

    let job_key = ctx.accounts.job.key();
    token::initialize_account3(
        &ctx.accounts.token_program.to_account_info(),
        &ctx.accounts.vault.to_account_info(),
        &ctx.accounts.mint.to_account_info(),
        &job_key,
    )?;
    token::transfer(
        &ctx.accounts.token_program.to_account_info(),
        &ctx.accounts.customer_token.to_account_info(),
        &ctx.accounts.vault.to_account_info(),
        &ctx.accounts.customer.to_account_info(),
        deposit,
        &[],
    )?;

    let start_ts = Clock::get()?.unix_timestamp;
    let market_key = ctx.accounts.market.key();
    let customer = ctx.accounts.customer.key();
    let worker = ctx.accounts.worker.key();
    ctx.accounts.job.set_inner(Job {
        market: market_key,
        customer,
        job_id,
        rate_per_hour,
        hours,
        fee_bps,
        state: JobState::Open,
        start_ts,
        bump: ctx.bumps.job,
        vault_bump: ctx.bumps.vault,
        reserved: [0; 32],
        workers: vec![WorkerSlot { worker, hours_paid: 0 }],
    });
    let market = &mut ctx.accounts.market;
    market.job_count = market.job_count.checked_add(1).ok_or(EscrowError::MathOverflow)?;

    emit_cpi!(JobOpened {
        market: market_key,
        job: job_key,
        customer,
        job_id,
        worker,
        rate_per_hour,
        hours,
        fee_bps,
        principal,
        fee,
        start_ts,
    });
    Ok(())
}
