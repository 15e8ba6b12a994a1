use anchor_lang::prelude::*;
use crate::token::{self, Token, TokenAccount};

use crate::credit::ConfigSigner;
use crate::errors::CreditsError;
use crate::events::CreditsRedeemed;
use crate::math;
use crate::state::*;

/// Burns `amount` credits and pays the same amount of the stablecoin from
/// the reserve to the user's own token account. Signed by the user only
/// (never a delegate); works while paused.
#[event_cpi]
#[derive(Accounts)]
pub struct Redeem<'info> {
    pub user: Signer<'info>,
    #[account(
        mut,

        dup,
        seeds = [CONFIG_SEED, config.mint.as_ref()],
        bump = config.bump,
        has_one = reserve_vault @ CreditsError::WrongReserveVault,
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

pub fn handler(ctx: Context<Redeem>, amount: u64) -> Result<()> {
    require!(amount > 0, CreditsError::ZeroAmount);
    let credit = &mut ctx.accounts.credit_account;
    credit.balance = math::sub(credit.balance, amount, CreditsError::InsufficientCredits)?;
    credit.redeemed = math::add(credit.redeemed, amount)?;
    let config = &mut ctx.accounts.config;
    // outstanding >= every balance.
    config.outstanding = math::sub(config.outstanding, amount, CreditsError::MathOverflow)?;
    let signer = ConfigSigner::new(config);
    token::transfer(
        &ctx.accounts.token_program.to_account_info(),
        &ctx.accounts.reserve_vault.to_account_info(),
        &ctx.accounts.user_token.to_account_info(),
        &config.to_account_info(),
        amount,
        &[&signer.seeds()],
    )?;
    emit_cpi!(CreditsRedeemed {
        credit_account: credit.key(),
        user: credit.user,
        amount,
        balance: credit.balance,
        outstanding: config.outstanding,
    });
    Ok(())
}
