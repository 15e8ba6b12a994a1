use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::HoursSettled;
use crate::payout::{self, Vault};
use crate::state::*;
use crate::token::{Token, TokenAccount};

/// Permissionless crank: pays every listed worker slot each whole hour it
/// has earned and not yet been paid (`slots[i]` is paid into remaining
/// account `i`, a token account of the market mint owned by that slot's
/// worker), and the matching fee shares to the treasury. Works while the
/// market is paused and after the job was ended: earned pay is never held
/// back. `NothingToSettle` when no listed slot had anything due, so replays
/// are harmless.
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
        constraint = treasury.key() != vault.key() @ EscrowError::WrongTreasury,
    )]
    pub treasury: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn handler<'info>(ctx: Context<'info, Settle<'info>>, slots: Vec<u8>) -> Result<()> {
    let now_ts = Clock::get()?.unix_timestamp;
    let job_key = ctx.accounts.job.key();
    let treasury = ctx.accounts.treasury.to_account_info();
    let mint = ctx.accounts.market.mint;
    let vault = Vault::new(
        ctx.accounts.token_program.to_account_info(),
        ctx.accounts.vault.to_account_info(),
        &ctx.accounts.job,
    );
    let paid = payout::pay_listed(
        &mut ctx.accounts.job,
        &slots,
        ctx.remaining_accounts,
        &mint,
        &vault,
        &treasury,
        now_ts,
    )?;
    require!(!paid.is_empty(), EscrowError::NothingToSettle);
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
    Ok(())
}
