use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::JobOpened;
use crate::math;
use crate::state::*;
use crate::token::{self, Token, TokenAccount, MINT_LEN, TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID};

/// Opens a job for 1..=`market.max_workers` workers, each with its own
/// hourly rate, for `hours` hours each, and locks `sum(rate * hours)` plus
/// the fee in a vault owned by the job PDA. With `usd = true` the rates are
/// micro-USD per hour, converted into the mint's base units with the
/// market's price feed (fresh and precise enough, rounded up against the
/// customer). The customer's `max_total` bounds what may be locked (pay plus
/// fee): a price update landing first cannot make the same call lock more
/// (`MaxTotalExceeded`). Workers must accept within `accept_window` seconds;
/// no worker earns anything before it `accept`s.
#[event_cpi]
#[derive(Accounts)]
#[instruction(job_id: u64, hours: u32, usd: bool, accept_window: u32, max_total: u64, workers: Vec<WorkerTerms>)]
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
        // Checked before the job account is sized from `workers`.
        constraint = !workers.is_empty() @ EscrowError::NoWorkers,
        constraint = workers.len() <= market.max_workers as usize @ EscrowError::TooManyWorkers,
    )]
    pub market: Box<Account<'info, Market>>,
    /// The market mint (`has_one` on market; its decimals convert USD rates).
    /// CHECK: address checked by `has_one`; owner and size below.
    #[account(
        constraint = *mint.owner == TOKEN_PROGRAM_ID @ EscrowError::InvalidMint,
        constraint = mint.data_len() == MINT_LEN @ EscrowError::InvalidMint,
    )]
    pub mint: UncheckedAccount<'info>,
    #[account(
        init,
        payer = customer,
        space = Job::space(workers.len()),
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
    /// The market's price feed; required when `usd` is true.
    #[account(constraint = price_feed.key() == market.oracle @ EscrowError::WrongOracle)]
    pub price_feed: Option<Box<Account<'info, PriceFeed>>>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

pub fn handler(
    mut ctx: Context<OpenJob>,
    job_id: u64,
    hours: u32,
    usd: bool,
    accept_window: u32,
    max_total: u64,
    workers: Vec<WorkerTerms>,
) -> Result<()> {
    let a = &mut ctx.accounts;
    let opened = open(
        Opening {
            customer: &a.customer,
            market: &mut a.market,
            mint: &a.mint,
            job: &mut a.job,
            vault: &a.vault,
            source: &a.customer_token.to_account_info(),
            source_authority: &a.customer,
            price_feed: a.price_feed.as_deref().map(|f| &**f),
            token_program: &a.token_program,
            job_bump: ctx.bumps.job,
            vault_bump: ctx.bumps.vault,
        },
        job_id,
        hours,
        usd,
        accept_window,
        max_total,
        workers,
    )?;
    emit_cpi!(opened);
    Ok(())
}

/// What opening a job works on, from `OpenJob` or `OpenJobFunded`: the
/// deposit leaves `source`, signed by `source_authority` (the customer, or
/// `open_job_funded`'s funder).
pub(crate) struct Opening<'a, 'info> {
    pub customer: &'a AccountInfo<'info>,
    pub market: &'a mut Account<'info, Market>,
    pub mint: &'a AccountInfo<'info>,
    pub job: &'a mut Account<'info, Job>,
    pub vault: &'a AccountInfo<'info>,
    pub source: &'a AccountInfo<'info>,
    pub source_authority: &'a AccountInfo<'info>,
    pub price_feed: Option<&'a PriceFeed>,
    pub token_program: &'a AccountInfo<'info>,
    pub job_bump: u8,
    pub vault_bump: u8,
}

/// Checks the terms, books the slots, initializes the vault, moves the
/// deposit into it and writes the job; returns the event to emit.
pub(crate) fn open(
    o: Opening,
    job_id: u64,
    hours: u32,
    usd: bool,
    accept_window: u32,
    max_total: u64,
    workers: Vec<WorkerTerms>,
) -> Result<JobOpened> {
    let market = &*o.market;
    let now_ts = Clock::get()?.unix_timestamp;
    require!(hours > 0, EscrowError::ZeroHours);
    require!(accept_window > 0 && accept_window <= MAX_ACCEPT_WINDOW, EscrowError::InvalidAcceptWindow);
    require!(hours <= market.max_hours, EscrowError::TooManyHours);
    let job_key = o.job.key();
    let customer = o.customer.key();
    for (i, w) in workers.iter().enumerate() {
        require!(w.rate_per_hour > 0, EscrowError::ZeroRate);
        require!(
            w.worker != Pubkey::default() && w.worker != job_key && w.worker != o.vault.key(),
            EscrowError::InvalidWorker
        );
        require!(!workers[..i].iter().any(|x| x.worker == w.worker), EscrowError::DuplicateWorker);
    }

    // USD rates -> base units with the market's oracle.
    let (usd_price, usd_expo) = if usd {
        let feed = o.price_feed.ok_or(EscrowError::OracleRequired)?;
        math::check_price(
            feed.price,
            feed.conf,
            feed.expo,
            feed.publish_time,
            now_ts,
            market.max_staleness,
            market.max_conf_bps,
        )?;
        (feed.price, feed.expo)
    } else {
        (0, 0)
    };
    let decimals = o.mint.try_borrow_data()?[44];
    let mut slots = Vec::with_capacity(workers.len());
    let mut booked = Vec::with_capacity(workers.len());
    for w in &workers {
        let rate = if usd { math::usd_to_tokens(w.rate_per_hour, usd_price, usd_expo, decimals)? } else { w.rate_per_hour };
        require!(rate > 0, EscrowError::ZeroRate);
        slots.push(WorkerSlot {
            worker: w.worker,
            rate_per_hour: rate,
            usd_rate_per_hour: if usd { w.rate_per_hour } else { 0 },
            hours,
            hours_paid: 0,
            start_ts: 0,
            status: WorkerStatus::Pending,
            tail_secs: 0,
            tail_pay: 0,
            tail_paid: false,
        });
        booked.push(WorkerTerms { worker: w.worker, rate_per_hour: rate });
    }
    let fee_bps = market.fee_bps;
    let (principal, fee) = math::booking_cost(slots.iter().map(|s| s.rate_per_hour), hours, fee_bps)?;
    // booking_cost guarantees the sum fits.
    let deposit = principal.checked_add(fee).ok_or(EscrowError::MathOverflow)?;
    require!(deposit <= max_total, EscrowError::MaxTotalExceeded);
    let accept_deadline = now_ts.checked_add(accept_window as i64).ok_or(EscrowError::MathOverflow)?;

    token::initialize_account3(o.token_program, o.vault, o.mint, &job_key)?;
    token::transfer(o.token_program, o.source, o.vault, o.source_authority, deposit, &[])?;

    let market_key = o.market.key();
    o.job.set_inner(Job {
        market: market_key,
        customer,
        job_id,
        state: JobState::Open,
        fee_bps,
        hours,
        created_ts: now_ts,
        ended_ts: 0,
        usd_price,
        usd_expo,
        bump: o.job_bump,
        vault_bump: o.vault_bump,
        accept_deadline,
        fees_accrued: 0,
        reserved: [0; 16],
        workers: slots,
    });
    o.market.job_count = o.market.job_count.checked_add(1).ok_or(EscrowError::MathOverflow)?;

    Ok(JobOpened {
        market: market_key,
        job: job_key,
        customer,
        job_id,
        hours,
        fee_bps,
        workers: booked,
        principal,
        fee,
        usd_price,
        usd_expo,
        created_ts: now_ts,
        accept_deadline,
    })
}
