use anchor_lang::prelude::*;

use crate::errors::PayError;
use crate::events::PoolInitialized;
use crate::state::*;
use crate::token::{self, Token, MINT_LEN, TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID};

/// Creates the pool of a classic SPL Token mint and its vault (a token
/// account owned by the pool PDA). Permissionless: the pool has no
/// authority, so whoever creates it gains nothing.
#[event_cpi]
#[derive(Accounts)]
pub struct InitPool<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    /// CHECK: owner and size constraints below.
    #[account(
        constraint = *mint.owner == TOKEN_PROGRAM_ID @ PayError::WrongMint,
        constraint = mint.data_len() == MINT_LEN @ PayError::WrongMint,
    )]
    pub mint: UncheckedAccount<'info>,
    #[account(init, payer = payer, space = 8 + Pool::INIT_SPACE, seeds = [POOL_SEED, mint.key().as_ref()], bump)]
    pub pool: Box<Account<'info, Pool>>,
    /// CHECK: created and initialized by this instruction.
    #[account(
        init,
        payer = payer,
        space = TOKEN_ACCOUNT_LEN,
        owner = TOKEN_PROGRAM_ID,
        seeds = [POOL_VAULT_SEED, mint.key().as_ref()],
        bump,
    )]
    pub vault: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<InitPool>) -> Result<()> {
    let pool_key = ctx.accounts.pool.key();
    token::initialize_account3(
        &ctx.accounts.token_program.to_account_info(),
        &ctx.accounts.vault.to_account_info(),
        &ctx.accounts.mint.to_account_info(),
        &pool_key,
    )?;
    ctx.accounts.pool.set_inner(Pool {
        mint: ctx.accounts.mint.key(),
        vault: ctx.accounts.vault.key(),
        fees_accrued: 0,
        fees_swept: 0,
        channels_opened: 0,
        bump: ctx.bumps.pool,
        vault_bump: ctx.bumps.vault,
        reserved: [0; 32],
    });
    emit_cpi!(PoolInitialized { pool: pool_key, mint: ctx.accounts.mint.key(), vault: ctx.accounts.vault.key() });
    Ok(())
}
