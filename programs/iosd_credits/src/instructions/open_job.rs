use anchor_lang::prelude::*;
use anchor_lang::system_program;
use crate::escrow::{self, EscrowCall, JobEscrow, WorkerTerms};
use crate::token::{self, Token, TokenAccount, TOKEN_ACCOUNT_LEN};

use crate::credit::{authorize_spend, ConfigSigner, CustomerSigner};
use crate::errors::CreditsError;
use crate::events::JobPaidWithCredits;
use crate::math;
use crate::state::*;

/// Opens a job_escrow job in the stablecoin's market paid from the user's
/// credits, signed by the user or by a delegate within its allowance. The
/// job's customer is the user's customer PDA (signed here by
/// `invoke_signed`), so the job's refunds can only land in token accounts
/// that PDA owns, which are credited back to this user alone. The deposit
/// (workers' pay plus fee) is computed with job_escrow's own math and
/// checked against what job_escrow actually took. Rates are in base units
/// of the stablecoin per hour (= micro-USD). The workers have
/// `accept_window` seconds to accept (job_escrow's accept deadline).
#[event_cpi]
#[derive(Accounts)]
pub struct OpenJobWithCredits<'info> {
    /// The user or one of its delegates.
    pub authority: Signer<'info>,
    /// Pays the rent of the job accounts through the customer PDA (the rent
    /// comes back to the customer PDA when the job is closed).
    #[account(mut)]
    pub payer: Signer<'info>,
    #[account(
        mut,

        dup,
        seeds = [CONFIG_SEED, config.mint.as_ref()],
        bump = config.bump,
        has_one = reserve_vault @ CreditsError::WrongReserveVault,
        constraint = !config.paused @ CreditsError::Paused,
    )]
    pub config: Box<Account<'info, Config>>,
    #[account(
        mut,

        dup,
        seeds = [CREDIT_SEED, credit_account.config.as_ref(), credit_account.user.as_ref()],
        bump = credit_account.bump,
        constraint = credit_account.config == config.key() @ CreditsError::WrongConfig,
    )]
    pub credit_account: Box<Account<'info, CreditAccount>>,
    /// Required when `authority` is a delegate.
    #[account(mut, dup)]
    pub delegation: Option<Box<Account<'info, Delegation>>>,
    #[account(mut, dup)]
    pub reserve_vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, dup, address = credit_account.customer @ CreditsError::WrongCustomer)]
    pub customer: SystemAccount<'info>,
    #[account(mut, dup, address = credit_account.refund_account @ CreditsError::WrongRefundAccount)]
    pub refund_account: Box<Account<'info, TokenAccount>>,
    /// job_escrow's market of the stablecoin (owner, type and mint checked in the handler).
    /// CHECK: read by `escrow::read_market`, checked again by job_escrow.
    #[account(mut)]
    pub market: UncheckedAccount<'info>,
    /// CHECK: checked by job_escrow (the market's mint).
    pub mint: UncheckedAccount<'info>,
    /// CHECK: created by job_escrow at its job PDA.
    #[account(mut, dup)]
    pub job: UncheckedAccount<'info>,
    /// CHECK: created by job_escrow at its vault PDA.
    #[account(mut, dup)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: job_escrow's event authority (checked by job_escrow).
    pub escrow_event_authority: UncheckedAccount<'info>,
    pub escrow_program: Program<'info, JobEscrow>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

pub fn handler(
    ctx: Context<OpenJobWithCredits>,
    job_id: u64,
    hours: u32,
    accept_window: u32,
    workers: Vec<WorkerTerms>,
) -> Result<()> {
    let now_ts = Clock::get()?.unix_timestamp;
    let (market_mint, fee_bps) = escrow::read_market(&ctx.accounts.market)?;
    require_keys_eq!(market_mint, ctx.accounts.config.mint, CreditsError::WrongMarket);
    let (principal, fee) = math::booking_cost(workers.iter().map(|w| w.rate_per_hour), hours, fee_bps)?;
    let deposit = math::add(principal, fee)?;
    let n_workers = workers.len();

    // Accounting first: who may spend, and from which balance.
    let authority = ctx.accounts.authority.key();
    let (delegate, spent_in_period) = authorize_spend(
        &ctx.accounts.credit_account,
        &authority,
        ctx.accounts.delegation.as_deref_mut(),
        deposit,
        now_ts,
    )?;
    let credit = &mut ctx.accounts.credit_account;
    credit.balance = math::sub(credit.balance, deposit, CreditsError::InsufficientCredits)?;
    credit.spent = math::add(credit.spent, deposit)?;
    credit.in_flight = math::add(credit.in_flight, deposit)?;
    credit.jobs_opened = math::add(credit.jobs_opened, 1)?;
    let config = &mut ctx.accounts.config;
    config.outstanding = math::sub(config.outstanding, deposit, CreditsError::MathOverflow)?;

    // The customer PDA pays the job's rent; it keeps the rent-exempt minimum.
    let rent = Rent::get()?;
    let need = rent.minimum_balance(escrow::job_space(n_workers))
        + rent.minimum_balance(TOKEN_ACCOUNT_LEN)
        + rent.minimum_balance(0);
    let have = ctx.accounts.customer.lamports();
    if have < need {
        system_program::transfer(
            CpiContext::new(
                system_program::ID,
                system_program::Transfer {
                    from: ctx.accounts.payer.to_account_info(),
                    to: ctx.accounts.customer.to_account_info(),
                },
            ),
            need - have,
        )?;
    }

    // Reserve -> the customer's refund account -> (job_escrow) the job vault.
    let before = ctx.accounts.refund_account.amount;
    let config_signer = ConfigSigner::new(config);
    token::transfer(
        &ctx.accounts.token_program.to_account_info(),
        &ctx.accounts.reserve_vault.to_account_info(),
        &ctx.accounts.refund_account.to_account_info(),
        &config.to_account_info(),
        deposit,
        &[&config_signer.seeds()],
    )?;
    let customer_signer = CustomerSigner::new(credit);
    let customer_seeds = customer_signer.seeds();
    let signer_seeds = [&customer_seeds[..]];
    let call = EscrowCall {
        program: &ctx.accounts.escrow_program.to_account_info(),
        event_authority: &ctx.accounts.escrow_event_authority.to_account_info(),
        token_program: &ctx.accounts.token_program.to_account_info(),
    };
    call.open_job(
        &ctx.accounts.customer.to_account_info(),
        &ctx.accounts.market.to_account_info(),
        &ctx.accounts.mint.to_account_info(),
        &ctx.accounts.job.to_account_info(),
        &ctx.accounts.vault.to_account_info(),
        &ctx.accounts.refund_account.to_account_info(),
        &ctx.accounts.system_program.to_account_info(),
        job_id,
        hours,
        accept_window,
        // A token-priced job locks exactly `deposit`; job_escrow refuses to
        // lock more (MaxTotalExceeded), and the check below sees it took it all.
        deposit,
        &workers,
        &signer_seeds,
    )?;
    ctx.accounts.refund_account.reload()?;
    require!(ctx.accounts.refund_account.amount == before, CreditsError::DepositMismatch);

    let credit = &ctx.accounts.credit_account;
    emit_cpi!(JobPaidWithCredits {
        credit_account: credit.key(),
        job: ctx.accounts.job.key(),
        job_id,
        delegate,
        amount: deposit,
        spent_in_period,
        balance: credit.balance,
        outstanding: ctx.accounts.config.outstanding,
    });
    Ok(())
}
