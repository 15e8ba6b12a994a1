//! Transfers out of a pool's vault, signed by the pool PDA.
use anchor_lang::prelude::*;

use crate::state::{Pool, POOL_SEED};
use crate::token;

pub struct PoolVault<'info> {
    pub token_program: AccountInfo<'info>,
    pub vault: AccountInfo<'info>,
    pub pool: AccountInfo<'info>,
    mint: Pubkey,
    bump: [u8; 1],
}

impl<'info> PoolVault<'info> {
    pub fn new(token_program: AccountInfo<'info>, vault: AccountInfo<'info>, pool: &Account<'info, Pool>) -> Self {
        Self { token_program, vault, pool: pool.to_account_info(), mint: pool.mint, bump: [pool.bump] }
    }

    /// Transfers `amount` (if any) from the vault to `to`.
    pub fn pay(&self, to: &AccountInfo<'info>, amount: u64) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        let seeds: [&[u8]; 3] = [POOL_SEED, self.mint.as_ref(), &self.bump];
        token::transfer(&self.token_program, &self.vault, to, &self.pool, amount, &[&seeds])
    }
}
