use anchor_lang::prelude::*;
use anchor_lang::system_program;

use crate::credit::CustomerSigner;
use crate::errors::CreditsError;
use crate::events::RentWithdrawn;
use crate::state::*;

/// The user takes back the lamports its customer PDA holds above the
/// rent-exempt minimum (job rent returned by cancel and close). User only.
#[event_cpi]
#[derive(Accounts)]
pub struct WithdrawRent<'info> {
    #[account(mut)]
    pub user: Signer<'info>,
    #[account(
        seeds = [CREDIT_SEED, credit_account.config.as_ref(), credit_account.user.as_ref()],
        bump = credit_account.bump,
        has_one = user @ CreditsError::WrongUser,
    )]
    pub credit_account: Box<Account<'info, CreditAccount>>,
    #[account(mut, dup, address = credit_account.customer @ CreditsError::WrongCustomer)]
    pub customer: SystemAccount<'info>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<WithdrawRent>) -> Result<()> {
    let min = Rent::get()?.minimum_balance(0);
    let lamports = ctx.accounts.customer.lamports().saturating_sub(min);
    require!(lamports > 0, CreditsError::ZeroAmount);
    let signer = CustomerSigner::new(&ctx.accounts.credit_account);
    let seeds = signer.seeds();
    system_program::transfer(
        CpiContext::new_with_signer(
            system_program::ID,
            system_program::Transfer {
                from: ctx.accounts.customer.to_account_info(),
                to: ctx.accounts.user.to_account_info(),
            },
            &[&seeds],
        ),
        lamports,
    )?;
    emit_cpi!(RentWithdrawn {
        credit_account: ctx.accounts.credit_account.key(),
        user: ctx.accounts.user.key(),
        lamports,
    });
    Ok(())
}
