use anchor_lang::prelude::*;
use crate::inference::{self, InferenceCall, InferencePay};
use crate::token::{self, Token, TokenAccount};

use crate::credit::{emit_event, authorize_spend, ConfigSigner, CustomerSigner};
use crate::errors::CreditsError;
use crate::events::ChannelToppedUpWithCredits;
use crate::math;
use crate::state::*;

/// Adds `amount` credits to a channel opened with this user's credits
/// and/or moves its expiry later (inference_pay `top_up`, signed by the
/// customer PDA). Signed by the user or a delegate, charged to the
/// delegate's allowance; blocked while paused (it is spending).
#[event_cpi]
#[derive(Accounts)]
pub struct TopUpChannelWithCredits<'info> {
    pub authority: Signer<'info>,
    #[account(
        mut,
        dup,
        has_one = reserve_vault @ CreditsError::WrongReserveVault,
        constraint = !config.paused @ CreditsError::Paused,
    )]
    pub config: Box<Account<'info, Config>>,
    #[account(
        mut,
        dup,
        constraint = credit_account.config == config.key() @ CreditsError::WrongConfig,
    )]
    pub credit_account: Box<Account<'info, CreditAccount>>,
    /// Required when `authority` is a delegate.
    #[account(mut, dup)]
    pub delegation: Option<Box<Account<'info, Delegation>>>,
    #[account(mut, dup)]
    pub reserve_vault: Box<Account<'info, TokenAccount>>,
    #[account(address = credit_account.customer @ CreditsError::WrongCustomer)]
    pub customer: SystemAccount<'info>,
    #[account(mut, dup, address = credit_account.refund_account @ CreditsError::WrongRefundAccount)]
    pub refund_account: Box<Account<'info, TokenAccount>>,
    /// CHECK: job_escrow's market of the mint, checked by inference_pay.
    pub market: UncheckedAccount<'info>,
    /// CHECK: inference_pay's pool of the mint, checked by inference_pay.
    pub pool: UncheckedAccount<'info>,
    /// CHECK: the pool's vault, checked by inference_pay.
    #[account(mut)]
    pub pool_vault: UncheckedAccount<'info>,
    /// CHECK: owner and payer (this user's customer PDA) checked in the handler.
    #[account(mut)]
    pub channel: UncheckedAccount<'info>,
    /// CHECK: inference_pay's event authority (checked by inference_pay).
    pub inference_event_authority: UncheckedAccount<'info>,
    pub inference_program: Program<'info, InferencePay>,
    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<TopUpChannelWithCredits>, amount: u64, expires_at: i64) -> Result<()> {
    let now_ts = Clock::get()?.unix_timestamp;
    inference::read_channel(&ctx.accounts.channel, &ctx.accounts.credit_account.customer)?;

    let authority = ctx.accounts.authority.key();
    let (delegate, spent_in_period) = authorize_spend(
        &ctx.accounts.credit_account,
        &authority,
        ctx.accounts.delegation.as_deref_mut(),
        amount,
        now_ts,
    )?;
    let credit = &mut ctx.accounts.credit_account;
    credit.balance = math::sub(credit.balance, amount, CreditsError::InsufficientCredits)?;
    credit.spent = math::add(credit.spent, amount)?;
    credit.in_flight = math::add(credit.in_flight, amount)?;
    let config = &mut ctx.accounts.config;
    config.outstanding = math::sub(config.outstanding, amount, CreditsError::MathOverflow)?;

    let before = ctx.accounts.refund_account.amount;
    if amount > 0 {
        let config_signer = ConfigSigner::new(config);
        token::transfer_c(
            &ctx.accounts.token_program.to_account_info(),
            &ctx.accounts.reserve_vault.to_account_info(),
            &ctx.accounts.refund_account.to_account_info(),
            &config.to_account_info(),
            amount,
            &[&config_signer.seeds()],
        )?;
    }
    let customer_signer = CustomerSigner::new(credit);
    let customer_seeds = customer_signer.seeds();
    let call = InferenceCall {
        program: &ctx.accounts.inference_program.to_account_info(),
        event_authority: &ctx.accounts.inference_event_authority.to_account_info(),
    };
    // inference_pay refuses an earlier expiry, and a top-up that adds nothing
    // and keeps the expiry (ZeroAmount, with its own code).
    call.top_up(
        [
            &ctx.accounts.customer.to_account_info(),
            &ctx.accounts.market.to_account_info(),
            &ctx.accounts.pool.to_account_info(),
            &ctx.accounts.pool_vault.to_account_info(),
            &ctx.accounts.refund_account.to_account_info(),
            &ctx.accounts.channel.to_account_info(),
            &ctx.accounts.token_program.to_account_info(),
        ],
        amount,
        expires_at,
        &[&customer_seeds],
    )?;
    ctx.accounts.refund_account.reload()?;
    require!(ctx.accounts.refund_account.amount == before, CreditsError::ChannelDepositMismatch);

    let credit = &ctx.accounts.credit_account;
    emit_event(&token_cpi::CInfo::new(&ctx.accounts.event_authority), &ChannelToppedUpWithCredits {
        credit_account: credit.key(),
        channel: ctx.accounts.channel.key(),
        delegate,
        amount,
        expires_at,
        spent_in_period,
        balance: credit.balance,
        outstanding: ctx.accounts.config.outstanding,
    })?;
    Ok(())
}
