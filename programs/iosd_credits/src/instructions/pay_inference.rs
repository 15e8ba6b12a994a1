use anchor_lang::prelude::*;
use crate::token::{self, Token, TokenAccount};

use crate::credit::{check_actor, ConfigSigner};
use crate::errors::CreditsError;
use crate::events::InferencePaid;
use crate::math;
use crate::state::*;

/// Pays `amount` out of an inference allowance to its provider's token
/// account (the only possible destination), from the reserve: the credits
/// are spent. Signed by the user or a delegate (whose allowance was charged
/// when the credits were set aside). Works while paused: it pays for
/// inference already served.
#[event_cpi]
#[derive(Accounts)]
pub struct PayInference<'info> {
    pub authority: Signer<'info>,
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
    )]
    pub credit_account: Box<Account<'info, CreditAccount>>,
    pub delegation: Option<Box<Account<'info, Delegation>>>,
    #[account(
        mut,

        dup,
        seeds = [ALLOWANCE_SEED, allowance.credit_account.as_ref(), allowance.provider_token.as_ref()],
        bump = allowance.bump,
        constraint = allowance.credit_account == credit_account.key() @ CreditsError::WrongAllowance,
    )]
    pub allowance: Box<Account<'info, InferenceAllowance>>,
    #[account(mut, dup, address = allowance.provider_token @ CreditsError::WrongProvider)]
    pub provider_token: Box<Account<'info, TokenAccount>>,
    #[account(mut, dup)]
    pub reserve_vault: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<PayInference>, amount: u64) -> Result<()> {
    require!(amount > 0, CreditsError::ZeroAmount);
    let authority = ctx.accounts.authority.key();
    check_actor(&ctx.accounts.credit_account, &authority, ctx.accounts.delegation.as_deref().map(|d| &**d))?;
    let a = &mut ctx.accounts.allowance;
    let paid = math::add(a.paid, amount)?;
    require!(paid <= a.amount, CreditsError::AllowanceInsufficient);
    a.paid = paid;
    let credit = &mut ctx.accounts.credit_account;
    credit.spent = math::add(credit.spent, amount)?;
    let config = &mut ctx.accounts.config;
    config.outstanding = math::sub(config.outstanding, amount, CreditsError::MathOverflow)?;
    let signer = ConfigSigner::new(config);
    token::transfer(
        &ctx.accounts.token_program.to_account_info(),
        &ctx.accounts.reserve_vault.to_account_info(),
        &ctx.accounts.provider_token.to_account_info(),
        &config.to_account_info(),
        amount,
        &[&signer.seeds()],
    )?;
    emit_cpi!(InferencePaid {
        credit_account: credit.key(),
        allowance: a.key(),
        provider_token: a.provider_token,
        amount,
        paid,
        outstanding: config.outstanding,
    });
    Ok(())
}
