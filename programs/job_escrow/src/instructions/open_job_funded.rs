use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::instructions::open_job::{open, Opening};
use crate::state::*;
use crate::token::{Token, TokenAccount, MINT_LEN, TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID};

/// `open_job` (same arguments, checks, job and event) with the deposit paid
/// from `funder_token`, a token account of `funder`, a second signer,
/// instead of a token account of the customer. The job is the customer's in
/// every other way: its PDA is derived from the customer, the customer pays
/// the rent and is the only one who can end, release, cancel or close it,
/// and every refund goes to a token account the customer owns, never to the
/// funder. iosd_credits opens its jobs this way: the reserve (funder, its
/// config PDA signing) pays, the user's customer PDA is the customer, so
/// the deposit moves once instead of twice.
#[event_cpi]
#[derive(Accounts)]
#[instruction(job_id: u64, hours: u32, usd: bool, accept_window: u32, max_total: u64, workers: Vec<WorkerTerms>)]
pub struct OpenJobFunded<'info> {
    #[account(mut)]
    pub customer: Signer<'info>,
    pub funder: Signer<'info>,
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
    /// CHECK: created and initialized by this instruction (as in `open_job`).
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
        constraint = funder_token.mint == market.mint @ EscrowError::WrongMint,
        constraint = funder_token.owner == funder.key() @ EscrowError::WrongOwner,
    )]
    pub funder_token: Box<Account<'info, TokenAccount>>,
    /// The market's price feed; required when `usd` is true.
    #[account(constraint = price_feed.key() == market.oracle @ EscrowError::WrongOracle)]
    pub price_feed: Option<Box<Account<'info, PriceFeed>>>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

pub fn handler(
    mut ctx: Context<OpenJobFunded>,
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
            source: &a.funder_token.to_account_info(),
            source_authority: &a.funder,
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
