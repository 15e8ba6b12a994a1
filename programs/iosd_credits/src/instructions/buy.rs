use anchor_lang::prelude::*;
use crate::token::{self, Token, TokenAccount};

use crate::errors::CreditsError;
use crate::events::CreditsBought;
use crate::math;
use crate::state::*;

/// Deposits `amount` of the stablecoin from the user's own token account
/// into the reserve and credits the same amount to the user's own credit
/// account. Only the user signs for its account: nobody can buy into
/// another user's balance.
#[event_cpi]
#[derive(Accounts)]
pub struct Buy<'info> {
    pub user: Signer<'info>,
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
        has_one = user @ CreditsError::WrongUser,
    )]
    pub credit_account: Box<Account<'info, CreditAccount>>,
    #[account(
        mut,

        dup,
        constraint = user_token.mint == config.mint @ CreditsError::WrongMint,
        constraint = user_token.owner == user.key() @ CreditsError::WrongTokenOwner,
    )]
    pub user_token: Box<Account<'info, TokenAccount>>,
    #[account(mut, dup)]
    pub reserve_vault: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<Buy>, amount: u64) -> Result<()> {
    require!(amount > 0, CreditsError::ZeroAmount);
    let config = &mut ctx.accounts.config;
    config.outstanding = math::within_cap(config.outstanding, amount, config.cap)?;
    let credit = &mut ctx.accounts.credit_account;
    credit.balance = math::add(credit.balance, amount)?;
    credit.deposited = math::add(credit.deposited, amount)?;
    token::transfer(
        &ctx.accounts.token_program.to_account_info(),
        &ctx.accounts.user_token.to_account_info(),
        &ctx.accounts.reserve_vault.to_account_info(),
        &ctx.accounts.user.to_account_info(),
        amount,
        &[],
    )?;
    emit_cpi!(CreditsBought {
        credit_account: credit.key(),
        user: credit.user,
        amount,
        balance: credit.balance,
        outstanding: config.outstanding,
    });
    Ok(())
}
