use anchor_lang::prelude::*;
use crate::inference::{self, InferenceCall, InferencePay};
use crate::token::{Token, TokenAccount};

use crate::credit::{emit_event, credit_channel_refund};
use crate::errors::CreditsError;
use crate::events::ChannelRefunded;
use crate::state::*;

/// Finishes the unilateral close of a channel paid with this user's
/// credits after its dispute window (inference_pay `finish_close`) and
/// credits the refund back in the same instruction. Permissionless, like
/// `finish_close` and `reclaim`: every destination is fixed (the refund
/// account at open, the user's own balance here). A `finish_close` sent to
/// inference_pay directly also refunds into the refund account; `reclaim`
/// credits it then. Works while paused.
#[event_cpi]
#[derive(Accounts)]
pub struct FinishCloseChannelWithCredits<'info> {
    #[account(
        mut,
        dup,
        has_one = reserve_vault @ CreditsError::WrongReserveVault,
    )]
    pub config: Box<Account<'info, Config>>,
    #[account(
        mut,
        dup,
        constraint = credit_account.config == config.key() @ CreditsError::WrongConfig,
    )]
    pub credit_account: Box<Account<'info, CreditAccount>>,
    #[account(mut, dup)]
    pub reserve_vault: Box<Account<'info, TokenAccount>>,
    #[account(address = credit_account.customer @ CreditsError::WrongCustomer)]
    pub customer: SystemAccount<'info>,
    /// The channel's `refund_to` (inference_pay checks it is the recorded one).
    #[account(mut, dup, address = credit_account.refund_account @ CreditsError::WrongRefundAccount)]
    pub refund_account: Box<Account<'info, TokenAccount>>,
    /// CHECK: owner and payer (this user's customer PDA) checked in the handler.
    #[account(mut)]
    pub channel: UncheckedAccount<'info>,
    /// CHECK: the channel's recorded rent payer (inference_pay's `has_one`); gets the rent back.
    #[account(mut)]
    pub rent_payer: UncheckedAccount<'info>,
    /// CHECK: inference_pay's pool of the mint, checked by inference_pay.
    pub pool: UncheckedAccount<'info>,
    /// CHECK: the pool's vault, checked by inference_pay.
    #[account(mut)]
    pub pool_vault: UncheckedAccount<'info>,
    /// CHECK: inference_pay's event authority (checked by inference_pay).
    pub inference_event_authority: UncheckedAccount<'info>,
    pub inference_program: Program<'info, InferencePay>,
    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<FinishCloseChannelWithCredits>) -> Result<()> {
    let channel = inference::read_channel(&ctx.accounts.channel, &ctx.accounts.credit_account.customer)?;
    let call = InferenceCall {
        program: &ctx.accounts.inference_program.to_account_info(),
        event_authority: &ctx.accounts.inference_event_authority.to_account_info(),
    };
    call.finish_close([
        &ctx.accounts.channel.to_account_info(),
        &ctx.accounts.rent_payer.to_account_info(),
        &ctx.accounts.refund_account.to_account_info(),
        &ctx.accounts.pool.to_account_info(),
        &ctx.accounts.pool_vault.to_account_info(),
        &ctx.accounts.token_program.to_account_info(),
    ])?;

    ctx.accounts.refund_account.reload()?;
    let available = ctx.accounts.refund_account.amount;
    let amount = credit_channel_refund(
        &ctx.accounts.token_program.to_account_info(),
        &ctx.accounts.refund_account.to_account_info(),
        available,
        &ctx.accounts.reserve_vault.to_account_info(),
        &ctx.accounts.customer.to_account_info(),
        &mut ctx.accounts.credit_account,
        &mut ctx.accounts.config,
        channel.settled,
    )?;
    let credit = &ctx.accounts.credit_account;
    emit_event(&token_cpi::CInfo::new(&ctx.accounts.event_authority), &ChannelRefunded {
        credit_account: credit.key(),
        channel: ctx.accounts.channel.key(),
        cooperative: false,
        settled: channel.settled,
        amount,
        in_flight: credit.in_flight,
        balance: credit.balance,
        outstanding: ctx.accounts.config.outstanding,
    })?;
    Ok(())
}
