use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::JobClosed;
use crate::payout::{self, Vault};
use crate::state::*;
use crate::token::{Token, TokenAccount};

/// Customer closes a job once nothing is owed to its workers: every slot
/// has been paid all it can earn (booking run out and settled, worker quit,
/// slot released, or job ended and settled). Fees accrued and not yet swept
/// move to the market fee vault (never to the treasury directly, so a
/// closed or frozen treasury cannot keep a job open); any stray tokens and
/// the rent of the vault and the job go back to the customer.
#[event_cpi]
#[derive(Accounts)]
pub struct CloseJob<'info> {
    #[account(mut)]
    pub customer: Signer<'info>,
    #[account(
        mut,
        dup,
        close = customer,
        seeds = [JOB_SEED, job.market.as_ref(), job.customer.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        has_one = customer @ EscrowError::Unauthorized,
        has_one = market @ EscrowError::WrongMarket,
        constraint = job.workers.iter().all(|w| w.hours_paid == w.hours && (w.tail_secs == 0 || w.tail_paid))
            @ EscrowError::OutstandingPayments,
    )]
    pub job: Box<Account<'info, Job>>,
    #[account(seeds = [MARKET_SEED, market.mint.as_ref()], bump = market.bump)]
    pub market: Box<Account<'info, Market>>,
    /// The market's fee vault: receives the fees the job accrued.
    /// CHECK: address checked by the seeds (created by `init_market`).
    #[account(mut, dup, seeds = [FEE_VAULT_SEED, market.key().as_ref()], bump = market.fee_vault_bump)]
    pub fee_vault: UncheckedAccount<'info>,
    #[account(
        mut,
        dup,
        seeds = [VAULT_SEED, job.key().as_ref()],
        bump = job.vault_bump,
    )]
    pub vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, dup, constraint = payout::paid_from_vault(&customer_token, &vault, &customer.key())?)]
    pub customer_token: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<CloseJob>) -> Result<()> {
    let job_key = ctx.accounts.job.key();
    let vault = Vault::new(
        ctx.accounts.token_program.to_account_info(),
        ctx.accounts.vault.to_account_info(),
        &ctx.accounts.job,
    );
    // Nothing is owed to workers (constraint above): the balance is the
    // accrued fees plus stray tokens.
    let fees = ctx.accounts.job.fees_accrued;
    let refund = ctx.accounts.vault.amount.checked_sub(fees).ok_or(EscrowError::MathOverflow)?;
    vault.pay(&ctx.accounts.fee_vault.to_account_info(), fees)?;
    let customer_token = ctx.accounts.customer_token.to_account_info();
    vault.empty_and_close(refund, &customer_token, &ctx.accounts.customer.to_account_info())?;
    emit_cpi!(JobClosed { job: job_key, customer: ctx.accounts.job.customer, refund, fees });
    Ok(())
}
