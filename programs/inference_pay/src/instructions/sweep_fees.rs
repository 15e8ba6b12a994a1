use anchor_lang::prelude::*;

use crate::errors::PayError;
use crate::events::FeesSwept;
use crate::pool::PoolVault;
use crate::state::*;
use crate::market;
use crate::token::{Token, TokenAccount};

/// Permissionless: moves the pool's accrued fees to the treasury of
/// job_escrow's market for the mint (the network-wide fee policy). A
/// treasury that cannot receive only delays this, never a settlement.
#[event_cpi]
#[derive(Accounts)]
pub struct SweepFees<'info> {
    /// job_escrow's market of the mint (owner, discriminator, mint and PDA
    /// checked by `market::read`).
    /// CHECK: read by hand in the handler.
    pub market: UncheckedAccount<'info>,
    #[account(mut, dup, seeds = [POOL_SEED, pool.mint.as_ref()], bump = pool.bump)]
    pub pool: Box<Account<'info, Pool>>,
    #[account(mut, dup, address = pool.vault @ PayError::WrongVault)]
    pub vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, dup, constraint = treasury.key() != vault.key() @ PayError::WrongTreasury)]
    pub treasury: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<SweepFees>) -> Result<()> {
    let policy = market::read(&ctx.accounts.market, &ctx.accounts.pool.mint)?;
    require_keys_eq!(policy.treasury, ctx.accounts.treasury.key(), PayError::WrongTreasury);
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
