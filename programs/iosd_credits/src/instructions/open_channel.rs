use anchor_lang::prelude::*;
use crate::inference::{InferenceCall, InferencePay};
use crate::token::{self, Token, TokenAccount};

use crate::credit::{emit_event, authorize_spend, ConfigSigner, CustomerSigner};
use crate::errors::CreditsError;
use crate::events::ChannelOpenedWithCredits;
use crate::math;
use crate::state::*;

/// Opens an inference_pay channel to `provider` paid from the user's
/// credits, signed by the user or by a delegate within its allowance;
/// blocked while paused. The channel's payer is the user's customer PDA
/// (signed here by `invoke_signed`) and its `refund_to` the user's refund
/// account, both fixed by this program: every refund of the channel
/// (cooperative close, finish after the dispute window) lands in a token
/// account only this program moves, and only into this user's credits.
/// Neither the user nor a delegate chooses where refunds go.
/// `voucher_signer` is the ed25519 key whose vouchers count (the user's or
/// the delegate's wallet: a PDA cannot sign vouchers). `payer` pays the
/// channel's rent and gets it back when the channel closes.
#[event_cpi]
#[derive(Accounts)]
pub struct OpenChannelWithCredits<'info> {
    /// The user or one of its delegates.
    pub authority: Signer<'info>,
    /// inference_pay's `rent_payer`: pays the channel's rent, gets it back at close.
    #[account(mut)]
    pub payer: Signer<'info>,
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
    /// The channel's payer (signs by `invoke_signed`).
    #[account(address = credit_account.customer @ CreditsError::WrongCustomer)]
    pub customer: SystemAccount<'info>,
    /// The deposit passes through it, and it is the channel's `refund_to`.
    #[account(mut, dup, address = credit_account.refund_account @ CreditsError::WrongRefundAccount)]
    pub refund_account: Box<Account<'info, TokenAccount>>,
    /// CHECK: only the key is recorded by inference_pay.
    pub provider: UncheckedAccount<'info>,
    /// CHECK: job_escrow's market of the mint (the fee policy), checked by inference_pay.
    pub market: UncheckedAccount<'info>,
    /// CHECK: inference_pay's pool of the mint, checked by inference_pay
    /// (its mint must be the refund account's, i.e. the reserve's).
    #[account(mut)]
    pub pool: UncheckedAccount<'info>,
    /// CHECK: the pool's vault, checked by inference_pay.
    #[account(mut)]
    pub pool_vault: UncheckedAccount<'info>,
    /// CHECK: created by inference_pay at its channel PDA (payer = the customer PDA).
    #[account(mut)]
    pub channel: UncheckedAccount<'info>,
    /// CHECK: inference_pay's event authority (checked by inference_pay).
    pub inference_event_authority: UncheckedAccount<'info>,
    pub inference_program: Program<'info, InferencePay>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

pub fn handler(
    ctx: Context<OpenChannelWithCredits>,
    channel_id: u64,
    deposit: u64,
    expires_at: i64,
    dispute_window: u32,
    voucher_signer: Pubkey,
) -> Result<()> {
    require!(deposit > 0, CreditsError::ZeroAmount);
    let now_ts = Clock::get()?.unix_timestamp;

    // Accounting first: who may spend, and from which balance.
    let authority = ctx.accounts.authority.key();
    let (delegate, spent_in_period) = authorize_spend(
        &ctx.accounts.credit_account,
        &authority,
        ctx.accounts.delegation.as_deref_mut(),
        deposit,
        now_ts,
    )?;
    let credit = &mut ctx.accounts.credit_account;
    credit.balance = math::sub(credit.balance, deposit, CreditsError::InsufficientCredits)?;
    credit.spent = math::add(credit.spent, deposit)?;
    credit.in_flight = math::add(credit.in_flight, deposit)?;
    credit.channels_opened = math::add(credit.channels_opened, 1)?;
    let config = &mut ctx.accounts.config;
    config.outstanding = math::sub(config.outstanding, deposit, CreditsError::MathOverflow)?;

    // Reserve -> the customer's refund account -> (inference_pay) the pool vault.
    let before = ctx.accounts.refund_account.amount;
    let config_signer = ConfigSigner::new(config);
    token::transfer_c(
        &ctx.accounts.token_program.to_account_info(),
        &ctx.accounts.reserve_vault.to_account_info(),
        &ctx.accounts.refund_account.to_account_info(),
        &config.to_account_info(),
        deposit,
        &[&config_signer.seeds()],
    )?;
    let customer_signer = CustomerSigner::new(credit);
    let customer_seeds = customer_signer.seeds();
    let call = InferenceCall {
        program: &ctx.accounts.inference_program.to_account_info(),
        event_authority: &ctx.accounts.inference_event_authority.to_account_info(),
    };
    let refund = ctx.accounts.refund_account.to_account_info();
    call.open_channel(
        [
            &ctx.accounts.customer.to_account_info(),
            &ctx.accounts.payer.to_account_info(),
            &ctx.accounts.provider.to_account_info(),
            &ctx.accounts.market.to_account_info(),
            &ctx.accounts.pool.to_account_info(),
            &ctx.accounts.pool_vault.to_account_info(),
            &refund, // payer_token: the deposit leaves from here
            &refund, // refund_to: every refund comes back here
            &ctx.accounts.channel.to_account_info(),
            &ctx.accounts.token_program.to_account_info(),
            &ctx.accounts.system_program.to_account_info(),
        ],
        channel_id,
        deposit,
        expires_at,
        dispute_window,
        &voucher_signer,
        &[&customer_seeds],
    )?;
    ctx.accounts.refund_account.reload()?;
    require!(ctx.accounts.refund_account.amount == before, CreditsError::ChannelDepositMismatch);

    let credit = &ctx.accounts.credit_account;
    emit_event(&token_cpi::CInfo::new(&ctx.accounts.event_authority), &ChannelOpenedWithCredits {
        credit_account: credit.key(),
        channel: ctx.accounts.channel.key(),
        channel_id,
        provider: ctx.accounts.provider.key(),
        voucher_signer,
        delegate,
        amount: deposit,
        spent_in_period,
        balance: credit.balance,
        outstanding: ctx.accounts.config.outstanding,
    })?;
    Ok(())
}
