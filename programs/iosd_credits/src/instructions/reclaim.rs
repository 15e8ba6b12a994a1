use anchor_lang::prelude::*;
use crate::token::{Token, TokenAccount};

use crate::credit::credit_refund;
use crate::errors::CreditsError;
use crate::events::CreditsRefunded;
use crate::state::*;

/// Credits refunds waiting in a token account owned by the user's customer
/// PDA (a worker's `quit` pays the refund there; so would any job_escrow
/// refund path that runs without this program) back to the user, up to the
/// credits still out in jobs. Permissionless: the destination is fixed (the
/// user's own balance), so anyone (a keeper) may push refunds home. Works
/// while paused and ignores the cap.
#[event_cpi]
#[derive(Accounts)]
pub struct Reclaim<'info> {
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
    #[account(address = credit_account.customer @ CreditsError::WrongCustomer)]
    pub customer: SystemAccount<'info>,
    /// Any token account of the stablecoin owned by the customer PDA.
    #[account(
        mut,

        dup,
        constraint = source.owner == credit_account.customer @ CreditsError::WrongRefundAccount,
        constraint = source.mint == config.mint @ CreditsError::WrongMint,
    )]
    pub source: Box<Account<'info, TokenAccount>>,
    #[account(mut, dup)]
    pub reserve_vault: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<Reclaim>) -> Result<()> {
    let available = ctx.accounts.source.amount;
    let amount = credit_refund(
        &ctx.accounts.token_program.to_account_info(),
        &ctx.accounts.source.to_account_info(),
        available,
        &ctx.accounts.reserve_vault.to_account_info(),
        &ctx.accounts.customer.to_account_info(),
        &mut ctx.accounts.credit_account,
        &mut ctx.accounts.config,
    )?;
    require!(amount > 0, CreditsError::NothingToReclaim);
    emit_cpi!(CreditsRefunded {
        credit_account: ctx.accounts.credit_account.key(),
        source: ctx.accounts.source.key(),
        amount,
        balance: ctx.accounts.credit_account.balance,
        outstanding: ctx.accounts.config.outstanding,
    });
    Ok(())
}
