use anchor_lang::prelude::*;

use crate::errors::PayError;
use crate::events::FeesSwept;
use crate::pool::PoolVault;
use crate::state::*;
use job_escrow::state::{Market, MARKET_SEED};
use job_escrow::token::{Token, TokenAccount};

/// Permissionless: moves the pool's accrued fees to the treasury of
/// job_escrow's market for the mint (the network-wide fee policy). A
/// treasury that cannot receive only delays this, never a settlement.
#[event_cpi]
#[derive(Accounts)]
pub struct SweepFees<'info> {
    #[account(
        seeds = [MARKET_SEED, pool.mint.as_ref()],
        bump = market.bump,
        seeds::program = job_escrow::ID,
        has_one = treasury @ PayError::WrongTreasury,
    )]
    pub market: Box<Account<'info, Market>>,
    #[account(mut, dup, seeds = [POOL_SEED, pool.mint.as_ref()], bump = pool.bump)]
    pub pool: Box<Account<'info, Pool>>,
    #[account(mut, dup, address = pool.vault @ PayError::WrongVault)]
    pub vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, dup, constraint = treasury.key() != vault.key() @ PayError::WrongTreasury)]
    pub treasury: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<SweepFees>) -> Result<()> {
    let amount = ctx.accounts.pool.fees_accrued;
    require!(amount > 0, PayError::NothingToSweep);
    let vault = PoolVault::new(ctx.accounts.token_program.to_account_info(), ctx.accounts.vault.to_account_info(), &ctx.accounts.pool);
    vault.pay(&ctx.accounts.treasury.to_account_info(), amount)?;
    let pool = &mut ctx.accounts.pool;
    pool.fees_accrued = 0;
    pool.fees_swept = pool.fees_swept.checked_add(amount).ok_or(PayError::MathOverflow)?;
    emit_cpi!(FeesSwept { pool: pool.key(), treasury: ctx.accounts.treasury.key(), amount });
    Ok(())
}
