use anchor_lang::prelude::*;
use crate::inference::{self, InferenceCall, InferencePay};
use crate::token::{Token, TokenAccount};

use crate::credit::{emit_event, check_actor, credit_channel_refund, CustomerSigner};
use crate::errors::CreditsError;
use crate::events::ChannelRefunded;
use crate::state::*;

/// Cooperative close of a channel paid with this user's credits, at any
/// time: the user (or a delegate) and the provider sign; inference_pay
/// `coop_close` (signed by the customer PDA) refunds the unsettled rest to
/// the user's refund account, which is credited back here in the same
/// instruction. The provider settles its last voucher first (in the same
/// transaction if it likes): what was not settled comes back. Works while
/// paused.
#[event_cpi]
#[derive(Accounts)]
pub struct CoopCloseChannelWithCredits<'info> {
    pub authority: Signer<'info>,
    /// The channel's provider (checked by inference_pay's `has_one`).
    pub provider: Signer<'info>,
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
    pub delegation: Option<Box<Account<'info, Delegation>>>,
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

pub fn handler(ctx: Context<CoopCloseChannelWithCredits>) -> Result<()> {
    let authority = ctx.accounts.authority.key();
    check_actor(&ctx.accounts.credit_account, &authority, ctx.accounts.delegation.as_deref().map(|d| &**d))?;
    let channel = inference::read_channel(&ctx.accounts.channel, &ctx.accounts.credit_account.customer)?;

    let customer_signer = CustomerSigner::new(&ctx.accounts.credit_account);
    let customer_seeds = customer_signer.seeds();
    let call = InferenceCall {
        program: &ctx.accounts.inference_program.to_account_info(),
        event_authority: &ctx.accounts.inference_event_authority.to_account_info(),
    };
    call.coop_close(
        [
            &ctx.accounts.customer.to_account_info(),
            &ctx.accounts.provider.to_account_info(),
            &ctx.accounts.channel.to_account_info(),
            &ctx.accounts.rent_payer.to_account_info(),
            &ctx.accounts.refund_account.to_account_info(),
            &ctx.accounts.pool.to_account_info(),
            &ctx.accounts.pool_vault.to_account_info(),
            &ctx.accounts.token_program.to_account_info(),
        ],
        &[&customer_seeds],
    )?;

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
        cooperative: true,
        settled: channel.settled,
        amount,
        in_flight: credit.in_flight,
        balance: credit.balance,
        outstanding: ctx.accounts.config.outstanding,
    })?;
    Ok(())
}
