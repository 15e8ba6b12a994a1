use anchor_lang::prelude::*;
use crate::token::TokenAccount;

use crate::credit::authorize_spend;
use crate::errors::CreditsError;
use crate::events::InferenceFunded;
use crate::math;
use crate::state::*;

/// Sets `amount` credits aside for one inference provider (the seam for the
/// inference payment channel program, see README): they leave the spendable
/// balance but stay outstanding, in the reserve, until `pay_inference`
/// pays them to the provider's token account fixed here, or
/// `close_inference` returns the rest to the balance. Signed by the user or
/// a delegate within its allowance; blocked while paused.
#[event_cpi]
#[derive(Accounts)]
pub struct FundInference<'info> {
    pub authority: Signer<'info>,
    #[account(mut)]
    pub payer: Signer<'info>,
    #[account(
        seeds = [CONFIG_SEED, config.mint.as_ref()],
        bump = config.bump,
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
    #[account(mut, dup)]
    pub delegation: Option<Box<Account<'info, Delegation>>>,
    #[account(
        constraint = provider_token.mint == config.mint @ CreditsError::InvalidProvider,
        constraint = provider_token.key() != config.reserve_vault @ CreditsError::InvalidProvider,
    )]
    pub provider_token: Box<Account<'info, TokenAccount>>,
    #[account(
        init_if_needed,
        dup,
        payer = payer,
        space = 8 + InferenceAllowance::INIT_SPACE,
        seeds = [ALLOWANCE_SEED, credit_account.key().as_ref(), provider_token.key().as_ref()],
        bump,
    )]
    pub allowance: Box<Account<'info, InferenceAllowance>>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<FundInference>, amount: u64) -> Result<()> {
    require!(amount > 0, CreditsError::ZeroAmount);
    let now_ts = Clock::get()?.unix_timestamp;
    let authority = ctx.accounts.authority.key();
    let (delegate, _) = authorize_spend(
        &ctx.accounts.credit_account,
        &authority,
        ctx.accounts.delegation.as_deref_mut(),
        amount,
        now_ts,
    )?;
    let credit_key = ctx.accounts.credit_account.key();
    let credit = &mut ctx.accounts.credit_account;
    credit.balance = math::sub(credit.balance, amount, CreditsError::InsufficientCredits)?;
    let a = &mut ctx.accounts.allowance;
    if a.credit_account == Pubkey::default() {
        a.credit_account = credit_key;
        a.provider_token = ctx.accounts.provider_token.key();
        a.bump = ctx.bumps.allowance;
    }
    a.amount = math::add(a.amount, amount)?;
    emit_cpi!(InferenceFunded {
        credit_account: credit_key,
        allowance: a.key(),
        provider_token: a.provider_token,
        delegate,
        amount,
        total: a.amount - a.paid,
        balance: credit.balance,
    });
    Ok(())
}
