use anchor_lang::prelude::*;
use crate::inference::{self, InferenceCall, InferencePay};

use crate::credit::{emit_event, check_actor, CustomerSigner};
use crate::errors::CreditsError;
use crate::events::ChannelCloseStartedWithCredits;
use crate::state::*;

/// Starts the unilateral close of a channel paid with this user's credits
/// once it has expired (inference_pay `start_close`, signed by the customer
/// PDA): the provider may still settle during the dispute window, then
/// anyone finishes the close and the rest comes back as credits
/// (`finish_close_channel_with_credits`). Signed by the user or a delegate
/// (they choose when, never where the refund goes); works while paused.
#[event_cpi]
#[derive(Accounts)]
pub struct StartCloseChannelWithCredits<'info> {
    pub authority: Signer<'info>,
    #[account(
    )]
    pub credit_account: Box<Account<'info, CreditAccount>>,
    pub delegation: Option<Box<Account<'info, Delegation>>>,
    #[account(address = credit_account.customer @ CreditsError::WrongCustomer)]
    pub customer: SystemAccount<'info>,
    /// CHECK: owner and payer (this user's customer PDA) checked in the handler.
    #[account(mut)]
    pub channel: UncheckedAccount<'info>,
    /// CHECK: inference_pay's event authority (checked by inference_pay).
    pub inference_event_authority: UncheckedAccount<'info>,
    pub inference_program: Program<'info, InferencePay>,
}

pub fn handler(ctx: Context<StartCloseChannelWithCredits>) -> Result<()> {
    let authority = ctx.accounts.authority.key();
    let is_delegate =
        check_actor(&ctx.accounts.credit_account, &authority, ctx.accounts.delegation.as_deref().map(|d| &**d))?;
    inference::read_channel(&ctx.accounts.channel, &ctx.accounts.credit_account.customer)?;

    let customer_signer = CustomerSigner::new(&ctx.accounts.credit_account);
    let customer_seeds = customer_signer.seeds();
    let call = InferenceCall {
        program: &ctx.accounts.inference_program.to_account_info(),
        event_authority: &ctx.accounts.inference_event_authority.to_account_info(),
    };
    call.start_close(
        [&ctx.accounts.customer.to_account_info(), &ctx.accounts.channel.to_account_info()],
        &[&customer_seeds],
    )?;
    emit_event(&token_cpi::CInfo::new(&ctx.accounts.event_authority), &ChannelCloseStartedWithCredits {
        credit_account: ctx.accounts.credit_account.key(),
        channel: ctx.accounts.channel.key(),
        delegate: if is_delegate { authority } else { Pubkey::default() },
    })?;
    Ok(())
}
